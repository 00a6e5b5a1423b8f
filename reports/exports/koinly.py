"""The ledger as Koinly universal CSV (reference/formats.md), one file per account.

Koinly's universal file has no account column: Koinly (and taxsync) import it per wallet, so each account gets
its own file (``export.csv`` becomes ``export-<account>.csv`` when there are several). One ledger transaction is
one row: what left in Sent, what arrived in Received, the fee in Fee, the value the source stated in Net
Worth. The label is the one that taxsync's Koinly reader turns back into the same kind and subkind
(``taxsync.ledger.sources.koinly``); where Koinly has no such label the row keeps its kind with Koinly's nearest
label (``income`` for a dividend, ``cost`` for a spend). A transaction with a second sent, received or fee
leg (rare: a fee paid in two assets) writes that leg on a row of its own, a fee row being a spend of that fee.
Re-importing the files into accounts of the same names gives the same ledger. Transfers between own
accounts are the withdrawal in one file and the deposit in the other, as Koinly expects.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from reports.csv_writer import render_csv
from reports.exports.csv_rows import amount_text, sides, target, utc_text
from reports.exports.data import LedgerExport
from reports.files import write_atomic
from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources.koinly import DEPOSIT_LABELS, TRADE_LABELS, WITHDRAWAL_LABELS

HEADER = ("Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency", "Fee Amount",
          "Fee Currency", "Net Worth Amount", "Net Worth Currency", "Label", "Description", "TxHash")
# The nearest Koinly label of a kind when its subkind has none of its own.
NEAREST: dict[TxKind, str] = {TxKind.INCOME: "income", TxKind.SPEND: "cost", TxKind.GIFT_OUT: "gift",
                              TxKind.GIFT_IN: "gift", TxKind.LOSS: "lost", TxKind.INTERNAL: "stake"}


def _labels(table: dict[str, tuple[TxKind, str]]) -> dict[tuple[TxKind, str], str]:
    labels: dict[tuple[TxKind, str], str] = {}
    for label, kind in table.items():
        labels.setdefault(kind, label)
    return labels


TABLES = {"sent": WITHDRAWAL_LABELS, "received": DEPOSIT_LABELS, "both": TRADE_LABELS}
LABELS = {shape: _labels(table) for shape, table in TABLES.items()}


def label_of(tx: Transaction, shape: str) -> str:
    """The Koinly label that reads back as the transaction's kind and subkind, else its kind's nearest."""
    labels = LABELS[shape]
    if (tx.kind, tx.subkind) in labels:
        return labels[(tx.kind, tx.subkind)]
    nearest = NEAREST.get(tx.kind, "")
    if nearest and TABLES[shape].get(nearest, (None, ""))[0] is tx.kind:
        return nearest
    return labels.get((tx.kind, ""), "")


def rows_of(tx: Transaction) -> list[list[str]]:
    sent, received, fees = sides(tx)
    shape = "both" if sent and received else "sent" if sent else "received" if received else "sent"
    worth = (amount_text(tx.quote.amount), tx.quote.currency) if tx.quote else ("", "")

    def row(out: Leg | None, into: Leg | None, fee: Leg | None, label: str, worth: tuple[str, str],
            description: str) -> list[str]:
        return [utc_text(tx.timestamp),
                amount_text(out.amount) if out else "", out.asset if out else "",
                amount_text(into.amount) if into else "", into.asset if into else "",
                amount_text(fee.amount) if fee else "", fee.asset if fee else "",
                *worth, label, description, tx.txhash]

    first = row(sent[0] if sent else None, received[0] if received else None, fees[0] if fees else None,
                label_of(tx, shape) if sent or received else "", worth, tx.description)
    extra = [row(leg, None, None, "", ("", ""), f"{tx.description} (part of {tx.ref})".strip())
             for leg in sent[1:]]
    extra += [row(None, leg, None, "", ("", ""), f"{tx.description} (part of {tx.ref})".strip())
              for leg in received[1:]]
    extra += [row(None, None, leg, "", ("", ""), f"{tx.description} (fee of {tx.ref})".strip()) for leg in fees[1:]]
    return [first, *extra]


def write_koinly(data: LedgerExport, out: Path) -> list[Path]:
    by_account: dict[str, list[list[str]]] = defaultdict(list)
    for tx in data.transactions:
        if data.within(tx.timestamp) and tx.legs:
            by_account[tx.account].extend(rows_of(tx))
    accounts = sorted(by_account) or [""]
    files = [(target(out, account, len(accounts)), render_csv(HEADER, by_account.get(account, [])))
             for account in accounts]  # every file made before any is written
    out.parent.mkdir(parents=True, exist_ok=True)
    return [write_atomic(path, data) for path, data in files]
