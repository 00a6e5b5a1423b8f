"""BittyTax records (importer/files/bittytax.py) into ledger transactions.

BittyTax's README fixes the quantities: a sell quantity is net of a fee in the same asset and a buy quantity
gross of it, a deposit gross and a withdrawal net of its fee. So the legs are exactly the quantities: buy IN,
sell OUT and the fee a FEE leg on top, which is taxsync's reading of every source. ``Buy Value in GBP`` (else
``Sell Value in GBP``) is the value the records state and values the row like Koinly's Net Worth. Timestamps are
``YYYY-MM-DDTHH:MM:SS[.ffffff] ZZZ`` with ZZZ one of GMT, UTC (both UTC) or BST (UTC+1), or without a zone (UTC).
``Wallet`` and ``Note`` become the description.

Types (``TYPES``) map to taxsync's kinds: income types (Mining, Staking, Interest, Dividend, Income, Airdrop,
Fork, Referral, Cashback, Fee-Rebate) are income; Gift-Received a gift in; Gift-Sent, Gift-Spouse and
Charity-Sent gifts out; Lost a loss; Stake and Unstake moves inside the account. Loans and margin results are
booked approximately (a loan as a deposit, its repayment as a withdrawal, margin gains and losses as income and
spends) with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from taxsync.ledger.records import TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import asset, moment, positive, stated_value, text
from taxsync.ledger.sources.typed import RowType, Sides, side, typed_transaction
from taxsync.types import TimestampMs

_LOAN = "loans are not tracked as debts: the loan is booked as a deposit and its repayment as a withdrawal"
_MARGIN = "margin results are booked as a plain income or spend of the amount"
TYPES: dict[str, RowType] = {
    "trade": RowType("trade", TxKind.TRADE),
    "deposit": RowType("in", TxKind.DEPOSIT),
    "withdrawal": RowType("out", TxKind.WITHDRAWAL),
    "mining": RowType("in", TxKind.INCOME, "mining"),
    "staking": RowType("in", TxKind.INCOME, "staking"),
    "staking-reward": RowType("in", TxKind.INCOME, "staking"),
    "interest": RowType("in", TxKind.INCOME, "interest"),
    "dividend": RowType("in", TxKind.INCOME, "dividend"),
    "income": RowType("in", TxKind.INCOME, "income"),
    "airdrop": RowType("in", TxKind.INCOME, "airdrop"),
    "fork": RowType("in", TxKind.INCOME, "fork"),
    "referral": RowType("in", TxKind.INCOME, "reward"),
    "cashback": RowType("in", TxKind.INCOME, "reward"),
    "fee-rebate": RowType("in", TxKind.INCOME, "reward"),
    "margin-fee-rebate": RowType("in", TxKind.INCOME, "reward"),
    "gift-received": RowType("in", TxKind.GIFT_IN, "gift"),
    "unstake": RowType("in", TxKind.INTERNAL, "unstake"),
    "loan": RowType("in", TxKind.DEPOSIT, "loan", _LOAN),
    "margin-gain": RowType("in", TxKind.INCOME, "margin gain", _MARGIN),
    "spend": RowType("out", TxKind.SPEND, "spend"),
    "gift-sent": RowType("out", TxKind.GIFT_OUT, "gift"),
    "gift-spouse": RowType("out", TxKind.GIFT_OUT, "gift to spouse"),
    "charity-sent": RowType("out", TxKind.GIFT_OUT, "donation"),
    "lost": RowType("out", TxKind.LOSS, "lost"),
    "stake": RowType("out", TxKind.INTERNAL, "stake"),
    "loan-repayment": RowType("out", TxKind.WITHDRAWAL, "loan repayment", _LOAN),
    "loan-interest": RowType("out", TxKind.SPEND, "interest payment"),
    "margin-loss": RowType("out", TxKind.SPEND, "realized loss", _MARGIN),
    "margin-fee": RowType("out", TxKind.SPEND, "margin fee"),
}
_ZONE = re.compile(r"(.*\d)\s*(GMT|UTC|BST)")
_ZONE_OFFSET_MS = {"GMT": 0, "UTC": 0, "BST": 3_600_000}


def _timestamp(row: Mapping[str, str]) -> TimestampMs:
    raw = text(row, "Timestamp")
    offset = 0
    if match := _ZONE.fullmatch(raw):
        raw, offset = match.group(1), _ZONE_OFFSET_MS[match.group(2)]
    elif raw and raw[-1].isalpha():
        raise FieldError("Timestamp", f"'{raw}' has a time zone other than GMT, BST or UTC")
    return TimestampMs(moment({"Timestamp": raw}, "Timestamp") - offset)


def normalize_bittytax(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    timestamp = _timestamp(row)
    buy = side(positive(row, "Buy Quantity"), asset(row, "Buy Asset", needed=False), "Buy Quantity", "Buy Asset")
    sell = side(positive(row, "Sell Quantity"), asset(row, "Sell Asset", needed=False), "Sell Quantity",
                "Sell Asset")
    fee = side(positive(row, "Fee Quantity"), asset(row, "Fee Asset", needed=False), "Fee Quantity", "Fee Asset")
    description = " / ".join(filter(None, (text(row, "Wallet"), text(row, "Note"))))
    return typed_transaction(
        text(row, "Type"), "Type", TYPES, Sides(buy, sell, fee, "Buy Quantity", "Sell Quantity"), ref=ref,
        account=account, timestamp=timestamp, quote=stated_value(row, "Buy", "Sell"), description=description,
        source="BittyTax",
    )
