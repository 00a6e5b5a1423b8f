"""The tax engine: valued events and rules in, disposals, income, holdings and problems out.

It is pure: no database, no network, no printing. Events are booked in time order against lot pools (one
per asset, or per asset and account when tracking per wallet); each event kind has its handler in
``HANDLERS``. Fees follow reference/tax-rules.md:

* acquisition fees add to the basis of what is acquired (Reg. 1.1012-1(h)(1)(ii));
* disposal fees, and the fees of a swap, reduce the amount realized (Reg. 1.1001-7(b)(2));
* a fee paid in crypto is itself a disposal of those units at their value (Reg. 1.1001-7(b)(1)(i)), where
  the jurisdiction says so (``Rules.crypto_fee_is_disposal``); otherwise the units simply leave.

Units sold with no known acquisition get zero cost and a problem; so do deposits that match no withdrawal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

from taxsync.problems import Problem, ProblemKind, Severity
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
from taxsync.tax.uk import UkMatcher
from taxsync.tax.wallets import allocate
from taxsync.types import Asset, Role, TimestampMs, decimal_text, local_date

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


class _Books:
    """The running state of one computation: pools and what has been found so far."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.new_pool = POOLS.get(rules.method)
        self.deferred = DEFERRED[rules.method]() if rules.method in DEFERRED else None
        self.pools: dict[tuple[str, str], Pool] = {}
        self.tracking = rules.tracking
        self.balances: dict[tuple[str, str], Decimal] = {}  # units per (asset, account), for the switch
        self.disposals: list[Disposal] = []
        self.income: list[Income] = []
        self.problems: list[Problem] = []

    def tracked(self, asset: str) -> bool:
        return asset not in self.rules.fiat

    def pool(self, asset: str, account: str) -> Pool:
        key = (asset, account if self.tracking == "per-wallet" else "all")
        if key not in self.pools:
            assert self.new_pool is not None
            self.pools[key] = self.new_pool()
        return self.pools[key]

    def problem(self, kind: ProblemKind, severity: Severity, message: str, event: Event) -> None:
        self.problems.append(Problem(kind, severity, message, event.ref))

    def describe(self, event: Event, amount: Decimal, asset: str) -> str:
        return f"{decimal_text(amount)} {asset} on {local_date(event.timestamp, self.rules.zone)} ({event.account})"

    def move(self, asset: str, amount: Decimal, account: str) -> None:
        if self.tracked(asset):
            self.balances[(asset, account)] = self.balances.get((asset, account), ZERO) + amount

    def switch_to_wallets(self) -> None:
        """Rev. Proc. 2024-28: allocate the universal lots to the wallets holding the units (taxsync.tax.wallets)."""
        assert self.new_pool is not None  # deferred methods never switch
        self.pools, problems = allocate(self.pools, self.balances, self.new_pool)
        self.problems += problems
        self.tracking = "per-wallet"

    def acquire(self, event: Event, asset: Asset, amount: Decimal, cost: Decimal, account: str) -> None:
        if amount <= 0 or not self.tracked(asset):
            return
        self.move(asset, amount, account)
        if self.deferred is not None:
            self.deferred.acquire(asset, local_date(event.timestamp, self.rules.zone), amount, cost, event.ref,
                                  event.timestamp, account)
            return
        self.pool(asset, account).add(Lot(asset, amount, cost, event.timestamp, account, event.ref))

    def remove(self, event: Event, asset: Asset, amount: Decimal, account: str) -> list[tuple[Lot, Decimal, Decimal]]:
        """Take units out without a disposal (a gift, a loss, a move); a shortfall is a negative balance."""
        if amount <= 0 or not self.tracked(asset):
            return []
        self.move(asset, -amount, account)
        if self.deferred is not None:
            self.deferred.remove(asset, local_date(event.timestamp, self.rules.zone), amount)
            return []
        pieces, short = self.pool(asset, account).take(amount)
        if short > 0:
            self.problem(
                ProblemKind.NEGATIVE_BALANCE, Severity.ERROR,
                f"{self.describe(event, short, asset)} left the account but were never acquired: "
                "some history is missing (import the purchases or deposits that brought them in)", event)
        return pieces

    def dispose(self, event: Event, asset: Asset, amount: Decimal, proceeds: Decimal, account: str) -> None:
        if amount <= 0 or not self.tracked(asset):
            return
        self.move(asset, -amount, account)
        if self.deferred is not None:
            self.deferred.dispose(asset, local_date(event.timestamp, self.rules.zone), amount, proceeds, event.ref,
                                  event.timestamp, event.account)
            return
        pieces, short = self.pool(asset, account).take(amount)
        matches = [
            LotMatch(lot.ref, lot.acquired, local_date(lot.acquired, self.rules.zone), units, cost, lot.account)
            for lot, units, cost in pieces
        ]
        if short > 0:
            matches.append(LotMatch("", None, None, short, ZERO, account))
            self.problem(
                ProblemKind.MISSING_COST_BASIS, Severity.ERROR,
                f"sold {self.describe(event, short, asset)} with no known acquisition: cost basis 0 assumed, "
                "so all of their proceeds count as gain. Import the history where they were bought or "
                "received, or add the purchase by hand", event)
        self._record(event, asset, amount, proceeds, matches)

    def _record(self, event: Event, asset: Asset, amount: Decimal, proceeds: Decimal, matches: list[LotMatch]) -> None:
        """One disposal per holding term; proceeds are shared by units, the last part takes the remainder."""
        disposed = local_date(event.timestamp, self.rules.zone)
        by_term: dict[Term, list[LotMatch]] = {}
        for match in matches:
            term = self.rules.term(match.acquired_date, disposed) if match.acquired_date else Term.SHORT
            by_term.setdefault(term, []).append(match)
        left = proceeds
        for index, (term, group) in enumerate(sorted(by_term.items())):
            units = sum((m.amount for m in group), ZERO)
            part = left if index == len(by_term) - 1 else share(proceeds, units, amount)
            left -= part
            dates = {m.acquired_date for m in group}
            self.disposals.append(Disposal(
                ref=event.ref, account=event.account, asset=asset, amount=units,
                disposed_at=event.timestamp, disposed=disposed,
                acquired=next(iter(dates)) if len(dates) == 1 else None,
                proceeds=part, cost=sum((m.cost for m in group), ZERO), term=term, rule=self.rules.method,
                matches=tuple(group), no_basis=sum((m.amount for m in group if not m.lot_ref), ZERO),
            ))

    def fee_value(self, event: Event) -> Decimal:
        return sum((leg.value or ZERO for leg in event.legs if leg.role is Role.FEE), ZERO)

    def pay_fees(self, event: Event, account: str) -> None:
        """Fee units paid in crypto are disposed of at their value (or just leave, where that is the rule)."""
        for leg in _legs(event, Role.FEE):
            if self.rules.crypto_fee_is_disposal:
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


