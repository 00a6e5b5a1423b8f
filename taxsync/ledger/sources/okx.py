"""OKX exports (importer/files/okx.py): deposit and withdrawal history rows into deposits and withdrawals, and
the trading history's rows of an order into trades (``normalize_okx_trades``).

``Type`` Deposit or Withdrawal; ``Amount`` is what moved (OKX may sign a withdrawal's amount negative; the sign
is taken from the type). ``Before Balance`` and ``After Balance`` give the whole change of the row: a withdrawal
that took more than its amount paid the difference as its network fee (a FEE leg), since OKX's withdrawal
amount does not include the fee ("Withdrawal fee is not included in withdrawal amount", OKX API). A balance
change that cannot be the amount (or the amount and a fee) is reported as a warning and the amount is booked.
``id`` is the exchange id.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import (
    amount,
    asset,
    moment,
    optional_amount,
    record_amount,
    record_asset,
    rows_of,
    text,
    timestamp,
)
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role

KINDS = {"deposit": TxKind.DEPOSIT, "withdrawal": TxKind.WITHDRAWAL}


def normalize_okx_movement(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    timestamp = moment(row, "Time")
    kind = KINDS.get(text(row, "Type").lower())
    if kind is None:
        raise FieldError("Type", f"'{text(row, 'Type')}' is neither Deposit nor Withdrawal")
    coin = asset(row, "Symbol")
    moved = amount(row, "Amount")
    if moved is None:
        raise FieldError("Amount", "the amount is empty")
    moved = abs(moved)
    before, after = amount(row, "Before Balance"), amount(row, "After Balance")
    problems: tuple[Problem, ...] = ()
    fee = None
    if before is not None and after is not None:
        change = after - before
        expected = moved if kind is TxKind.DEPOSIT else -moved
        if kind is TxKind.WITHDRAWAL and change < expected:
            fee = expected - change
        elif change != expected:
            problems = (Problem(ProblemKind.INTEGRITY, Severity.WARNING,
                                f"OKX balance went from {before} to {after} for a {kind.value} of {moved} {coin}: "
                                "the amount is booked; check the row against OKX", ref),)
    legs = [Leg(coin, moved if kind is TxKind.DEPOSIT else -moved, Role.IN if kind is TxKind.DEPOSIT else Role.OUT)]
    if fee:
        legs.append(Leg(coin, -fee, Role.FEE))
    return Normalized(Transaction(ref=ref, account=account, timestamp=timestamp, kind=kind, legs=tuple(legs),
                                  description=f"OKX {kind.value}", exchange_id=text(row, "id")), problems)


def normalize_okx_trades(payload: Mapping[str, Any], account: str, ref: str) -> Normalized:
    """The rows of one order in one second (importer/files/okx.py): each row's ``Balance Change`` is what its
    currency gained or lost after the fee (``Fee``, negative, in ``Fee Unit``), so what left or arrived before the
    fee is the change less the fee where both are in the same currency. The currency that fell is the trade's OUT
    leg, the one that rose its IN leg, every fee a FEE leg. Only spot trading is booked; margin, futures and
    options rows are reported as not supported."""
    rows = rows_of(payload, "Order id")
    first = rows[0]
    order = text(first, "Order id")
    trade_type = text(first, "Trade Type")
    at = timestamp(first, "Time")
    if trade_type.lower() != "spot":
        return Normalized(None, (Problem(
            ProblemKind.UNSUPPORTED, Severity.WARNING, f"OKX {trade_type or 'unknown'} trade of order {order} "
            f"({text(first, 'Symbol')}) is not spot trading, not supported yet: not booked", ref),))
    moved: dict[Asset, Decimal] = {}
    fees: dict[Asset, Decimal] = {}
    for index, row in enumerate(rows):
        unit = record_asset(row, "Balance Unit", index=index)
        change = record_amount(row, "Balance Change", index=index)
        fee = optional_amount(row, "Fee", index=index)
        if fee > 0:
            raise FieldError("Fee", f"'{text(row, 'Fee')}' is positive: OKX writes a fee paid as negative",
                             row=index)
        if fee:
            fee_unit = record_asset(row, "Fee Unit", index=index)
            fees[fee_unit] = fees.get(fee_unit, Decimal(0)) + fee
            if fee_unit == unit:
                change -= fee  # the balance change is net of the fee
        moved[unit] = moved.get(unit, Decimal(0)) + change
    outs = [Leg(coin, change, Role.OUT) for coin, change in moved.items() if change < 0]
    ins = [Leg(coin, change, Role.IN) for coin, change in moved.items() if change > 0]
    if len(outs) != 1 or len(ins) != 1:
        what = ", ".join(f"{change} {coin}" for coin, change in moved.items())
        return Normalized(None, (Problem(
            ProblemKind.UNSUPPORTED, Severity.ERROR, f"OKX rows of order {order} at {text(first, 'Time')} "
            f"({what}) are not one asset for another: not booked. Check that the export holds both sides", ref),))
    legs = (outs[0], ins[0], *(Leg(coin, fee, Role.FEE) for coin, fee in fees.items()))
    return Normalized(Transaction(ref=ref, account=account, timestamp=at, kind=TxKind.TRADE, legs=legs,
                                  description=f"OKX {text(first, 'Symbol')} order {order}"))
