"""Koinly universal CSV rows into ledger transactions.

Layout (reference/formats.md): Date, Sent Amount/Currency, Received Amount/Currency, Fee Amount/Currency,
Net Worth Amount/Currency, Label, Description, TxHash. Only Sent is a withdrawal, only Received a deposit,
both a trade. taxsync reads the fee as paid on top of the sent amount (the account's balance falls by
sent + fee). The label refines the kind; an unknown label is reported and the row keeps its plain kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.typed import side
from taxsync.parsing import parse_optional_decimal, parse_timestamp
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role

# label -> (kind, subkind); the subkind of income is the income type shown in reports.
DEPOSIT_LABELS: dict[str, tuple[TxKind, str]] = {
    "": (TxKind.DEPOSIT, ""),
    "airdrop": (TxKind.INCOME, "airdrop"),
    "fork": (TxKind.INCOME, "fork"),
    "mining": (TxKind.INCOME, "mining"),
    "reward": (TxKind.INCOME, "reward"),
    "income": (TxKind.INCOME, "income"),
    "other income": (TxKind.INCOME, "income"),
    "loan interest": (TxKind.INCOME, "interest"),
    "lending interest": (TxKind.INCOME, "interest"),
    "staking": (TxKind.INCOME, "staking"),
    "gift": (TxKind.GIFT_IN, "gift"),
    "unstake": (TxKind.INTERNAL, "unstake"),
}
WITHDRAWAL_LABELS: dict[str, tuple[TxKind, str]] = {
    "": (TxKind.WITHDRAWAL, ""),
    "gift": (TxKind.GIFT_OUT, "gift"),
    "donation": (TxKind.GIFT_OUT, "donation"),
    "lost": (TxKind.LOSS, "lost"),
    "cost": (TxKind.SPEND, "cost"),
    "interest payment": (TxKind.SPEND, "interest payment"),
    "margin fee": (TxKind.SPEND, "margin fee"),
    "realized gain": (TxKind.SPEND, "realized loss"),
    "stake": (TxKind.INTERNAL, "stake"),
    "unstake": (TxKind.INTERNAL, "unstake"),
}
TRADE_LABELS: dict[str, tuple[TxKind, str]] = {
    "": (TxKind.TRADE, ""),
    "swap": (TxKind.TRADE, "swap"),
    "liquidity in": (TxKind.TRADE, "liquidity in"),
    "liquidity out": (TxKind.TRADE, "liquidity out"),
}


def _amount(row: Mapping[str, str], amount_column: str, currency_column: str) -> tuple[Decimal, Asset] | None:
    written, code = row.get(amount_column) or "", row.get(currency_column) or ""
    if not written and not code:  # the usual empty side, decided without parsing
        return None
    try:
        amount = parse_optional_decimal(written)
    except ValueError as error:
        raise FieldError(amount_column, str(error)) from None
    found = side(amount, Asset(code.strip().upper()), amount_column, currency_column, "currency")
    if found is not None and found[0] < 0:
        raise FieldError(amount_column, f"'{row[amount_column]}' is negative: Koinly amounts are positive")
    return found


def normalize_koinly(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    try:
        timestamp = parse_timestamp(row.get("Date", ""))
    except ValueError as error:
        raise FieldError("Date", str(error)) from None
    sent = _amount(row, "Sent Amount", "Sent Currency")
    received = _amount(row, "Received Amount", "Received Currency")
    fee = _amount(row, "Fee Amount", "Fee Currency")
    worth = _amount(row, "Net Worth Amount", "Net Worth Currency")
    if sent is None and received is None and fee is None:
        raise FieldError("Sent Amount", "the row moves nothing: no Sent, Received or Fee amount")

    legs: list[Leg] = []
    if sent and sent[0]:
        legs.append(Leg(sent[1], -sent[0], Role.OUT))
    if received and received[0]:
        legs.append(Leg(received[1], received[0], Role.IN))
    if fee and fee[0]:
        legs.append(Leg(fee[1], -fee[0], Role.FEE))

    if sent and received:
        labels = TRADE_LABELS
    elif received:
        labels = DEPOSIT_LABELS
    elif sent:
        labels = WITHDRAWAL_LABELS
    else:  # a fee on its own: something was paid for
        labels = {"": (TxKind.SPEND, "fee")}
    written_label = row.get("Label") or ""
    label = " ".join(written_label.lower().split()) if written_label else ""
    problems: tuple[Problem, ...] = ()
    if label not in labels:
        known = ", ".join(repr(name) for name in labels if name)
        problems = (
            Problem(
                ProblemKind.UNKNOWN_LABEL,
                Severity.WARNING,
                f"label '{row.get('Label', '')}' is not known for this kind of row (known: {known}); "
                "treated as a plain row without label",
                ref,
            ),
        )
    kind, subkind = labels.get(label, labels[""])
    transaction = Transaction(  # positional: a million rows are read this way (fields in records.py order)
        ref, account, timestamp, kind, tuple(legs), Quote(worth[0], worth[1]) if worth else None, subkind,
        written_label.strip(), (row.get("Description") or "").strip(), (row.get("TxHash") or "").strip())
    return Normalized(transaction, problems)
