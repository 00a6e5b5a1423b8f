"""The tax engine: valued events and rules in, disposals, income, holdings and problems out.

It is pure: no database, no network, no printing. Events are booked in time order against lot pools (one
per asset, or per asset and account when tracking per wallet); each event kind has its handler in
``HANDLERS``. Fees follow reference/tax-rules.md:

* acquisition fees add to the basis of what is acquired (Reg. 1.1012-1(h)(1)(ii));
* disposal fees, and the fees of a swap, reduce the amount realized (Reg. 1.1001-7(b)(2));
* a fee paid in crypto is itself a disposal of those units at their value (Reg. 1.1001-7(b)(1)(i)), where
  the jurisdiction says so (``Rules.crypto_fee_is_disposal``); otherwise the units simply leave.

The network fee of a move between own accounts is a disposal or a non-deductible cost as the jurisdiction
says (``Rules.transfer_fee_is_disposal``). Canada's superficial-loss rule (``taxsync.tax.superficial``) denies a
loss as an adjustment on its row and adds it to the cost of the units held.

Units sold with no known acquisition get zero cost and a problem; units that arrived with no known cost
(an unmatched deposit without a cost from the user, a gift, a purchase with no value) are held at zero and
their sale is flagged.

Speed: a year of a very active trader is a million events, so the inner loop avoids what Python makes slow
(enum lookups, frozen-dataclass construction, per-call time-zone conversion) and the cyclic garbage collector
is paused while the acyclic records are built (bench/engine_million.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, localcontext
from operator import attrgetter
from zoneinfo import ZoneInfo

from taxsync.perf import collector_paused
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.days import LocalDays
from taxsync.tax.pools import POOLS, Pool
from taxsync.tax.records import (
    Disposal,
    Event,
    EventKind,
    Holding,
    Income,
    Lot,
    LotMatch,
    TaxResult,
    Term,
    ValuedLeg,
    share,
)
from taxsync.tax.superficial import SuperficialLosses
from taxsync.tax.uk import UkMatcher
from taxsync.tax.wallets import allocate
from taxsync.types import Asset, Role, TimestampMs, decimal_text

ZERO = Decimal(0)
# Methods that match disposals only once the whole history is known (the UK's 30-day rule looks forward).
DEFERRED: dict[str, type[UkMatcher]] = {"uk-pooling": UkMatcher}
METHODS: tuple[str, ...] = (*POOLS, *DEFERRED)
_TIMESTAMP = attrgetter("timestamp")
# Enum members are slow to look up (a class attribute each time): the inner loop uses these names.
_IN, _OUT, _FEE = Role.IN, Role.OUT, Role.FEE


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


ADJUSTED_FOR = "superficial loss (ITA s.54)"


class _Books:
    """The running state of one computation: pools and what has been found so far. ``today`` is the local
    day of the event being booked."""

    __slots__ = ("balances", "counting", "days", "deferred", "denied", "disposals", "fiat", "flagged", "income",
                 "method", "new_pool", "per_wallet", "pools", "problems", "rules", "superficial", "term", "terms",
                 "today")

    def __init__(self, rules: Rules):
        self.rules = rules
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
        self.flagged: set[int] = set()  # averaging pools whose unknown-cost units were already reported

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

    def acquire(self, event: Event, asset: Asset, amount: Decimal, cost: Decimal | None, account: str) -> None:
        """Units in at ``cost``; None when their cost is not known (zero is used and a later sale flagged)."""
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
        pool.add(Lot(asset, amount, cost, event.timestamp, account, event.ref, self.today, unknown))
        if self.denied and asset in self.denied:
            pool.add_cost(self.denied.pop(asset))

    def remove(self, event: Event, asset: Asset, amount: Decimal, account: str) -> list[LotMatch]:
        """Take units out without a disposal (a gift, a loss, a move); a shortfall is a negative balance."""
        if amount <= 0 or asset in self.fiat:
            return []
        self.move(asset, -amount, account)
        if self.deferred is not None:
            self.deferred.remove(asset, self.today, amount, event.ref)
            return []
        taken, short = self.pool(asset, account).take(amount)
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
        pool = self.pools.get((asset, account if self.per_wallet else "all")) or self.pool(asset, account)
        taken, short = pool.take(amount)
        if not short and self._one_row(event, asset, amount, proceeds, taken, pool):
            return
        groups: dict[Term, _Group] = {}
        for match in taken:
            term = self.terms.get(match.acquired_date) or self.term_of(match.acquired_date)
            group = groups.get(term)
            if group is None:
                group = groups[term] = _Group(match.acquired_date)
            group.add(match)
        if short > 0:
            groups.setdefault(Term.SHORT, _Group(None)).add(LotMatch("", None, None, short, ZERO, account))
            self.problem(
                ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                f"sold {self.describe(event, short, asset)} with no known acquisition: cost basis 0 assumed, "
                "so all of their proceeds count as gain. Import the history where they were bought or "
                "received, or add the purchase by hand", event)
        unknown = sum((match.unknown for match in taken), ZERO)
        if unknown and not (pool.averages and id(pool) in self.flagged):
            if pool.averages:  # one problem per pool: every later sale from it shares the understated average
                self.flagged.add(id(pool))
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
            self._row(event, asset, group.units, part, group.cost, term, group.acquired, tuple(group.matches),
                      group.no_basis, pool)

    def _one_row(self, event: Event, asset: Asset, amount: Decimal, proceeds: Decimal, taken: list[LotMatch],
                 pool: Pool) -> bool:
        """The common case: lots of known cost that share one holding term make one row. False if they do not."""
        terms = self.terms
        acquired = taken[0].acquired_date
        term = terms.get(acquired) or self.term_of(acquired)
        cost = ZERO
        for match in taken:
            if match.unknown:
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

    def holdings(self) -> tuple[Holding, ...]:
        rows = []
        for (asset, account), pool in sorted(self.pools.items()):
            lots = pool.lots()
            amount = sum((lot.amount for lot in lots), ZERO)
            if amount:
                rows.append(Holding(Asset(asset), amount, sum((lot.cost for lot in lots), ZERO), account))
        return tuple(rows)


class _Group:
    """The lots of one disposal that share a holding term; ``acquired`` is None when their days differ."""

    __slots__ = ("acquired", "cost", "matches", "no_basis", "units")

    def __init__(self, acquired: date | None):
        self.acquired = acquired
        self.matches: list[LotMatch] = []
        self.units = self.cost = self.no_basis = ZERO

    def add(self, match: LotMatch) -> None:
        if match.acquired_date != self.acquired:
            self.acquired = None
        self.matches.append(match)
        self.units += match.amount
        self.cost += match.cost
        if not match.lot_ref:
            self.no_basis += match.amount


def _split(event: Event) -> tuple[list[ValuedLeg], list[ValuedLeg], list[ValuedLeg], Decimal]:
    """The event's out, in and fee legs, and the value of its fees."""
    outs: list[ValuedLeg] = []
    ins: list[ValuedLeg] = []
    fees: list[ValuedLeg] = []
    fee = ZERO
    for leg in event.legs:
        if leg.role is _OUT:
            outs.append(leg)
        elif leg.role is _IN:
            ins.append(leg)
        else:
            fees.append(leg)
            if leg.value is not None:
                fee += leg.value
    return outs, ins, fees, fee


