"""Open a workspace database: engine set-up (SQLite WAL, foreign keys) and migrations to the latest schema.

``open_database`` is the only way the rest of taxsync gets an engine, so every workspace that is opened is
first brought to the newest schema by Alembic, inside one transaction. A SQLite database that holds data is
backed up (``backups/`` beside it) before its schema changes; a new database file is created readable by its
owner only (SQLite gives its WAL and shared-memory files the same mode).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from taxsync.errors import StorageError
from taxsync.safety import owner_only, private_dir, private_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0007"  # the newest migration: a database there opens without loading Alembic (tests check it is the head)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def _at_head(engine: Engine) -> bool:
    """Whether the database is at ``HEAD`` already, asked with one query."""
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))} == {HEAD}
    except DBAPIError:
        return False  # no schema yet


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema; does nothing when it is already there."""
    if _at_head(engine):
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(engine)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return
    backup = _backup_before_migration(engine, current, heads)
    migrating = _transactional(engine)
    try:
        command.upgrade(alembic_config(migrating), "head")
    except Exception as error:
        if backup is None:
            raise
        raise StorageError(f"upgrading the database schema failed ({type(error).__name__}: {error}); the "
                           f"upgrade was rolled back, and a copy from before it is at {backup}") from error
    finally:
        if migrating is not engine:
            migrating.dispose()


def _transactional(engine: Engine) -> Engine:
    """An engine whose transactions hold DDL too. Python's sqlite3 begins a transaction only before INSERT,
    UPDATE or DELETE, so each CREATE or ALTER of a migration would commit at once and a failure half-way would
    leave half a schema; this engine sends BEGIN itself, so a failed upgrade leaves the database as it was."""
    from taxsync.db.backup import sqlite_file

    if sqlite_file(engine) is None:  # not SQLite, or in memory (another engine would see another database)
        return engine
    migrating = create_engine(engine.url)

    def connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit transactions: ours
        _sqlite_pragmas(dbapi_connection, record)

    event.listen(migrating, "connect", connect)
    event.listen(migrating, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return migrating


def _backup_before_migration(engine: Engine, current: set[str], heads: set[str]) -> Path | None:
    """A backup of a SQLite database that has a schema already (not a new one), before it changes."""
    from taxsync.db.backup import backup_database, sqlite_file

    if not current or sqlite_file(engine) is None:
        return None
    label = f"before-{'+'.join(sorted(current))}-to-{'+'.join(sorted(heads))}"
    engine.dispose()  # the migration check's connection: the copy needs none of ours open
    return backup_database(engine, label=label)


def _create_private(url: str) -> None:
    """Create a SQLite database file (and its folder) owner-only before SQLite creates it with the umask."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    if not path.exists():
        with owner_only():
            private_file(private_dir(path.parent) / path.name)


# A statement that changes a table figures are made from (not the log of runs, nor the revision itself).
_CHANGES = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b(?!\s+(?:OR\s+\w+\s+)?(?:INTO\s+)?(?:FROM\s+)?"
                      r"(?:runs|revision|alembic_version)\b)", re.IGNORECASE)
_REVISED = "taxsync_revised"


def count_revisions(engine: Engine) -> None:
    """Make every database transaction that changes data also add one to ``revision.n``, in the same
    transaction (a rollback takes it back too). Whatever writes, through the ORM or plain SQL, goes through
    the engine's cursor, so nothing escapes the count."""

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.info[_REVISED] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not connection.info.get(_REVISED) and _CHANGES.match(statement):
            connection.info[_REVISED] = True
            cursor.execute("UPDATE revision SET n = n + 1 WHERE id = 1")


def open_database(url: str, *, upgrade: bool = True) -> Engine:
    """An engine for ``url`` with taxsync's connection settings, migrated to the newest schema; every
    transaction that changes data counts as a new revision (``count_revisions``)."""
    _create_private(url)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if upgrade:
        migrate(engine)
        count_revisions(engine)
    return engine
