"""Importing a Coinbase Advanced account through the real path: taxsync -> ccxt -> HTTP -> the Coinbase simulator.

The simulator serves small pages (2 wallets, 25 fills, 20 transactions) so that every stream pages several times.
The ledger-sum tests need the ``ccxt-ledger`` normalizer to know Coinbase's v2 transaction types (sends, receives,
fiat movements, staking and interest booked; ``advanced_trade_fill`` rows skipped because the fills carry them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.simulator.coinbase_generator import generate_coinbase_activity, generate_coinbase_history
from importer.simulator.coinbase_history import CoinbaseHistory
from importer.simulator.coinbase_server import CoinbaseSimulator
from importer.simulator.server import Faults, SimKey
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.db import RawRecord, SyncState, Transaction
from tests.accounts.stored import ledger_sums, raw_counts


def pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


KEYS = {"RO": SimKey("organizations/org-7/apiKeys/read-only", pem()),
        "TR": SimKey("organizations/org-7/apiKeys/trading", pem(), can_trade=True),
        "MV": SimKey("organizations/org-7/apiKeys/transfer", pem(), can_internal_transfer=True)}
CAPS = {"v3_accounts": 2, "fills": 25, "v2": 20}
MARKETS = 6  # load_markets: currencies, currencies/crypto, exchange-rates, products (spot, futures), fee summary


@pytest.fixture(scope="module")
def history() -> CoinbaseHistory:
    return generate_coinbase_history(seed=3, fills=90, years=1, staking_rewards=15, interest=5, receives=6, sends=5)


@pytest.fixture
def simulator(history: CoinbaseHistory) -> Iterator[CoinbaseSimulator]:
    with CoinbaseSimulator(history, list(KEYS.values()), rate_limits=None, page_caps=CAPS) as sim:
        yield sim


@pytest.fixture
def cb_ws(tmp_path: Path, simulator: CoinbaseSimulator, history: CoinbaseHistory,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    for tag, key in KEYS.items():
        monkeypatch.setenv(f"CB_KEY_{tag}", key.api_key)
        monkeypatch.setenv(f"CB_SECRET_{tag}", key.secret)
    ws = init_workspace(tmp_path / "ws")
    opened = datetime.fromtimestamp(history.start_ms // 1000, UTC).date()
    accounts.add_account(ws, "coinbase", exchange="coinbase", api_key_env="CB_KEY_RO", secret_env="CB_SECRET_RO",
                         api_url=simulator.url, since=opened)
    yield ws
    ws.engine.dispose()


def sync(ws: Workspace, *names: str) -> accounts.AccountResult:
    (result,) = accounts.import_accounts(ws, names, retry_delay=0.001)
    return result






def test_full_sync_stores_the_whole_history(cb_ws: Workspace, history: CoinbaseHistory,
                                            simulator: CoinbaseSimulator) -> None:
    result = sync(cb_ws)
    assert result.ok, result.error
    counts = history.counts()
    assert raw_counts(cb_ws) == Counter(trades=counts["fills"], ledger=counts["ledger"])
    with Session(cb_ws.engine) as session:
        ids = set(session.scalars(select(RawRecord.external_id).where(RawRecord.stream == "trades")))
        states = {s.symbol: s.cursor for s in session.scalars(select(SyncState).where(SyncState.stream == "ledger"))}
    assert ids == {f.entry_id for f in history.fills}
    assert states == {a.currency: (history.transactions_of(a.uuid)[-1].id if history.transactions_of(a.uuid)
                                   else None) for a in history.accounts}
    assert simulator.requests["/api/v3/brokerage/accounts"] == 3 and not simulator.errors


def test_ledger_adds_up_to_the_history(cb_ws: Workspace, history: CoinbaseHistory,
                                       simulator: CoinbaseSimulator) -> None:
    """Needs the ccxt-ledger normalizer's Coinbase types (the only test here that depends on them)."""
    result = sync(cb_ws)
    assert ledger_sums(cb_ws) == history.expected_totals()
    counts = history.counts()
    with Session(cb_ws.engine) as session:
        kinds = Counter(session.scalars(select(Transaction.kind)))
    assert kinds["trade"] == counts["fills"]
    assert kinds["deposit"] == counts["receive"] + counts["fiat_deposit"]
    assert kinds["withdrawal"] == counts["send"] + counts["fiat_withdrawal"]
    assert kinds["income"] == counts["staking_reward"] + counts["inflation_reward"] + counts["interest"]
    assert not [n for n in result.notes if "differ" in n]
    activity = generate_coinbase_activity(history, 3, fills=3, staking_rewards=2, sends=1, pending_sends=1)
    simulator.add_activity(activity)
    assert any("differ" in n and "pending" in n for n in sync(cb_ws).notes)  # the held send is not booked yet
    for tx in activity.transactions:
        simulator.set_status(tx.id, "completed")
    assert not [n for n in sync(cb_ws).notes if "differ" in n]
    assert ledger_sums(cb_ws) == simulator.history.expected_totals()


