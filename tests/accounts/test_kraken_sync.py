"""Importing a Kraken account through the real path: taxsync -> ccxt -> HTTP -> the Kraken simulator."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.simulator.kraken_history import generate_kraken_activity, generate_kraken_history
from importer.simulator.kraken_server import KrakenSimulator
from importer.simulator.server import Faults, SimKey
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.db import RawRecord, Transaction
from tests.accounts.stored import ledger_sums

SECRET = base64.b64encode(b"kraken-read-only-secret-" * 3).decode()
READ_ONLY = SimKey("K" * 56, SECRET)
WITHDRAWING = SimKey("W" * 56, base64.b64encode(b"w" * 64).decode(), can_trade=True, can_withdraw=True)


def plain(code: str) -> str:
    code = code.removesuffix(".S")
    return {"ETH2": "ETH"}.get(code, code)


@pytest.fixture(scope="module")
def history():
    return generate_kraken_history(seed=11, trades=180, pairs=5, years=2, deposits=8, withdrawals=4,
                                   staking_rewards=25)


@pytest.fixture
def kraken(history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KrakenSimulator, Workspace]]:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    for prefix, key in (("RO", READ_ONLY), ("WD", WITHDRAWING)):
        monkeypatch.setenv(f"KRAKEN_KEY_{prefix}", key.api_key)
        monkeypatch.setenv(f"KRAKEN_SECRET_{prefix}", key.secret)
    with KrakenSimulator(history, [READ_ONLY, WITHDRAWING], tier=None) as sim:
        ws = init_workspace(tmp_path / "ws")
        accounts.add_account(ws, "kraken", exchange="kraken", api_key_env="KRAKEN_KEY_RO",
                             secret_env="KRAKEN_SECRET_RO", api_url=sim.url)
        yield sim, ws
        ws.engine.dispose()




def test_full_sync_equals_the_kraken_history(kraken, history) -> None:
    _, ws = kraken
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    counts = history.counts()
    with Session(ws.engine) as session:
        streams = Counter(session.scalars(select(RawRecord.stream)))
        kinds = Counter(session.scalars(select(Transaction.kind)))
    assert streams["trades"] == counts["trades"] and streams["ledger"] == counts["ledger"]
    assert kinds["trade"] == counts["trades"]
    assert kinds["deposit"] == counts["deposits"] and kinds["withdrawal"] == counts["withdrawals"]
    assert kinds["income"] == counts["staking_rewards"]
    expected: dict[str, Decimal] = {}
    for code, total in history.expected_totals().items():
        expected[plain(code)] = expected.get(plain(code), Decimal(0)) + Decimal(str(total))
    assert ledger_sums(ws) == {a: v for a, v in expected.items() if v}


def test_rerun_costs_one_request_per_stream_and_new_activity_arrives(kraken, history) -> None:
    sim, ws = kraken
    accounts.import_accounts(ws, retry_delay=0.001)
    sim.reset_counts()
    (again,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert again.ok and sum(again.new_records.values()) == 0
    assert sim.total_requests <= 2 + 1 + 2  # Assets, AssetPairs, Balance, TradesHistory, Ledgers
    activity = generate_kraken_activity(history, seed=5, trades=3, deposits=1, staking_rewards=2)
    sim.add_activity(activity)
    (later,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert later.new_records["trades"] == 3 and later.new_records["ledger"] >= 3 * 2 + 1 + 2


def test_faults_still_end_complete(kraken, history) -> None:
    sim, ws = kraken
    sim.set_faults(Faults(seed=3, rate_429=0.1, rate_5xx=0.1, rate_truncated=0.05))
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    with Session(ws.engine) as session:
        assert Counter(session.scalars(select(RawRecord.stream)))["trades"] == history.counts()["trades"]


def test_withdrawing_key_is_refused(kraken) -> None:
    sim, ws = kraken
    accounts.add_account(ws, "kraken-risky", exchange="kraken", api_key_env="KRAKEN_KEY_WD",
                         secret_env="KRAKEN_SECRET_WD", api_url=sim.url, allow_trading_key=True)
    (result,) = accounts.import_accounts(ws, ["kraken-risky"], retry_delay=0.001)
    assert not result.ok and "can withdraw" in (result.error or "")
