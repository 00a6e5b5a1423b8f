"""A running exchange simulator with a generated Binance history, and a workspace with an account on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from importer.simulator.history import SimHistory, generate_history
from importer.simulator.server import SimKey, Simulator
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace

CANARY = "CANARY-SECRET-7f3a9c2e51d84b6a"
READ_ONLY = SimKey("ro-key-0001", CANARY)
TRADING = SimKey("trade-key-0002", "trade-secret-0002", can_trade=True)
WITHDRAWING = SimKey("wd-key-0003", "wd-secret-0003", can_trade=True, can_withdraw=True)


@pytest.fixture(scope="session")
def history() -> SimHistory:
    return generate_history(seed=3, trades=2500, markets=40, traded=5, years=3, deposits=25, withdrawals=6,
                            delisted=1)


@pytest.fixture(autouse=True)
def _fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """ccxt's throttle would make each test wait tens of seconds; the simulator is local."""
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")


@pytest.fixture
def simulator(history: SimHistory) -> Iterator[Simulator]:
    with Simulator(history, [READ_ONLY, TRADING, WITHDRAWING], weight_limit_per_minute=10**9) as sim:
        yield sim


@pytest.fixture
def binance_ws(tmp_path: Path, simulator: Simulator, history: SimHistory,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    for key in (READ_ONLY, TRADING, WITHDRAWING):
        monkeypatch.setenv(f"KEY_{key.api_key[:2].upper()}", key.api_key)
        monkeypatch.setenv(f"SECRET_{key.api_key[:2].upper()}", key.secret)
    ws = init_workspace(tmp_path / "ws")
    opened = datetime.fromtimestamp(history.start_ms // 1000, UTC).date()
    accounts.add_account(ws, "binance-main", exchange="binance", api_key_env="KEY_RO", secret_env="SECRET_RO",
                         api_url=simulator.url, since=opened)
    yield ws
    ws.engine.dispose()
