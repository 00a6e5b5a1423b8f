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
from dataclasses import dataclass
from decimal import Decimal, localcontext
from operator import attrgetter

from taxsync.perf import collector_paused
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.books import DEFERRED, METHODS, ZERO, Books, LotEntry, Rules
from taxsync.tax.records import (
    Event,
    EventKind,
    Holding,
    Income,
    Lot,
    TaxResult,
    ValuedLeg,
    share,
)
from taxsync.tax.superficial import SuperficialLosses
from taxsync.types import Role, TimestampMs, local_date

__all__ = ["DEFERRED", "METHODS", "Checkpoint", "LotEntry", "Rules", "compute", "look_ahead_days", "resumable"]

_TIMESTAMP = attrgetter("timestamp")
# Enum members are slow to look up (a class attribute each time): the inner loop uses these names.
_IN, _OUT, _FEE = Role.IN, Role.OUT, Role.FEE


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


def _trade(books: Books, event: Event) -> None:
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


def _spend(books: Books, event: Event) -> None:
    outs, _, fees, fee = _split(event)
    for index, leg in enumerate(outs):
        books.dispose(event, leg.asset, -leg.amount, (leg.value or ZERO) - (fee if index == 0 else ZERO),
                      event.account)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


def _income(books: Books, event: Event) -> None:
    """Staking, mining, airdrops, interest: ordinary income at fair market value when received, which is
    also the basis of the units (Rev. Rul. 2023-14, Rev. Rul. 2019-24; Notice 2014-21 Q&A-8)."""
    _, ins, fees, _ = _split(event)
    for leg in ins:
        books.income.append(Income(event.ref, event.account, leg.asset, leg.amount, leg.value,
                                   event.subkind or "income", event.timestamp, books.today))
        books.acquire(event, leg.asset, leg.amount, leg.value, event.account)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


def _movement(role: Role, kind: ProblemKind | None = None, explain: str = "") -> Callable[[Books, Event], None]:
    """A handler for units that arrive (at zero cost) or leave (without a sale), flagging each tracked one
    with ``explain`` (``{what}`` is replaced by the amount, date and account) when ``kind`` is given."""

    def handle(books: Books, event: Event) -> None:
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


def _deposit(books: Books, event: Event) -> None:
    """Units from outside the known accounts: at the cost the user gave for them (and from the day they say the
    units were acquired, if they do), else zero and a problem."""
    if event.basis is None:
        _unmatched_deposit(books, event)
        return
    _, ins, fees, _ = _split(event)
    tracked = [leg for leg in ins if leg.asset not in books.fiat]
    total = sum((leg.amount for leg in tracked), ZERO)
    left = event.basis
    dual = books.rules.gift_dual_basis and event.kind is EventKind.GIFT_IN
    for index, leg in enumerate(tracked):  # one asset in practice; several share the cost by units
        cost = left if index == len(tracked) - 1 else share(event.basis, leg.amount, total)
        left -= cost
        # A gift worth less than the donor's basis when given: that value is the basis for a loss (Reg.
        # 1.1015-1(a)); the donor's basis stays the basis for a gain.
        loss = leg.value if dual and leg.value is not None and leg.value < cost else None
        books.acquire(event, leg.asset, leg.amount, cost, event.account, event.acquired, loss)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


_unknown_gift = _movement(
    _IN, ProblemKind.MISSING_COST_BASIS,
    "gift of {what} received: the donor's cost basis and acquisition day carry over and are unknown, so zero "
    "is used and the holding period counts from the gift; ask the donor for their cost and the day they "
    "acquired the units, and give both with `taxsync transfers cost REF COST --acquired YYYY-MM-DD`")