def test_rerun_adds_nothing_and_costs_one_request_per_stream(cb_ws: Workspace, history: CoinbaseHistory,
                                                             simulator: CoinbaseSimulator) -> None:
    sync(cb_ws)
    with Session(cb_ws.engine) as session:
        before = sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all())
    simulator.reset_counts()
    again = sync(cb_ws)
    assert again.ok and sum(again.new_records.values()) == 0
    account_pages = 3  # six wallets, two a page
    assert simulator.total_requests == MARKETS + account_pages + 1 + len(history.accounts)
    with Session(cb_ws.engine) as session:
        assert sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all()) == before


def test_new_activity_is_picked_up_incrementally(cb_ws: Workspace, history: CoinbaseHistory,
                                                 simulator: CoinbaseSimulator) -> None:
    sync(cb_ws)
    activity = generate_coinbase_activity(history, 1, fills=4, staking_rewards=2, interest=1, receives=1)
    simulator.add_activity(activity)
    result = sync(cb_ws)
    assert result.new_records == Counter(trades=4, ledger=len(activity.transactions), balances=0)
    with Session(cb_ws.engine) as session:
        stored = set(session.scalars(select(RawRecord.external_id)))
    assert {t.id for t in activity.transactions} | {f.entry_id for f in activity.fills} <= stored
    assert sum(sync(cb_ws).new_records.values()) == 0


def test_a_pending_send_is_held_back_until_complete(cb_ws: Workspace, history: CoinbaseHistory,
                                                    simulator: CoinbaseSimulator) -> None:
    activity = generate_coinbase_activity(history, 2, fills=3, staking_rewards=2, pending_sends=1)
    pending = next(t for t in activity.transactions if t.status == "pending")
    later = [t for t in activity.transactions if t.account == pending.account and (t.created_s, t.seq) > (
        pending.created_s, pending.seq)]
    simulator.add_activity(activity)
    first = sync(cb_ws)
    assert first.ok and any("pending" in note for note in first.notes)
    assert raw_counts(cb_ws)["ledger"] == history.counts()["ledger"] + len(activity.transactions) - 1
    with Session(cb_ws.engine) as session:
        stored = set(session.scalars(select(RawRecord.external_id)))
    assert pending.id not in stored and all(t.id in stored for t in later)
    simulator.set_status(pending.id, "completed")
    second = sync(cb_ws)
    assert second.new_records["ledger"] == 1 and not any("pending" in note for note in second.notes)
    counts = simulator.history.counts()
    assert raw_counts(cb_ws) == Counter(trades=counts["fills"], ledger=counts["ledger"])


def test_transient_faults_still_end_complete(cb_ws: Workspace, history: CoinbaseHistory,
                                             simulator: CoinbaseSimulator) -> None:
    simulator.set_faults(Faults(seed=5, rate_429=0.08, rate_5xx=0.08, rate_truncated=0.05))
    result = sync(cb_ws)
    assert result.ok, result.error
    counts = history.counts()
    assert raw_counts(cb_ws) == Counter(trades=counts["fills"], ledger=counts["ledger"])


@pytest.mark.parametrize(("stream", "symbol"), [("trades", ""), ("ledger", "SOL")])
def test_a_stream_that_keeps_failing_fails_loudly_and_resumes(cb_ws: Workspace, history: CoinbaseHistory,
                                                              simulator: CoinbaseSimulator, stream: str,
                                                              symbol: str) -> None:
    sol = next(a for a in history.accounts if a.currency == "SOL")
    path = "/orders/historical/fills" if stream == "trades" else f"/v2/accounts/{sol.uuid}/"
    simulator.set_faults(Faults(seed=1, rate_5xx=1.0, fail_paths=(path,)))
    failed = sync(cb_ws)
    assert not failed.ok and "ExchangeNotAvailable" in (failed.error or "")
    with Session(cb_ws.engine) as session:
        assert session.scalar(select(SyncState).where(SyncState.stream == stream, SyncState.symbol == symbol)) is None
    simulator.set_faults(None)
    assert sync(cb_ws).ok
    counts = history.counts()
    assert raw_counts(cb_ws) == Counter(trades=counts["fills"], ledger=counts["ledger"])


@pytest.mark.parametrize(("tag", "allow", "words"), [("MV", True, "can withdraw or transfer"),
                                                      ("TR", False, "can trade")])
def test_unsafe_keys_are_refused_before_anything_is_imported(cb_ws: Workspace, simulator: CoinbaseSimulator,
                                                             tag: str, allow: bool, words: str) -> None:
    accounts.add_account(cb_ws, "risky", exchange="coinbase", api_key_env=f"CB_KEY_{tag}",
                         secret_env=f"CB_SECRET_{tag}", api_url=simulator.url, allow_trading_key=allow)
    result = sync(cb_ws, "risky")
    assert not result.ok and words in (result.error or "")
    assert raw_counts(cb_ws) == Counter()
    assert "BEGIN EC PRIVATE KEY" not in (result.error or "")


def test_trading_key_allowed_when_asked(cb_ws: Workspace, simulator: CoinbaseSimulator) -> None:
    accounts.add_account(cb_ws, "trader", exchange="coinbase", api_key_env="CB_KEY_TR", secret_env="CB_SECRET_TR",
                         api_url=simulator.url, allow_trading_key=True)
    assert accounts.check_accounts(cb_ws, ["trader"])[0][1] == "trader: key can trade (allowed)"
