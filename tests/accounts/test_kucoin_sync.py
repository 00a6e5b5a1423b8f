"""Importing a KuCoin account through the real path: taxsync -> ccxt -> HTTP -> the KuCoin simulator."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from importer.simulator.kucoin_history import HF_TRADED, KucoinHistory, extend_history, generate_kucoin_history
from importer.simulator.kucoin_server import KucoinError, KucoinSimulator
from importer.simulator.server import Faults, SimKey
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.db import RawRecord, SyncState, Transaction
from tests.accounts.stored import ledger_sums

READ_ONLY = SimKey("kc-read-only-key", "kc-read-only-secret")
WITHDRAWING = SimKey("kc-withdraw-key", "kc-withdraw-secret", can_trade=True, can_withdraw=True)
PASSPHRASES = {READ_ONLY.api_key: "ro pass phrase", WITHDRAWING.api_key: "wd-pass"}
HISTORY_STREAMS = ("/api/v1/fills", "/api/v1/deposits", "/api/v1/withdrawals", "/api/v1/accounts/ledgers")


@pytest.fixture(scope="module")
def history() -> KucoinHistory:
    return generate_kucoin_history(seed=7, days=120, fills=300, deposits=8, withdrawals=6, rewards=30,
                                   end_ms=int(time.time() * 1000))


@pytest.fixture
def kucoin(history: KucoinHistory, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KucoinSimulator, Workspace]]:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    for prefix, key in (("RO", READ_ONLY), ("WD", WITHDRAWING)):
        monkeypatch.setenv(f"KUCOIN_KEY_{prefix}", key.api_key)
        monkeypatch.setenv(f"KUCOIN_SECRET_{prefix}", key.secret)
        monkeypatch.setenv(f"KUCOIN_PASS_{prefix}", PASSPHRASES[key.api_key])
    with KucoinSimulator(history, [READ_ONLY, WITHDRAWING], PASSPHRASES) as sim:
        ws = init_workspace(tmp_path / "ws")
        opened = datetime.fromtimestamp(history.start_ms // 1000, UTC).date()
        accounts.add_account(ws, "kucoin", exchange="kucoin", api_key_env="KUCOIN_KEY_RO",
                             secret_env="KUCOIN_SECRET_RO", password_env="KUCOIN_PASS_RO", api_url=sim.url,
                             since=opened)
        yield sim, ws
        ws.engine.dispose()
        assert not sim.errors




def stored(ws: Workspace) -> tuple[Counter[str], Counter[str]]:
    with Session(ws.engine) as session:
        return (Counter(session.scalars(select(RawRecord.stream))),
                Counter(session.scalars(select(Transaction.kind))))


def test_full_sync_equals_the_kucoin_history(kucoin, history: KucoinHistory) -> None:
    sim, ws = kucoin
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    counts = history.counts()
    streams, kinds = stored(ws)
    assert streams["trades"] == counts["trades"] and streams["ledger"] == counts["ledger"]
    assert streams["deposits"] == counts["deposit_rows"] and streams["withdrawals"] == counts["withdrawal_rows"]
    assert kinds["trade"] == counts["trades"] and kinds["income"] == counts["income"]
    assert kinds["deposit"] == counts["deposits"] and kinds["withdrawal"] == counts["withdrawals"]
    assert ledger_sums(ws) == history.expected_totals()
    windows = sim.requests["/api/v1/fills"]
    assert 18 <= windows <= 19  # 120 days + a part day in 7-day windows, one page each
    assert all(sim.requests[path] == windows for path in HISTORY_STREAMS)


def test_rerun_is_one_request_per_stream_and_new_activity_arrives(kucoin, history: KucoinHistory) -> None:
    sim, ws = kucoin
    accounts.import_accounts(ws, retry_delay=0.001)
    sim.reset_counts()
    (again,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert again.ok and sum(again.new_records.values()) == 0
    assert all(sim.requests[path] == 1 for path in HISTORY_STREAMS)
    assert sim.total_requests == 4 + 1 + 4  # load_markets (4), accounts, the four history streams
    start = int(time.time() * 1000)
    more = extend_history(history, seed=2, start_ms=start, end_ms=start + 400, fills=6, deposits=1,
                          withdrawals=1, rewards=2)
    sim.add_activity(more)
    time.sleep(0.45)
    (later,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert later.ok, later.error
    assert later.new_records["trades"] == len(more.fills) and later.new_records["ledger"] == len(more.ledger)
    assert ledger_sums(ws) == history.with_added(more).expected_totals()


def test_transient_faults_still_end_complete(kucoin, history: KucoinHistory) -> None:
    sim, ws = kucoin
    sim.set_faults(Faults(seed=5, rate_429=0.1, rate_5xx=0.08, rate_truncated=0.05))
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    streams, _ = stored(ws)
    assert streams["trades"] == history.counts()["trades"] and streams["ledger"] == history.counts()["ledger"]
    assert ledger_sums(ws) == history.expected_totals()


def test_withdrawing_key_is_refused(kucoin) -> None:
    sim, ws = kucoin
    accounts.add_account(ws, "kucoin-risky", exchange="kucoin", api_key_env="KUCOIN_KEY_WD",
                         secret_env="KUCOIN_SECRET_WD", password_env="KUCOIN_PASS_WD", api_url=sim.url,
                         allow_trading_key=True)
    (result,) = accounts.import_accounts(ws, ["kucoin-risky"], retry_delay=0.001)
    assert not result.ok and "withdraw" in (result.error or "")
    assert sim.requests["/api/v1/fills"] == 0


# -- high-frequency (HF) accounts: fills per symbol, symbols discovered from the balances ---------------------
HF_STREAMS = ("/api/v1/fills", "/api/v1/deposits", "/api/v1/withdrawals", "/api/v1/accounts/ledgers",
              "/api/v1/hf/accounts/ledgers")


@pytest.fixture(scope="module")
def hf_history() -> KucoinHistory:
    return generate_kucoin_history(seed=11, days=120, fills=300, deposits=8, withdrawals=6, rewards=30,
                                   end_ms=int(time.time() * 1000), hf=True)


@pytest.fixture
def kucoin_hf(hf_history: KucoinHistory, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KucoinSimulator, Workspace]]:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    monkeypatch.setenv("KUCOIN_KEY_RO", READ_ONLY.api_key)
    monkeypatch.setenv("KUCOIN_SECRET_RO", READ_ONLY.secret)
    monkeypatch.setenv("KUCOIN_PASS_RO", PASSPHRASES[READ_ONLY.api_key])
    with KucoinSimulator(hf_history, [READ_ONLY], PASSPHRASES) as sim:
        ws = init_workspace(tmp_path / "ws")
        opened = datetime.fromtimestamp(hf_history.start_ms // 1000, UTC).date()
        accounts.add_account(ws, "kucoin-hf", exchange="kucoin", api_key_env="KUCOIN_KEY_RO",
                             secret_env="KUCOIN_SECRET_RO", password_env="KUCOIN_PASS_RO", api_url=sim.url,
                             since=opened)
        yield sim, ws
        ws.engine.dispose()
        assert not sim.errors


def hf_fill_requests(sim: KucoinSimulator) -> int:
    return sim.requests["/api/v1/hf/fills"]


def test_hf_full_sync_equals_the_history(kucoin_hf, hf_history: KucoinHistory) -> None:
    sim, ws = kucoin_hf
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    assert not result.notes or all("2019" not in n and "differ" not in n for n in result.notes)
    counts = hf_history.counts()
    streams, kinds = stored(ws)
    assert streams["trades"] == counts["trades"] == kinds["trade"]
    assert streams["ledger"] + streams["ledger_hf"] == counts["ledger"] and streams["ledger_hf"] > 0
    assert kinds["income"] == counts["income"] and kinds["deposit"] == counts["deposits"]
    assert kinds["withdrawal"] == counts["withdrawals"]
    assert ledger_sums(ws) == hf_history.expected_totals()
    windows = sim.requests["/api/v1/deposits"]
    assert 18 <= windows <= 19 and all(sim.requests[path] == windows for path in HF_STREAMS)
    # the four traded symbols, every window one page (<= 100 fills); no untraded market was probed
    assert hf_fill_requests(sim) == len(HF_TRADED) * windows
    # load_markets (4), the key's permissions (first import only), accounts, the streams, the symbols
    assert sim.total_requests == 4 + 1 + 1 + len(HF_STREAMS) * windows + len(HF_TRADED) * windows


def test_hf_rerun_is_one_request_per_stream_and_symbol(kucoin_hf, hf_history: KucoinHistory) -> None:
    sim, ws = kucoin_hf
    accounts.import_accounts(ws, retry_delay=0.001)
    sim.reset_counts()
    (again,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert again.ok and sum(again.new_records.values()) == 0
    assert all(sim.requests[path] == 1 for path in HF_STREAMS)
    assert hf_fill_requests(sim) == len(HF_TRADED)
    assert sim.total_requests == 4 + 1 + len(HF_STREAMS) + len(HF_TRADED)  # 14
    start = int(time.time() * 1000)
    more = extend_history(hf_history, seed=3, start_ms=start, end_ms=start + 400, fills=8, deposits=1,
                          withdrawals=1, rewards=2)
    sim.add_activity(more)
    time.sleep(0.45)
    (later,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert later.ok, later.error
    assert later.new_records["trades"] == len(more.fills)
    assert later.new_records["ledger"] + later.new_records["ledger_hf"] == len(more.ledger)
    assert ledger_sums(ws) == hf_history.with_added(more).expected_totals()


def test_hf_a_newly_traded_symbol_is_discovered(kucoin_hf, hf_history: KucoinHistory) -> None:
    """Forget one symbol's state and raw fills: the re-run finds it again from the unexplained balances."""
    sim, ws = kucoin_hf
    accounts.import_accounts(ws, retry_delay=0.001)
    with Session(ws.engine) as session, session.begin():
        session.execute(delete(SyncState).where(SyncState.symbol == "ETH/BTC"))
        session.execute(delete(RawRecord).where(RawRecord.external_id.like("ETH/BTC:%")))
    sim.reset_counts()
    (again,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert again.ok, again.error
    eth_btc = sum(f.symbol == "ETH-BTC" for f in hf_history.fills)
    assert again.new_records["trades"] == eth_btc > 0
    assert stored(ws)[0]["trades"] == hf_history.counts()["trades"]
    # 3 known symbols once, then ETH/BTC (the first pair of two unexplained assets) from the start, 7 days a time
    assert 18 <= hf_fill_requests(sim) - 3 <= 19 and not any("differ" in n for n in again.notes)


def test_hf_transient_faults_still_end_complete(kucoin_hf, hf_history: KucoinHistory) -> None:
    sim, ws = kucoin_hf
    sim.set_faults(Faults(seed=9, rate_429=0.1, rate_5xx=0.08, rate_truncated=0.05))
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    streams, _ = stored(ws)
    assert streams["trades"] == hf_history.counts()["trades"]
    assert streams["ledger"] + streams["ledger_hf"] == hf_history.counts()["ledger"]
    assert ledger_sums(ws) == hf_history.expected_totals()


def test_hf_interrupted_sync_resumes_at_the_unfinished_window(kucoin_hf, hf_history: KucoinHistory,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sim, ws = kucoin_hf
    calls = {"n": 0}
    original = KucoinSimulator.hf_fills

    def failing(self: KucoinSimulator, q: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 30:  # a request error (not retried) in the middle of the second symbol
            raise KucoinError("400100", "simulated failure")
        return original(self, q)

    monkeypatch.setattr(KucoinSimulator, "hf_fills", failing)
    (broken,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert not broken.ok
    monkeypatch.setattr(KucoinSimulator, "hf_fills", original)
    sim.reset_counts()
    (resumed,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert resumed.ok, resumed.error
    windows = sim.requests["/api/v1/deposits"]  # 1: the other streams had finished
    # 18 (or 19) windows of 7 days per symbol: 30 were answered before, the failed one is asked again
    assert windows == 1 and hf_fill_requests(sim) in (len(HF_TRADED) * n - 30 + 1 for n in (18, 19))
    assert stored(ws)[0]["trades"] == hf_history.counts()["trades"]
    assert ledger_sums(ws) == hf_history.expected_totals()


def test_hf_full_resync_adds_nothing_and_finds_no_difference(kucoin_hf, hf_history: KucoinHistory) -> None:
    """``--full`` fetches stored fills again: discovery must not count them twice (no probing, no note)."""
    sim, ws = kucoin_hf
    accounts.import_accounts(ws, retry_delay=0.001)
    sim.reset_counts()
    (again,) = accounts.import_accounts(ws, full=True, retry_delay=0.001)
    assert again.ok and sum(again.new_records.values()) == 0 and not any("differ" in n for n in again.notes)
    assert hf_fill_requests(sim) == len(HF_TRADED) * sim.requests["/api/v1/deposits"]
    assert ledger_sums(ws) == hf_history.expected_totals()
