"""UK share matching for cryptoassets: same day, then the next 30 days, then the Section 104 pool.

HMRC Cryptoassets Manual CRYPTO22200 onward (TCGA 1992 s.104, s.105 and s.106A as applied to tokens): for each
token, all acquisitions of a day count as one acquisition and all disposals of a day as one disposal
(CRYPTO22250). A day's disposal is matched first with that day's acquisitions (CRYPTO22251 "same day"), then
with acquisitions in the 30 days after it, earliest first (CRYPTO22252 "bed and breakfasting"), and what is
left with the Section 104 pool at its average cost (CRYPTO22203). Days are the jurisdiction's local days.

Because the 30-day rule looks forward, the engine records acquisitions and disposals as it books events and
this module matches them once the whole history is known (``UkMatcher.finish``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Disposal, Holding, LotMatch, Term, share
from taxsync.types import Asset, TimestampMs, decimal_text

ZERO = Decimal(0)
WINDOW = timedelta(days=30)


@dataclass
class _Day:
    """One token's acquisitions or disposals of one local day, as one (CRYPTO22250)."""

    day: date
    amount: Decimal = ZERO
    value: Decimal = ZERO  # cost of acquisitions, proceeds of disposals
    refs: list[str] = field(default_factory=list)
    first_at: TimestampMs | None = None
    account: str = ""
    left: Decimal = ZERO  # not yet matched
    taken: Decimal = ZERO  # cost (of an acquisition day) already matched out
    unknown: Decimal = ZERO  # acquired units whose cost is not known (zero used)
    unknown_left: Decimal = ZERO

    def add(self, amount: Decimal, value: Decimal | None, ref: str, at: TimestampMs, account: str) -> None:
        self.amount += amount
        if value is None:
            self.unknown += amount
            self.unknown_left += amount
        else:
            self.value += value
        self.left += amount
        self.refs.append(ref)
        if self.first_at is None:
            self.first_at, self.account = at, account


