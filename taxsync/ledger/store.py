"""Keep the stored ledger in step with the raw records, and load it back for analysis.

Rebuilding is the whole contract: an account's transactions are deleted and derived again from its raw
records in one database transaction, so a better parser fixes old data without any download. Each account's
ledger is marked with the newest raw record and the release it was derived from (``mark_derived``); a ledger
whose mark no longer fits, after new records or an upgrade, is brought up to date before it is read
(``refresh_ledgers``). Raw records are only ever added (an import never changes a stored one) and the
normalizers read each record on its own, so a ledger this release derived only gains the rows of the records
stored after its mark (``derive_ledgers``): a nightly import of a few rows into a big account normalizes those
rows, not the whole account again. After an upgrade the whole account is derived again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from taxsync import __version__
from taxsync.db import Account, LedgerProblem, RawRecord, SyncState
from taxsync.db import Transaction as TransactionRow
from taxsync.ledger.duplicates import Origin, drop_copies
from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.ledger.rows import LedgerRows, ledger_rows
from taxsync.ledger.sources import NORMALIZERS, SOURCE_EXCHANGES, FieldError
from taxsync.perf import collector_paused
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Role, now_ms

Prepared = Mapping[tuple[str, str], LedgerRows]  # (source, external id) -> its ledger rows, made when read


def ledger_ref(account: str, stream: str, origin: str, locator: str) -> str:
    """Where a ledger line comes from: ``account/file.csv:LINE`` or ``account/stream:EXCHANGE-ID``."""
    return f"{account}/{origin.rsplit('/', 1)[-1] if stream == 'file' else stream}:{locator}"


def _normalize(source: str, payload: str, account: str, ref: str) -> LedgerRows:
    try:
        return ledger_rows(NORMALIZERS[source](json.loads(payload), account, ref))
    except FieldError as error:  # checked at import, so only rows stored by an older parser get here
        return None, (), ((ProblemKind.UNSUPPORTED.value, Severity.ERROR.value, f"column '{error.column}': {error}"),)


def _records(session: Session, account: Account, prepared: Prepared | None,
             after: int = 0) -> Iterator[tuple[int, str, LedgerRows]]:
    """Each raw record of the account in order (those stored after the record ``after`` only), with its ref and
    its ledger rows: normalized, or taken from ``prepared`` (the normalizers are pure, and the account and ref
    they were given only name where the record is, which the rows leave out)."""
    columns = (RawRecord.id, RawRecord.source, RawRecord.stream, RawRecord.origin, RawRecord.locator,
               RawRecord.external_id)
    where = (RawRecord.account_id == account.id) & (RawRecord.id > after)
    if prepared is None:
        for raw_id, source, stream, origin, locator, _, payload in session.execute(
                select(*columns, RawRecord.payload).where(where).order_by(RawRecord.id)):
            ref = ledger_ref(account.name, stream, origin, locator)
            yield raw_id, ref, _normalize(source, payload, account.name, ref)
        return
    heads = session.execute(select(*columns).where(where).order_by(RawRecord.id)).all()
    missing = [raw_id for raw_id, source, _, _, _, external_id in heads if (source, external_id) not in prepared]
    payloads: dict[int, str] = {}
    for start in range(0, len(missing), 900):  # records stored by an earlier import
        payloads.update(session.execute(select(RawRecord.id, RawRecord.payload)
                                        .where(RawRecord.id.in_(missing[start:start + 900]))).all())
    where_from: dict[tuple[str, str], str] = {}  # "account/file.csv:" once per file
    for raw_id, source, stream, origin, locator, external_id in heads:
        if (prefix := where_from.get((stream, origin))) is None:
            prefix = where_from[stream, origin] = ledger_ref(account.name, stream, origin, "")
        ref = prefix + locator
        known = prepared.get((source, external_id))
        yield raw_id, ref, _normalize(source, payloads[raw_id], account.name, ref) if known is None else known


_TX_COLUMNS = ("id", "account_id", "raw_record_id", "ref", "timestamp", "kind", "subkind", "label", "description",
               "txhash", "exchange_id", "quote_amount", "quote_currency")
_LEG_COLUMNS = ("transaction_id", "position", "asset", "amount", "role")
_PROBLEM_COLUMNS = ("account_id", "raw_record_id", "kind", "severity", "message", "source")
BLOCK = 100_000  # rows per executemany


def bulk_insert(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Plain rows (money already as text) through the driver's executemany: a million rows in seconds."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    for start in range(0, len(rows), BLOCK):
        connection.exec_driver_sql(sql, rows[start:start + BLOCK])  # type: ignore[arg-type]


class LedgerWriter:
    """Writes the ledger rows of raw records as they come, in blocks, with transaction ids assigned here (after
    the largest stored), so a million records' ledger is written in seconds and need not be held whole."""

    def __init__(self, session: Session):
        self.session = session
        self.next_id = (session.scalar(select(func.max(TransactionRow.id))) or 0) + 1
        self.written = 0  # transactions
        self.transactions: list[tuple[Any, ...]] = []
        self.legs: list[tuple[Any, ...]] = []
        self.problems: list[tuple[Any, ...]] = []

    def add(self, account_id: int, records: Iterable[tuple[int, str, LedgerRows]]) -> None:
        """The ledger rows of raw records of the account: (raw record id, ref, rows) each."""
        transactions, legs, problems = self.transactions, self.legs, self.problems
        tx_id = self.next_id
        for raw_id, ref, (tx, tx_legs, found) in records:
            if found:
                problems += [(account_id, raw_id, *problem, ref) for problem in found]
            if tx is None:
                continue
            transactions.append((tx_id, account_id, raw_id, ref, *tx))
            for leg in tx_legs:
                legs.append((tx_id, *leg))
            tx_id += 1
        self.next_id = tx_id
        if len(transactions) >= BLOCK:
            self.flush()

    def flush(self) -> None:
        bulk_insert(self.session, "transactions", _TX_COLUMNS, self.transactions)
        bulk_insert(self.session, "legs", _LEG_COLUMNS, self.legs)
        bulk_insert(self.session, "ledger_problems", _PROBLEM_COLUMNS, self.problems)
        self.written += len(self.transactions)
        self.transactions, self.legs, self.problems = [], [], []


