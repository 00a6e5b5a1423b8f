"""Lot pools and the booking methods that choose which lots a disposal consumes.

FIFO, LIFO and HIFO are one mechanism with a different sort key: a pool is a heap of lots ordered by the
method's key, a disposal takes lots from the top and a partly used lot goes back with its place unchanged.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal

from taxsync.tax.records import Lot

SortKey = Callable[[Lot, int], tuple]  # (lot, arrival number) -> order, smallest first

# Specific identification is not available to us; FIFO is the US default where units are not identified
# (Reg. 1.1012-1(c)(1), and per wallet from 2025 under Reg. 1.1012-1(j)).
METHODS: dict[str, SortKey] = {
    "fifo": lambda lot, seq: (lot.acquired, seq),
    "lifo": lambda lot, seq: (-lot.acquired, -seq),
    "hifo": lambda lot, seq: (-lot.unit_cost, lot.acquired, seq),
}


class LotPool:
    """The lots of one asset (in one account when tracking per wallet), in booking order."""

    __slots__ = ("_arrivals", "_heap", "_key")

    def __init__(self, key: SortKey):
        self._key = key
        self._heap: list[tuple[tuple, int, Lot]] = []
        self._arrivals = 0

    def add(self, lot: Lot) -> None:
        heapq.heappush(self._heap, (self._key(lot, self._arrivals), self._arrivals, lot))
        self._arrivals += 1

    def take(self, amount: Decimal) -> tuple[list[tuple[Lot, Decimal, Decimal]], Decimal]:
        """Consume ``amount`` units: the (lot, units, cost) pieces taken and the units no lot covered."""
        pieces: list[tuple[Lot, Decimal, Decimal]] = []
        left = amount
        while left > 0 and self._heap:
            order, arrival, lot = heapq.heappop(self._heap)
            if lot.amount <= left:
                pieces.append((lot, lot.amount, lot.cost))
                left -= lot.amount
                continue
            cost = lot.cost * left / lot.amount
            pieces.append((lot, left, cost))
            rest = Lot(lot.asset, lot.amount - left, lot.cost - cost, lot.acquired, lot.account, lot.ref)
            heapq.heappush(self._heap, (order, arrival, rest))
            left = Decimal(0)
        return pieces, left

    def lots(self) -> list[Lot]:
        return [entry[2] for entry in sorted(self._heap)]
