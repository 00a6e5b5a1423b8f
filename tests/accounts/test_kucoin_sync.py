"""Importing a KuCoin account through the real path: taxsync -> ccxt -> HTTP -> the KuCoin simulator."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.simulator.kucoin_history import KucoinHistory, extend_history, generate_kucoin_history
from importer.simulator.kucoin_server import KucoinSimulator
from importer.simulator.server import Faults, SimKey
from taxsync import accounts
from taxsync.db import Leg, RawRecord, Transaction
from taxsync.workspace import Workspace, init_workspace

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


def ledger_sums(ws: Workspace) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    with Session(ws.engine) as session:
        for asset, amount in session.execute(select(Leg.asset, Leg.amount)):
            sums[asset] = sums.get(asset, Decimal(0)) + amount
    return {a: v for a, v in sums.items() if v}


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