def _legs(event: Event, role: Role) -> list[ValuedLeg]:
    return [leg for leg in event.legs if leg.role is role]


def _trade(books: _Books, event: Event) -> None:
    outs = [leg for leg in _legs(event, Role.OUT) if books.tracked(leg.asset)]
    ins = [leg for leg in _legs(event, Role.IN) if books.tracked(leg.asset)]
    fee = books.fee_value(event)
    for index, leg in enumerate(outs):  # swap and sale fees reduce the amount realized
        books.dispose(event, leg.asset, -leg.amount, (leg.value or ZERO) - (fee if index == 0 else ZERO),
                      event.account)
    for index, leg in enumerate(ins):  # a purchase's fees add to its basis
        books.acquire(event, leg.asset, leg.amount,
                      (leg.value or ZERO) + (fee if not outs and index == 0 else ZERO), event.account)
    books.pay_fees(event, event.account)


def _spend(books: _Books, event: Event) -> None:
    fee = books.fee_value(event)
    for index, leg in enumerate(_legs(event, Role.OUT)):
        books.dispose(event, leg.asset, -leg.amount, (leg.value or ZERO) - (fee if index == 0 else ZERO),
                      event.account)
    books.pay_fees(event, event.account)


def _income(books: _Books, event: Event) -> None:
    """Staking, mining, airdrops, interest: ordinary income at fair market value when received, which is
    also the basis of the units (Rev. Rul. 2023-14, Rev. Rul. 2019-24; Notice 2014-21 Q&A-8)."""
    for leg in _legs(event, Role.IN):
        books.income.append(Income(event.ref, event.account, leg.asset, leg.amount, leg.value, event.subkind or
                                   "income", event.timestamp, local_date(event.timestamp, books.rules.zone)))
        books.acquire(event, leg.asset, leg.amount, leg.value or ZERO, event.account)
    books.pay_fees(event, event.account)


