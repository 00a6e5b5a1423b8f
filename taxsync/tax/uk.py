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

    def add(self, amount: Decimal, value: Decimal, ref: str, at: TimestampMs, account: str) -> None:
        self.amount += amount
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

    def acquire(self, asset: str, day: date, amount: Decimal, cost: Decimal, ref: str, at: TimestampMs,
                account: str) -> None:
        self.tokens[asset].acquired.setdefault(day, _Day(day)).add(amount, cost, ref, at, account)

    def dispose(self, asset: str, day: date, amount: Decimal, proceeds: Decimal, ref: str, at: TimestampMs,
                account: str) -> None:
        self.tokens[asset].disposed.setdefault(day, _Day(day)).add(amount, proceeds, ref, at, account)

    def remove(self, asset: str, day: date, amount: Decimal) -> None:
        """Units that left without a disposal (a gift, a loss, an unmatched withdrawal): out of the pool."""
        self.tokens[asset].removed[day] += amount

    def finish(self) -> tuple[list[Disposal], list[Holding], list[Problem]]:
        disposals: list[Disposal] = []
        holdings: list[Holding] = []
        problems: list[Problem] = []
        for asset in sorted(self.tokens):
            parts = _match_token(self.tokens[asset])
            pool_amount, pool_cost, found = _section_104(asset, self.tokens[asset], parts)
            problems += found
            for day in sorted(self.tokens[asset].disposed):
                disposals += _rows(Asset(asset), self.tokens[asset].disposed[day], parts[day])
            if pool_amount:
                holdings.append(Holding(Asset(asset), pool_amount, pool_cost, "all"))
        return disposals, holdings, problems


def _match(disposal: _Day, acquisition: _Day, rule: str, parts: dict[date, list[_Part]]) -> None:
    units = min(disposal.left, acquisition.left)
    if units <= 0:
        return
    cost = _cost_of(acquisition, units) if units != acquisition.left else acquisition.value - acquisition.taken
    acquisition.taken += cost
    acquisition.left -= units
    disposal.left -= units
    match = LotMatch(";".join(acquisition.refs[:3]), acquisition.first_at, acquisition.day, units, cost,
                     acquisition.account)
    parts[disposal.day].append(_Part(rule, units, cost, acquisition.day, (match,)))


def _match_token(token: _Token) -> dict[date, list[_Part]]:
    parts: dict[date, list[_Part]] = {day: [] for day in token.disposed}
    for day, disposal in token.disposed.items():  # 1. same day (CRYPTO22251)
        if day in token.acquired:
            _match(disposal, token.acquired[day], "same-day", parts)
    acquisition_days = sorted(token.acquired)
    for day in sorted(token.disposed):  # 2. the next 30 days, earliest first (CRYPTO22252)
        disposal = token.disposed[day]
        for later in acquisition_days:
            if day < later <= day + WINDOW and disposal.left > 0:
                _match(disposal, token.acquired[later], "bed-and-breakfast", parts)
    return parts


def _section_104(asset: str, token: _Token, parts: dict[date, list[_Part]]) -> tuple[Decimal, Decimal,
                                                                                       list[Problem]]:
    """3. Walk the days: a day's remaining disposal takes from the pool at its average cost (CRYPTO22203),
    then the day's unmatched acquisitions join it, then units that left without a disposal go."""
    amount, cost = ZERO, ZERO
    problems: list[Problem] = []
    for day in sorted(set(token.acquired) | set(token.disposed) | set(token.removed)):
        disposal = token.disposed.get(day)
        if disposal is not None and disposal.left > 0:
            units = min(disposal.left, amount)
            taken = ZERO if not units else (cost if units == amount else share(cost, units, amount))
            short = disposal.left - units
            amount, cost = amount - units, cost - taken
            parts[day].append(_Part("section-104", disposal.left, taken, None, (
                LotMatch("section 104 pool", None, None, units, taken, "all"),), short))
            if short:
                problems.append(Problem(
                    ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                    f"sold {decimal_text(short)} {asset} on {day} with no known acquisition: cost 0 assumed, so "
                    "all of their proceeds count as gain. Import the history where they were bought or received",
                    disposal.refs[0]))
            disposal.left = ZERO
        if (acquisition := token.acquired.get(day)) is not None and acquisition.left > 0:
            amount += acquisition.left
            cost += acquisition.value - acquisition.taken
        if (gone := token.removed.get(day)) and amount:
            units = min(gone, amount)
            cost -= cost if units == amount else share(cost, units, amount)
            amount -= units
    return amount, cost, problems


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
