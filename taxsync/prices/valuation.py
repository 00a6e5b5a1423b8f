"""Value ledger transactions in the tax currency and turn them into tax-engine events.

Sources, in order, for now: a leg in the tax currency is its own value; the other side of a trade in the tax
currency values the whole trade; a value the source states for the transaction (Koinly's Net Worth in the tax
currency); a fee in one of the transaction's assets takes that asset's unit value. Both legs of a trade get the
same value (proceeds of one = cost of the other). Anything else has no value: a MISSING_PRICE problem says so
where the engine needs the value, never a silent zero. Exchange candles and FX rates come later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from taxsync.ledger.records import Quote, Transaction, Transfer, TxKind
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, to_datetime

KINDS: dict[TxKind, EventKind] = {
    TxKind.TRADE: EventKind.TRADE,
    TxKind.DEPOSIT: EventKind.DEPOSIT,
    TxKind.WITHDRAWAL: EventKind.WITHDRAWAL,
    TxKind.INCOME: EventKind.INCOME,
    TxKind.SPEND: EventKind.SPEND,
    TxKind.GIFT_IN: EventKind.GIFT_IN,
    TxKind.GIFT_OUT: EventKind.GIFT_OUT,
    TxKind.LOSS: EventKind.LOSS,
    TxKind.INTERNAL: EventKind.INTERNAL,
}
# Kinds whose main legs need a value: a disposal's proceeds, an acquisition's cost, income.
NEEDS_VALUE = {TxKind.TRADE, TxKind.INCOME, TxKind.SPEND}


def _stated_value(tx: Transaction, currency: Asset) -> Decimal | None:
    """The transaction's value from its own tax-currency side, else from the value its source states."""
    for role in (Role.OUT, Role.IN):
        cash = [leg for leg in tx.legs if leg.role is role and leg.asset == currency]
        if cash:
            return sum((abs(leg.amount) for leg in cash), Decimal(0))
    if tx.quote is not None and tx.quote.currency == currency:
        return tx.quote.amount
    return None


def _value_legs(tx: Transaction, currency: Asset, fiat: frozenset[str]) -> tuple[list[ValuedLeg], list[str]]:
    """Valued legs of ``tx`` and the assets whose value is missing where one is needed."""
    whole = _stated_value(tx, currency)
    valued: list[ValuedLeg] = []
    unit: dict[str, Decimal] = {}
    missing: list[str] = []
    for leg in tx.legs:
        if leg.role is Role.FEE:
            continue
        value = abs(leg.amount) if leg.asset == currency else whole
        if value is not None and leg.amount:
            unit.setdefault(leg.asset, value / abs(leg.amount))
        elif tx.kind in NEEDS_VALUE and (leg.asset not in fiat or tx.kind is TxKind.INCOME):
            missing.append(leg.asset)
        valued.append(ValuedLeg(leg.asset, leg.amount, leg.role, value))
    for leg in tx.legs:
        if leg.role is not Role.FEE:
            continue
        value = abs(leg.amount) if leg.asset == currency else None
        if value is None and leg.asset in unit:
            value = abs(leg.amount) * unit[leg.asset]
        if value is None:
            missing.append(leg.asset)
        valued.append(ValuedLeg(leg.asset, leg.amount, leg.role, value))
    return valued, missing


def _missing_problem(tx: Transaction, assets: list[str], currency: Asset) -> Problem:
    when = to_datetime(tx.timestamp).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Problem(
        ProblemKind.MISSING_PRICE,
        Severity.ERROR,
        f"no {currency} value for {', '.join(sorted(set(assets)))} on {when} ({tx.kind.value} in {tx.account}): "
        f"tried the trade's own {currency} side and the row's stated value; add a Net Worth in {currency} "
        "to the source row (price files and exchange prices come in a later version); counted as zero until then",
        tx.ref,
    )


