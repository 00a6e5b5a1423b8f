"""Candles as prices through the real path: importer.price_fetch -> ccxt -> HTTP on 127.0.0.1 -> the simulators.

Which market prices an asset, how a range is paged, what the close becomes, and the two kinds of failure a
caller must tell apart: no price exists (no market, no candle) and the source could not be asked.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from importer.exchanges import make_exchange
from importer.price_fetch import (
    Caller,
    MarketNotFound,
    SourceUnavailable,
    choose_market,
    fetch_candles,
    page_size,
)
from importer.simulator.history import SimHistory, generate_history
from importer.simulator.kraken_history import KrakenHistory, generate_kraken_history
from importer.simulator.kraken_server import KrakenSimulator
from importer.simulator.server import Faults, Simulator

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


@pytest.fixture(autouse=True)
def _fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")  # the simulator is local: no need for ccxt's pacing


@pytest.fixture(scope="module")
def history() -> SimHistory:
    return generate_history(seed=5, trades=100, markets=12, traded=3, years=1, deposits=5, withdrawals=1)


@pytest.fixture(scope="module")
def kraken_history() -> KrakenHistory:
    return generate_kraken_history(seed=5, trades=50, pairs=4, years=1, deposits=4, withdrawals=1)


@pytest.fixture
def binance(history: SimHistory) -> Iterator[tuple[Simulator, Any]]:
    with Simulator(history, [], weight_limit_per_minute=10**9) as sim:
        yield sim, make_exchange("binance", None, api_url=sim.url)


@pytest.fixture
def kraken(kraken_history: KrakenHistory) -> Iterator[tuple[KrakenSimulator, Any]]:
    with KrakenSimulator(kraken_history, [], tier=None) as sim:
        yield sim, make_exchange("kraken", None, api_url=sim.url)


def fast() -> Caller:
    return Caller(attempts=3, delay=0.001, max_wait=0.01)


def raw_klines(url: str, symbol: str, interval: str, start: int, limit: int) -> list[list[Any]]:
    """The simulator's answer read without ccxt, to check what ccxt made of it."""
    query = f"symbol={symbol}&interval={interval}&startTime={start}&limit={limit}"
    with urllib.request.urlopen(f"{url}/api/v3/klines?{query}") as reply:
        return json.loads(reply.read())


def test_market_is_asset_against_the_currency_else_a_stablecoin(binance, kraken) -> None:
    _, bex = binance
    _, kex = kraken
    call = fast()
    assert choose_market(bex, "BTC", "USD", call=call) == ("BTC/USDT", "USDT")  # no BTC/USD on Binance
    assert choose_market(bex, "SOL", "EUR", call=call) == ("SOL/USDT", "USDT")
    assert choose_market(bex, "PEPE", "USD", call=call) is None
    assert call.requests == 1  # the markets are loaded once
    assert choose_market(kex, "BTC", "EUR") == ("BTC/EUR", "EUR")  # Kraken's XBT is ccxt's BTC
    assert choose_market(kex, "ETH", "USD") == ("ETH/USD", "USD")
    assert choose_market(kex, "USDT", "EUR") == ("USDT/EUR", "EUR")
    assert choose_market(kex, "DOT", "GBP") is None  # no DOT/GBP, DOT/USDT or DOT/USDC there


def test_a_range_is_paged_and_each_close_becomes_an_exact_price(binance, history: SimHistory) -> None:
    sim, ex = binance
    start = history.start_ms + 40 * DAY + 17 * MINUTE + 123
    until = start + 2400 * MINUTE
    call = fast()
    points = fetch_candles(ex, "ETH", "USDT", start, until, "1m", call=call)
    assert page_size(ex) == 1000
    assert sim.requests["/api/v3/klines"] == 3 and call.requests == 4  # + exchangeInfo
    first_open = start - start % MINUTE
    assert [p.timestamp for p in points] == list(range(first_open, until + 1, MINUTE))
    assert {(p.base, p.quote, p.resolution, p.source) for p in points} == {
        ("ETH", "USDT", "1m", "binance 1m close ETH/USDT")}
    raw = raw_klines(sim.url, "ETHUSDT", "1m", first_open, 1000)
    assert [p.price for p in points[:1000]] == [Decimal(row[4]) for row in raw]
    assert all(type(p.price) is Decimal for p in points)


