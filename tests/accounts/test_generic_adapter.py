"""The generic adapter, run against the Binance simulator as if Binance had no adapter of its own."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer import adapters
from importer.adapters.generic import GenericAdapter
from importer.simulator.history import generate_history
from importer.simulator.server import Simulator
from taxsync.app import accounts
from taxsync.app.workspace import init_workspace
from taxsync.db import RawRecord
from tests.accounts.conftest import READ_ONLY


def test_generic_adapter_walks_windows_and_says_what_it_missed(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    history = generate_history(seed=4, trades=300, markets=12, traded=2, years=1, deposits=8, withdrawals=3,
                               delisted=0)
    monkeypatch.setitem(adapters.ADAPTERS, "binance", GenericAdapter)
    monkeypatch.setenv("KEY_RO", READ_ONLY.api_key)
    monkeypatch.setenv("SECRET_RO", READ_ONLY.secret)
    with Simulator(history, [READ_ONLY], weight_limit_per_minute=10**9) as simulator:
        ws = init_workspace(tmp_path / "ws")
        accounts.add_account(ws, "b", exchange="binance", api_key_env="KEY_RO", secret_env="SECRET_RO",
                             api_url=simulator.url, since=date(2025, 11, 1))
        (result,) = accounts.import_accounts(ws, retry_delay=0.01)
        (again,) = accounts.import_accounts(ws, retry_delay=0.01)
    assert result.ok, result.error
    with Session(ws.engine) as session:
        counts = Counter(session.scalars(select(RawRecord.stream)))
    held = {a for a, v in history.balances().items() if v}
    expected_trades = sum(len(history.trades_for(s)) for s in history.traded_symbols()
                          if {m.base for m in history.markets if m.symbol == s} <= held
                          and {m.quote for m in history.markets if m.symbol == s} <= held)
    assert counts["trades"] == expected_trades > 0
    assert counts["deposits"] == len([d for d in history.deposits if d.status in (1, 6)])
    assert counts["withdrawals"] == len(history.withdrawals)
    assert any("needs a symbol per trade request" in note for note in result.notes)
    assert any("fetchLedger" in note for note in result.notes) or counts["ledger"] == 0
    assert again.ok and sum(again.new_records.values()) == 0
    ws.engine.dispose()
