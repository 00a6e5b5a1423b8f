"""Kraken's asset and pair naming, precisions and prices for the simulated Kraken account.

Kraken names assets with legacy X/Z prefixes (``XXBT`` = BTC, ``ZEUR`` = EUR, ``XXDG`` = DOGE) next to
plain codes (``DOT``, ``SOL``), keeps staked balances under suffixed assets (``DOT.S``, ``ETH2.S``), and
names pairs either by concatenated ids (``XXBTZUSD``, ``XETHXXBT``) or by altname (``DOTUSD``, ``XBTUSDT``).
ccxt maps all of them to unified codes (BTC, EUR, DOGE, DOT.S, ...); the table below records Kraken's id,
altname, decimals and the unified code ccxt 4.5 derives, so tests can state expectations in either.

Prices come from ``prices.usd_price`` (the same deterministic path the Binance simulator uses); EUR, which
that table does not know, gets its own slow wobble around 1.08 USD.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from importer.simulator.prices import DAY_MS, usd_price

_CTX = Context(prec=28)


@dataclass(frozen=True, slots=True)
class KrakenAsset:
    """One entry of GET /0/public/Assets."""

    id: str  # Kraken's asset id, e.g. "XXBT"
    altname: str  # e.g. "XBT"
    code: str  # the ccxt unified code, e.g. "BTC"
    decimals: int  # ledger and balance precision
    display_decimals: int
    collateral_value: str | None = None

    def fmt(self, value: Decimal) -> str:
        """``value`` with the asset's fixed decimals, as Kraken prints ledger amounts and balances."""
        return f"{value:.{self.decimals}f}"

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)


@dataclass(frozen=True, slots=True)
class KrakenPair:
    """One entry of GET /0/public/AssetPairs (``base`` / ``quote`` are asset ids)."""

    id: str  # e.g. "XXBTZUSD"
    altname: str  # e.g. "XBTUSD"
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: str
    costmin: str

    @property
    def tick(self) -> Decimal:
        return Decimal(1).scaleb(-self.pair_decimals)

    @property
    def lot(self) -> Decimal:
        return Decimal(1).scaleb(-self.lot_decimals)


# (id, altname, ccxt code, decimals, display_decimals, collateral_value)
_ASSETS: tuple[tuple[str, str, str, int, int, str | None], ...] = (
    ("XXBT", "XBT", "BTC", 10, 5, "1.0"), ("XETH", "ETH", "ETH", 10, 5, "1.0"),
    ("ZUSD", "USD", "USD", 4, 2, "1.0"), ("ZEUR", "EUR", "EUR", 4, 2, "1.0"),
    ("USDT", "USDT", "USDT", 8, 4, "0.9"), ("USDC", "USDC", "USDC", 8, 4, "0.9"),
    ("DOT", "DOT", "DOT", 10, 8, "0.7"), ("SOL", "SOL", "SOL", 10, 5, "0.75"),
    ("ADA", "ADA", "ADA", 8, 6, "0.9"), ("XXRP", "XRP", "XRP", 8, 5, None),
    ("XLTC", "LTC", "LTC", 10, 5, "0.7"), ("XXDG", "XDG", "DOGE", 8, 2, "0.5"),
    ("LINK", "LINK", "LINK", 10, 5, "0.7"), ("ATOM", "ATOM", "ATOM", 8, 6, "0.7"),
    ("ETH2", "ETH2", "ETH2", 10, 5, None), ("DOT.S", "DOT.S", "DOT.S", 10, 8, None),
    ("ETH2.S", "ETH2.S", "ETH2.S", 10, 5, None),
)
ASSETS: dict[str, KrakenAsset] = {a[0]: KrakenAsset(*a) for a in _ASSETS}
BY_CODE: dict[str, KrakenAsset] = {a.code: a for a in ASSETS.values()}
FIAT = frozenset({"ZUSD", "ZEUR"})
# Staking: spot asset -> the asset its staked balance lives in, and the yearly reward rate.
STAKING: dict[str, tuple[str, Decimal]] = {"DOT": ("DOT.S", Decimal("0.12")), "XETH": ("ETH2.S", Decimal("0.045"))}
UNDERLYING: dict[str, str] = {"ETH2": "ETH", "DOT.S": "DOT", "ETH2.S": "ETH"}

