"""A small simulated Binance account in a fresh workspace, and how to run the CLI in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from importer.simulator.history import SimHistory, generate_history
from importer.simulator.server import Faults, SimKey, Simulator
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace

CANARY = "CANARY-SECRET-c41e0f9a77d2"
KEY = SimKey("ops-read-only-key", CANARY)


@pytest.fixture(scope="session")
def small_history() -> SimHistory:
    return generate_history(seed=9, trades=150, markets=15, traded=2, years=2, deposits=6, withdrawals=2)


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    # no test reads or changes the real user's timers or crontab
    monkeypatch.setenv("TAXSYNC_SCHEDULER", "systemd")
    monkeypatch.setenv("TAXSYNC_SYSTEMD_USER_DIR", str(tmp_path / "systemd-user"))
    monkeypatch.setenv("TAXSYNC_SYSTEMCTL", "false")
    monkeypatch.setenv("TAXSYNC_CRONTAB", "false")
    monkeypatch.setenv("OPS_KEY", KEY.api_key)
    monkeypatch.setenv("OPS_SECRET", KEY.secret)


@pytest.fixture
def sim(small_history: SimHistory) -> Iterator[Simulator]:
    with Simulator(small_history, [KEY], weight_limit_per_minute=10**9) as simulator:
        yield simulator


@pytest.fixture
def slow_sim(small_history: SimHistory) -> Iterator[Simulator]:
    """Every answer 50 ms late: an import takes a few seconds, long enough to run another beside it."""
    with Simulator(small_history, [KEY], weight_limit_per_minute=10**9,
                   faults=Faults(rate_slow=1.0, slow_seconds=0.05)) as simulator:
        yield simulator


def add_binance(ws: Workspace, url: str, name: str = "binance-main") -> None:
    accounts.add_account(ws, name, exchange="binance", api_key_env="OPS_KEY", secret_env="OPS_SECRET", api_url=url,
                         since=date(2019, 1, 1))


def make_workspace(home: Path, url: str) -> Workspace:
    ws = init_workspace(home)
    add_binance(ws, url)
    return ws


@pytest.fixture
def binance_ws(tmp_path: Path, sim: Simulator) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path / "ws", sim.url)
    yield ws
    ws.engine.dispose()


def taxsync_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "taxsync", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def run_taxsync(*args: str, env: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxsync", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)