def _gift_in(books: Books, event: Event) -> None:
    """A gift received (jurisdictions.GIFTS_RECEIVED): at its market value when received where the law says so
    (UK, CA, AU; a gift without a known value is held at unknown cost, its price listed as missing), else at
    the donor's cost the user gave (US, DE), else at zero with a problem."""
    if not books.rules.gift_at_market_value:
        (_deposit if event.basis is not None else _unknown_gift)(books, event)
        if books.rules.gift_dual_basis and event.basis is not None and any(
                leg.value is None for leg in event.legs if leg.role is _IN and leg.asset not in books.fiat):
            books.problem(
                ProblemKind.MISSING_PRICE, Severity.WARNING,
                f"gift received on {books.today} ({event.account}): its market value when given is not known; if "
                "it was below the donor's basis, that value is the basis for a loss (Treas. Reg. 1.1015-1(a)) "
                "and a loss on these units is overstated until it is known", event)
        if event.basis is not None and event.acquired is None:  # the donor's day is not known yet
            books.problem(
                ProblemKind.MISSING_ACQUISITION_DAY, Severity.WARNING,
                f"gift received on {books.today} ({event.account}): the donor's acquisition day carries over with "
                "their cost (US IRC §1223(2); DE §23 Abs. 1 Satz 3 EStG), but only the cost was given, so the "
                "holding period counts from the gift: give the donor's day with `taxsync transfers cost REF COST "
                "--acquired YYYY-MM-DD`", event)
        return
    _, ins, fees, _ = _split(event)
    for leg in ins:
        books.acquire(event, leg.asset, leg.amount, leg.value, event.account)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)
_withdrawal = _movement(
    _OUT, ProblemKind.UNMATCHED_WITHDRAWAL,
    "withdrawal of {what} matches no deposit into your other accounts: treated as moved to a wallet of yours "
    "that is not imported (no gain). Import that wallet, or label the row if it was a payment, gift or loss")
# Gifts given, donations and losses: the units leave without a sale (no gain, no deductible loss).
_leave = _movement(_OUT)


def _transfer(books: Books, event: Event) -> None:
    """A move between own accounts is not a disposal: the lots keep their cost and dates. Per wallet they
    move to the receiving account. The network fee is paid from the sending account and treated as the
    jurisdiction says (``Rules.transfer_fee_is_disposal``; see jurisdictions.TRANSFER_FEES)."""
    _, ins, fees, _ = _split(event)
    for leg in ins:
        if books.per_wallet:  # remove() also takes the units off the sender's balance
            target = books.pool(leg.asset, event.to_account)
            for part in books.remove(event, leg.asset, leg.amount, event.account, moving=True):
                target.add(Lot(leg.asset, part.amount, part.cost, part.acquired or event.timestamp,
                               event.to_account, part.lot_ref, part.acquired_date or books.today, part.unknown,
                               part.loss_cost))
        else:
            books.move(leg.asset, -leg.amount, event.account)
        books.move(leg.asset, leg.amount, event.to_account)
    books.pay_fees(event, fees, event.account, books.rules.transfer_fee_is_disposal)


def _internal(books: Books, event: Event) -> None:
    _, _, fees, _ = _split(event)
    books.pay_fees(event, fees, event.account, books.rules.crypto_fee_is_disposal)


HANDLERS: dict[EventKind, Callable[[Books, Event], None]] = {
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


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The engine's state just before ``at`` (a local day's start): the books as ``Books.snapshot`` saved them
    and the problems found before it. ``compute`` can resume from it with the events from ``at`` on."""

    at: TimestampMs
    state: bytes
    problems: tuple[Problem, ...]


LOOK_AHEAD_DAYS = 30  # how far UK matching (CRYPTO22256) and Canada's superficial loss (ITA s.54) look ahead


def look_ahead_days(rules: Rules) -> int:
    """How many local days after a disposal's day can change how it is computed: the 30 days in which UK
    acquisitions are matched with it ("bed and breakfast", TCGA 1992 s.106A, CRYPTO22256) or in which Canada's
    superficial-loss rule looks for the units bought again (ITA s.54); none elsewhere. A period's figures need
    the events up to that many days after its last day."""
    return LOOK_AHEAD_DAYS if rules.method in DEFERRED or rules.superficial_loss else 0


def resumable(rules: Rules) -> bool:
    """Whether a computation under ``rules`` can be resumed from a checkpoint. UK pooling can: booking only
    collects each day's acquisitions and disposals, and matching them (30 days ahead included) waits for the
    end. Canada's superficial loss cannot: booking a sale already looks 30 days ahead."""
    return not rules.superficial_loss