@dataclass
class _Token:
    acquired: dict[date, _Day] = field(default_factory=dict)
    disposed: dict[date, _Day] = field(default_factory=dict)
    removed: dict[date, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    removed_refs: dict[date, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Part:
    rule: str
    units: Decimal
    cost: Decimal
    acquired: date | None
    matches: tuple[LotMatch, ...]
    no_basis: Decimal = ZERO


def _cost_of(day: _Day, units: Decimal) -> Decimal:
    return day.value if units == day.amount else share(day.value, units, day.amount)


class UkMatcher:
    """Collects a token's daily acquisitions and disposals while the engine books events, then matches them."""

    def __init__(self) -> None:
        self.tokens: dict[str, _Token] = defaultdict(_Token)

    def acquire(self, asset: str, day: date, amount: Decimal, cost: Decimal | None, ref: str, at: TimestampMs,
                account: str) -> None:
        days = self.tokens[asset].acquired
        (days.get(day) or days.setdefault(day, _Day(day))).add(amount, cost, ref, at, account)

    def dispose(self, asset: str, day: date, amount: Decimal, proceeds: Decimal, ref: str, at: TimestampMs,
                account: str) -> None:
        days = self.tokens[asset].disposed
        (days.get(day) or days.setdefault(day, _Day(day))).add(amount, proceeds, ref, at, account)

    def remove(self, asset: str, day: date, amount: Decimal, ref: str) -> None:
        """Units that left without a disposal (a gift, a loss, an unmatched withdrawal): out of the pool."""
        token = self.tokens[asset]
        token.removed[day] += amount
        token.removed_refs.setdefault(day, ref)

    def finish(self, at: tuple[date, ...] = ()) -> tuple[list[Disposal], list[Holding], list[Problem],
                                                       list[list[Holding]]]:
        """Match every disposal and return the rows, the pools held at the end, the problems, and for each day
        of ``at`` the pools held at its start. Those are what the whole history says: a disposal just before
        such a day that the next 30 days' acquisitions match took nothing from the pool (CRYPTO22256)."""
        disposals: list[Disposal] = []
        holdings: list[Holding] = []
        problems: list[Problem] = []
        pools_at: list[list[Holding]] = [[] for _ in at]
        for asset in sorted(self.tokens):
            parts = _match_token(self.tokens[asset])
            (pool_amount, pool_cost), found, before = _section_104(asset, self.tokens[asset], parts, at)
            problems += found
            flagged = False
            for day in sorted(self.tokens[asset].disposed):
                disposed = self.tokens[asset].disposed[day]
                disposals += _rows(Asset(asset), disposed, parts[day])
                unknown = sum((match.unknown for part in parts[day] for match in part.matches), ZERO)
                if unknown and not flagged:  # once per token: the pool's average carries them to later sales
                    flagged = True
                    problems.append(Problem(
                        ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                        f"sold {decimal_text(unknown)} {asset} on {day} whose cost is not known (they arrived in an "
                        "unmatched deposit or as a gift, or were acquired with no price): cost 0 used, so all of "
                        "their proceeds count as gain; later sales from the pool share its understated average. "
                        "Import the history they came from, or give their cost with `taxsync transfers cost`",
                        disposed.refs[0]))
            if pool_amount:
                holdings.append(Holding(Asset(asset), pool_amount, pool_cost, "all"))
            for pools, (amount, cost) in zip(pools_at, before, strict=True):
                if amount:
                    pools.append(Holding(Asset(asset), amount, cost, "all"))
        return disposals, holdings, problems, pools_at


def _match(disposal: _Day, acquisition: _Day, rule: str, parts: dict[date, list[_Part]]) -> None:
    units = min(disposal.left, acquisition.left)
    if units <= 0:
        return
    last = units == acquisition.left
    cost = acquisition.value - acquisition.taken if last else _cost_of(acquisition, units)
    unknown = acquisition.unknown_left if last or not acquisition.unknown_left else share(
        acquisition.unknown, units, acquisition.amount)
    acquisition.taken += cost
    acquisition.unknown_left -= unknown
    acquisition.left -= units
    disposal.left -= units
    match = LotMatch(";".join(acquisition.refs[:3]), acquisition.first_at, acquisition.day, units, cost,
                     acquisition.account, unknown)
    parts[disposal.day].append(_Part(rule, units, cost, acquisition.day, (match,)))


def _match_token(token: _Token) -> dict[date, list[_Part]]:
    parts: dict[date, list[_Part]] = {day: [] for day in token.disposed}
    for day, disposal in token.disposed.items():  # 1. same day (CRYPTO22251)
        if day in token.acquired:
            _match(disposal, token.acquired[day], "same-day", parts)
    acquisition_days = sorted(token.acquired)
    for day in sorted(token.disposed):  # 2. the next 30 days, earliest first (CRYPTO22252)
        disposal = token.disposed[day]
        index = bisect_right(acquisition_days, day)
        while disposal.left > 0 and index < len(acquisition_days) and acquisition_days[index] <= day + WINDOW:
            _match(disposal, token.acquired[acquisition_days[index]], "bed-and-breakfast", parts)
            index += 1
    return parts


Units = tuple[Decimal, Decimal]  # a pool's units and their cost


def _section_104(asset: str, token: _Token, parts: dict[date, list[_Part]], at: tuple[date, ...]
                 ) -> tuple[Units, list[Problem], list[Units]]:
    """3. Walk the days: a day's remaining disposal takes from the pool at its average cost (CRYPTO22203),
    then the day's unmatched acquisitions join it, then units that left without a disposal go. The pool also
    counts its units of unknown cost, so a disposal that takes some of them is flagged. Returns the pool at the
    end, the problems and the pool at the start of each day of ``at``."""
    pool = _Pool()
    problems: list[Problem] = []
    before: list[Units | None] = [None] * len(at)
    for day in sorted(set(token.acquired) | set(token.disposed) | set(token.removed)):
        for index, moment in enumerate(at):
            if before[index] is None and day >= moment:
                before[index] = (pool.amount, pool.cost)
        disposal = token.disposed.get(day)
        if disposal is not None and disposal.left > 0:
            units, taken, unknown = pool.take(disposal.left)
            short = disposal.left - units
            matches = (LotMatch("section 104 pool", None, None, units, taken, "all", unknown),) if units else ()
            if short:  # units no acquisition covers: a match of their own, at zero cost, as the lot pools make
                matches += (LotMatch("", None, None, short, ZERO, disposal.account),)
            parts[day].append(_Part("section-104", disposal.left, taken, None, matches, short))
            if short:
                problems.append(Problem(
                    ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                    f"sold {decimal_text(short)} {asset} on {day} with no known acquisition: cost 0 assumed, so "
                    "all of their proceeds count as gain. Import the history where they were bought or received",
                    disposal.refs[0]))
            disposal.left = ZERO
        if (acquisition := token.acquired.get(day)) is not None and acquisition.left > 0:
            pool.amount += acquisition.left
            pool.cost += acquisition.value - acquisition.taken
            pool.unknown += acquisition.unknown_left
        if gone := token.removed.get(day):
            units, _, _ = pool.take(gone)
            if gone > units:
                problems.append(Problem(
                    ProblemKind.NEGATIVE_BALANCE, Severity.ERROR,
                    f"{decimal_text(gone - units)} {asset} left on {day} but were never acquired: some history is "
                    "missing (import the purchases or deposits that brought them in)", token.removed_refs[day]))
    end = (pool.amount, pool.cost)
    return end, problems, [end if units is None else units for units in before]


class _Pool:
    """The Section 104 pool of one token: units, their total allowable cost, and how many have unknown cost."""

    __slots__ = ("amount", "cost", "unknown")

    def __init__(self) -> None:
        self.amount = self.cost = self.unknown = ZERO

    def take(self, wanted: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """Up to ``wanted`` units out at the pool's average cost: (units, cost, units of unknown cost)."""
        units = min(wanted, self.amount)
        if not units:
            return ZERO, ZERO, ZERO
        whole = units == self.amount
        cost = self.cost if whole else share(self.cost, units, self.amount)
        unknown = self.unknown if whole or not self.unknown else share(self.unknown, units, self.amount)
        self.amount, self.cost, self.unknown = self.amount - units, self.cost - cost, self.unknown - unknown
        return units, cost, unknown


def _rows(asset: Asset, disposal: _Day, parts: list[_Part]) -> list[Disposal]:
    """One report row per matching rule; proceeds shared by units, the last row taking the remainder."""
    rows: list[Disposal] = []
    left = disposal.value
    for index, part in enumerate(parts):
        proceeds = left if index == len(parts) - 1 else share(disposal.value, part.units, disposal.amount)
        left -= proceeds
        rows.append(Disposal(
            ref=disposal.refs[0], account=disposal.account, asset=asset, amount=part.units,
            disposed_at=disposal.first_at or TimestampMs(0), disposed=disposal.day, acquired=part.acquired,
            proceeds=proceeds, cost=part.cost, term=Term.SHORT, rule=part.rule, matches=part.matches,
            no_basis=part.no_basis,
        ))
    return rows
