"""Killing an import at any moment loses nothing; a planted secret never shows up anywhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from importer.simulator.history import generate_history
from importer.simulator.server import Simulator
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace, open_workspace
from taxsync.cli import app
from taxsync.db import Account, RawRecord, SyncState, Transaction
from tests.accounts.conftest import CANARY, READ_ONLY


def snapshot(ws: Workspace) -> dict[str, list]:
    """Everything an import decides, leaving out surrogate ids and the clock."""
    with Session(ws.engine) as session:
        names = dict(session.execute(select(Account.id, Account.name)).all())
        return {
            "raw": sorted((names[r.account_id], r.source, r.stream, r.origin, r.external_id, r.payload)
                          for r in session.scalars(select(RawRecord))),
            "state": sorted((names[s.account_id], s.stream, s.symbol, s.cursor, s.covered_from)
                            for s in session.scalars(select(SyncState)) if s.stream not in ("balances", "_ledger")),
            "ledger": sorted((t.ref, t.timestamp, t.kind, tuple((leg.asset, str(leg.amount), leg.role)
                                                                for leg in t.legs))
                             for t in session.scalars(select(Transaction))),
        }


def add_account(ws: Workspace, simulator: Simulator, since: str = "2019-01-01") -> None:
    from datetime import date

    accounts.add_account(ws, "binance-main", exchange="binance", api_key_env="KEY_RO", secret_env="SECRET_RO",
                         api_url=simulator.url, since=date.fromisoformat(since))


@pytest.mark.parametrize("kill_after", [2, 6, 14])
def test_kill_minus_nine_then_rerun_equals_an_uninterrupted_run(tmp_path: Path, simulator: Simulator,
                                                                binance_ws: Workspace, kill_after: int) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    expected = snapshot(binance_ws)

    victim = init_workspace(tmp_path / "victim")
    add_account(victim, simulator, since=accounts.list_accounts(binance_ws)[0].options["since"])
    simulator.reset_counts()
    process = subprocess.Popen([sys.executable, "-m", "taxsync", "import", "--home", str(victim.home)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while simulator.total_requests < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    (result,) = accounts.import_accounts(open_workspace(victim.home), retry_delay=0.01)
    assert result.ok, result.error
    actual = snapshot(victim)
    for part in expected:
        missing, extra = set(expected[part]) - set(actual[part]), set(actual[part]) - set(expected[part])
        assert not missing and not extra, (part, sorted(missing)[:3], sorted(extra)[:3])


def test_canary_secret_never_leaves_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = generate_history(seed=9, trades=150, markets=15, traded=2, years=2, deposits=6, withdrawals=2)
    monkeypatch.setenv("KEY_RO", READ_ONLY.api_key)
    monkeypatch.setenv("SECRET_RO", READ_ONLY.secret)
    with Simulator(small, [READ_ONLY], weight_limit_per_minute=10**9) as simulator:
        binance_ws = init_workspace(tmp_path / "ws")
        add_account(binance_ws, simulator, since="2023-01-01")
        outputs = run_every_command(binance_ws, tmp_path, monkeypatch)
    binance_ws.engine.dispose()
    files = [p for p in [*binance_ws.home.rglob("*"), *(tmp_path / "r").rglob("*")] if p.is_file()]
    assert any(p.name == "taxsync.db" for p in files) and any(p.suffix == ".pdf" for p in files)
    for path in files:
        data = path.read_bytes()
        assert CANARY.encode() not in data and READ_ONLY.api_key.encode() not in data, path
    for text in outputs:
        assert CANARY not in text and READ_ONLY.api_key not in text


def run_every_command(binance_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    runner = CliRunner()
    home = str(binance_ws.home)
    outputs = []
    for args in (["account", "check", "--home", home], ["import", "--home", home], ["account", "list", "--home", home],
                 ["account", "list", "--json", "--home", home], ["problems", "--home", home],
                 ["report", "--year", "2025", "--format", "pdf,csv,json,html", "--out", str(tmp_path / "r"),
                  "--home", home]):
        result = runner.invoke(app, args)
        outputs.append(result.output + (result.stderr if result.stderr_bytes else ""))
        assert result.exit_code == 0, result.output
    # a failing run too: its error message must not carry the secret either
    monkeypatch.setenv("SECRET_RO", CANARY + "x")
    failed = runner.invoke(app, ["import", "--home", home])
    assert failed.exit_code == 3 and "refused the API key" in failed.output  # an authentication error
    return [*outputs, failed.output]
