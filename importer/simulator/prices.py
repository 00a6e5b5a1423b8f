"""Deterministic market prices for the exchange simulator, in exact decimals.

The history generator needs trade prices and the klines endpoint needs candles, and both must agree: a
candle around a trade should contain (roughly) the trade's price. Both therefore read one price path per
asset, ``usd_price(asset, t_ms, seed)``, built from hashed "value noise": a few octaves of pseudo-random
anchor values at fixed time scales, linearly interpolated. Only integers and ``Decimal`` are used (no
binary floats, no libm), so a seed gives the same prices on every machine. The asset table also fixes
each market's tick size and lot step the way Binance's PRICE_FILTER / LOT_SIZE filters do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

_CTX = Context(prec=28)
ONE = Decimal(1)
DAY_MS = 86_400_000

# Reference USD prices (roughly 2023 levels); the path wanders within about +-50 % of them.
ASSETS: dict[str, str] = {
    "BTC": "30000", "ETH": "2000", "BNB": "300", "SOL": "60", "ADA": "0.40", "XRP": "0.50", "DOT": "6",
    "DOGE": "0.08", "LTC": "80", "LINK": "8", "MATIC": "0.80", "AVAX": "15", "TRX": "0.08", "ATOM": "10",
    "UNI": "6", "XLM": "0.12", "ETC": "18", "FIL": "5", "NEAR": "2", "ALGO": "0.15", "AAVE": "80",
    "SAND": "0.50", "MANA": "0.45", "APE": "3", "FTM": "0.30", "EOS": "0.80", "XTZ": "0.90", "THETA": "0.90",
    "ICP": "5", "VET": "0.02", "GRT": "0.12", "CHZ": "0.07", "SHIB": "0.00001", "OP": "1.5", "ARB": "1.1",
    "INJ": "8", "APT": "7", "SUI": "0.8", "RUNE": "2", "EGLD": "35", "HBAR": "0.06", "QNT": "100",
    "IMX": "1.5", "STX": "1.2", "SEI": "0.4", "TIA": "8", "WLD": "2.5", "JUP": "0.9", "PYTH": "0.4",
    "ENS": "20", "CRV": "0.5", "LDO": "2", "MKR": "1500", "SNX": "2.5", "COMP": "50", "ZIL": "0.02",
    "KAVA": "0.7", "FLOW": "0.7", "ROSE": "0.08", "CAKE": "2", "GALA": "0.03", "AXS": "6",
}
STABLES = frozenset({"USDT", "BUSD", "FDUSD", "USDC", "TUSD"})
# Quote assets in the order markets are offered; BUSD markets are the ones Binance delisted.
LISTED_QUOTES = ("USDT", "BTC", "FDUSD", "ETH", "BNB", "USDC")
DELISTED_QUOTE = "BUSD"

# (scale in ms, amplitude as a fraction of the reference price); amplitudes sum to < 0.5.
_OCTAVES: tuple[tuple[int, Decimal], ...] = (
    (180 * DAY_MS, Decimal("0.28")),
    (30 * DAY_MS, Decimal("0.11")),
    (3 * DAY_MS, Decimal("0.05")),
    (6 * 3_600_000, Decimal("0.02")),
    (20 * 60_000, Decimal("0.006")),
)
_NOISE_SPAN = 10_000


@lru_cache(maxsize=262_144)
def _noise(seed: int, asset: str, scale: int, k: int) -> Decimal:
    """A pseudo-random value in [-1, 1] for anchor ``k`` of one octave."""
    digest = hashlib.blake2b(f"{seed}:{asset}:{scale}:{k}".encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "big") % (2 * _NOISE_SPAN + 1) - _NOISE_SPAN
    return Decimal(value) / _NOISE_SPAN


def usd_price(asset: str, t_ms: int, seed: int = 1) -> Decimal:
    """The asset's USD price at ``t_ms`` (unrounded; stablecoins are exactly 1)."""
    if asset in STABLES or asset not in ASSETS:
        return ONE
    factor = ONE
    for scale, amplitude in _OCTAVES:
        k, rest = divmod(t_ms, scale)
        a, b = _noise(seed, asset, scale, k), _noise(seed, asset, scale, k + 1)
        frac = _CTX.divide(Decimal(rest), Decimal(scale))
        factor += amplitude * (a + (b - a) * frac)
    return _CTX.multiply(Decimal(ASSETS[asset]), factor)


def pair_price(base: str, quote: str, t_ms: int, seed: int = 1) -> Decimal:
    """Unrounded price of ``base`` in ``quote``."""
    return _CTX.divide(usd_price(base, t_ms, seed), usd_price(quote, t_ms, seed))


@dataclass(frozen=True, slots=True)
class MarketRules:
    """Binance-style filters of one market: prices are multiples of ``tick``, quantities of ``step``."""

    tick: Decimal
    step: Decimal

    def price(self, value: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        rounded = value.quantize(self.tick, rounding=rounding)
        return max(rounded, self.tick)

    def price_up(self, value: Decimal) -> Decimal:
        return self.price(value, ROUND_CEILING)

    def price_down(self, value: Decimal) -> Decimal:
        return self.price(value, ROUND_FLOOR)

    def qty(self, value: Decimal) -> Decimal:
        return value.quantize(self.step, rounding=ROUND_DOWN)


@lru_cache(maxsize=1024)
def market_rules(base: str, quote: str) -> MarketRules:
    """Tick and step for a pair; ``tick * step >= 1e-8`` so every quote amount has at most 8 decimals."""
    ref = pair_price(base, quote, 0, seed=0)  # a fixed reference, independent of the history's seed
    usd = Decimal(ASSETS.get(base, "1"))
    tick_exp = max(ref.adjusted() - 6, -8)
    step_exp = min(max(-(usd.adjusted() + 1), -8), 0)
    deficit = -8 - (tick_exp + step_exp)
    if deficit > 0:
        step_exp += (deficit + 1) // 2
        tick_exp += deficit // 2
    return MarketRules(tick=Decimal(1).scaleb(tick_exp), step=Decimal(1).scaleb(step_exp))


def fmt8(value: Decimal) -> str:
    """Binance's fixed 8-decimal amount format ("0.01392600"); exact for values with <= 8 decimals."""
    return f"{value:.8f}"
