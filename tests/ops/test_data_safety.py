"""Data safety: owner-only files, backups, the automatic backup before a schema upgrade, an upgrade from the
first schema that loses nothing, and a read-only or full disk that gives a clear error and corrupts nothing."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, event, text
from typer.testing import CliRunner

from importer.simulator.server import Simulator
from taxsync.app import accounts, service
from taxsync.app.workspace import Workspace, init_workspace, open_workspace
from taxsync.cli import app
from taxsync.db.backup import backup_database, list_backups
from taxsync.db.session import _sqlite_pragmas, alembic_config
from taxsync.errors import StorageError
from tests.accounts.test_crash_and_secrets import snapshot
from tests.conftest import SAMPLE
from tests.ops.conftest import make_workspace

runner = CliRunner()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_journal_reports_and_backups_are_the_owners_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a usual umask: files would be 0644 without care
    try:
        home = tmp_path / "new" / "ws"
        result = runner.invoke(app, ["init", "--home", str(home)])
        assert result.exit_code == 0
        assert runner.invoke(app, ["import-file", str(SAMPLE / "coinbase.csv"), "--account", "cb", "--home",
                                   str(home)]).exit_code == 0
        ws = open_workspace(home)
        with ws.engine.connect() as connection:  # keeps the WAL and shared-memory files open
            connection.execute(text("select 1"))
            for name in ("taxsync.db", "taxsync.db-wal", "taxsync.db-shm", "taxsync.toml"):
                assert _mode(home / name) == 0o600, name
        assert _mode(home) == 0o700 and _mode(home.parent) == 0o700
        paths = service.build_report(ws, year="2024", formats=["csv", "json"], out=home / "reports").paths
        assert _mode(home / "reports") == 0o700 and all(_mode(p) == 0o600 for p in paths)
        backup = backup_database(ws.engine)
        assert _mode(backup) == 0o600 and _mode(backup.parent) == 0o700
    finally:
        os.umask(previous)


def test_backup_is_a_checked_self_contained_copy_even_during_writes(binance_ws: Workspace, tmp_path: Path) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    target = tmp_path / "copies" / "taxsync-copy.db"
    result = runner.invoke(app, ["backup", "--to", str(target), "--home", str(binance_ws.home)])
    assert result.exit_code == 0 and str(target) in result.stdout
    assert not target.with_name(target.name + ".partial").exists()
    copy = sqlite3.connect(target)
    assert copy.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert copy.execute("pragma journal_mode").fetchone()[0] == "delete"
    with binance_ws.engine.connect() as connection:
        for table in ("raw_records", "transactions", "legs", "sync_state", "accounts", "runs"):
            copied = copy.execute(f"select count(*) from {table}").fetchone()[0]
            assert copied == connection.execute(text(f"select count(*) from {table}")).scalar()
    copy.close()
    again = runner.invoke(app, ["backup", "--to", str(target), "--home", str(binance_ws.home)])
    assert again.exit_code == 2 and "exists already" in again.output


# -- upgrades --------------------------------------------------------------------------------------------------------
FIRST_SCHEMA_ROWS = {
    "accounts": [(1, "kraken-old", "exchange", "kraken", '{"api_key_env": "K", "secret_env": "S"}', 1_600_000_000_000),
                 (2, "ledger", "file", None, "{}", 1_600_000_000_001)],
    "raw_records": [(1, 1, "ccxt-trade", "trades", "trades", "T1", "T1",
                     '{"kind": "trade", "exchange": "kraken", "id": "T1", "symbol": "BTC/USD", "side": "buy", '
                     '"timestamp": 1600000000000, "amount": "0.100000000000000000000000001", "cost": "1234.5"}',
                     1_600_0),
                    (2, 2, "koinly", "file", "/x/ledger.csv", "2", "h2", '{"Date": "2021-01-01"}', 1_600_1)],
    "transactions": [(1, 1, 1, "kraken-old:T1", 1_600_000_000_000, "trade", "", "", "", "", "1234.5", "USD")],
    "legs": [(1, 1, 0, "BTC", "0.100000000000000000000000001", "in"),
             (2, 1, 1, "USD", "-1234.5", "out")],
    "prices": [(1, "BTC", "USD", 1_600_000_000_000, "1m", "12345.678901234567890123", "kraken", 1_600_000_000_500)],
    "sync_state": [(1, 1, "trades", "", "T1", 1_500_000_000_000, 1_600_000_000_000, 1_600_000_000_000),
                   (2, 1, "balances", "", '{"BTC": "0.1"}', None, 1_600_000_000_000, 1_600_000_000_000)],
    "ledger_problems": [(1, 2, 2, "unknown_label", "warning", "label 'x' unknown", "ledger.csv line 2")],
}


def _first_schema_workspace(tmp_path: Path) -> Path:
    """A workspace as taxsync's first schema (revision 0001) made it, with rows in every table."""
    home = tmp_path / "old"
    init_workspace(home).engine.dispose()
    (home / "taxsync.db").unlink()
    engine = create_engine(f"sqlite:///{home / 'taxsync.db'}")
    event.listen(engine, "connect", _sqlite_pragmas)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as connection:
        for table, rows in FIRST_SCHEMA_ROWS.items():
            marks = ", ".join("?" * len(rows[0]))
            connection.exec_driver_sql(f"insert into {table} values ({marks})", rows)
    engine.dispose()
    return home


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(db)
    try:
        return {table: connection.execute(f"select * from {table} order by id").fetchall()
                for table in FIRST_SCHEMA_ROWS}
    finally:
        connection.close()


