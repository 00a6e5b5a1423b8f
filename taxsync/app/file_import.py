"""Storing the files an import reads: their raw records and their ledger, in one database transaction.

``import_files`` opens the files (``importer.files``) and has their records checked (``importer.files.checking``,
by worker processes for a large file); ``store_checked`` stores each block as it comes. On SQLite the records
are numbered here, so the ledger of an account that had no records is written block by block from the rows
made when they were checked; another account's ledger is derived again at the end from those rows and the
records it had, unless it gained nothing and this release derived it (``taxsync.ledger.store``). At the first
bad line the transaction is rolled back and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importer.files import FORMATS, OpenedFile, RawRow, open_file
from importer.files.checking import Checker
from importer.store import get_or_create_account, large_cache, store_raw_rows
from taxsync.app.lock import workspace_lock
from taxsync.app.workspace import Workspace
from taxsync.db import Account, RawRecord
from taxsync.db import Transaction as TransactionRow
from taxsync.errors import UsageError
from taxsync.ledger.rows import LedgerRows
from taxsync.ledger.store import LedgerWriter, derive_ledgers, ledger_ref, mark_derived, stale_ledgers
from taxsync.perf import collector_paused
from taxsync.progress import Progress, silent
from taxsync.types import now_ms


@dataclass(frozen=True, slots=True)
class ImportSummary:
    files: int
    rows: int
    new_records: int
    transactions: int
    accounts: tuple[str, ...] = ()


def import_files(ws: Workspace, paths: Sequence[Path], *, account: str | None = None, fmt: str = "auto",
                 progress: Progress = silent) -> ImportSummary:
    """Import exported files into ``account`` (by default each file into the account named after its exchange,
    else after the file): all of them or, at the first bad line, nothing at all. ``progress`` hears of each
    block of records stored."""
    if fmt != "auto" and fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}': choose auto or {', '.join(FORMATS)}")
    if account is not None and not account.strip():
        raise UsageError("an account name is needed (--account NAME)")
    if not paths:
        raise UsageError("no file to import: name one or more files (or use --list-formats)")
    with collector_paused():  # millions of acyclic records: the cyclic collector would only walk them again
        files = [open_file(path, FORMATS, fmt) for path in paths]  # each file's layout, before the database
        with Checker(files) as checked:  # a large file's records are checked by workers while blocks are stored
            return store_checked(ws, files, checked, account, progress)


def file_formats() -> list[tuple[str, str, tuple[str, ...]]]:
    """Every registered file format: its name, its title and the header lines it recognizes."""
    return [(fmt.name, fmt.title, fmt.variants or (",".join((*fmt.required, *fmt.optional)),))
            for fmt in FORMATS.values()]


_RAW_COLUMNS = ("id", "account_id", "source", "stream", "origin", "locator", "external_id", "payload", "imported_at")


def store_checked(ws: Workspace, files: list[OpenedFile], checked: Checker, account: str | None,
                  progress: Progress = silent) -> ImportSummary:
    """Store the files' records as they are checked, and their ledger, in one database transaction: at the first
    bad line it is rolled back and nothing is stored."""
    imported_at = now_ms()
    lock = workspace_lock(ws.home, command="taxsync import-file")
    with lock, Session(ws.engine) as session, session.begin(), large_cache(session):
        names = [account.strip() if account else default_account(file) for file in files]
        targets = {}
        for name in sorted(set(names)):
            # Files may go into an exchange's account too: an export beside the API, its copies counted once.
            exchange = session.scalar(select(Account).where(Account.name == name, Account.kind == "exchange"))
            targets[name] = exchange or get_or_create_account(session, name, "file")
        owner = [targets[name].id for name in names]
        origins = [str(file.path.resolve()) for file in files]
        refs = [ledger_ref(name, "file", origin, "") for name, origin in zip(names, origins, strict=True)]
        # SQLite continues rowids after ids given here (a PostgreSQL sequence would not): there the records are
        # numbered here, and an account that had none gets its ledger written as they are stored, from the rows
        # made when they were checked.
        numbered = session.get_bind().dialect.name == "sqlite"
        fresh = {target.id for target in targets.values() if not session.scalar(
            select(RawRecord.id).where(RawRecord.account_id == target.id).limit(1))} if numbered else set()
        stored: dict[int, set[str]] = {a: set() for a in fresh if owner.count(a) > 1}  # several files, one account
        raw_id = (session.scalar(select(func.max(RawRecord.id))) or 0) + 1
        ledger = LedgerWriter(session)
        prepared: dict[tuple[str, str], LedgerRows] = {}
        added_to = dict.fromkeys(owner, 0)
        total, done = sum(len(file) for file in files), 0
        for n, rows in checked:
            file, account_id = files[n], owner[n]
            done += len(rows)
            progress("records stored", done, total)
            if (keys := stored.get(account_id)) is not None:  # a record two files of the batch share counts once
                rows = [row for row in rows if row.external_id not in keys]
                keys.update(row.external_id for row in rows)
            first = raw_id if numbered else None
            raw_id += len(rows)
            added = store_raw_rows(session, *_raw_values(rows, first, account_id, file.format.name, origins[n],
                                                         imported_at))
            added_to[account_id] += added
            if account_id not in fresh:  # its ledger gains these rows below (or is derived anew, see there)
                prepared.update(((file.format.name, row.external_id), row.ledger) for row in rows)
                continue
            if added != len(rows) or first is None:
                raise RuntimeError(f"{len(rows) - added} records of a new account were already stored")
            ref = refs[n]
            ledger.add(account_id, ((i, ref + str(line), made) for i, (line, _, _, made) in enumerate(rows, first)))
        ledger.flush()
        # An account that gained no record keeps its ledger if this release derived it (as after an API sync
        # that found nothing new); the others gain the rows made here (derived anew after an upgrade).
        stale = stale_ledgers(session, [target.id for target in targets.values() if target.id not in fresh])
        derive_ledgers(session, stale, prepared)
        mark_derived(session, [*fresh, *stale])
        ids = [target.id for target in targets.values()]
        transactions = session.scalar(select(func.count()).where(TransactionRow.account_id.in_(ids))) or 0
    return ImportSummary(len(files), sum(len(file) for file in files), sum(added_to.values()), transactions,
                         tuple(targets))


def _raw_values(rows: list[RawRow], first: int | None, account_id: int, source: str, origin: str,
                imported_at: int) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The raw records of checked rows as the columns and values stored, numbered from ``first`` if given."""
    if first is None:
        return _RAW_COLUMNS[1:], [(account_id, source, "file", origin, str(line), key, payload, imported_at)
                                  for line, key, payload, _ in rows]
    return _RAW_COLUMNS, [(i, account_id, source, "file", origin, str(line), key, payload, imported_at)
                          for i, (line, key, payload, _) in enumerate(rows, first)]


def default_account(file: OpenedFile) -> str:
    """The account a file goes to without --account: its exchange's name, else the file's name."""
    return file.format.exchange or "".join(c if c.isalnum() or c in "-_." else "-" for c in file.path.stem)[:100]