def _trade(books: _Books, event: Event) -> None:
    """Out legs are disposed of, in legs acquired. A sale's or swap's fees reduce the amount realized of its
    first disposed leg; a purchase's fees (nothing tracked goes out) add to the cost of its first acquired leg.
    Fee units paid in crypto are then disposed of themselves (``Rules.crypto_fee_is_disposal``)."""
    fiat, legs, account = books.fiat, event.legs, event.account
    fee, fees = ZERO, []
    for leg in legs:  # legs are unpacked: cheaper than attribute access in this loop of every trade
        asset, _, role, value, _ = leg
        if role is _FEE:
            if value is not None:
                fee += value
            if asset not in fiat:
                fees.append(leg)
    disposed = False
    for asset, amount, role, value, _ in legs:
        if role is _OUT and asset not in fiat:
            books.dispose(event, asset, -amount, (value or ZERO) - (ZERO if disposed else fee), account)
            disposed = True
    extra = ZERO if disposed else fee
    for asset, amount, role, value, _ in legs:
        if role is _IN and asset not in fiat:
            books.acquire(event, asset, amount, None if value is None else value + extra, account)
            extra = ZERO
    if fees:
        books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


def _spend(books: _Books, event: Event) -> None:
    outs, _, fees, fee = _split(event)
    for index, leg in enumerate(outs):
        books.dispose(event, leg.asset, -leg.amount, (leg.value or ZERO) - (fee if index == 0 else ZERO),
                      event.account)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


