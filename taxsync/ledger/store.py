"""Keep the stored ledger in step with the raw records, and load it back for analysis.

Rebuilding is the whole contract: an account's transactions are deleted and derived again from its raw
records in one database transaction, so a better parser fixes old data without any download.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from taxsync.db import Account, LedgerProblem, RawRecord
from taxsync.db import Leg as LegRow
from taxsync.db import Transaction as TransactionRow
from taxsync.ledger.duplicates import Origin, drop_copies
from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.ledger.sources import NORMALIZERS, SOURCE_EXCHANGES, FieldError
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role, TimestampMs


def _ref(account: Account, raw: RawRecord) -> str:
    """Where a ledger line comes from: ``account/file.csv:LINE`` or ``account/stream:EXCHANGE-ID``."""
    origin = raw.origin.rsplit("/", 1)[-1] if raw.stream == "file" else raw.stream
    return f"{account.name}/{origin}:{raw.locator}"


def _normalize(account: Account, raw: RawRecord) -> tuple[Transaction | None, list[Problem]]:
    ref = _ref(account, raw)
    try:
        result = NORMALIZERS[raw.source](json.loads(raw.payload), account.name, ref)
    except FieldError as error:  # checked at import, so only rows stored by an older parser get here
        return None, [Problem(ProblemKind.UNSUPPORTED, Severity.ERROR, f"column '{error.column}': {error}", ref)]
    return result.transaction, list(result.problems)


def rebuild_ledger(session: Session, account_ids: Iterable[int]) -> int:
    """Derive the transactions of the given accounts anew; returns how many there are now.

    Rows are written with bulk inserts and ids assigned here, so a large account rebuilds in seconds.
    """
    count = 0
    for account_id in account_ids:
        account = session.get_one(Account, account_id)
        session.execute(delete(TransactionRow).where(TransactionRow.account_id == account_id))
        session.execute(delete(LedgerProblem).where(LedgerProblem.account_id == account_id))
        next_id = (session.scalar(select(func.max(TransactionRow.id))) or 0) + 1
        transactions: list[dict[str, Any]] = []
        legs: list[dict[str, Any]] = []
        problems: list[dict[str, Any]] = []
        raws = session.scalars(select(RawRecord).where(RawRecord.account_id == account_id).order_by(RawRecord.id))
        for raw in raws:
            tx, found = _normalize(account, raw)
            problems += [{"account_id": account_id, "raw_record_id": raw.id, "kind": p.kind.value,
                          "severity": p.severity.value, "message": p.message, "source": p.source} for p in found]
            if tx is None:
                continue
            transactions.append({
                "id": next_id, "account_id": account_id, "raw_record_id": raw.id, "ref": tx.ref,
                "timestamp": tx.timestamp, "kind": tx.kind.value, "subkind": tx.subkind, "label": tx.label,
                "description": tx.description, "txhash": tx.txhash, "exchange_id": tx.exchange_id,
                "quote_amount": tx.quote.amount if tx.quote else None,
                "quote_currency": tx.quote.currency if tx.quote else None,
            })
            legs += [{"transaction_id": next_id, "position": i, "asset": leg.asset, "amount": leg.amount,
                      "role": leg.role.value} for i, leg in enumerate(tx.legs)]
            next_id += 1
        for table, rows in ((TransactionRow, transactions), (LegRow, legs), (LedgerProblem, problems)):
            if rows:
                session.execute(insert(table), rows)
        count += len(transactions)
    session.flush()
    return count


def _source_order(tx: Transaction) -> tuple[str, str, int, str]:
    """Where a transaction comes from, as an order: account, file or stream, then line or exchange id (numbers
    by value, so line 9 comes before line 10)."""
    where, _, locator = tx.ref.rpartition(":")
    return (tx.account, where, int(locator), "") if locator.isdigit() else (tx.account, where, -1, locator)


def _settle_ties(transactions: list[Transaction]) -> list[Transaction]:
    """Transactions of the same millisecond in their source order, whatever order they were imported in: a
    file's lines stay in file order, and two files or accounts are taken by name."""
    start = 0
    for index in range(1, len(transactions) + 1):
        if index == len(transactions) or transactions[index].timestamp != transactions[start].timestamp:
            if index - start > 1:
                transactions[start:index] = sorted(transactions[start:index], key=_source_order)
            start = index
    return transactions


def load_ledger(session: Session) -> tuple[list[Transaction], list[Problem]]:
    """Every transaction in time order (ties in source order, see ``_settle_ties``), each event once (copies
    from a second source left out, see ``taxsync.ledger.duplicates``), and the problems found while normalizing
    and matching copies."""
    names: dict[int, str] = {row.id: row.name for row in session.execute(select(Account.id, Account.name))}
    rows = session.scalars(
        select(TransactionRow).options(selectinload(TransactionRow.legs))
        .order_by(TransactionRow.timestamp, TransactionRow.id)
    )
    origins = _origins(session)
    transactions: list[Transaction] = []
    sources: list[Origin] = []
    for row in rows:
        transactions.append(Transaction(
            ref=row.ref, account=names[row.account_id], timestamp=TimestampMs(row.timestamp), kind=TxKind(row.kind),
            legs=tuple(Leg(Asset(leg.asset), leg.amount, Role(leg.role)) for leg in row.legs),
            quote=Quote(row.quote_amount, Asset(row.quote_currency))
            if row.quote_amount is not None and row.quote_currency else None,
            subkind=row.subkind, label=row.label, description=row.description, txhash=row.txhash,
            exchange_id=row.exchange_id,
        ))
        sources.append(origins.get(row.id) or Origin("", True, f"transaction {row.id}"))
    transactions, copies = drop_copies(transactions, sources)  # one trade from an API and an export counts once
    _settle_ties(transactions)
    problems = [
        Problem(ProblemKind(p.kind), Severity(p.severity), p.message, p.source)
        for p in session.scalars(select(LedgerProblem).order_by(LedgerProblem.id))
    ]
    return transactions, [*problems, *copies]


def _origins(session: Session) -> dict[int, Origin]:
    """Each transaction's exchange (its account's, or its export format's) and source, for ``drop_copies``."""
    rows = session.execute(
        select(TransactionRow.id, RawRecord.source, RawRecord.stream, RawRecord.origin, Account.name,
               Account.exchange)
        .join(RawRecord, RawRecord.id == TransactionRow.raw_record_id).join(Account, Account.id == RawRecord.account_id)
    )
    return {
        row_id: Origin(SOURCE_EXCHANGES.get(source) or exchange or "", stream != "file",
                       name if stream != "file" else f"{name}/{origin}")
        for row_id, source, stream, origin, name, exchange in rows
    }