# (id, altname, base id, quote id) in the order the generator prefers them; X/Z-prefixed ids for the old pairs.
_PAIRS: tuple[tuple[str, str, str, str], ...] = (
    ("XXBTZUSD", "XBTUSD", "XXBT", "ZUSD"), ("XETHZEUR", "ETHEUR", "XETH", "ZEUR"),
    ("DOTEUR", "DOTEUR", "DOT", "ZEUR"), ("XXBTZEUR", "XBTEUR", "XXBT", "ZEUR"),
    ("XETHZUSD", "ETHUSD", "XETH", "ZUSD"), ("DOTUSD", "DOTUSD", "DOT", "ZUSD"),
    ("XETHXXBT", "ETHXBT", "XETH", "XXBT"), ("SOLEUR", "SOLEUR", "SOL", "ZEUR"),
    ("ADAEUR", "ADAEUR", "ADA", "ZEUR"), ("XXRPZEUR", "XRPEUR", "XXRP", "ZEUR"),
    ("USDTZUSD", "USDTUSD", "USDT", "ZUSD"), ("XBTUSDT", "XBTUSDT", "XXBT", "USDT"),
    ("ETHUSDT", "ETHUSDT", "XETH", "USDT"), ("DOTXBT", "DOTXBT", "DOT", "XXBT"),
    ("XLTCZEUR", "LTCEUR", "XLTC", "ZEUR"), ("XDGEUR", "XDGEUR", "XXDG", "ZEUR"),
    ("LINKEUR", "LINKEUR", "LINK", "ZEUR"), ("ATOMEUR", "ATOMEUR", "ATOM", "ZEUR"),
    ("SOLUSD", "SOLUSD", "SOL", "ZUSD"), ("ADAUSD", "ADAUSD", "ADA", "ZUSD"),
    ("XXRPZUSD", "XRPUSD", "XXRP", "ZUSD"), ("XLTCZUSD", "LTCUSD", "XLTC", "ZUSD"),
    ("XDGUSD", "XDGUSD", "XXDG", "ZUSD"), ("LINKUSD", "LINKUSD", "LINK", "ZUSD"),
    ("ATOMUSD", "ATOMUSD", "ATOM", "ZUSD"), ("USDCUSD", "USDCUSD", "USDC", "ZUSD"),
    ("USDCEUR", "USDCEUR", "USDC", "ZEUR"), ("USDTEUR", "USDTEUR", "USDT", "ZEUR"),
)


def _noise(seed: int, k: int) -> Decimal:
    digest = hashlib.blake2b(f"{seed}:EURUSD:{k}".encode(), digest_size=8).digest()
    return Decimal(int.from_bytes(digest, "big") % 20_001 - 10_000) / 10_000


def usd(code: str, t_ms: int, seed: int) -> Decimal:
    """USD price of a unified code at ``t_ms`` (staked and ETH2 assets at their underlying's price)."""
    code = UNDERLYING.get(code, code)
    if code == "USD":
        return Decimal(1)
    if code == "EUR":  # +-4 % around 1.08, one anchor every 30 days, linearly interpolated
        k, rest = divmod(t_ms, 30 * DAY_MS)
        a, b = _noise(seed, k), _noise(seed, k + 1)
        return Decimal("1.08") * (1 + Decimal("0.04") * (a + (b - a) * _CTX.divide(Decimal(rest), 30 * DAY_MS)))
    return usd_price(code, t_ms, seed)


def pair_price(pair: KrakenPair, t_ms: int, seed: int) -> Decimal:
    """Unrounded price of ``pair``'s base in its quote."""
    return _CTX.divide(usd(ASSETS[pair.base].code, t_ms, seed), usd(ASSETS[pair.quote].code, t_ms, seed))


@lru_cache(maxsize=256)
def _make_pair(pair_id: str, altname: str, base: str, quote: str) -> KrakenPair:
    probe = KrakenPair(pair_id, altname, base, quote, 0, 8, 0, "0", "0")
    ref = pair_price(probe, 0, 0)  # a fixed reference, independent of the history's seed
    pair_decimals = min(max(5 - ref.adjusted(), 1), 8)
    dollar_quote = quote in FIAT or ASSETS[quote].code in ("USDT", "USDC")
    cost_decimals = 5 if dollar_quote else min(ASSETS[quote].decimals, 8)
    ordermin = Decimal(5) / usd(ASSETS[base].code, 0, 0)  # about five dollars, at one significant digit
    ordermin = ordermin.quantize(Decimal(1).scaleb(min(ordermin.adjusted(), 0)), rounding=ROUND_HALF_UP)
    costmin = "0.5" if dollar_quote else "0.00002"
    return KrakenPair(pair_id, altname, base, quote, pair_decimals, 8, cost_decimals,
                      format(ordermin.normalize(), "f"), costmin)


PAIRS: dict[str, KrakenPair] = {p[0]: _make_pair(*p) for p in _PAIRS}


def wsname(pair: KrakenPair) -> str:
    return f"{ASSETS[pair.base].altname}/{ASSETS[pair.quote].altname}"


def cost_quantum(pair: KrakenPair) -> Decimal:
    """Trade costs and fees are rounded to this (fits both ``cost_decimals`` and the quote's ledger decimals)."""
    return Decimal(1).scaleb(-min(pair.cost_decimals, ASSETS[pair.quote].decimals))


def fmt_fixed(value: Decimal, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def time_number(t4: int) -> float:
    """The JSON number Kraken sends for a time in 1e-4 s: its repr is exactly the decimal seconds
    (``1688667796.8802``), and ccxt's ``int(float * 1000)`` gives ``t4 // 10`` because no generated time is
    a whole millisecond."""
    return t4 / 10_000
