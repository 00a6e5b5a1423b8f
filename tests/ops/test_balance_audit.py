"""The balance audit: the exchange's balances against the imported history, every difference shown, offline in
reports, refreshed online by doctor."""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from importer.simulator.server import Simulator
from taxsync.app import accounts, service
from taxsync.app.balance_audit import refresh_balances
from taxsync.app.workspace import Workspace
from taxsync.db import Account, RawRecord, SyncState
from taxsync.ledger.balances import audit_balances, balance_problems
from taxsync.ledger.store import rebuild_ledger
from taxsync.problems import ProblemKind


def _drop_one_deposit(ws: Workspace) -> tuple[str, Decimal]:
    """Forget one imported deposit, as if the import had missed it; returns its asset and amount."""
    with Session(ws.engine) as session, session.begin():
        record = session.scalars(select(RawRecord).where(RawRecord.stream == "deposits")
                                 .order_by(RawRecord.id)).first()
        assert record is not None
        payload = json.loads(record.payload)
        session.execute(delete(RawRecord).where(RawRecord.id == record.id))
        rebuild_ledger(session, [record.account_id])
    return payload["currency"], Decimal(str(payload["amount"]))


def test_a_complete_import_agrees_with_the_exchange_asset_by_asset(binance_ws: Workspace) -> None:
    (result,) = accounts.import_accounts(binance_ws, retry_delay=0.01)
    assert result.ok
    with Session(binance_ws.engine) as session:
        (audit,) = audit_balances(session)
        assert balance_problems(session) == []
    assert audit.account == "binance-main" and audit.taken_at is not None
    assert audit.compared >= 3 and audit.differences == ()


def test_a_missing_deposit_shows_as_the_exact_difference_of_its_asset(binance_ws: Workspace) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    asset, amount = _drop_one_deposit(binance_ws)
    with Session(binance_ws.engine) as session:
        (audit,) = audit_balances(session)
    (difference,) = [d for d in audit.differences if d.asset == asset]
    assert difference.difference == amount
    assert "more on the exchange than the history explains" in difference.describe()
    assert len(audit.differences) == 1  # nothing else is reported


def test_report_problems_list_the_stored_differences_without_any_network(binance_ws: Workspace, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    asset, _ = _drop_one_deposit(binance_ws)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network in reports")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    found = [p for p in service.problems(binance_ws) if p.kind is ProblemKind.BALANCE_DIFFERENCE]
    assert len(found) == 1 and f"binance-main: {asset} on the exchange" in found[0].message
    paths = service.build_report(binance_ws, year="2025", formats=["json"], out=tmp_path / "reports").paths
    report = json.loads(paths[0].read_text())
    kinds = [p["kind"] for p in report["problems"]]
    assert kinds.count("balance_difference") == 1


def test_doctor_refreshes_the_balances_from_the_exchange(binance_ws: Workspace, sim: Simulator) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    with Session(binance_ws.engine) as session:
        before = session.scalar(select(SyncState.covered_until).where(SyncState.stream == "balances"))
        session.execute(delete(SyncState).where(SyncState.stream == "balances"))
        session.commit()
        assert audit_balances(session)[0].taken_at is None
    sim.reset_counts()
    assert refresh_balances(binance_ws, retry_delay=0.01) == {"binance-main": None}
    assert sim.total_requests >= 1
    with Session(binance_ws.engine) as session:
        (audit,) = audit_balances(session)
    assert audit.taken_at is not None and before is not None and audit.taken_at >= before
    assert audit.differences == ()


def test_an_account_that_cannot_be_asked_says_why_without_its_secret(binance_ws: Workspace,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_KEY")
    outcome = refresh_balances(binance_ws, retry_delay=0.01)
    assert "OPS_KEY is not set" in str(outcome["binance-main"])
    with Session(binance_ws.engine) as session:
        assert session.scalar(select(Account.name)) == "binance-main"