def test_hour_and_day_candles_and_no_candle_before_the_market(binance, history: SimHistory) -> None:
    sim, ex = binance
    t = history.start_ms + 100 * DAY + 5 * HOUR + 59 * MINUTE
    (hour,) = fetch_candles(ex, "BTC", "USDT", t, t, "1h")
    (day,) = fetch_candles(ex, "BTC", "USDT", t, t, "1d")
    assert (hour.timestamp, hour.resolution, hour.source) == (t - t % HOUR, "1h", "binance 1h close BTC/USDT")
    assert (day.timestamp, day.resolution) == (t - t % DAY, "1d")
    sim.reset_counts()
    assert fetch_candles(ex, "BTC", "USDT", 1_400_000_000_000, 1_400_000_000_000 + HOUR, "1m") == []  # 2014
    assert sim.requests["/api/v3/klines"] == 1


def test_the_forming_candle_is_left_out(binance) -> None:
    _, ex = binance
    now = ex.milliseconds()
    points = fetch_candles(ex, "BTC", "USDT", now - 10 * MINUTE, now, "1m")
    assert points and points[-1].timestamp + MINUTE <= now
    assert fetch_candles(ex, "BTC", "USDT", now, now, "1m") == []


def test_kraken_old_minutes_are_not_asked_for_but_hours_are(kraken) -> None:
    sim, ex = kraken
    ex.load_markets()
    sim.reset_counts()
    t = ex.milliseconds() - 3 * DAY  # Kraken keeps 720 candles: 12 hours of minutes, 30 days of hours
    assert fetch_candles(ex, "BTC", "EUR", t, t, "1m") == []
    assert sim.total_requests == 0
    (hour,) = fetch_candles(ex, "BTC", "EUR", t, t, "1h")
    assert sim.requests["/0/public/OHLC"] == 1
    assert (hour.timestamp, hour.source) == (t - t % HOUR, "kraken 1h close BTC/EUR")
    recent = ex.milliseconds() - 2 * HOUR
    minutes = fetch_candles(ex, "BTC", "EUR", recent, recent + 30 * MINUTE, "1m")
    assert len(minutes) == 31 and minutes[0].timestamp == recent - recent % MINUTE


def test_unknown_symbol_is_no_market(binance) -> None:
    _, ex = binance
    with pytest.raises(MarketNotFound):
        fetch_candles(ex, "PEPE", "USDT", 1_700_000_000_000, 1_700_000_000_000, "1m")


def test_rate_limited_source_is_unavailable_not_missing(binance) -> None:
    sim, ex = binance
    ex.load_markets()
    sim.set_faults(Faults(seed=1, rate_429=1.0, fail_paths=("/api/v3/klines",)))
    sim.reset_counts()
    waits: list[float] = []
    call = Caller(attempts=3, delay=0.001, max_wait=0.05, sleep=waits.append)
    with pytest.raises(SourceUnavailable, match="rate-limited after 3 attempts") as info:
        fetch_candles(ex, "BTC", "USDT", 1_700_000_000_000, 1_700_000_000_000, "1m", call=call)
    assert "DDoSProtection" in info.value.reason
    assert sim.requests["/api/v3/klines"] == 3 and call.requests == 3
    assert waits == [0.05, 0.05]  # Retry-After: 1, capped by max_wait


def test_server_errors_are_retried_then_unavailable(binance) -> None:
    sim, ex = binance
    ex.load_markets()
    sim.set_faults(Faults(seed=2, rate_5xx=1.0, fail_paths=("/api/v3/klines",)))
    with pytest.raises(SourceUnavailable, match="unreachable after 3 attempts"):
        fetch_candles(ex, "BTC", "USDT", 1_700_000_000_000, 1_700_000_000_000, "1m", call=fast())
    sim.set_faults(Faults(seed=3, rate_5xx=0.5, fail_paths=("/api/v3/klines",)))  # some fail: retried through
    t = 1_700_000_000_000
    points = fetch_candles(ex, "BTC", "USDT", t, t + 30 * MINUTE, "1m", call=Caller(attempts=8, delay=0.001))
    assert len(points) == 31


def test_closed_port_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    ex = make_exchange("binance", None, api_url=f"http://127.0.0.1:{port}", timeout_ms=2000)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="binance unreachable"):
        choose_market(ex, "BTC", "USD", call=fast())
    assert time.monotonic() - started < 10
