"""Lot pools and the booking methods that choose which lots a disposal consumes.

FIFO, LIFO and HIFO are one mechanism with a different sort key: a pool is a heap of lots ordered by the
method's key, a disposal takes lots from the top and a partly used lot goes back with its place unchanged.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from taxsync.tax.records import Lot, share

SortKey = Callable[[Lot, int], tuple]  # (lot, arrival number) -> order, smallest first


class Pool(Protocol):
    def add(self, lot: Lot) -> None: ...
    def take(self, amount: Decimal) -> tuple[list[tuple[Lot, Decimal, Decimal]], Decimal]: ...
    def lots(self) -> list[Lot]: ...


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
            cost = share(lot.cost, left, lot.amount)
            pieces.append((lot, left, cost))
            rest = Lot(lot.asset, lot.amount - left, lot.cost - cost, lot.acquired, lot.account, lot.ref)
            heapq.heappush(self._heap, (order, arrival, rest))
            left = Decimal(0)
        return pieces, left

    def lots(self) -> list[Lot]:
        return [entry[2] for entry in sorted(self._heap)]


class AveragePool:
    """All units of an asset as one lot at their average cost: Canada's adjusted cost base (ITA s.47, identical
    properties; CRA guide T4037). A disposal takes ``amount / held`` of the total cost; what is left keeps the
    average. The pool's acquisition time is its first unit's, for reference only (no holding term applies)."""

    __slots__ = ("_lot",)

    def __init__(self) -> None:
        self._lot: Lot | None = None

    def add(self, lot: Lot) -> None:
        held = self._lot
        self._lot = lot if held is None else Lot(held.asset, held.amount + lot.amount, held.cost + lot.cost,
                                                 min(held.acquired, lot.acquired), held.account, "average cost")

    def take(self, amount: Decimal) -> tuple[list[tuple[Lot, Decimal, Decimal]], Decimal]:
        held = self._lot
        if held is None or held.amount <= 0:
            return [], amount
        units = min(amount, held.amount)
        cost = held.cost if units == held.amount else share(held.cost, units, held.amount)
        rest = held.amount - units
        self._lot = Lot(held.asset, rest, held.cost - cost, held.acquired, held.account, held.ref) if rest else None
        return [(held, units, cost)], amount - units

    def lots(self) -> list[Lot]:
        return [self._lot] if self._lot is not None else []


def _ordered(key: SortKey) -> Callable[[], Pool]:
    return lambda: LotPool(key)


# Specific identification is not available to us; FIFO is the US default where units are not identified
# (Reg. 1.1012-1(c)(1), and per wallet from 2025 under Reg. 1.1012-1(j)). LIFO and HIFO are specific
# identification orders a taxpayer may adopt with adequate records.
POOLS: dict[str, Callable[[], Pool]] = {
    "fifo": _ordered(lambda lot, seq: (lot.acquired, seq)),
    "lifo": _ordered(lambda lot, seq: (-lot.acquired, -seq)),
    "hifo": _ordered(lambda lot, seq: (-lot.unit_cost, lot.acquired, seq)),
    "acb": AveragePool,
}
