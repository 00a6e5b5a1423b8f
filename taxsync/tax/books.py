"""The books the engine keeps while it runs: its rules, the lot pools per asset (or per asset and account), the
deferred UK matcher, the rows found so far, and the journal of lots for exports (taxsync.tax.engine books the
events into them)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.days import LocalDays
from taxsync.tax.pools import POOLS, Pool
from taxsync.tax.records import (
    Disposal,
    Event,
    Holding,
    Income,
    Lot,
    LotMatch,
    Term,
    ValuedLeg,
    share,
)
from taxsync.tax.superficial import SuperficialLosses
from taxsync.tax.uk import UkMatcher
from taxsync.tax.wallets import allocate
from taxsync.types import Asset, TimestampMs, decimal_text, local_date

ZERO = Decimal(0)
# Methods that match disposals only once the whole history is known (the UK's 30-day rule looks forward).
DEFERRED: dict[str, type[UkMatcher]] = {"uk-pooling": UkMatcher}
METHODS: tuple[str, ...] = (*POOLS, *DEFERRED)


@dataclass(frozen=True, slots=True)
class Rules:
    currency: Asset
    method: str
    zone: ZoneInfo
    term: Callable[[date, date], Term]
    fiat: frozenset[str]
    tracking: str = "universal"  # or "per-wallet"
    crypto_fee_is_disposal: bool = True
    per_wallet_from: TimestampMs | None = None  # universal until then, per wallet after (US: 1 Jan 2025)
    transfer_fee_is_disposal: bool = True  # the network fee of a move between own accounts
    superficial_loss: bool = False  # Canada, ITA s.54
    gift_at_market_value: bool = False  # a gift received costs its market value (else the donor's cost)
    gift_dual_basis: bool = False  # US: a gift's basis for a loss is its lower value when given (Reg. 1.1015-1(a))


ADJUSTED_FOR = "superficial loss (ITA s.54)"


class Books:
    """The running state of one computation: pools and what has been found so far. ``today`` is the local
    day of the event being booked."""

    __slots__ = ("balances", "counting", "days", "deferred", "denied", "disposals", "fiat", "flagged", "income",
                 "journal", "method", "new_pool", "per_wallet", "pools", "problems", "rules", "superficial", "term",
                 "terms", "today")

    def __init__(self, rules: Rules, journal: list[LotEntry] | None = None):
        self.rules = rules
        self.journal = journal
        self.method = rules.method
        self.fiat = rules.fiat
        self.term = rules.term
        self.days = LocalDays(rules.zone)
        self.today = date.min
        self.terms: dict[date, Term] = {}  # holding terms of disposals today, by acquisition day
        self.new_pool = POOLS.get(rules.method)
        self.deferred = DEFERRED[rules.method]() if rules.method in DEFERRED else None
        self.pools: dict[tuple[str, str], Pool] = {}
        # UK pooling has one pool per token whatever the wallet (CRYPTO22200): tracking does not apply to it.
        self.per_wallet = rules.tracking == "per-wallet" and self.deferred is None
        # Units per (asset, account), kept only while a switch to per-wallet tracking lies ahead.
        self.counting = rules.tracking == "universal" and rules.per_wallet_from is not None and not self.deferred
        self.balances: dict[tuple[str, str], Decimal] = {}
        self.disposals: list[Disposal] = []
        self.income: list[Income] = []
        self.problems: list[Problem] = []
        self.superficial: SuperficialLosses | None = None
        self.denied: dict[str, Decimal] = {}  # superficial losses waiting for units to join (s.53(1)(f))
        self.flagged: set[tuple[str, str]] = set()  # averaging pools whose unknown-cost units were reported

    def term_of(self, acquired: date) -> Term:
        """The holding term of units acquired on ``acquired`` and disposed of today (remembered for the day)."""
        term = self.terms[acquired] = self.term(acquired, self.today)
        return term

    def tracked(self, asset: str) -> bool:
        return asset not in self.fiat

    def pool(self, asset: str, account: str) -> Pool:
        key = (asset, account if self.per_wallet else "all")
        pool = self.pools.get(key)
        if pool is None:
            assert self.new_pool is not None
            pool = self.pools[key] = self.new_pool()
        return pool

    def problem(self, kind: ProblemKind, severity: Severity, message: str, event: Event) -> None:
        self.problems.append(Problem(kind, severity, message, event.ref))

    def describe(self, event: Event, amount: Decimal, asset: str) -> str:
        return f"{decimal_text(amount)} {asset} on {self.today} ({event.account})"

    def move(self, asset: str, amount: Decimal, account: str) -> None:
        if self.counting and asset not in self.fiat:
            key = (asset, account)
            self.balances[key] = self.balances.get(key, ZERO) + amount

    def switch_to_wallets(self) -> None:
        """Rev. Proc. 2024-28: allocate the universal lots to the wallets holding the units (taxsync.tax.wallets)."""
        assert self.new_pool is not None  # deferred methods never switch
        self.pools, problems = allocate(self.pools, self.balances, self.new_pool)
        self.problems += problems
        self.per_wallet = True
        self.counting = False

    def acquire(self, event: Event, asset: Asset, amount: Decimal, cost: Decimal | None, account: str,
                acquired: TimestampMs | None = None, loss_cost: Decimal | None = None) -> None:
        """Units in at ``cost``; None when their cost is not known (zero is used and a later sale flagged).
        ``acquired``: when they were acquired, if before they arrived (units bought elsewhere and deposited, or
        a gift whose donor's cost and holding period carry over: IRC s.1223(2); their lot keeps that date, so
        the holding term counts from it). UK pooling has no holding term: there the units join the pool when they
        arrive. ``loss_cost``: their basis for a loss where it is lower (a US gift, ``Lot.loss_cost``)."""
        if amount <= 0 or asset in self.fiat:
            return
        if self.counting:
            key = (asset, account)
            self.balances[key] = self.balances.get(key, ZERO) + amount
        if self.deferred is not None:
            self.deferred.acquire(asset, self.today, amount, cost, event.ref, event.timestamp, account)
            return
        unknown = ZERO
        if cost is None:
            cost, unknown = ZERO, amount
        pool = self.pools.get((asset, account if self.per_wallet else "all")) or self.pool(asset, account)
        if acquired is None:
            lot = Lot(asset, amount, cost, event.timestamp, account, event.ref, self.today, unknown, loss_cost)
        else:
            lot = Lot(asset, amount, cost, acquired, account, event.ref, local_date(acquired, self.rules.zone), unknown,
                      loss_cost)
        pool.add(lot)
        if self.journal is not None:
            self.journal.append(LotEntry(event.ref, asset, (lot,), added=True))
        if self.denied and asset in self.denied:
            pool.add_cost(self.denied.pop(asset))

    def remove(self, event: Event, asset: Asset, amount: Decimal, account: str, moving: bool = False
               ) -> list[LotMatch]:
        """Take units out without a disposal (a gift, a loss, a move); a shortfall is a negative balance. The
        journal, when kept, records what left (not what only ``moving`` to another own wallet)."""
        if amount <= 0 or asset in self.fiat:
            return []
        self.move(asset, -amount, account)
        if self.deferred is not None:
            self.deferred.remove(asset, self.today, amount, event.ref)
            return []
        taken, short = self.pool(asset, account).take(amount)
        if self.journal is not None and not moving:
            self.journal.append(LotEntry(event.ref, asset, tuple(taken), added=False))
        if short > 0:
            self.problem(
                ProblemKind.NEGATIVE_BALANCE, Severity.ERROR,
                f"{self.describe(event, short, asset)} left the account but were never acquired: "
                "some history is missing (import the purchases or deposits that brought them in)", event)
        return taken

    def dispose(self, event: Event, asset: Asset, amount: Decimal, proceeds: Decimal, account: str) -> None:
        if amount <= 0 or asset in self.fiat:
            return
        if self.counting:
            key = (asset, account)
            self.balances[key] = self.balances.get(key, ZERO) - amount
        if self.deferred is not None:
            self.deferred.dispose(asset, self.today, amount, proceeds, event.ref, event.timestamp, event.account)
            return
        expense = ZERO
        if proceeds < 0:  # fees beyond what the sale realized: no negative proceeds, the rest is a cost of the sale
            proceeds, expense = ZERO, -proceeds  # (the gain is the same: Reg. 1.1001-7(b)(2) fees reduce it)
        key = (asset, account if self.per_wallet else "all")
        pool = self.pools.get(key) or self.pool(asset, account)
        taken, short = pool.take(amount)
        if not short and self._one_row(event, asset, amount, proceeds, taken, pool, expense):
            return
        groups: dict[Term, Group] = {}
        for match in taken:
            term = self.terms.get(match.acquired_date) or self.term_of(match.acquired_date)
            group = groups.get(term)
            if group is None:
                group = groups[term] = Group(match.acquired_date)
            group.add(match)
        if short > 0:
            groups.setdefault(Term.SHORT, Group(None)).add(LotMatch("", None, None, short, ZERO, account))
            self.problem(
                ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                f"sold {self.describe(event, short, asset)} with no known acquisition: cost basis 0 assumed, "
                "so all of their proceeds count as gain. Import the history where they were bought or "
                "received, or add the purchase by hand", event)
        unknown = sum((match.unknown for match in taken), ZERO)
        if unknown and not (pool.averages and key in self.flagged):
            if pool.averages:  # one problem per pool: every later sale from it shares the understated average
                self.flagged.add(key)
            self.problem(
                ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                f"sold {self.describe(event, unknown, asset)} whose cost is not known (they arrived in an unmatched "
                "deposit or as a gift, or were acquired with no price): cost 0 used, so all of their proceeds "
                "count as gain"
                + (f"; they are averaged into the cost of all {asset} held, so every later sale is understated "
                   "too" if pool.averages else "")
                + ". Import the history they came from, or give their cost with `taxsync transfers cost`", event)
        # One disposal per holding term; proceeds are shared by units, the last part takes the remainder.
        left = proceeds
        for index, term in enumerate(sorted(groups)):
            group = groups[term]
            part = left if index == len(groups) - 1 else share(proceeds, group.units, amount)
            left -= part
            cost = _dual_basis(group.matches, part, group.units) if group.dual else group.cost
            self._row(event, asset, group.units, part, cost + (expense if index == 0 else ZERO), term,
                      group.acquired, tuple(group.matches), group.no_basis, pool)

    def _one_row(self, event: Event, asset: Asset, amount: Decimal, proceeds: Decimal, taken: list[LotMatch],
                 pool: Pool, expense: Decimal) -> bool:
        """The common case: lots of known cost that share one holding term make one row. False if they do not."""
        terms = self.terms
        acquired = taken[0].acquired_date
        term = terms.get(acquired) or self.term_of(acquired)
        cost = expense
        for match in taken:
            if match.unknown or match.loss_cost is not None:
                return False
            if match.acquired_date != acquired:
                if (terms.get(match.acquired_date) or self.term_of(match.acquired_date)) is not term:
                    return False
                acquired = None
            cost += match.cost
        matches = tuple(taken)
        if self.superficial is None:
            self.disposals.append(Disposal(event.ref, event.account, asset, amount, event.timestamp, self.today,
                                           acquired, proceeds, cost, term, self.method, matches))
        else:
            self._row(event, asset, amount, proceeds, cost, term, acquired, matches, ZERO, pool)
        return True

    def _row(self, event: Event, asset: Asset, units: Decimal, proceeds: Decimal, cost: Decimal, term: Term,
             acquired: date | None, matches: tuple[LotMatch, ...], no_basis: Decimal, pool: Pool) -> None:
        adjustment = ZERO
        if self.superficial is not None and proceeds < cost:
            adjustment = self.superficial.denied(asset, self.today, units, cost - proceeds)
            if adjustment and not pool.add_cost(adjustment):  # no units left: the next ones carry it
                self.denied[asset] = self.denied.get(asset, ZERO) + adjustment
        self.disposals.append(Disposal(
            event.ref, event.account, asset, units, event.timestamp, self.today, acquired, proceeds, cost, term,
            self.rules.method, matches, no_basis, adjustment, ADJUSTED_FOR if adjustment else ""))

    def pay_fees(self, event: Event, fees: list[ValuedLeg], account: str, as_disposal: bool) -> None:
        """Fee units paid in crypto are disposed of at their value (or just leave, where that is the rule)."""
        for leg in fees:
            if as_disposal:
                self.dispose(event, leg.asset, -leg.amount, leg.value or ZERO, account)
            else:
                self.remove(event, leg.asset, -leg.amount, account)

    # What a snapshot holds: everything booking an event reads and changes, except the rows found so far (which
    # are only ever appended to) and the day's caches (``today``, ``terms``: set again by the next event).
    _STATE = ("pools", "balances", "denied", "flagged", "per_wallet", "counting", "deferred")

    def snapshot(self) -> bytes:
        """The running state between two events (the pools with their lots, the per-wallet counts, the losses
        waiting for units, the UK matcher's days so far), as bytes: a copy later events cannot change. The
        superficial-loss rule, which looks 30 days ahead of each sale while booking it, cannot resume."""
        assert self.superficial is None
        return pickle.dumps(tuple(getattr(self, name) for name in self._STATE), protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, state: bytes) -> None:
        """Take up the state a ``snapshot`` of books under the same rules saved."""
        for name, value in zip(self._STATE, pickle.loads(state), strict=True):  # our own bytes, from snapshot()
            setattr(self, name, value)

    def holdings(self) -> tuple[Holding, ...]:
        rows = []
        for (asset, account), pool in sorted(self.pools.items()):
            lots = pool.lots()
            amount = sum((lot.amount for lot in lots), ZERO)
            if amount:
                rows.append(Holding(Asset(asset), amount, sum((lot.cost for lot in lots), ZERO), account))
        return tuple(rows)


class Group:
    """The lots of one disposal that share a holding term; ``acquired`` is None when their days differ;
    ``dual`` when one of them has a lower basis for a loss (``Lot.loss_cost``)."""

    __slots__ = ("acquired", "cost", "dual", "matches", "no_basis", "units")

    def __init__(self, acquired: date | None):
        self.acquired = acquired
        self.matches: list[LotMatch] = []
        self.units = self.cost = self.no_basis = ZERO
        self.dual = False

    def add(self, match: LotMatch) -> None:
        if match.acquired_date != self.acquired:
            self.acquired = None
        self.matches.append(match)
        self.units += match.amount
        self.cost += match.cost
        self.dual |= match.loss_cost is not None
        if not match.lot_ref:
            self.no_basis += match.amount


def _dual_basis(matches: list[LotMatch], proceeds: Decimal, units: Decimal) -> Decimal:
    """The basis of a sale of lots some of which were received as US gifts worth less than the donor's basis
    when given (Treas. Reg. 1.1015-1(a), IRC §1015(a)): for each such lot, its share of the proceeds decides:
    at or above the donor's basis, the donor's basis (a gain); at or below the value when given, that value (a
    loss); in between, the proceeds themselves (neither gain nor loss). Other lots keep their cost."""
    total = ZERO
    for match in matches:
        if match.loss_cost is None:
            total += match.cost
            continue
        realized = share(proceeds, match.amount, units)
        total += match.cost if realized >= match.cost else match.loss_cost if realized <= match.loss_cost else realized
    return total


class LotEntry(NamedTuple):
    """A journal line: lots an event added (``added``) or took out without a disposal (gifts, losses,
    withdrawals, fees that are no disposal); disposals carry their own matches."""

    ref: str
    asset: Asset
    lots: tuple[Lot, ...] | tuple[LotMatch, ...]
    added: bool
