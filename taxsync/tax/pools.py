"""Lot pools and the booking methods that choose which lots a disposal consumes.

FIFO and LIFO keep the lots in acquisition order and take from one end or the other; HIFO keeps a heap ordered by
unit cost. A disposal takes lots from the front and a partly used lot keeps its place with what is left of it.
Average cost (Canada) keeps one pooled lot.
"""

from __future__ import annotations

import heapq
from bisect import insort
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Protocol

from taxsync.tax.records import Lot, LotMatch, share

ZERO = Decimal(0)
_ACQUIRED = attrgetter("acquired")

def _whole(lot: Lot) -> LotMatch:
    """All of ``lot``, as a disposal consumes it."""
    return LotMatch(lot.ref, lot.acquired, lot.acquired_date, lot.amount, lot.cost, lot.account, lot.unknown,
                    lot.loss_cost)


def part_of(lot: Lot, units: Decimal) -> tuple[LotMatch, Lot]:
    """``units`` taken from ``lot`` (fewer than it holds) and what is left of it: the cost and the units of
    unknown cost are shared by units, the rest keeping the remainder, so the two add up to the lot exactly."""
    cost = share(lot.cost, units, lot.amount)
    unknown = share(lot.unknown, units, lot.amount) if lot.unknown else ZERO
    loss = None if lot.loss_cost is None else share(lot.loss_cost, units, lot.amount)
    return (LotMatch(lot.ref, lot.acquired, lot.acquired_date, units, cost, lot.account, unknown, loss),
            Lot(lot.asset, lot.amount - units, lot.cost - cost, lot.acquired, lot.account, lot.ref,
                lot.acquired_date, lot.unknown - unknown, None if loss is None else lot.loss_cost - loss))


Entry = Callable[[Lot, int], tuple]  # (lot, arrival number) -> heap entry: the order, smallest first, then the lot


class Pool(Protocol):
    averages: bool  # all units share one average cost (their disposals cannot be told apart)

    def add(self, lot: Lot) -> None: ...
    def take(self, amount: Decimal) -> tuple[list[LotMatch], Decimal]: ...
    def lots(self) -> list[Lot]: ...
    def add_cost(self, cost: Decimal) -> bool: ...


class LotPool:
    """The lots of one asset (in one account when tracking per wallet) in a heap ordered by ``entry``'s key."""

    __slots__ = ("_arrivals", "_entry", "_heap")
    averages = False

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
                taken.append(_whole(lot))
                left -= lot.amount
                continue
            match, rest = part_of(lot, left)
            taken.append(match)
            heap[0] = (*top[:-1], rest)
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


class QueuePool:
    """FIFO and LIFO: the lots in acquisition order, taken from the oldest end (FIFO) or the newest (LIFO).

    Events are booked in time order, so a new lot nearly always belongs at the end and adding it is an append;
    a lot that arrives out of order (moved from another wallet, or allocated at the per-wallet switch) is
    inserted after the lots acquired at or before it. Taking is then a pop from one end, cheaper than a heap.
    """

    __slots__ = ("_lots", "_newest_first")
    averages = False

    def __init__(self, newest_first: bool):
        self._newest_first = newest_first
        self._lots: deque[Lot] = deque()  # by acquisition time, then arrival

    def add(self, lot: Lot) -> None:
        lots = self._lots
        if not lots or lots[-1].acquired <= lot.acquired:
            lots.append(lot)
        else:
            insort(lots, lot, key=_ACQUIRED)

    def take(self, amount: Decimal) -> tuple[list[LotMatch], Decimal]:
        """Consume ``amount`` units: the parts of lots taken and the units no lot covered. A partly used lot
        stays where it is with what is left of it."""
        lots = self._lots
        end = -1 if self._newest_first else 0
        if lots and lots[end].amount > amount:  # the usual case: part of one lot
            match, lots[end] = part_of(lots[end], amount)
            return [match], ZERO
        taken: list[LotMatch] = []
        left = amount
        while left > 0 and lots:
            lot = lots[end]
            if lot.amount <= left:
                if end:
                    lots.pop()
                else:
                    lots.popleft()
                taken.append(_whole(lot))
                left -= lot.amount
                continue
            match, lots[end] = part_of(lot, left)
            taken.append(match)
            return taken, ZERO
        return taken, left

    def lots(self) -> list[Lot]:
        return list(self._lots)

    def add_cost(self, cost: Decimal) -> bool:
        """Add ``cost`` to the most recently acquired lot (see LotPool.add_cost); False when empty."""
        if not self._lots:
            return False
        lot = self._lots[-1]
        self._lots[-1] = lot._replace(cost=lot.cost + cost)
        return True


class AveragePool:
    """All units of an asset as one lot at their average cost: Canada's adjusted cost base (ITA s.47, identical
    properties; CRA guide T4037). A disposal takes ``amount / held`` of the total cost; what is left keeps the
    average. The pool's acquisition time is its first unit's, for reference only (no holding term applies)."""

    __slots__ = ("_lot",)
    averages = True

    def __init__(self) -> None:
        self._lot: Lot | None = None

    def add(self, lot: Lot) -> None:
        held = self._lot
        if held is None:
            self._lot = lot
            return
        first = lot if lot.acquired < held.acquired else held
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


def _highest_cost_first(lot: Lot, seq: int) -> tuple:  # type: ignore[type-arg]
    """HIFO's order: the highest unit cost first, then the oldest (a module function: pools are pickled when the
    engine keeps a checkpoint)."""
    return -lot.unit_cost, lot.acquired, seq, lot


# Specific identification is not available to us; FIFO is the US default where units are not identified
# (Reg. 1.1012-1(c)(1), and per wallet from 2025 under Reg. 1.1012-1(j)). LIFO and HIFO are specific
# identification orders a taxpayer may adopt with adequate records.
POOLS: dict[str, Callable[[], Pool]] = {
    "fifo": lambda: QueuePool(newest_first=False),
    "lifo": lambda: QueuePool(newest_first=True),
    "hifo": _ordered(_highest_cost_first),
    "acb": AveragePool,
}
