"""Importing an OKX account through the real path: taxsync -> ccxt -> HTTP -> the OKX simulator.

The simulated account is 150 days old; OKX serves fills and bills of the last 3 months only, so a complete
import equals what the simulator still serves (``OkxHistory.expected_totals``), and the import says what it
could not get.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.adapters import okx as okx_adapter
from importer.simulator.okx_history import OkxActivity, OkxHistory, generate_okx_activity, generate_okx_history
from importer.simulator.okx_server import OkxSimulator
from importer.simulator.server import Faults, SimKey
from importer.sync import SyncContext
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.db import RawRecord, SyncState, Transaction
from taxsync.ledger.sources import NORMALIZERS
from taxsync.types import now_ms
from tests.accounts.stored import ledger_sums, raw_counts

READ = SimKey("okx-ro-0001", "okx-secret-ro-0001")
TRADE = SimKey("okx-tr-0002", "okx-secret-tr-0002", can_trade=True)
WITHDRAW = SimKey("okx-wd-0003", "okx-secret-wd-0003", can_trade=True, can_withdraw=True)
PASSPHRASES = {READ.api_key: "Phrase-RO-1", TRADE.api_key: "Phrase-TR-2", WITHDRAW.api_key: "Phrase-WD-3"}
STREAMS = ("trades", "ledger", "deposits", "withdrawals")


@pytest.fixture(scope="module")
def okx_history() -> OkxHistory:
    return generate_okx_history(seed=5, trades=500, days=150, deposits=14, withdrawals=5, interest=24)


@pytest.fixture
def okx_sim(okx_history: OkxHistory) -> Iterator[OkxSimulator]:
    with OkxSimulator(okx_history, [READ, TRADE, WITHDRAW], passphrases=PASSPHRASES, rate_limits=False) as sim:
        yield sim


@pytest.fixture
def okx_ws(tmp_path: Path, okx_sim: OkxSimulator, okx_history: OkxHistory,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    for key in (READ, TRADE, WITHDRAW):
        tag = key.api_key[4:6].upper()
        monkeypatch.setenv(f"OKX_KEY_{tag}", key.api_key)
        monkeypatch.setenv(f"OKX_SECRET_{tag}", key.secret)
        monkeypatch.setenv(f"OKX_PASS_{tag}", PASSPHRASES[key.api_key])
    ws = init_workspace(tmp_path / "ws")
    opened = datetime.fromtimestamp(okx_history.start_ms // 1000, UTC).date()
    accounts.add_account(ws, "okx-main", exchange="okx", api_key_env="OKX_KEY_RO", secret_env="OKX_SECRET_RO",
                         password_env="OKX_PASS_RO", api_url=okx_sim.url, since=opened)
    yield ws
    ws.engine.dispose()






def books_okx_interest() -> bool:
    """Whether the ccxt-ledger normalizer books OKX auto-lend interest (bill subType 381) as income yet."""
    payload: dict[str, Any] = {
        "exchange": "okx", "kind": "ledger", "id": "1", "timestamp": 1, "type": "381", "currency": "USDT",
        "amount": "1", "direction": "in", "status": "ok", "fee": {"cost": "0", "currency": "USDT"},
        "info": {"type": "381", "subType": "381"}}
    tx = NORMALIZERS["ccxt-ledger"](payload, "a", "r").transaction
    return tx is not None


def visible(history: OkxHistory, now: int) -> dict[str, int]:
    oldest = history.visible("fills-history", now)
    return {"trades": sum(f.ts >= oldest for f in history.fills),
            "ledger": sum(b.ts >= history.visible("bills-archive", now) for b in history.bills),
            "deposits": sum(d.state == "2" for d in history.deposits),
            "withdrawals": sum(w.state in ("2", "-2", "-1") for w in history.withdrawals)}


def test_full_sync_equals_what_okx_still_serves(okx_ws: Workspace, okx_history: OkxHistory) -> None:
    (result,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert result.ok, result.error
    now = now_ms()
    counts = raw_counts(okx_ws)
    assert {s: counts[s] for s in STREAMS} == visible(okx_history, now)
    assert len(okx_history.fills) > counts["trades"] > 200  # older fills exist on OKX but are not served
    expected = okx_history.expected_totals(now, income=books_okx_interest())
    assert ledger_sums(okx_ws) == expected
    assert any("last 3 months only" in n and "trade-history export for earlier years" in n for n in result.notes)
    assert any("balances differ" in n for n in result.notes)  # the trades before the 3 months


def test_rerun_adds_nothing_and_costs_one_request_per_stream(okx_ws: Workspace, okx_sim: OkxSimulator) -> None:
    accounts.import_accounts(okx_ws, retry_delay=0.001)
    with Session(okx_ws.engine) as session:
        before = sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all())
    okx_sim.reset_counts()
    (again,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert again.ok and sum(again.new_records.values()) == 0
    assert dict(okx_sim.requests) == {
        "/api/v5/asset/currencies": 1, "/api/v5/public/instruments": 1,  # load_markets
        "/api/v5/account/balance": 1, "/api/v5/asset/balances": 1,  # trading + funding balances
        "/api/v5/trade/fills-history": 1, "/api/v5/account/bills-archive": 1,
        "/api/v5/asset/deposit-history": 1, "/api/v5/asset/withdrawal-history": 1}
    with Session(okx_ws.engine) as session:
        assert sorted(session.execute(select(RawRecord.external_id, RawRecord.payload)).all()) == before


def test_new_activity_and_a_pending_deposit_are_picked_up(okx_ws: Workspace, okx_sim: OkxSimulator) -> None:
    accounts.import_accounts(okx_ws, retry_delay=0.001)
    activity = generate_okx_activity(okx_sim.history, seed=9, trades=7, deposits=1, interest=1)
    (deposit,) = activity.deposits
    transfer = [b for b in activity.bills if b.type == "1"]
    okx_sim.add_activity(OkxActivity(activity.fills, tuple(b for b in activity.bills if b not in transfer),
                                     (replace(deposit, state="0"),)))  # waiting for confirmations
    (result,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert result.ok, result.error
    assert result.new_records["trades"] == len(activity.fills) > 0
    assert result.new_records["ledger"] == len(activity.bills) - len(transfer)
    assert result.new_records["deposits"] == 0  # pending: not stored yet
    newest = max(b.bill_id for b in okx_sim.history.bills)  # credited now: its transfer is booked now
    booked = tuple(replace(b, bill_id=newest + 1 + i, ts=now_ms()) for i, b in enumerate(transfer))
    okx_sim.add_activity(OkxActivity(bills=booked, deposits=(deposit,)))
    (final,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert final.new_records["deposits"] == 1 and final.new_records["ledger"] == len(transfer)


def test_paging_with_small_pages_and_a_crash_loses_nothing(okx_ws: Workspace, okx_history: OkxHistory,
                                                           okx_sim: OkxSimulator,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(okx_adapter, "PAGE", 7)  # many pages per stream; OKX's cap is 100
    original = okx_adapter.OkxAdapter._page
    calls = {"n": 0}

    def crash_once(self: okx_adapter.OkxAdapter, ctx: SyncContext, call: Any, parse: Any,
                   params: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt("power cut")
        return original(self, ctx, call, parse, params)

    monkeypatch.setattr(okx_adapter.OkxAdapter, "_page", crash_once)
    with pytest.raises(KeyboardInterrupt):
        accounts.import_accounts(okx_ws, retry_delay=0.001)
    with Session(okx_ws.engine) as session:
        walking = session.scalar(select(SyncState.cursor).where(SyncState.stream == "trades"))
    assert walking is not None and "walk" in json.loads(walking)  # stopped inside the walk
    (result,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert result.ok, result.error
    assert {s: raw_counts(okx_ws)[s] for s in STREAMS} == visible(okx_history, now_ms())


def test_transient_faults_still_end_complete(okx_ws: Workspace, okx_history: OkxHistory,
                                             okx_sim: OkxSimulator) -> None:
    okx_sim.set_faults(Faults(seed=4, rate_429=0.1, rate_5xx=0.1, rate_truncated=0.05))
    (result,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert result.ok, result.error
    assert {s: raw_counts(okx_ws)[s] for s in STREAMS} == visible(okx_history, now_ms())
    assert okx_sim.errors == []


@pytest.mark.parametrize(("key", "allow", "words"), [("WD", True, "can withdraw"), ("TR", False, "can trade")])
def test_read_write_keys_are_refused_before_anything_is_imported(okx_ws: Workspace, okx_sim: OkxSimulator,
                                                                 key: str, allow: bool, words: str) -> None:
    accounts.add_account(okx_ws, "okx-risky", exchange="okx", api_key_env=f"OKX_KEY_{key}",
                         secret_env=f"OKX_SECRET_{key}", password_env=f"OKX_PASS_{key}", api_url=okx_sim.url,
                         allow_trading_key=allow)
    (result,) = accounts.import_accounts(okx_ws, ["okx-risky"], retry_delay=0.001)
    assert not result.ok and words in (result.error or "")
    assert raw_counts(okx_ws) == Counter()


def test_a_wrong_passphrase_is_an_authentication_failure(okx_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_PASS_RO", "not-the-phrase")
    (result,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert not result.ok and "refused the API key" in (result.error or "")
    assert "not-the-phrase" not in (result.error or "")


def test_ccxt_default_pacing_stays_within_okx_rate_limits(okx_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAXSYNC_RATE_LIMIT_MS")  # ccxt.okx's own 110 ms x endpoint cost
    small = generate_okx_history(seed=6, trades=80, days=95, deposits=5, withdrawals=2, interest=6)
    with OkxSimulator(small, [READ], passphrases=PASSPHRASES) as limited:  # OKX's limits on
        accounts.add_account(okx_ws, "okx-paced", exchange="okx", api_key_env="OKX_KEY_RO",
                             secret_env="OKX_SECRET_RO", password_env="OKX_PASS_RO", api_url=limited.url)
        (result,) = accounts.import_accounts(okx_ws, ["okx-paced"], retry_delay=0.001)
        assert result.ok, result.error
        assert result.requests == limited.total_requests - 1  # no retry: never refused (load_markets asks twice)
        assert limited.requests["/api/v5/account/bills-archive"] > 1  # several pages in a row


def test_auto_lend_interest_is_booked_as_income(okx_ws: Workspace, okx_history: OkxHistory) -> None:
    (result,) = accounts.import_accounts(okx_ws, retry_delay=0.001)
    assert result.ok, result.error
    oldest = okx_history.visible("bills-archive", now_ms())
    with Session(okx_ws.engine) as session:
        income = session.scalars(select(Transaction).where(Transaction.kind == "income")).all()
    assert len(income) == sum(b.ts >= oldest for b in okx_history.income_bills()) > 0
    assert ledger_sums(okx_ws) == okx_history.expected_totals(now_ms(), income=True)
