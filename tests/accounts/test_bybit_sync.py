"""Importing a Bybit unified account through the real path: taxsync -> ccxt -> HTTP -> the Bybit simulator."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.simulator.bybit_history import BybitHistory, BybitLogEntry, BybitWithdrawal, generate_bybit_history
from importer.simulator.bybit_server import BybitSimulator
from importer.simulator.server import Faults, SimKey
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.db import RawRecord, SyncState
from tests.accounts.stored import ledger_sums, raw_counts

READ = SimKey("BYSYNC" + "r" * 12, "CANARY-BYBIT-SECRET-4c1d9e", created_ms=1_760_000_000_000)
TRADE = SimKey("BYSYNT" + "t" * 12, "trade-secret-" + "t" * 20, can_trade=True)
WITHDRAW = SimKey("BYSYNW" + "w" * 12, "withdraw-secret-" + "w" * 17, can_trade=True, can_withdraw=True)
KEYS = {"RO": READ, "TR": TRADE, "WD": WITHDRAW}
DAY = 86_400_000


@pytest.fixture(scope="module")
def bybit_history() -> BybitHistory:
    return generate_bybit_history(seed=9, trades=300, days=70, deposits=10, withdrawals=6, rewards=10, fundings=6)


@pytest.fixture
def bybit_sim(bybit_history: BybitHistory) -> Iterator[BybitSimulator]:
    with BybitSimulator(bybit_history, list(KEYS.values()), rate_limits=None, ip_limit=None) as sim:
        yield sim


def _workspace(path: Path, sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")  # ccxt's own pacing would make each run take seconds
    for tag, key in KEYS.items():
        monkeypatch.setenv(f"BYBIT_KEY_{tag}", key.api_key)
        monkeypatch.setenv(f"BYBIT_SECRET_{tag}", key.secret)
    ws = init_workspace(path)
    opened = datetime.fromtimestamp(sim.history.start_ms // 1000, UTC).date()
    accounts.add_account(ws, "bybit-main", exchange="bybit", api_key_env="BYBIT_KEY_RO",
                         secret_env="BYBIT_SECRET_RO", api_url=sim.url, since=opened)
    return ws


@pytest.fixture
def bybit_ws(tmp_path: Path, bybit_sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    ws = _workspace(tmp_path / "ws", bybit_sim, monkeypatch)
    yield ws
    ws.engine.dispose()






def expected_counts(history: BybitHistory) -> Counter[str]:
    return Counter({"trades": len(history.spot_trades()), "deposits": len(history.deposits),
                    "withdrawals": len(history.withdrawals),
                    "ledger": len([e for e in history.log if e.type != "TRADE"])})


def test_full_sync_equals_the_spot_history(bybit_ws: Workspace, bybit_history: BybitHistory) -> None:
    (result,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert result.ok, result.error
    assert raw_counts(bybit_ws) == expected_counts(bybit_history)
    assert ledger_sums(bybit_ws) == bybit_history.expected_totals()  # perpetual funding left out
    with Session(bybit_ws.engine) as session:
        infos = [json.loads(p)["info"] for p in session.scalars(select(RawRecord.payload))]
    assert {i["execType"] for i in infos if "execType" in i} == {"Trade"}
    assert "TRADE" not in {i.get("type") for i in infos}  # the log's trade rows would count trades twice
    assert any("is no longer listed" in n for n in result.notes)  # the delisted market was added
    assert any("differs from the imported spot history for USDT" in n for n in result.notes)  # funding


def test_rerun_adds_nothing_and_costs_one_request_per_stream(bybit_ws: Workspace, bybit_sim: BybitSimulator) -> None:
    accounts.import_accounts(bybit_ws, retry_delay=0.001)
    with Session(bybit_ws.engine) as session:
        before = sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all())
    bybit_sim.reset_counts()
    (again,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert again.ok and sum(again.new_records.values()) == 0
    streams = ("/v5/execution/list", "/v5/asset/deposit/query-record", "/v5/asset/withdraw/query-record",
               "/v5/account/transaction-log")
    assert [bybit_sim.requests[p] for p in streams] == [1, 1, 1, 1]
    assert bybit_sim.total_requests == 9  # + instruments, coin info, key info, account info, wallet balance
    with Session(bybit_ws.engine) as session:
        assert sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all()) == before


def test_new_activity_is_picked_up_incrementally(bybit_ws: Workspace, bybit_sim: BybitSimulator) -> None:
    accounts.import_accounts(bybit_ws, retry_delay=0.001)
    history = bybit_sim.history
    last = history.spot_trades()[-1]
    at = bybit_sim.now_ms() - 2000
    fill = dataclasses.replace(last, exec_id=str(int(last.exec_id) + 7), time=at, seq=last.seq + 1)
    bonus = BybitLogEntry(id=str(int(history.log[-1].id) + 5), type="BONUS", currency="USDT", change="3.5",
                          cash_balance="0", time=at + 1)
    bybit_sim.add_activity(executions=[fill], log=[bonus])
    (result,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert (result.new_records["trades"], result.new_records["ledger"]) == (1, 1)
    assert ledger_sums(bybit_ws) == bybit_sim.history.expected_totals()


def test_a_pending_withdrawal_waits_until_it_is_final(bybit_ws: Workspace, bybit_sim: BybitSimulator) -> None:
    accounts.import_accounts(bybit_ws, retry_delay=0.001)
    pending = BybitWithdrawal(withdraw_id="99000001", coin="USDT", chain="TRX", amount="25", fee="1", tx_id="",
                              status="SecurityCheck", to_address="T" + "a" * 33, time=bybit_sim.now_ms() - 1000,
                              update_time=bybit_sim.now_ms())
    bybit_sim.add_activity(withdrawals=[pending])
    (waiting,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert waiting.ok and waiting.new_records["withdrawals"] == 0
    with Session(bybit_ws.engine) as session:
        state = session.scalar(select(SyncState).where(SyncState.stream == "withdrawals"))
        assert state is not None and state.covered_until == pending.time - 1  # held back before it
    history = bybit_sim.history
    done = dataclasses.replace(pending, status="success", tx_id="ab" * 32)
    bybit_sim.set_history(dataclasses.replace(history, withdrawals=tuple(
        done if w.withdraw_id == pending.withdraw_id else w for w in history.withdrawals)))
    (final,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert final.ok and final.new_records["withdrawals"] == 1


def test_a_crash_mid_window_resumes_on_the_same_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dense = generate_bybit_history(seed=4, trades=500, days=21, deposits=3, withdrawals=1, rewards=2, fundings=0,
                                   delisted=0)  # (a delisted market costs one more request after a restart)
    with BybitSimulator(dense, [READ], rate_limits=None, ip_limit=None) as sim:
        clean = _workspace(tmp_path / "clean", sim, monkeypatch)
        accounts.import_accounts(clean, retry_delay=0.001)
        clean.engine.dispose()
        needed = sim.requests["/v5/execution/list"]

        def crash(task: str, fetched: int, total: int | None) -> None:
            if task.endswith(": trades") and fetched >= 100:
                raise RuntimeError("power cut")

        ws = _workspace(tmp_path / "ws", sim, monkeypatch)
        sim.reset_counts()
        with pytest.raises(RuntimeError, match="power cut"):
            accounts.import_accounts(ws, retry_delay=0.001, progress=crash)
        done = sim.requests["/v5/execution/list"]
        with Session(ws.engine) as session:
            state = session.scalar(select(SyncState).where(SyncState.stream == "trades"))
            assert state is not None and state.cursor  # [window start, window end, nextPageCursor]
        sim.reset_counts()
        (result,) = accounts.import_accounts(ws, retry_delay=0.001)
        assert result.ok, result.error
        assert done + sim.requests["/v5/execution/list"] == needed  # no page asked twice
        assert raw_counts(ws) == expected_counts(dense)
        assert ledger_sums(ws) == dense.expected_totals()
        ws.engine.dispose()


def test_transient_faults_still_end_complete(bybit_ws: Workspace, bybit_sim: BybitSimulator,
                                             bybit_history: BybitHistory) -> None:
    bybit_sim.set_faults(Faults(seed=4, rate_429=0.06, rate_5xx=0.06, rate_truncated=0.04))
    bybit_sim.server_errors = 0.04  # Bybit's retCode 10016, which ccxt raises as a plain ExchangeError
    (result,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert result.ok, result.error
    assert raw_counts(bybit_ws) == expected_counts(bybit_history)
    assert ledger_sums(bybit_ws) == bybit_history.expected_totals()


def test_bybit_rate_limit_refusals_are_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = generate_bybit_history(seed=6, trades=60, days=40, deposits=2, withdrawals=1, rewards=2, fundings=0)
    with BybitSimulator(small, [READ], rate_limits={"/v5/execution/list": 5}, ip_limit=None) as sim:
        ws = _workspace(tmp_path / "ws", sim, monkeypatch)
        (result,) = accounts.import_accounts(ws, retry_delay=0.07)  # backs off 0.07 s, 0.14 s, ... > 1 s
        assert result.ok, result.error
        assert sim.requests["/v5/execution/list"] > 6  # 6 windows, plus calls refused with 10006
        assert raw_counts(ws)["trades"] == len(small.spot_trades())
        ws.engine.dispose()


@pytest.mark.parametrize(("tag", "allow", "words"), [("WD", True, "can withdraw"), ("TR", False, "can trade")])
def test_unsafe_keys_are_refused_before_anything_is_imported(bybit_ws: Workspace, bybit_sim: BybitSimulator,
                                                             tag: str, allow: bool, words: str) -> None:
    accounts.add_account(bybit_ws, "risky", exchange="bybit", api_key_env=f"BYBIT_KEY_{tag}",
                         secret_env=f"BYBIT_SECRET_{tag}", api_url=bybit_sim.url, allow_trading_key=allow)
    (result,) = accounts.import_accounts(bybit_ws, ["risky"], retry_delay=0.001)
    assert not result.ok and words in (result.error or "")
    assert raw_counts(bybit_ws) == Counter()


def test_a_wrong_secret_fails_without_leaking_the_key(bybit_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYBIT_SECRET_RO", "not-the-secret")  # Bybit's 10004 message echoes the API key
    (result,) = accounts.import_accounts(bybit_ws, retry_delay=0.001)
    assert not result.ok and "refused the API key" in (result.error or "")
    assert READ.api_key not in (result.error or "") and "not-the-secret" not in (result.error or "")


def test_history_beyond_two_years_is_reported_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = generate_bybit_history(seed=3, trades=80, days=760, deposits=2, withdrawals=0, rewards=0, fundings=0)
    with BybitSimulator(old, [READ], rate_limits=None, ip_limit=None) as sim:
        ws = _workspace(tmp_path / "ws", sim, monkeypatch)
        (result,) = accounts.import_accounts(ws, retry_delay=0.001)
        assert result.ok, result.error
        assert any("Bybit keeps trades for 2 years only" in n for n in result.notes)
        reachable = [e for e in old.spot_trades() if e.time >= sim.now_ms() - 730 * DAY]
        assert 0 < raw_counts(ws)["trades"] == len(reachable) < len(old.spot_trades())
        ws.engine.dispose()


def test_airdrops_and_interest_from_the_transaction_log_are_booked(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    income = generate_bybit_history(seed=8, trades=80, days=60, deposits=3, withdrawals=1, rewards=6, interest=4,
                                    fundings=0, reward_types=("BONUS", "FEE_REFUND", "AIRDRP"))
    with BybitSimulator(income, [READ], rate_limits=None, ip_limit=None) as sim:
        ws = _workspace(tmp_path / "ws", sim, monkeypatch)
        (result,) = accounts.import_accounts(ws, retry_delay=0.001)
        assert result.ok, result.error
        sums = ledger_sums(ws)
        ws.engine.dispose()
    assert sums == income.expected_totals()


def test_since_date_is_respected(tmp_path: Path, bybit_sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch,
                                 bybit_history: BybitHistory) -> None:
    ws = _workspace(tmp_path / "ws", bybit_sim, monkeypatch)
    cut = bybit_history.start_ms + 30 * DAY
    (result,) = accounts.import_accounts(ws, since=datetime.fromtimestamp(cut // 1000, UTC).date(), retry_delay=0.001)
    assert result.ok, result.error
    assert raw_counts(ws)["trades"] == len([e for e in bybit_history.spot_trades() if e.time >= cut // DAY * DAY])
    ws.engine.dispose()
