"""Write raw records idempotently: a record whose natural key is already stored is skipped."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from operator import itemgetter
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from taxsync.db import Account, RawRecord
from taxsync.errors import UsageError
from taxsync.types import now_ms


def get_or_create_account(session: Session, name: str, kind: str, exchange: str | None = None) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        account = Account(name=name, kind=kind, exchange=exchange, options="{}", created_at=now_ms())
        session.add(account)
        session.flush()
    elif account.kind != kind:
        raise UsageError(f"account '{name}' is an {account.kind} account, not a {kind} source: choose another name")
    return account


_INSERT_IGNORING: dict[str, Callable[[Any], Any]] = {
    "sqlite": lambda table: sqlite.insert(table).on_conflict_do_nothing(),
    "postgresql": lambda table: postgresql.insert(table).on_conflict_do_nothing(),
}


@contextmanager
def large_cache(session: Session, megabytes: int = 256) -> Iterator[None]:
    """SQLite's page cache raised for a bulk import (its indexes then stay in memory: a million raw records store
    in a third less time), and set back after; other databases are left as they are."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(text("PRAGMA cache_size")).scalar()
    session.execute(text(f"PRAGMA cache_size=-{megabytes * 1024}"))
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # after a failure the connection is discarded with its cache anyway
            session.execute(text(f"PRAGMA cache_size={int(before or -2000)}"))


def store_raw_records(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Insert raw records (dicts of RawRecord columns, ``payload`` as a mapping or as its JSON text); returns how
    many were new."""
    prepared = [row if isinstance(row["payload"], str) else {**row, "payload": json.dumps(row["payload"],
                                                                                         ensure_ascii=False)}
                for row in rows]
    if not prepared:
        return 0
    columns = tuple(prepared[0])
    if session.get_bind().dialect.name == "sqlite" and all(len(row) == len(columns) for row in prepared):
        values = itemgetter(*columns)
        return store_raw_rows(session, columns, [values(row) for row in prepared])
    return _insert_ignoring(session, prepared)


def _insert_ignoring(session: Session, prepared: list[dict[str, Any]]) -> int:
    statement = _INSERT_IGNORING.get(session.get_bind().dialect.name, lambda table: insert(table))(
        RawRecord.__table__)
    new = 0
    for start in range(0, len(prepared), 5000):  # rowcount counts inserted rows only, whatever else runs
        new += session.execute(statement, prepared[start : start + 5000]).rowcount  # type: ignore[attr-defined]
    return new


def store_raw_rows(session: Session, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert raw records given as tuples of the ``columns`` (the payload as JSON text); returns how many were
    new. On SQLite they go through the driver's executemany: a million records in seconds."""
    if session.get_bind().dialect.name != "sqlite":
        return _insert_ignoring(session, [dict(zip(columns, row, strict=True)) for row in rows])
    # the driver's rowcount sums the rows inserted, not the ones ignored
    sql = (f"INSERT INTO raw_records ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
           "ON CONFLICT (account_id, stream, external_id) DO NOTHING")  # an id taken meanwhile fails loudly
    connection = session.connection()
    return sum(connection.exec_driver_sql(sql, rows[start:start + 100_000]).rowcount  # type: ignore[arg-type]
               for start in range(0, len(rows), 100_000))