def _income(books: _Books, event: Event) -> None:
    """Staking, mining, airdrops, interest: ordinary income at fair market value when received, which is
    also the basis of the units (Rev. Rul. 2023-14, Rev. Rul. 2019-24; Notice 2014-21 Q&A-8)."""
    _, ins, fees, _ = _split(event)
    for leg in ins:
        books.income.append(Income(event.ref, event.account, leg.asset, leg.amount, leg.value,
                                   event.subkind or "income", event.timestamp, books.today))
        books.acquire(event, leg.asset, leg.amount, leg.value, event.account)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


def _movement(role: Role, kind: ProblemKind | None = None, explain: str = "") -> Callable[[_Books, Event], None]:
    """A handler for units that arrive (at zero cost) or leave (without a sale), flagging each tracked one
    with ``explain`` (``{what}`` is replaced by the amount, date and account) when ``kind`` is given."""

    def handle(books: _Books, event: Event) -> None:
        outs, ins, fees, _ = _split(event)
        for leg in ins if role is _IN else outs:
            if kind and books.tracked(leg.asset):
                what = books.describe(event, abs(leg.amount), leg.asset)
                books.problem(kind, Severity.WARNING, explain.format(what=what), event)
            if role is _IN:
                books.acquire(event, leg.asset, leg.amount, None, event.account)
            else:
                books.remove(event, leg.asset, -leg.amount, event.account)
        books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)

    return handle


_unmatched_deposit = _movement(
    _IN, ProblemKind.UNMATCHED_DEPOSIT,
    "deposit of {what} matches no withdrawal from your other accounts: treated as acquired at zero cost. If it "
    "came from a wallet of yours, import that wallet; if it was a purchase or income, label it so; or give its "
    "cost with `taxsync transfers cost`")


def _deposit(books: _Books, event: Event) -> None:
    """Units from outside the known accounts: at the cost the user gave for them, else zero and a problem."""
    if event.basis is None:
        _unmatched_deposit(books, event)
        return
    _, ins, fees, _ = _split(event)
    tracked = [leg for leg in ins if leg.asset not in books.fiat]
    total = sum((leg.amount for leg in tracked), ZERO)
    left = event.basis
    for index, leg in enumerate(tracked):  # one asset in practice; several share the cost by units
        cost = left if index == len(tracked) - 1 else share(event.basis, leg.amount, total)
        left -= cost
        books.acquire(event, leg.asset, leg.amount, cost, event.account)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


# A gift's basis is the donor's (IRC §1015): unknown here, so zero until the user supplies it.
_gift_in = _movement(
    _IN, ProblemKind.MISSING_COST_BASIS,
    "gift of {what} received: the donor's cost basis carries over and is unknown, so zero is used; ask the "
    "donor for their cost")
_withdrawal = _movement(
    _OUT, ProblemKind.UNMATCHED_WITHDRAWAL,
    "withdrawal of {what} matches no deposit into your other accounts: treated as moved to a wallet of yours "
    "that is not imported (no gain). Import that wallet, or label the row if it was a payment, gift or loss")
# Gifts given, donations and losses: the units leave without a sale (no gain, no deductible loss).
_leave = _movement(_OUT)


