"""Lot pools and the booking methods that choose which lots a disposal consumes.

FIFO, LIFO and HIFO are one mechanism with a different sort key: a pool is a heap of lots ordered by the
method's key, a disposal takes lots from the top and a partly used lot goes back with its place unchanged.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from taxsync.tax.records import Lot, LotMatch, share

ZERO = Decimal(0)

Entry = Callable[[Lot, int], tuple]  # (lot, arrival number) -> heap entry: the order, smallest first, then the lot


class Pool(Protocol):
    def add(self, lot: Lot) -> None: ...
    def take(self, amount: Decimal) -> tuple[list[LotMatch], Decimal]: ...
    def lots(self) -> list[Lot]: ...
    def add_cost(self, cost: Decimal) -> bool: ...


class LotPool:
    """The lots of one asset (in one account when tracking per wallet), in booking order."""

    __slots__ = ("_arrivals", "_entry", "_heap")

    def __init__(self, entry: Entry):
        self._entry = entry
        self._heap: list[tuple] = []
        self._arrivals = 0

    def add(self, lot: Lot) -> None:
        heapq.heappush(self._heap, self._entry(lot, self._arrivals))
        self._arrivals += 1

    def take(self, amount: Decimal) -> tuple[list[LotMatch], Decimal]:
        """Consume ``amount`` units: the parts of lots taken and the units no lot covered.

        A partly used lot stays on top of the heap with its order unchanged, so it is replaced in place."""
        heap = self._heap
        taken: list[LotMatch] = []
        left = amount
        while left > 0 and heap:
            top = heap[0]
            lot = top[-1]
            if lot.amount <= left:
                heapq.heappop(heap)
                taken.append(LotMatch(lot.ref, lot.acquired, lot.acquired_date, lot.amount, lot.cost, lot.account,
                                      lot.unknown))
                left -= lot.amount
                continue
            cost = share(lot.cost, left, lot.amount)
            unknown = share(lot.unknown, left, lot.amount) if lot.unknown else ZERO
            taken.append(LotMatch(lot.ref, lot.acquired, lot.acquired_date, left, cost, lot.account, unknown))
            heap[0] = (*top[:-1], Lot(lot.asset, lot.amount - left, lot.cost - cost, lot.acquired, lot.account,
                                      lot.ref, lot.acquired_date, lot.unknown - unknown))
            return taken, ZERO
        return taken, left

    def lots(self) -> list[Lot]:
        return [entry[-1] for entry in sorted(self._heap, key=lambda entry: entry[:-1])]

    def add_cost(self, cost: Decimal) -> bool:
        """Add ``cost`` to the most recently acquired lot (a denied loss joins the units that replaced the
        ones sold); False when the pool is empty."""
        if not self._heap:
            return False
        index = max(range(len(self._heap)), key=lambda i: self._heap[i][-1].acquired)
        lot = self._heap.pop(index)[-1]
        heapq.heapify(self._heap)
        self.add(lot._replace(cost=lot.cost + cost))
        return True


class AveragePool:
    """All units of an asset as one lot at their average cost: Canada's adjusted cost base (ITA s.47, identical
    properties; CRA guide T4037). A disposal takes ``amount / held`` of the total cost; what is left keeps the
    average. The pool's acquisition time is its first unit's, for reference only (no holding term applies)."""

    __slots__ = ("_lot",)

    def __init__(self) -> None:
        self._lot: Lot | None = None

    def add(self, lot: Lot) -> None:
        held = self._lot
        if held is None:
            self._lot = lot
            return
        first = min(held, lot, key=lambda one: one.acquired)
        self._lot = Lot(held.asset, held.amount + lot.amount, held.cost + lot.cost, first.acquired, held.account,
                        "average cost", first.acquired_date, held.unknown + lot.unknown)

    def take(self, amount: Decimal) -> tuple[list[LotMatch], Decimal]:
        held = self._lot
        if held is None or held.amount <= 0:
            return [], amount
        units = min(amount, held.amount)
        whole = units == held.amount
        cost = held.cost if whole else share(held.cost, units, held.amount)
        unknown = held.unknown if whole or not held.unknown else share(held.unknown, units, held.amount)
        self._lot = None if whole else Lot(held.asset, held.amount - units, held.cost - cost, held.acquired,
                                           held.account, held.ref, held.acquired_date, held.unknown - unknown)
        taken = LotMatch(held.ref, held.acquired, held.acquired_date, units, cost, held.account, unknown)
        return [taken], amount - units

    def lots(self) -> list[Lot]:
        return [self._lot] if self._lot is not None else []

    def add_cost(self, cost: Decimal) -> bool:
        """Add ``cost`` to the pool's adjusted cost base; False when no units are held."""
        held = self._lot
        if held is None:
            return False
        self._lot = held._replace(cost=held.cost + cost)
        return True


def _ordered(entry: Entry) -> Callable[[], Pool]:
    return lambda: LotPool(entry)


# Specific identification is not available to us; FIFO is the US default where units are not identified
# (Reg. 1.1012-1(c)(1), and per wallet from 2025 under Reg. 1.1012-1(j)). LIFO and HIFO are specific
# identification orders a taxpayer may adopt with adequate records.
POOLS: dict[str, Callable[[], Pool]] = {
    "fifo": _ordered(lambda lot, seq: (lot.acquired, seq, lot)),
    "lifo": _ordered(lambda lot, seq: (-lot.acquired, -seq, lot)),
    "hifo": _ordered(lambda lot, seq: (-lot.unit_cost, lot.acquired, seq, lot)),
    "acb": AveragePool,
}