def rebuild_ledger(session: Session, account_ids: Iterable[int], prepared: Prepared | None = None) -> None:
    """Derive the transactions of the given accounts anew. ``prepared`` holds the ledger rows of records already
    normalized (a file's records, checked before they were stored), so none is normalized twice."""
    for account_id in account_ids:
        _derive(session, account_id, prepared, after=None)


def _derive(session: Session, account_id: int, prepared: Prepared | None, after: int | None) -> None:
    """Add the ledger rows of the account's records stored after the record ``after``; when None, its ledger is
    deleted first and derived from every record."""
    account = session.get_one(Account, account_id)
    if after is None:
        session.execute(delete(TransactionRow).where(TransactionRow.account_id == account_id))
        session.execute(delete(LedgerProblem).where(LedgerProblem.account_id == account_id))
    writer = LedgerWriter(session)
    writer.add(account_id, _records(session, account, prepared, after or 0))
    writer.flush()
    session.flush()


def derive_ledgers(session: Session, account_ids: Iterable[int], prepared: Prepared | None = None) -> None:
    """Bring the given accounts' ledgers up to their raw records: one this release derived gains the rows of the
    records stored since (raw records are only added, and each is read on its own); any other is derived
    whole (``rebuild_ledger``). The caller marks them derived."""
    marks = _marks(session)
    for account_id in account_ids:
        _derive(session, account_id, prepared, after=_derived_through(marks.get(account_id)))


LEDGER_VERSION = __version__  # the release whose normalizers derived a stored ledger
LEDGER_MARK = "_ledger"  # the sync-state stream that says what an account's stored ledger was derived from


def _mark(newest: int) -> str:
    """The raw records (up to the newest id) and the release that a stored ledger was derived from."""
    return f"{newest}@{LEDGER_VERSION}"


def _derived_through(mark: str | None) -> int | None:
    """The newest raw record a ledger was derived from, if this release derived it (else None: derive anew)."""
    newest, _, release = (mark or "").partition("@")
    return int(newest) if release == LEDGER_VERSION and newest.isdigit() else None


def _marks(session: Session) -> dict[int, str]:
    """Each account's ledger mark (``_mark``), if it has one."""
    return dict(session.execute(select(SyncState.account_id, SyncState.cursor)  # type: ignore[arg-type]
                                .where(SyncState.stream == LEDGER_MARK, SyncState.symbol == "")).all())


def _newest(session: Session, account_id: int) -> int | None:
    return session.scalar(select(func.max(RawRecord.id)).where(RawRecord.account_id == account_id))


def stale_ledgers(session: Session, account_ids: Iterable[int] | None = None) -> list[int]:
    """The accounts (of ``account_ids``, else all) whose stored ledger was not derived from all their raw records
    by this release: records arrived since, or another taxsync derived it, whose normalizers may have read
    them otherwise. An account with no records has nothing to derive."""
    ids = list(session.scalars(select(Account.id).order_by(Account.id))) if account_ids is None else account_ids
    marks = _marks(session)
    return [account_id for account_id in ids
            if (newest := _newest(session, account_id)) is not None and marks.get(account_id) != _mark(newest)]