def _movement(role: Role, kind: ProblemKind | None = None, explain: str = "") -> Callable[[_Books, Event], None]:
    """A handler for units that arrive (at zero cost) or leave (without a sale), flagging each tracked one
    with ``explain`` (``{what}`` is replaced by the amount, date and account) when ``kind`` is given."""

    def handle(books: _Books, event: Event) -> None:
        for leg in _legs(event, role):
            if kind and books.tracked(leg.asset):
                what = books.describe(event, abs(leg.amount), leg.asset)
                books.problem(kind, Severity.WARNING, explain.format(what=what), event)
            if role is Role.IN:
                books.acquire(event, leg.asset, leg.amount, ZERO, event.account)
            else:
                books.remove(event, leg.asset, -leg.amount, event.account)
        books.pay_fees(event, event.account)

    return handle


_deposit = _movement(
    Role.IN, ProblemKind.UNMATCHED_DEPOSIT,
    "deposit of {what} matches no withdrawal from your other accounts: treated as acquired at zero cost. If it "
    "came from a wallet of yours, import that wallet; if it was a purchase or income, label it so")
# A gift's basis is the donor's (IRC §1015): unknown here, so zero until the user supplies it.
_gift_in = _movement(
    Role.IN, ProblemKind.MISSING_COST_BASIS,
    "gift of {what} received: the donor's cost basis carries over and is unknown, so zero is used; ask the "
    "donor for their cost")
_withdrawal = _movement(
    Role.OUT, ProblemKind.UNMATCHED_WITHDRAWAL,
    "withdrawal of {what} matches no deposit into your other accounts: treated as moved to a wallet of yours "
    "that is not imported (no gain). Import that wallet, or label the row if it was a payment, gift or loss")
# Gifts given, donations and losses: the units leave without a sale (no gain, no deductible loss).
_leave = _movement(Role.OUT)


def _transfer(books: _Books, event: Event) -> None:
    """A move between own accounts is not a disposal: the lots keep their cost and dates. Per wallet they
    move to the receiving account; the network fee is paid from the sending one."""
    for leg in _legs(event, Role.IN):
        if books.tracking == "per-wallet":  # remove() also takes the units off the sender's balance
            for lot, units, cost in books.remove(event, leg.asset, leg.amount, event.account):
                books.pool(leg.asset, event.to_account).add(
                    Lot(lot.asset, units, cost, lot.acquired, event.to_account, lot.ref))
        else:
            books.move(leg.asset, -leg.amount, event.account)
        books.move(leg.asset, leg.amount, event.to_account)
    books.pay_fees(event, event.account)


def _internal(books: _Books, event: Event) -> None:
    books.pay_fees(event, event.account)


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


def compute(events: Iterable[Event], rules: Rules) -> TaxResult:
    """Book ``events`` in time order (ties keep their given order) and return what was found."""
    if rules.method not in METHODS:
        raise ValueError(f"unknown method {rules.method!r}")
    books = _Books(rules)
    with localcontext() as context:
        context.prec = 50
        switch = rules.per_wallet_from if rules.tracking == "universal" and books.deferred is None else None
        for event in sorted(events, key=lambda e: e.timestamp):
            if switch is not None and event.timestamp >= switch:
                books.switch_to_wallets()
                switch = None
            HANDLERS[event.kind](books, event)
        holdings = books.holdings()
        if books.deferred is not None:
            disposals, pooled, problems = books.deferred.finish()
            books.disposals += disposals
            books.problems += problems
            holdings = tuple(pooled)
    return TaxResult(tuple(books.disposals), tuple(books.income), holdings, tuple(books.problems))
