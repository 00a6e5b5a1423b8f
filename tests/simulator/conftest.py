"""Fixtures for the Binance simulator tests: one history, a running simulator, ccxt clients pointed at it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import ccxt
import pytest

from importer.ccxt_url import BINANCE_SPOT_OPTIONS
from importer.simulator.history import SimHistory, generate_history
from importer.simulator.server import SimKey, Simulator, point_ccxt_at

READ_KEY = SimKey("R" * 64, "read-secret-" + "r" * 52, created_ms=1_690_000_000_000)
TRADE_KEY = SimKey("T" * 64, "trade-secret-" + "t" * 51, can_trade=True, can_withdraw=True,
                   can_internal_transfer=True, ip_restrict=False, created_ms=1_700_000_000_000)
NO_READ_KEY = SimKey("N" * 64, "noread-secret-" + "n" * 50, can_read=False)

MakeExchange = Callable[..., Any]


@pytest.fixture(scope="session")
def history() -> SimHistory:
    return generate_history(seed=11, trades=2500, markets=40, traded=5, years=3, deposits=30, withdrawals=12,
                            delisted=1)


@pytest.fixture(scope="module")
def sim(history: SimHistory) -> Iterator[Simulator]:
    with Simulator(history, [READ_KEY, TRADE_KEY, NO_READ_KEY]) as running:
        yield running


def make_exchange(url: str, key: SimKey | None = READ_KEY, *, secret: str | None = None,
                  rate_limit: bool = False) -> Any:
    """An unmodified ``ccxt.binance`` aimed at ``url``; exact decimal strings instead of floats."""
    config: dict[str, Any] = {"options": copy.deepcopy(BINANCE_SPOT_OPTIONS), "enableRateLimit": rate_limit}
    if key is not None:
        config.update(apiKey=key.api_key, secret=secret if secret is not None else key.secret)
    exchange = ccxt.binance(config)
    point_ccxt_at(exchange, url)
    exchange.number = str
    return exchange


@pytest.fixture
def exchange(sim: Simulator) -> Any:
    ex = make_exchange(sim.url)
    ex.load_markets()
    return ex


@pytest.fixture
def new_exchange() -> MakeExchange:
    """``new_exchange(url, key=READ_KEY, secret=None, rate_limit=False)``."""
    return make_exchange


@pytest.fixture
def keys() -> dict[str, SimKey]:
    return {"read": READ_KEY, "trade": TRADE_KEY, "no_read": NO_READ_KEY}
