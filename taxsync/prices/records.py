"""Price records shared by the price sources, the cache and valuation.

A ``PricePoint`` is one price of ``base`` in ``quote``: a candle's close, a daily reference rate, or a price the
user gave, with where it came from (``source``) and how fine it is (``resolution``). ``timestamp`` is the start
of the period the price stands for (the candle's open time, the UTC start of the rate's day) or, for
``"exact"``, the moment itself. A ``PriceNeed`` is an asset at a moment that valuation could not value from the
transaction itself; ``prices sync`` fetches what the needs of a report call for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple

Resolution = Literal["exact", "1m", "1h", "1d"]
RESOLUTION_MS: dict[str, int] = {"exact": 1, "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000}
# Finest first: the order in which a lookup prefers resolutions.
RESOLUTIONS: tuple[str, ...] = ("exact", "1m", "1h", "1d")


class PricePoint(NamedTuple):
    """Immutable; a NamedTuple because a report may build hundreds of thousands (cheaper than a frozen
    dataclass)."""

    base: str
    quote: str
    timestamp: int  # ms UTC: start of the period the price stands for (or the moment, for "exact")
    resolution: str  # one of RESOLUTIONS
    price: Decimal
    source: str  # e.g. "binance 1m close", "ECB reference rate", "user file prices.csv:12", "par (stablecoin)"


@dataclass(frozen=True, slots=True)
class PriceNeed:
    """``asset`` needs a value at ``timestamp`` (ms UTC), for the transaction ``ref`` in ``account``."""

    asset: str
    timestamp: int
    account: str
    ref: str