def _transfer(books: _Books, event: Event) -> None:
    """A move between own accounts is not a disposal: the lots keep their cost and dates. Per wallet they
    move to the receiving account. The network fee is paid from the sending account and treated as the
    jurisdiction says (``Rules.transfer_fee_is_disposal``; see jurisdictions.TRANSFER_FEES)."""
    _, ins, fees, _ = _split(event)
    for leg in ins:
        if books.per_wallet:  # remove() also takes the units off the sender's balance
            target = books.pool(leg.asset, event.to_account)
            for part in books.remove(event, leg.asset, leg.amount, event.account):
                target.add(Lot(leg.asset, part.amount, part.cost, part.acquired or event.timestamp,
                               event.to_account, part.lot_ref, part.acquired_date or books.today, part.unknown))
        else:
            books.move(leg.asset, -leg.amount, event.account)
        books.move(leg.asset, leg.amount, event.to_account)
    books.pay_fees(event, fees, event.account, books.rules.transfer_fee_is_disposal)


def _internal(books: _Books, event: Event) -> None:
    _, _, fees, _ = _split(event)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


HANDLERS: dict[EventKind, Callable[[_Books, Event], None]] = {
    EventKind.TRADE: _trade,
    EventKind.SPEND: _spend,
    EventKind.INCOME: _income,
    EventKind.DEPOSIT: _deposit,
    EventKind.GIFT_IN: _gift_in,
    EventKind.WITHDRAWAL: _withdrawal,
    EventKind.GIFT_OUT: _leave,
    EventKind.LOSS: _leave,
    EventKind.TRANSFER: _transfer,
    EventKind.INTERNAL: _internal,
}


def compute(events: Iterable[Event], rules: Rules, *, opening_at: TimestampMs | None = None) -> TaxResult:
    """Book ``events`` in time order (ties keep their given order) and return what was found. With
    ``opening_at``, the result's ``opening`` holds what was held just before that moment (a report's opening
    holdings), as the same run saw it: a later event that changes an earlier cost (a superficial loss denied
    in Canada) is in it. UK pooling matches a disposal with later acquisitions (30 days), so its pools are only
    known at the end: there the events before the moment are booked again on their own."""
    if rules.method not in METHODS:
        raise ValueError(f"unknown method {rules.method!r}")
    if opening_at is not None:
        events = list(events)  # UK pooling books them twice
    with collector_paused():
        result = _book(events, rules, opening_at)
        if opening_at is not None and rules.method == "uk-pooling":
            before = _book([event for event in events if event.timestamp < opening_at], rules, None)
            result = replace(result, opening=before.holdings)
        return result


def _book(events: Iterable[Event], rules: Rules, opening_at: TimestampMs | None) -> TaxResult:
    books = _Books(rules)
    ordered = sorted(events, key=_TIMESTAMP)
    opening: tuple[Holding, ...] = ()
    if rules.superficial_loss:
        books.superficial = SuperficialLosses(ordered, rules.fiat, rules.zone)
    days, handlers = books.days, HANDLERS
    start = end = 0  # the UTC span of books.today
    with localcontext() as context:
        context.prec = 50
        switch = rules.per_wallet_from if rules.tracking == "universal" and books.deferred is None else None
        for event in ordered:
            if opening_at is not None and event.timestamp >= opening_at:
                opening, opening_at = books.holdings(), None
            if switch is not None and event.timestamp >= switch:
                books.switch_to_wallets()
                switch = None
            if not start <= event.timestamp < end:  # a new local day
                books.today, start, end = days.span(event.timestamp)
                books.terms.clear()
            handlers[event.kind](books, event)
        holdings = books.holdings()
        if opening_at is not None:  # every event was before the moment
            opening = holdings
        if books.deferred is not None:
            disposals, pooled, problems = books.deferred.finish()
            books.disposals += disposals
            books.problems += problems
            holdings = tuple(pooled)
    return TaxResult(tuple(books.disposals), tuple(books.income), holdings, tuple(books.problems), opening)
