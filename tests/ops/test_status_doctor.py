"""`taxsync status` and `taxsync doctor`: what ran, what failed, and what to fix, section by section."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from taxsync.app import accounts, runs
from taxsync.app.workspace import Workspace
from taxsync.cli import app
from taxsync.db import Account, RawRecord, SyncState
from taxsync.errors import UsageError
from taxsync.ops import doctor
from taxsync.ops.doctor import SECTIONS, DoctorContext, Finding, Health, Section, run_doctor
from taxsync.ops.status import workspace_status
from taxsync.types import now_ms

runner = CliRunner()


def test_status_shows_each_stream_with_records_last_sync_and_span(binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    result = runner.invoke(app, ["status", "--json", "--home", str(binance_ws.home)])
    assert result.exit_code == 0
    status = json.loads(result.stdout)
    (account,) = status["accounts"]
    streams = {s["stream"]: s for s in account["streams"]}
    assert set(streams) == {"deposits", "withdrawals", "trades"}
    with Session(binance_ws.engine) as session:
        counts = dict(session.execute(select(RawRecord.stream, func.count()).group_by(RawRecord.stream)).all())
    assert {name: s["records"] for name, s in streams.items()} == counts
    assert streams["trades"]["markets"] >= 1 and streams["deposits"]["covered_from"] is not None
    assert all(s["last_sync"] for s in streams.values())
    assert account["last_success"]["outcome"] == "ok" and account["failing"] == []
    assert account["first_transaction"] < account["last_transaction"]
    assert status["failing"] == [] and status["running"] is None

    text = runner.invoke(app, ["status", "--home", str(binance_ws.home)])
    assert "Nothing failing." in text.stdout and "deposits" in text.stdout


def test_status_names_a_failing_import_and_an_interrupted_nightly_run(binance_ws: Workspace,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    monkeypatch.delenv("OPS_KEY")
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    runs.start_run(binance_ws, "nightly")
    runs.mark_interrupted(binance_ws)
    status = workspace_status(binance_ws)
    (account,) = status.accounts
    assert account.last_import is not None and account.last_import.outcome == "failed"
    assert account.last_success is not None and account.last_success.outcome == "ok"
    assert any("OPS_KEY is not set" in line for line in status.failing)
    assert status.failing[0].startswith("the last nightly run") and "interrupted" in status.failing[0]
    assert status.last_nightly is not None and status.last_nightly.outcome == "interrupted"


def test_doctor_checks_every_section_through_the_simulator(binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    result = runner.invoke(app, ["doctor", "--json", "--home", str(binance_ws.home)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    sections = {s["name"]: s["findings"] for s in report["sections"]}
    assert list(sections) == ["environment", "keyring", "database", "permissions", "schedule", "keys", "key-audit",
                              "coverage", "balances"]
    hygiene = {f["subject"]: f for f in sections["key-audit"]}
    assert hygiene["binance-main: withdraw"]["verdict"] == "ok"
    ip = hygiene["binance-main: ip"]
    assert ip["verdict"] == "warning" and "restrict the key" in ip["advice"]
    assert report["verdict"] == "warning"  # the database was never backed up, no schedule
    (key,) = sections["keys"]
    assert key == {"verdict": "ok", "subject": "binance-main", "message": "key is read-only", "advice": ""}
    assert sections["balances"][0]["message"].startswith("all ")
    assert [f["verdict"] for f in sections["coverage"]] == ["ok"]
    backups = [f for f in sections["database"] if f["subject"] == "backups"]
    assert backups[0]["verdict"] == "warning" and "taxsync backup" in backups[0]["advice"]
    assert runner.invoke(app, ["backup", "--home", str(binance_ws.home)]).exit_code == 0
    again = json.loads(runner.invoke(app, ["doctor", "--json", "--offline", "--section", "database", "--home",
                                           str(binance_ws.home)]).stdout)
    assert again["verdict"] == "ok"


def test_doctor_tells_loose_permissions_with_the_chmod_to_run(binance_ws: Workspace) -> None:
    database = binance_ws.home / "taxsync.db"
    os.chmod(database, 0o644)
    findings = _section(binance_ws, "permissions")
    assert [(f.verdict, f.subject) for f in findings] == [(Health.WARNING, str(database))]
    assert findings[0].advice == f"chmod 600 '{database}'" and "others" in findings[0].message


def _section(ws: Workspace, name: str, *, online: bool = False) -> list[Finding]:
    (result,) = run_doctor(DoctorContext(ws.home, ws, online=online, retry_delay=0.01), [name])
    return list(result.findings)


def _state(ws: Workspace, account: str, stream: str, covered_from: int | None, symbol: str = "") -> None:
    with Session(ws.engine) as session, session.begin():
        account_id = session.scalar(select(Account.id).where(Account.name == account))
        session.add(SyncState(account_id=account_id, stream=stream, symbol=symbol, cursor=None,
                              covered_from=covered_from, covered_until=now_ms(), updated_at=now_ms()))


def test_coverage_names_streams_never_fetched_and_history_an_api_forgot(workspace: Workspace) -> None:
    from datetime import date

    accounts.add_account(workspace, "okx-main", exchange="okx", api_key_env="K", secret_env="S",
                         since=date(2020, 3, 1))
    accounts.add_account(workspace, "binance-new", exchange="binance", api_key_env="K", secret_env="S")
    three_months_ago = now_ms() - 90 * 86_400_000
    for stream in ("trades", "ledger", "deposits", "withdrawals"):
        _state(workspace, "okx-main", stream, three_months_ago)
    _state(workspace, "binance-new", "deposits", None)
    findings = {f.subject: f for f in _section(workspace, "coverage") if f.verdict is Health.WARNING}
    okx = findings["okx-main"]
    assert okx.message.startswith("history from 2020-03-01 (the account's start) to ")
    assert "only the last 3 months" in okx.advice and "taxsync import-file" in okx.advice
    never = [f.message for f in _section(workspace, "coverage") if f.subject == "binance-new"]
    assert never == ["its withdrawals were never fetched", "its trades were never fetched"]


def test_coverage_of_an_account_never_imported(workspace: Workspace) -> None:
    accounts.add_account(workspace, "kraken-main", exchange="kraken", api_key_env="K", secret_env="S")
    (finding,) = _section(workspace, "coverage")
    assert (finding.verdict, finding.message, finding.advice) == (Health.WARNING, "never imported",
                                                                  "run `taxsync import`")


def test_a_section_is_one_line_and_a_broken_check_hides_nothing(workspace: Workspace,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def key_age(ctx: DoctorContext) -> Iterable[Finding]:
        yield Finding(Health.WARNING, "binance-main", "the key is 400 days old", "rotate it")

    def broken(ctx: DoctorContext) -> Iterable[Finding]:
        raise RuntimeError("boom")

    sections = (*SECTIONS[:3], Section("key-age", "API key age", key_age, True),
                Section("broken", "Broken", broken, True), *SECTIONS[3:])
    monkeypatch.setattr(doctor, "SECTIONS", sections)
    result = runner.invoke(app, ["doctor", "--offline", "--home", str(workspace.home)])
    assert result.exit_code == 1  # the broken check is an error finding
    warning = "WARNING binance-main: the key is 400 days old -> rotate it"
    assert "API key age" in result.stdout and warning in result.stdout
    assert "ERROR   broken: the check itself failed: RuntimeError: boom" in result.stdout
    assert "Balance audit" in result.stdout  # sections before and after still ran
    with pytest.raises(UsageError, match="unknown doctor section"):
        run_doctor(DoctorContext(workspace.home, workspace), ["nope"])


def test_doctor_without_a_workspace_says_so_and_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["doctor", "--offline", "--home", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "Environment" in result.stdout and "cannot be opened: no workspace at" in result.stdout


def test_status_reads_only_the_database(binance_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    accounts.import_accounts(binance_ws, retry_delay=0.01)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network for status")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    started = time.monotonic()
    assert runner.invoke(app, ["status", "--home", str(binance_ws.home)]).exit_code == 0
    assert runner.invoke(app, ["doctor", "--offline", "--home", str(binance_ws.home)]).exit_code == 0
    assert time.monotonic() - started < 30


def test_coverage_names_an_asset_held_whose_markets_were_never_fetched(binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    with Session(binance_ws.engine) as session, session.begin():
        state = session.scalars(select(SyncState).where(SyncState.stream == "balances")).one()
        state.cursor = json.dumps({**json.loads(state.cursor or "{}"), "ZZZ": "5"})
    findings = [f for f in _section(binance_ws, "coverage") if f.verdict is Health.WARNING]
    assert [f.message for f in findings] == ["no market of ZZZ was ever fetched for its trades, and its balance "
                                             "differs from the history"]
    assert findings[0].advice.startswith("if you traded ZZZ there, run `taxsync import binance-main --full`")
    (balances,) = _section(binance_ws, "balances")
    assert balances.verdict is Health.WARNING and balances.message.startswith("ZZZ on the exchange 5, in the "
                                                                               "imported history 0")


def test_doctor_says_when_there_is_no_schedule_or_the_last_night_failed(workspace: Workspace,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("TAXSYNC_SCHEDULER", "systemd")
    monkeypatch.setenv("TAXSYNC_SYSTEMD_USER_DIR", str(tmp_path / "units"))
    (finding,) = _section(workspace, "schedule")
    assert finding.verdict is Health.WARNING and finding.message == "no nightly schedule for this workspace"
    run = runs.start_run(workspace, "nightly")
    runs.finish_run(workspace, run, "partial", 1, "taxsync nightly PARTIAL (exit 1): kraken failed")
    messages = [(f.verdict, f.message) for f in _section(workspace, "schedule")]
    assert messages[1][0] is Health.WARNING and messages[1][1].endswith("ended partial: taxsync nightly PARTIAL "
                                                                         "(exit 1): kraken failed")
