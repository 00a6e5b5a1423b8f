"""The workspace lock: one writing run at a time, a clear message for the second, nothing corrupted."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from importer.simulator.server import Simulator
from taxsync.app import accounts
from taxsync.app.lock import is_locked, lock_wait, read_holder, workspace_lock
from taxsync.app.workspace import Workspace, open_workspace
from taxsync.errors import BusyError, ConfigError, ExitCode
from tests.accounts.test_crash_and_secrets import snapshot
from tests.ops.conftest import make_workspace, run_taxsync, taxsync_process

HOLD = """
import sys, time
from pathlib import Path
from taxsync.app.lock import workspace_lock
with workspace_lock(Path(sys.argv[1]), wait=0, command="taxsync import"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(home: Path, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(home), str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_process_waits_then_says_who_holds_the_workspace(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 30)
    try:
        assert is_locked(tmp_path)
        started = time.monotonic()
        with pytest.raises(BusyError) as caught, workspace_lock(tmp_path, wait=0.5):
            pass
        waited = time.monotonic() - started
        assert 0.5 <= waited < 5
        message = str(caught.value)
        assert f"process {holder.pid}" in message and "`taxsync import`" in message and "waited 0.5 s" in message
        assert caught.value.exit_code == ExitCode.BUSY
    finally:
        holder.kill()
        holder.wait()
    # the OS dropped the killed holder's lock: no stale lock file can block anyone
    assert not is_locked(tmp_path)
    with workspace_lock(tmp_path, wait=0):
        assert read_holder(tmp_path) is not None and read_holder(tmp_path).pid != holder.pid  # type: ignore[union-attr]


def test_a_waiting_process_gets_the_workspace_when_the_first_finishes(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 1.0)
    started = time.monotonic()
    with workspace_lock(tmp_path, wait=20):
        assert time.monotonic() - started >= 0.5
    holder.wait()


def test_the_lock_is_reentrant_in_one_process_and_released_at_the_end(tmp_path: Path) -> None:
    with workspace_lock(tmp_path, wait=0), workspace_lock(tmp_path, wait=0):
        assert is_locked(tmp_path)
    assert not is_locked(tmp_path)
    assert read_holder(tmp_path) is None


def test_the_wait_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXSYNC_LOCK_WAIT", "2.5")
    assert lock_wait() == 2.5 and lock_wait(0) == 0
    monkeypatch.setenv("TAXSYNC_LOCK_WAIT", "soon")
    with pytest.raises(ConfigError, match="TAXSYNC_LOCK_WAIT"):
        lock_wait()


def _wait_for_requests(sim: Simulator, process: subprocess.Popen[str], count: int) -> None:
    deadline = time.monotonic() + 60
    while sim.total_requests < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the first import ended before the second one started"


def test_two_concurrent_imports_one_waits_briefly_and_exits_clearly_nothing_corrupted(
        tmp_path: Path, slow_sim: Simulator, binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)  # the reference: one import alone
    expected = snapshot(binance_ws)

    victim = make_workspace(tmp_path / "two", slow_sim.url)
    slow_sim.reset_counts()
    first = taxsync_process("import", "--home", str(victim.home))
    _wait_for_requests(slow_sim, first, 3)
    second = run_taxsync("import", "--home", str(victim.home), env={"TAXSYNC_LOCK_WAIT": "0.3"})
    assert second.returncode == ExitCode.BUSY, second.stderr
    assert "is busy" in second.stderr and f"process {first.pid}" in second.stderr
    assert "`taxsync import`" in second.stderr
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    actual = snapshot(open_workspace(victim.home))
    assert actual == expected


def test_two_concurrent_imports_the_second_waits_for_the_first_then_adds_nothing(
        tmp_path: Path, slow_sim: Simulator, binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    expected = snapshot(binance_ws)

    victim = make_workspace(tmp_path / "two", slow_sim.url)
    first = taxsync_process("import", "--home", str(victim.home))
    _wait_for_requests(slow_sim, first, 3)
    second = taxsync_process("import", "--home", str(victim.home), env={"TAXSYNC_LOCK_WAIT": "120"})
    assert first.wait(timeout=120) == 0
    assert second.wait(timeout=120) == 0
    assert second.stdout is not None
    output = second.stdout.read()
    assert "deposits +0, trades +0, withdrawals +0" in output and "1 of 1 accounts ok" in output
    assert snapshot(open_workspace(victim.home)) == expected
