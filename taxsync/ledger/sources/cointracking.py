"""CoinTracking trade list rows (importer/files/cointracking.py) into ledger transactions.

``Type`` says what the row is (CoinTracking's vocabulary, ``TYPES``); ``Buy``/``Cur.`` is what came in,
``Sell``/``Cur.`` what went out, ``Fee``/``Cur.`` a fee paid on top (CoinTracking subtracts it from the balance
in addition to the sell amount). ``-`` or an empty cell is no amount. ``Date`` is ``DD.MM.YYYY HH:MM[:SS]`` or
ISO; CoinTracking writes it in the account's time zone, which the file does not say: taxsync reads it as UTC
(set CoinTracking's time zone to UTC before exporting). A ``Buy value in XXX`` (else ``Sell value in XXX``)
column is the value CoinTracking states for the row and values it like Koinly's Net Worth. ``Trade ID`` or
``Tx-ID`` is kept as the exchange id; it is also the transaction hash when it looks like one (hex, 64 digits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from taxsync.ledger.records import TxKind
from taxsync.ledger.sources.base import Normalized
from taxsync.ledger.sources.fields import asset, moment, positive, stated_value, text
from taxsync.ledger.sources.typed import RowType, Sides, side, typed_transaction

_MARGIN = "margin and derivatives results are booked as a plain income or spend of the amount"
TYPES: dict[str, RowType] = {
    "trade": RowType("trade", TxKind.TRADE),
    "deposit": RowType("in", TxKind.DEPOSIT),
    "income": RowType("in", TxKind.INCOME, "income"),
    "other income": RowType("in", TxKind.INCOME, "income"),
    "reward/bonus": RowType("in", TxKind.INCOME, "reward"),
    "reward / bonus": RowType("in", TxKind.INCOME, "reward"),
    "mining": RowType("in", TxKind.INCOME, "mining"),
    "minting": RowType("in", TxKind.INCOME, "staking"),
    "masternode": RowType("in", TxKind.INCOME, "staking"),
    "staking": RowType("in", TxKind.INCOME, "staking"),
    "airdrop": RowType("in", TxKind.INCOME, "airdrop"),
    "interest income": RowType("in", TxKind.INCOME, "interest"),
    "lending income": RowType("in", TxKind.INCOME, "interest"),
    "dividends income": RowType("in", TxKind.INCOME, "dividend"),
    "gift/tip": RowType("in", TxKind.GIFT_IN, "gift"),
    "gift / tip": RowType("in", TxKind.GIFT_IN, "gift"),
    "margin profit": RowType("in", TxKind.INCOME, "margin gain", _MARGIN),
    "derivatives / futures profit": RowType("in", TxKind.INCOME, "margin gain", _MARGIN),
    "withdrawal": RowType("out", TxKind.WITHDRAWAL),
    "spend": RowType("out", TxKind.SPEND, "spend"),
    "other expense": RowType("out", TxKind.SPEND, "expense"),
    "donation": RowType("out", TxKind.GIFT_OUT, "donation"),
    "gift": RowType("out", TxKind.GIFT_OUT, "gift"),
    "lost": RowType("out", TxKind.LOSS, "lost"),
    "stolen": RowType("out", TxKind.LOSS, "stolen"),
    "other fee": RowType("out", TxKind.SPEND, "fee"),
    "borrowing fee": RowType("out", TxKind.SPEND, "interest payment"),
    "settlement fee": RowType("out", TxKind.SPEND, "fee"),
    "margin fee": RowType("out", TxKind.SPEND, "margin fee"),
    "margin loss": RowType("out", TxKind.SPEND, "realized loss", _MARGIN),
    "derivatives / futures loss": RowType("out", TxKind.SPEND, "realized loss", _MARGIN),
}
_HASH = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def normalize_cointracking(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    timestamp = moment(row, "Date")
    buy = side(positive(row, "Buy"), asset(row, "Buy Currency", needed=False), "Buy", "Buy Currency")
    sell = side(positive(row, "Sell"), asset(row, "Sell Currency", needed=False), "Sell", "Sell Currency")
    fee = side(positive(row, "Fee"), asset(row, "Fee Currency", needed=False), "Fee", "Fee Currency")
    trade_id = text(row, "Trade ID") or text(row, "Tx-ID")
    description = " / ".join(filter(None, (text(row, "Exchange"), text(row, "Group"), text(row, "Comment"))))
    return typed_transaction(
        text(row, "Type"), "Type", TYPES, Sides(buy, sell, fee, "Buy", "Sell"), ref=ref, account=account,
        timestamp=timestamp, quote=stated_value(row, "Buy", "Sell"), description=description,
        txhash=trade_id if _HASH.fullmatch(trade_id) else "", exchange_id=trade_id, source="CoinTracking",
    )
