"""Importing a Binance account through the real path: taxsync -> ccxt -> HTTP -> the exchange simulator."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.simulator.history import SimHistory
from importer.simulator.server import Faults, Simulator
from taxsync.app import accounts
from taxsync.app.workspace import Workspace
from taxsync.db import RawRecord, SyncState, Transaction
from tests.accounts.stored import ledger_sums, raw_counts


def test_full_sync_equals_the_exchange_history(binance_ws: Workspace, history: SimHistory) -> None:
    (result,) = accounts.import_accounts(binance_ws, retry_delay=0.01)
    assert result.ok, result.error
    counts = raw_counts(binance_ws)
    assert counts["trades"] == len(history.trades)
    assert counts["deposits"] == len([d for d in history.deposits if d.status in (1, 6)])
    assert counts["withdrawals"] == len(history.withdrawals)
    assert ledger_sums(binance_ws) == {a: v for a, v in history.balances().items() if v}
    assert not [n for n in result.notes if "differ" in n]


def test_rerun_adds_nothing_and_costs_one_request_per_stream(binance_ws: Workspace, history: SimHistory,
                                                             simulator: Simulator) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    with Session(binance_ws.engine) as session:
        before = sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all())
    simulator.reset_counts()
    (again,) = accounts.import_accounts(binance_ws, retry_delay=0.01)
    assert again.ok and sum(again.new_records.values()) == 0
    streams = 4  # markets, balances, deposits, withdrawals
    assert simulator.total_requests <= streams + len(history.traded_symbols())
    with Session(binance_ws.engine) as session:
        assert sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all()) == before


def test_new_activity_is_picked_up_incrementally(binance_ws: Workspace, history: SimHistory,
                                                 simulator: Simulator) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    symbol = history.traded_symbols()[0]
    last = history.trades_for(symbol)[-1]
    newer = dataclasses.replace(last, id=last.id + 1, time=last.time + 1000)  # one more fill
    simulator.add_trades([newer])
    (result,) = accounts.import_accounts(binance_ws, retry_delay=0.01)
    assert result.new_records["trades"] == 1


def test_transient_faults_still_end_complete(binance_ws: Workspace, history: SimHistory,
                                             simulator: Simulator) -> None:
    simulator.set_faults(Faults(seed=5, rate_429=0.08, rate_5xx=0.08, rate_truncated=0.05))
    (result,) = accounts.import_accounts(binance_ws, retry_delay=0.001)
    assert result.ok, result.error
    assert raw_counts(binance_ws)["trades"] == len(history.trades)


def test_a_stream_that_keeps_failing_fails_loudly_without_advancing(binance_ws: Workspace,
                                                                    simulator: Simulator) -> None:
    simulator.set_faults(Faults(seed=1, rate_5xx=1.0, fail_paths=("withdraw/history",)))
    (result,) = accounts.import_accounts(binance_ws, retry_delay=0.001)
    assert not result.ok and "ExchangeNotAvailable" in (result.error or "")
    with Session(binance_ws.engine) as session:
        assert session.scalar(select(SyncState).where(SyncState.stream == "withdrawals")) is None


@pytest.mark.parametrize(("key", "allow", "words"), [("WD", True, "can withdraw"), ("TR", False, "can trade")])
def test_unsafe_keys_are_refused_before_anything_is_imported(binance_ws: Workspace, simulator: Simulator,
                                                             key: str, allow: bool, words: str) -> None:
    accounts.add_account(binance_ws, "risky", exchange="binance", api_key_env=f"KEY_{key}",
                         secret_env=f"SECRET_{key}", api_url=simulator.url, allow_trading_key=allow)
    (result,) = accounts.import_accounts(binance_ws, ["risky"], retry_delay=0.01)
    assert not result.ok and words in (result.error or "")
    assert raw_counts(binance_ws) == Counter()


def test_trading_key_allowed_when_asked(binance_ws: Workspace, simulator: Simulator) -> None:
    accounts.add_account(binance_ws, "trader", exchange="binance", api_key_env="KEY_TR", secret_env="SECRET_TR",
                         api_url=simulator.url, allow_trading_key=True)
    assert accounts.check_accounts(binance_ws, ["trader"])[0][1] == "trader: key can trade (allowed)"


def test_ledger_holds_trades_deposits_and_withdrawals(binance_ws: Workspace, history: SimHistory) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    with Session(binance_ws.engine) as session:
        kinds = Counter(session.scalars(select(Transaction.kind)))
        raw = session.scalars(select(RawRecord).where(RawRecord.stream == "trades")).first()
    assert kinds["trade"] == len(history.trades)
    assert raw is not None and json.loads(raw.payload)["info"]["symbol"]


def test_two_accounts_sync_concurrently_and_one_failure_stops_nothing(binance_ws: Workspace, history: SimHistory,
                                                                      simulator: Simulator,
                                                                      monkeypatch) -> None:
    monkeypatch.setenv("KEY_BROKEN", "no-such-key")
    monkeypatch.setenv("SECRET_BROKEN", "nothing")
    accounts.add_account(binance_ws, "binance-second", exchange="binance", api_key_env="KEY_RO",
                         secret_env="SECRET_RO", api_url=simulator.url)
    accounts.add_account(binance_ws, "binance-broken", exchange="binance", api_key_env="KEY_BROKEN",
                         secret_env="SECRET_BROKEN", api_url=simulator.url)
    results = {r.account: r for r in accounts.import_accounts(binance_ws, retry_delay=0.01)}
    assert results["binance-main"].ok and results["binance-second"].ok
    assert results["binance-main"].new_records["trades"] == results["binance-second"].new_records["trades"] == len(
        history.trades)
    assert not results["binance-broken"].ok and "refused the API key" in (results["binance-broken"].error or "")


def test_import_cli_prints_a_summary_and_exits_non_zero_on_failure(binance_ws: Workspace, monkeypatch) -> None:
    from typer.testing import CliRunner

    from taxsync.cli import app

    result = CliRunner().invoke(app, ["import", "--home", str(binance_ws.home)])
    assert result.exit_code == 0 and "import: 1 of 1 accounts ok" in result.output
    assert "binance-main: trades" in result.output  # plain progress lines when not on a terminal
    monkeypatch.setenv("SECRET_RO", "wrong")
    failed = CliRunner().invoke(app, ["import", "--home", str(binance_ws.home)])
    # the only account's key is refused: an authentication error (exit code 3), not a partial failure
    assert failed.exit_code == 3 and "failed: binance-main" in failed.output


def test_full_refetch_changes_nothing(binance_ws: Workspace, history: SimHistory) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    (again,) = accounts.import_accounts(binance_ws, full=True, retry_delay=0.01)
    assert again.ok and sum(again.new_records.values()) == 0
    assert raw_counts(binance_ws)["trades"] == len(history.trades)