def test_a_first_schema_workspace_upgrades_to_the_newest_with_nothing_lost_and_a_backup_first(
        tmp_path: Path) -> None:
    home = _first_schema_workspace(tmp_path)
    before = _rows(home / "taxsync.db")
    assert before == {t: [tuple(r) for r in rows] for t, rows in FIRST_SCHEMA_ROWS.items()}

    ws = open_workspace(home)  # opening upgrades
    with ws.engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0007"
    ws.engine.dispose()
    after = _rows(home / "taxsync.db")  # later revisions add columns at the end (transactions.exchange_id)
    assert {table: [row[:len(rows[0])] for row in after[table]] for table, rows in before.items()} == before

    (backup,) = list_backups(open_workspace(home).engine)
    assert backup.name.startswith("taxsync-before-0001-to-0007-")
    assert _rows(backup) == before
    copy = sqlite3.connect(backup)
    assert copy.execute("select version_num from alembic_version").fetchone()[0] == "0001"
    copy.close()

    # The upgraded data works end to end: the first read derives the ledgers again with this release (no mark
    # says which release derived them), from the raw records kept, to the same exact amount.
    holdings = service.holdings(open_workspace(home))
    assert [(h.asset, str(h.amount)) for h in holdings] == [("BTC", "0.100000000000000000000000001")]


