"""What every exporter gets: the ledger after transfer matching, its valued events and the engine's result."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from taxsync.ledger.records import Transaction, Transfer
from taxsync.tax.engine import LotEntry
from taxsync.tax.records import Event, TaxResult
from taxsync.types import TimestampMs


@dataclass(frozen=True, slots=True)
class LedgerExport:
    transactions: tuple[Transaction, ...]  # the period's ledger in time order (both sides of matched transfers)
    transfers: tuple[Transfer, ...]  # matched over all time
    events: tuple[Event, ...]  # the valued events the engine booked (up to the period's end)
    result: TaxResult
    journal: tuple[LotEntry, ...]
    currency: str
    fiat: frozenset[str]
    method: str
    zone: ZoneInfo
    start: TimestampMs | None = None  # the period, when one is asked for
    end: TimestampMs | None = None  # first millisecond after it

    def within(self, timestamp: int) -> bool:
        return (self.start is None or timestamp >= self.start) and (self.end is None or timestamp < self.end)