def mark_derived(session: Session, account_ids: Iterable[int]) -> None:
    """Record that the accounts' stored ledgers are derived from all their raw records by this release."""
    for account_id in account_ids:
        cursor, now = _mark(_newest(session, account_id) or 0), now_ms()
        mark = session.scalar(select(SyncState).where(
            SyncState.account_id == account_id, SyncState.stream == LEDGER_MARK, SyncState.symbol == ""))
        if mark is None:
            session.add(SyncState(account_id=account_id, stream=LEDGER_MARK, symbol="", cursor=cursor, updated_at=now))
        else:
            mark.cursor, mark.updated_at = cursor, now
    session.flush()


def refresh_ledgers(session: Session, account_ids: Iterable[int] | None = None) -> list[int]:
    """Bring the stale ledgers (``stale_ledgers``) up to date (``derive_ledgers``) and mark them derived; returns
    the accounts brought up to date."""
    stale = stale_ledgers(session, account_ids)
    if stale:
        derive_ledgers(session, stale)
        mark_derived(session, stale)
    return stale


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


_ROLES = {role.value: role for role in Role}
_KINDS = {kind.value: kind for kind in TxKind}


def load_ledger(session: Session) -> tuple[list[Transaction], list[Problem]]:
    """Every transaction in time order (ties in source order, see ``_settle_ties``), each event once (copies
    from a second source left out, see ``taxsync.ledger.duplicates``), and the problems found while normalizing
    and matching copies.

    Read as plain driver rows (two queries fetched at once, no ORM objects) with the cyclic collector paused:
    200,000 transactions in a few seconds instead of half a minute through ``selectinload``."""
    with collector_paused():
        return _load_ledger(session)


def _load_ledger(session: Session) -> tuple[list[Transaction], list[Problem]]:
    names: dict[int, str] = {row.id: row.name for row in session.execute(select(Account.id, Account.name))}
    legs_of: dict[int, list[Leg]] = {}
    assets: dict[str, str] = {}  # one str object per asset name
    roles = _ROLES
    connection = session.connection()
    # Plain driver rows, fetched at once: amounts are exact decimal text (``DecimalText``), read here.
    # Legs in the order they were stored (no sort): a transaction's legs are stored in their order, which
    # ``position`` records; a transaction whose legs come otherwise is put in order after.
    positions: dict[int, list[int]] = {}
    unordered: set[int] = set()
    for tx_id, position, asset, amount, role in connection.exec_driver_sql(
            "SELECT transaction_id, position, asset, amount, role FROM legs ORDER BY id").fetchall():
        leg = Leg(assets.setdefault(asset, asset), Decimal(amount), roles[role])
        if (legs := legs_of.get(tx_id)) is None:
            legs_of[tx_id], positions[tx_id] = [leg], [position]
        else:
            if position < positions[tx_id][-1]:
                unordered.add(tx_id)
            legs.append(leg)
            positions[tx_id].append(position)
    for tx_id in unordered:
        legs_of[tx_id] = [leg for _, leg in sorted(zip(positions[tx_id], legs_of[tx_id], strict=True),
                                                   key=lambda pair: pair[0])]
    rows = connection.exec_driver_sql(
        "SELECT id, ref, account_id, \"timestamp\", kind, quote_amount, quote_currency, subkind, label, description, "
        "txhash, exchange_id FROM transactions ORDER BY \"timestamp\", id").fetchall()
    origins = _origins(session)
    kinds = _KINDS
    transactions: list[Transaction] = []
    sources: list[Origin] = []
    none = Origin("", True, "")
    empty: tuple[Leg, ...] = ()
    for (row_id, ref, account_id, timestamp, kind, quote_amount, quote_currency, subkind, label, description,
         txhash, exchange_id) in rows:
        legs = legs_of.get(row_id)
        transactions.append(Transaction(
            ref, names[account_id], timestamp, kinds[kind], tuple(legs) if legs else empty,
            Quote(Decimal(quote_amount), assets.setdefault(quote_currency, quote_currency))
            if quote_amount is not None and quote_currency else None,
            subkind, label, description, txhash, exchange_id,
        ))
        sources.append(origins.get(row_id) or none)
    transactions, copies = drop_copies(transactions, sources)  # one trade from an API and an export counts once
    _settle_ties(transactions)
    p = LedgerProblem.__table__.c
    problems = [
        Problem(ProblemKind(kind), Severity(severity), message, source)
        for kind, severity, message, source in session.execute(
            select(p.kind, p.severity, p.message, p.source).order_by(p.id))
    ]
    return transactions, [*problems, *copies]


def _origins(session: Session) -> dict[int, Origin]:
    """Each transaction's exchange (its account's, or its export format's) and source, for ``drop_copies``."""
    sources = {(account, origin if stream == "file" else "") for account, stream, origin in session.execute(
        select(RawRecord.account_id, RawRecord.stream, RawRecord.origin).distinct())}
    if len(sources) < 2 or all(not origin for _, origin in sources):
        return {}  # one source, or API records only: no copies to look for (drop_copies knows it too)
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