def test_a_failed_upgrade_is_rolled_back_and_names_the_backup(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    home = _first_schema_workspace(tmp_path)
    before = _rows(home / "taxsync.db")

    def broken_upgrade(config: object, revision: str) -> None:
        engine = config.attributes["engine"]  # type: ignore[attr-defined]
        with engine.begin() as connection:
            connection.execute(text("create table half_done (x integer)"))
            raise RuntimeError("power cut")

    monkeypatch.setattr("alembic.command.upgrade", broken_upgrade)
    with pytest.raises(StorageError, match=r"a copy from before it is at .*taxsync-before-0001-to-0007-"):
        open_workspace(home)
    assert _rows(home / "taxsync.db") == before
    connection = sqlite3.connect(home / "taxsync.db")
    assert connection.execute("select count(*) from sqlite_master where name = 'half_done'").fetchone()[0] == 0
    connection.close()


# -- read-only and full disks ----------------------------------------------------------------------------------------
def _without_root_powers() -> list[str]:
    """A command prefix under which file modes bind: root drops the capabilities that ignore them."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot make a folder read-only")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def _integrity(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("pragma integrity_check").fetchone()[0])
    finally:
        connection.close()


@pytest.mark.parametrize("read_only", ["folder", "database"])
def test_a_read_only_workspace_gives_a_clear_error_and_stays_intact(tmp_path: Path, sim: Simulator,
                                                                    read_only: str) -> None:
    ws = make_workspace(tmp_path / "ro", sim.url)
    accounts.import_accounts(ws, retry_delay=0.01)
    ws.engine.dispose()
    before = snapshot(open_workspace(ws.home))
    prefix = _without_root_powers()
    if read_only == "folder":  # the whole workspace, as on a disk mounted read-only
        for path in ws.home.rglob("*"):
            path.chmod(0o500 if path.is_dir() else 0o400)
        ws.home.chmod(0o500)
    else:  # only the database file
        (ws.home / "taxsync.db").chmod(0o400)
    try:
        result = subprocess.run([*prefix, sys.executable, "-m", "taxsync", "import", "--home", str(ws.home)],
                                capture_output=True, text=True, timeout=120, check=False)
    finally:
        ws.home.chmod(0o700)
        for path in ws.home.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "read-only" in result.stderr and "Nothing was changed" in result.stderr, result.stderr
    assert _integrity(ws.home / "taxsync.db") == "ok"
    assert snapshot(open_workspace(ws.home)) == before


def _file_size_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_a_full_disk_stops_with_a_clear_error_and_the_next_run_completes(tmp_path: Path, sim: Simulator,
                                                                         binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    expected = snapshot(binance_ws)

    victim = make_workspace(tmp_path / "full", sim.url)
    victim.engine.dispose()
    limit = max(p.stat().st_size for p in victim.home.iterdir() if p.is_file()) + 64_000
    result = subprocess.run([sys.executable, "-m", "taxsync", "import", "--home", str(victim.home)],
                            capture_output=True, text=True, timeout=120, check=False,
                            preexec_fn=lambda: _file_size_limit(limit))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "the disk is full" in result.stderr or "larger than the system allows" in result.stderr
    assert _integrity(victim.home / "taxsync.db") == "ok"

    (again,) = accounts.import_accounts(open_workspace(victim.home), retry_delay=0.01)
    assert again.ok, again.error
    assert snapshot(open_workspace(victim.home)) == expected


def test_a_full_disk_during_a_backup_leaves_no_partial_copy(binance_ws: Workspace, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: sqlite3.Connection, target: sqlite3.Connection, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("taxsync.db.backup._copy",
                        lambda source, partial: (partial.write_bytes(b"half"), full(None, None)))  # type: ignore[arg-type]
    target = tmp_path / "b" / "copy.db"
    with pytest.raises(StorageError, match="the disk is full"):
        backup_database(binance_ws.engine, target)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_storage_errors_are_told_plainly() -> None:
    import errno

    from sqlalchemy.exc import OperationalError

    from taxsync.safety import storage_message

    full = storage_message(OSError(errno.ENOSPC, "No space left on device", "/ws/logs/taxsync.log"))
    assert full is not None and full.startswith("cannot write /ws/logs/taxsync.log: the disk is full.")
    denied = storage_message(PermissionError(errno.EACCES, "Permission denied", "/ws/taxsync.db"))
    assert denied is not None and denied.startswith("cannot open or write /ws/taxsync.db: permission denied.")
    database = storage_message(OperationalError("insert", {}, sqlite3.OperationalError("database or disk is full")))
    assert database is not None and "the disk is full" in database and "rolled back" in database
    assert storage_message(OperationalError("select", {}, sqlite3.OperationalError("no such table: x"))) is None
    assert storage_message(OSError(errno.ECONNREFUSED, "refused")) is None