def _transfer_events(transfer: Transfer, currency: Asset, fiat: frozenset[str]) -> tuple[list[Event], list[str]]:
    """The move itself, with the sender's fees (and units lost on the way), and, when the receiving account was
    charged a fee too, a fee-only transfer event on that account at the deposit's time: per wallet, each
    account pays its own fees."""
    withdrawal, deposit = transfer.withdrawal, transfer.deposit
    out_legs, missing = _value_legs(withdrawal, currency, fiat)
    sent, received = withdrawal.main_leg(), deposit.main_leg()
    assert sent is not None and received is not None  # the matcher only pairs single-leg movements
    gap = abs(sent.amount) - abs(received.amount)
    legs = [*out_legs, ValuedLeg(received.asset, received.amount, Role.IN, None)]
    deposit_fees = [leg for leg in _value_legs(deposit, currency, fiat)[0] if leg.role is Role.FEE]
    if gap > 0:  # units lost on the way beyond the recorded fee: an implicit network fee
        whole = _stated_value(withdrawal, currency)
        value = whole * gap / abs(sent.amount) if whole is not None else None
        if value is None and sent.asset not in fiat:
            missing.append(sent.asset)
        legs.append(ValuedLeg(sent.asset, -gap, Role.FEE, value))
    event = Event(
        ref=withdrawal.ref,
        account=withdrawal.account,
        timestamp=withdrawal.timestamp,
        kind=EventKind.TRANSFER,
        legs=tuple(legs),
        subkind=transfer.matched_by,
        to_account=deposit.account,
    )
    if not deposit_fees:
        return [event], missing
    fees = Event(ref=deposit.ref, account=deposit.account, timestamp=max(deposit.timestamp, withdrawal.timestamp),
                 kind=EventKind.TRANSFER, legs=tuple(deposit_fees), subkind=transfer.matched_by,
                 to_account=deposit.account)
    return [event, fees], missing


def _deposit_basis(
    tx: Transaction, costs: Mapping[str, Quote], currency: Asset
) -> tuple[Decimal | None, Problem | None]:
    """The cost the user gave for a deposit (``costs`` by ref), if any and if it is in the tax currency."""
    cost = costs.get(tx.ref) if tx.kind is TxKind.DEPOSIT else None
    if cost is None or cost.currency == currency:
        return (cost.amount if cost else None), None
    return None, Problem(
        ProblemKind.MISSING_PRICE, Severity.WARNING,
        f"the cost given for this deposit is {cost.amount} {cost.currency}, not {currency}: it is not used "
        f"(currencies are not converted yet); set it again in {currency} with `taxsync transfers cost`",
        tx.ref,
    )


def value_ledger(
    transactions: Iterable[Transaction],
    transfers: Iterable[Transfer],
    currency: Asset,
    fiat: frozenset[str],
    costs: Mapping[str, Quote] | None = None,
) -> tuple[list[Event], list[Problem]]:
    """Events for the engine, sorted by time, and the valuation problems met on the way.

    ``costs`` are what the user says deposits (by ref) cost in total; such a deposit's event carries it as
    ``basis``. A deposit that is part of a transfer keeps the basis of the lots that moved instead."""
    events: list[Event] = []
    problems: list[Problem] = []
    for tx in transactions:
        legs, missing = _value_legs(tx, currency, fiat)
        basis, problem = _deposit_basis(tx, costs or {}, currency)
        events.append(Event(tx.ref, tx.account, tx.timestamp, KINDS[tx.kind], tuple(legs), tx.subkind,
                            basis=basis))
        if problem:
            problems.append(problem)
        if missing:
            problems.append(_missing_problem(tx, missing, currency))
    for transfer in transfers:
        moved, missing = _transfer_events(transfer, currency, fiat)
        events += moved
        if missing:
            problems.append(_missing_problem(transfer.withdrawal, missing, currency))
    events.sort(key=lambda event: event.timestamp)  # stable: same-moment events keep the ledger's order
    return events, problems