def compute(events: Iterable[Event], rules: Rules, journal: list[LotEntry] | None = None, *,
            opening_at: TimestampMs | None = None, closing_at: TimestampMs | None = None,
            checkpoints: list[Checkpoint] | None = None, cuts: Iterable[TimestampMs] = (),
            resume: Checkpoint | None = None) -> TaxResult:
    """Book ``events`` in time order (ties keep their given order) and return what was found. ``journal``, when
    given, receives every lot added and every lot taken out without a disposal (for exports that need lots,
    such as beancount's); the lot-matching methods only (pooling methods keep no lots).

    With ``opening_at``, the result's ``opening`` holds what was held just before that moment (a report's
    opening holdings); with ``closing_at``, its ``holdings`` are those held just before that moment (a report's
    closing holdings, where the events given run on past its end for the rules that look ahead) instead of
    after the last event. Both are as the whole run saw them: a later event that changes an earlier cost (a
    superficial loss denied in Canada, an acquisition that UK matching takes for a sale before the moment) is in
    them, so a year's closing holdings are the next year's opening holdings.

    Where the rules allow it (``resumable``), ``checkpoints`` receives a ``Checkpoint`` at each of ``cuts`` up
    to the last event; ``resume`` takes up such a checkpoint instead of booking what came before it: then
    ``events`` are those from its moment on, ``opening_at`` is not before it, and the result holds the
    disposals and income from that moment on (UK pooling: every disposal, matched at the end; its holdings and
    problems are the whole history's)."""
    if rules.method not in METHODS:
        raise ValueError(f"unknown method {rules.method!r}")
    if (checkpoints is not None or resume is not None) and (not resumable(rules) or journal is not None):
        raise ValueError(f"a computation under {rules.method} with a journal or a look-ahead is not resumable")
    if resume is not None and opening_at is not None and opening_at < resume.at:
        raise ValueError("the opening holdings lie before the checkpoint")
    with collector_paused():
        books = Books(rules, journal)
        if resume is not None:
            books.restore(resume.state)
            books.problems += resume.problems
        return _book(books, events, (opening_at, closing_at), sorted(cuts) if checkpoints is not None else [],
                     checkpoints)


def _book(books: Books, events: Iterable[Event], moments: tuple[TimestampMs | None, TimestampMs | None],
          cuts: list[TimestampMs], checkpoints: list[Checkpoint] | None) -> TaxResult:
    """Book the events; returns what was found, with the holdings at the ``moments`` (opening, closing) when
    given."""
    rules = books.rules
    ordered = sorted(events, key=_TIMESTAMP)
    held: list[tuple[Holding, ...] | None] = [None, None]
    waiting = [index for index, moment in enumerate(moments) if moment is not None]
    if rules.superficial_loss:
        books.superficial = SuperficialLosses(ordered, rules.fiat, rules.zone)
    days, handlers = books.days, HANDLERS
    start = end = 0  # the UTC span of books.today
    cuts.reverse()  # the next one last
    with localcontext() as context:
        context.prec = 50
        switch = rules.per_wallet_from if (rules.tracking == "universal" and books.deferred is None
                                           and not books.per_wallet) else None
        for event in ordered:
            while cuts and cuts[-1] <= event.timestamp:
                assert checkpoints is not None
                checkpoints.append(Checkpoint(cuts.pop(), books.snapshot(), tuple(books.problems)))
            if waiting:
                for index in [i for i in waiting if event.timestamp >= moments[i]]:  # type: ignore[operator]
                    held[index] = books.holdings()
                    waiting.remove(index)
            if switch is not None and event.timestamp >= switch:
                books.switch_to_wallets()
                switch = None
            if not start <= event.timestamp < end:  # a new local day
                books.today, start, end = days.span(event.timestamp)
                books.terms.clear()
            handlers[event.kind](books, event)
        holdings = books.holdings()
        if books.deferred is not None:  # the pools are known once every disposal is matched
            at = tuple(local_date(moment, rules.zone) for moment in moments if moment is not None)
            disposals, pooled, problems, pools_at = books.deferred.finish(at)
            books.disposals += disposals
            books.problems += problems
            holdings = tuple(pooled)
            found = iter(pools_at)
            held = [tuple(next(found)) if moment is not None else None for moment in moments]
    opening, closing = (holdings if h is None else h for h in held)
    return TaxResult(tuple(books.disposals), tuple(books.income), holdings if moments[1] is None else closing,
                     tuple(books.problems), opening if moments[0] is not None else ())
