"""Canada's superficial-loss rule: a loss on a sale is denied when the same property is bought back around it.

ITA s.54 "superficial loss" with s.40(2)(g)(i): a loss on a disposition is nil when the taxpayer (or an
affiliated person) acquired identical property in the period that starts 30 days before the disposition and
ends 30 days after it, and still holds it at the end of that period. Where fewer units were bought back than
sold, only part of the loss is denied (CRA's proration, as in IT-387R2 and the T4037 guide): the denied part is
``loss * min(sold, acquired in the period, held at its end) / sold``. By s.53(1)(f) the denied loss is added
to the adjusted cost base of the substituted property; with average cost that is the pool of identical units,
so the engine adds it to the pool at once, or to the next units acquired when none are held after the sale.

The period looks 30 days ahead, so this module reads the whole time-ordered history first: per asset, the
cumulative units acquired (purchases, swaps in, income, gifts and unmatched deposits; moves between own
accounts are not acquisitions) and the units held across all accounts after each event. Days are the
jurisdiction's local days: the period runs from the start of the local day 30 days before the sale to the end
of the local day 30 days after it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from taxsync.tax.records import Event, EventKind, share
from taxsync.types import Role, day_start

ZERO = Decimal(0)
DAYS = timedelta(days=30)
ACQUIRING = frozenset({EventKind.TRADE, EventKind.INCOME, EventKind.DEPOSIT, EventKind.GIFT_IN})


class _Timeline:
    __slots__ = ("acquired", "held", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.acquired: list[Decimal] = []  # cumulative units acquired up to and including times[i]
        self.held: list[Decimal] = []  # units held across all accounts after times[i]

    def record(self, ts: int, bought: Decimal, change: Decimal) -> None:
        acquired = (self.acquired[-1] if self.acquired else ZERO) + bought
        held = (self.held[-1] if self.held else ZERO) + change
        if self.times and self.times[-1] == ts:
            self.acquired[-1], self.held[-1] = acquired, held
        else:
            self.times.append(ts)
            self.acquired.append(acquired)
            self.held.append(held)

    def before(self, ts: int) -> tuple[Decimal, Decimal]:
        """Units acquired and units held counting every event strictly before ``ts``."""
        index = bisect_left(self.times, ts)
        return (self.acquired[index - 1], self.held[index - 1]) if index else (ZERO, ZERO)


class SuperficialLosses:
    """Answers how much of a loss ITA s.54 denies, from the whole history read once up front."""

    def __init__(self, events: Iterable[Event], fiat: frozenset[str], zone: ZoneInfo):
        self.zone = zone
        self.windows: dict[date, tuple[int, int]] = {}  # UTC bounds of the period around a sale day
        self.timelines: dict[str, _Timeline] = defaultdict(_Timeline)
        for event in events:  # in time order
            changes: dict[str, tuple[Decimal, Decimal]] = {}
            for leg in event.legs:
                if leg.asset in fiat or (event.kind is EventKind.TRANSFER and leg.role is Role.IN):
                    continue  # cash is not tracked; a move between own accounts changes no holding
                bought, change = changes.get(leg.asset, (ZERO, ZERO))
                if leg.role is Role.IN and leg.amount > 0 and event.kind in ACQUIRING:
                    bought += leg.amount
                changes[leg.asset] = (bought, change + leg.amount)
            for asset, (bought, change) in changes.items():
                self.timelines[asset].record(event.timestamp, bought, change)

    def denied(self, asset: str, day: date, sold: Decimal, loss: Decimal) -> Decimal:
        """The part of ``loss`` (a positive amount) on ``sold`` units disposed of on local ``day`` that is denied."""
        timeline = self.timelines.get(asset)
        if timeline is None or loss <= 0 or sold <= 0:
            return ZERO
        window = self.windows.get(day)
        if window is None:
            window = self.windows[day] = (day_start(day - DAYS, self.zone),
                                          day_start(day + DAYS + timedelta(days=1), self.zone))
        first, after = window
        acquired_before, _ = timeline.before(first)
        acquired_by_end, held_at_end = timeline.before(after)
        units = min(sold, acquired_by_end - acquired_before, held_at_end)
        if units <= 0:
            return ZERO
        return loss if units == sold else share(loss, units, sold)
