"""The nightly job: imports every account, syncs prices, logs to a rotating file, one summary line, exit codes;
killed at any moment, the next night's run completes the work."""

from __future__ import annotations

import json
import signal
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from importer.simulator.server import Simulator
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, open_workspace
from taxsync.cli import app
from taxsync.db import Price
from taxsync.db.models import Run
from taxsync.errors import ExitCode
from taxsync.ops.nightly import LOG_FILES, log_path, make_logger, run_nightly
from tests.accounts.test_crash_and_secrets import snapshot
from tests.ops.conftest import CANARY, make_workspace, run_taxsync, taxsync_process

runner = CliRunner()


def _runs(ws: Workspace) -> list[tuple[str, str]]:
    with Session(ws.engine) as session:
        return [(r.command, r.outcome) for r in session.scalars(select(Run).order_by(Run.id))]


def test_nightly_imports_syncs_prices_logs_json_and_ends_with_a_summary(binance_ws: Workspace) -> None:
    result = runner.invoke(app, ["nightly", "--json", "--home", str(binance_ws.home)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["event"] == "summary" and lines[-1]["exit_code"] == 0
    assert lines[-1]["summary"].startswith("taxsync nightly OK: 1/1 accounts imported (+158 records)")

    log = log_path(binance_ws)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    events = [line["event"] for line in logged]
    assert events[0] == "start" and "import" in events and "prices" in events and events[-1] == "summary"
    imported = next(line for line in logged if line["event"] == "import")
    assert imported["account"] == "binance-main" and imported["new_records"] == 158
    prices = next(line for line in logged if line["event"] == "prices")
    assert prices["fetched"] > 0 and prices["failed"] == 0
    with Session(binance_ws.engine) as session:
        assert session.scalar(select(func.count()).select_from(Price)) == prices["fetched"]
    assert CANARY not in log.read_text()
    assert _runs(binance_ws) == [("nightly", "ok"), ("import", "ok")]


def test_text_mode_prints_only_the_summary_when_all_is_well(binance_ws: Workspace) -> None:
    result = runner.invoke(app, ["nightly", "--skip-prices", "--home", str(binance_ws.home)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [result.stdout.strip()]  # one line: what a cron mail shows
    assert result.stdout.startswith("taxsync nightly OK: 1/1 accounts imported (+158 records)")
    assert " info " in log_path(binance_ws).read_text()


def test_one_failing_account_is_a_partial_failure_named_in_the_summary(binance_ws: Workspace, sim: Simulator) -> None:
    accounts.add_account(binance_ws, "broken", exchange="binance", api_key_env="NOT_SET_ANYWHERE",
                         secret_env="OPS_SECRET", api_url=sim.url)
    result = runner.invoke(app, ["nightly", "--skip-prices", "--home", str(binance_ws.home)])
    assert result.exit_code == ExitCode.PARTIAL
    summary, *details = result.stdout.splitlines()  # the summary first: the top of a cron mail
    assert summary.startswith("taxsync nightly PARTIAL (exit 1): 1/2 accounts imported")
    assert "failed: broken: account 'broken': the environment variable NOT_SET_ANYWHERE is not set" in summary
    assert len(details) == 1 and " error   broken: FAILED: account 'broken'" in details[0]


def test_configuration_errors_only_exit_3(tmp_path: Path, sim: Simulator) -> None:
    ws = make_workspace(tmp_path / "ws", sim.url)
    accounts.remove_account(ws, "binance-main")
    accounts.add_account(ws, "broken", exchange="binance", api_key_env="NOT_SET_ANYWHERE", secret_env="OPS_SECRET",
                         api_url=sim.url)
    result = runner.invoke(app, ["nightly", "--home", str(ws.home)])
    assert result.exit_code == ExitCode.CONFIG
    assert _runs(ws) == [("nightly", "failed"), ("import", "failed")]


def test_the_log_rotates_and_every_file_stays_private(binance_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("taxsync.ops.nightly.LOG_BYTES", 600)
    logger = make_logger(binance_ws)
    for _ in range(3):
        run_nightly(binance_ws, logger=logger, prices=False, retry_delay=0.01)
    files = sorted(log_path(binance_ws).parent.iterdir())
    assert 2 <= len(files) <= LOG_FILES + 1
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


@pytest.mark.parametrize("kill_after", [3, 40, 95])
def test_killed_during_the_nightly_job_the_next_nights_run_completes_it(
        tmp_path: Path, sim: Simulator, binance_ws: Workspace, kill_after: int) -> None:
    reference = run_taxsync("nightly", "--home", str(binance_ws.home))
    assert reference.returncode == 0, reference.stdout + reference.stderr
    with Session(binance_ws.engine) as session:
        prices = session.scalar(select(func.count()).select_from(Price))
    expected = snapshot(binance_ws)

    victim = make_workspace(tmp_path / "victim", sim.url)
    sim.reset_counts()
    process = taxsync_process("nightly", "--home", str(victim.home))
    deadline = time.monotonic() + 60
    while sim.total_requests < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    following = run_taxsync("nightly", "--home", str(victim.home))
    assert following.returncode == 0, following.stdout + following.stderr
    assert "the previous run had been interrupted and is now completed" in following.stdout
    ws = open_workspace(victim.home)
    assert snapshot(ws) == expected
    with Session(ws.engine) as session:
        assert session.scalar(select(func.count()).select_from(Price)) == prices
    assert _runs(ws)[-2:] == [("nightly", "ok"), ("import", "ok")] and ("nightly", "interrupted") in _runs(ws)


def test_a_busy_workspace_exits_5_and_says_so_in_the_log(binance_ws: Workspace) -> None:
    from taxsync.app.lock import workspace_lock
    from taxsync.ops.status import workspace_status

    hold = """
import sys, time
from pathlib import Path
from taxsync.app.lock import workspace_lock
with workspace_lock(Path(sys.argv[1]), wait=0, command="taxsync import"):
    print("held", flush=True)
    time.sleep(30)
"""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", hold, str(binance_ws.home)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = runner.invoke(app, ["nightly", "--lock-wait", "0.2", "--home", str(binance_ws.home)])
        assert result.exit_code == ExitCode.BUSY and "is busy" in result.output
        assert "is busy" in log_path(binance_ws).read_text()
        assert workspace_status(binance_ws).running is not None
    finally:
        holder.kill()
        holder.wait()
    assert _runs(binance_ws) == []  # nothing ran, nothing recorded
    with workspace_lock(binance_ws.home, wait=0):
        pass


def test_status_calls_a_nightly_run_whose_process_is_gone_interrupted(binance_ws: Workspace) -> None:
    from taxsync.app import runs
    from taxsync.ops.status import workspace_status

    runs.start_run(binance_ws, "nightly")  # as a killed run leaves it: started, never finished, no lock held
    status = workspace_status(binance_ws)
    assert status.last_nightly is not None and status.last_nightly.outcome == "interrupted"
    assert status.failing[0].startswith("the last nightly run") and status.running is None


def test_a_refused_secret_never_reaches_the_log_or_the_summary(binance_ws: Workspace,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_SECRET", CANARY + "-wrong")
    result = runner.invoke(app, ["nightly", "--json", "--verbose", "--home", str(binance_ws.home)])
    assert result.exit_code == ExitCode.CONFIG
    assert "refused the API key" in result.stdout
    assert CANARY not in result.stdout and CANARY not in log_path(binance_ws).read_text()


def test_nightly_backups_keep_the_newest_ones_only(binance_ws: Workspace) -> None:
    from taxsync.db.backup import backup_database, list_backups

    manual = backup_database(binance_ws.engine)
    logger = make_logger(binance_ws)
    for _ in range(3):
        result = run_nightly(binance_ws, logger=logger, prices=False, retry_delay=0.01, keep_backups=2)
        assert result.exit_code == 0
    kept = list_backups(binance_ws.engine)
    assert manual in kept and len(kept) == 3  # the manual backup is never pruned
    assert sum(p.name.startswith("taxsync-nightly-") for p in kept) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)


def test_a_failed_backup_makes_the_night_partial(binance_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from taxsync.errors import StorageError

    def full(*args: object, **kwargs: object) -> Path:
        raise StorageError("the backup to x failed: the disk is full")

    monkeypatch.setattr("taxsync.db.backup.backup_database", full)
    result = run_nightly(binance_ws, logger=make_logger(binance_ws), prices=False, retry_delay=0.01, keep_backups=1)
    assert result.exit_code == ExitCode.PARTIAL and "backup failed: the backup to x failed" in result.summary()
    assert _runs(binance_ws)[0] == ("nightly", "partial")
