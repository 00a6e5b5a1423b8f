"""Copies of a SQLite workspace database made with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while other connections keep working, so a backup
can run during an import. The copy is written beside its final name, checked (``PRAGMA integrity_check``),
switched out of WAL mode so it is one self-contained file, and only then renamed into place: a backup that
stopped half-way (a full disk, a kill) never looks like a good one. Backups are 0600 in a 0700 folder.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from taxsync.errors import StorageError, UsageError
from taxsync.safety import owner_only, private_dir, storage_message

BACKUP_DIR = "backups"


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for other databases and in-memory ones)."""
    url = make_url(str(engine.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def backup_name(source: Path, label: str = "", *, now: datetime | None = None) -> Path:
    """``backups/<name>-<label>-YYYYmmdd-HHMMSS.db`` beside the database, not taken yet."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    stem = "-".join(part for part in (source.stem, label, stamp) if part)
    folder = source.parent / BACKUP_DIR
    target, n = folder / f"{stem}.db", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}.db"
    return target


def backup_sqlite(source: Path, target: Path) -> Path:
    """Copy the database ``source`` to ``target`` (which must not exist) and check the copy."""
    if not source.is_file():
        raise UsageError(f"there is no database at {source} to back up")
    if target.exists():
        raise UsageError(f"{target} exists already: choose another file for the backup")
    partial = target.with_name(target.name + ".partial")
    try:
        with owner_only():
            private_dir(target.parent)
            _copy(source, partial)
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        with contextlib.suppress(OSError):
            partial.unlink()
        message = storage_message(error)
        if message is None:
            raise StorageError(f"the backup to {target} failed: {error}; the database itself is unchanged") from None
        raise StorageError(f"the backup to {target} failed: {message}") from None
    return target


def _copy(source: Path, partial: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {verdict}")
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())


def backup_database(engine: Engine, target: Path | None = None, *, label: str = "") -> Path:
    """Back up the workspace database to ``target`` (default: a dated file in ``backups/`` beside it)."""
    source = sqlite_file(engine)
    if source is None:
        raise UsageError("taxsync backs up SQLite databases only; back up PostgreSQL with pg_dump")
    return backup_sqlite(source, target or backup_name(source, label))


def list_backups(engine: Engine) -> list[Path]:
    """The finished backups in the database's ``backups/`` folder, oldest first."""
    source = sqlite_file(engine)
    if source is None or not (source.parent / BACKUP_DIR).is_dir():
        return []
    return sorted((p for p in (source.parent / BACKUP_DIR).glob("*.db")), key=lambda p: p.stat().st_mtime)
