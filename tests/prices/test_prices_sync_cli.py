"""``taxsync prices sync`` through the real path: taxsync -> ccxt -> HTTP on 127.0.0.1 -> the simulators.

Candles are fetched for what valuation needs and stored with their source and resolution; a run that is
stopped resumes without fetching again; a second run asks nothing; an unreachable or rate-limited exchange is
reported as such, and an asset no exchange prices as not found.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from importer.exchanges import make_exchange
from importer.price_fetch import Caller
from importer.simulator.history import SimHistory, generate_history
from importer.simulator.kraken_history import generate_kraken_history
from importer.simulator.kraken_server import KrakenSimulator
from importer.simulator.server import Faults, SimKey, Simulator
from taxsync.app import accounts, price_sync
from taxsync.app.price_sync import SyncSummary, sync_prices
from taxsync.app.workspace import Workspace, init_workspace, open_workspace
from taxsync.cli import app
from taxsync.db import Price
from taxsync.errors import ExitCode
from taxsync.prices.attempts import FAILED, NOT_FOUND, load_attempts
from taxsync.prices.records import PriceNeed
from taxsync.prices.store import load_book

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
KEY = SimKey("price-sync-key-0001", "price-sync-secret-0001")
KRAKEN_KEY = SimKey("P" * 56, base64.b64encode(b"kraken-price-sync-secret" * 3).decode())


@pytest.fixture(autouse=True)
def _fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")  # the simulator is local: no need for ccxt's pacing
    for name, key in (("BINANCE", KEY), ("KRAKEN", KRAKEN_KEY)):
        monkeypatch.setenv(f"{name}_KEY", key.api_key)
        monkeypatch.setenv(f"{name}_SECRET", key.secret)


@pytest.fixture(scope="module")
def history() -> SimHistory:
    return generate_history(seed=5, trades=100, markets=12, traded=3, years=1, deposits=5, withdrawals=1)


@pytest.fixture
def sim(history: SimHistory) -> Iterator[Simulator]:
    with Simulator(history, [KEY], weight_limit_per_minute=10**9) as running:
        yield running


@pytest.fixture
def ws(tmp_path: Path, sim: Simulator) -> Iterator[Workspace]:
    workspace = init_workspace(tmp_path / "ws", jurisdiction="us")
    accounts.add_account(workspace, "binance-main", exchange="binance", api_key_env="BINANCE_KEY",
                         secret_env="BINANCE_SECRET", api_url=sim.url)
    yield workspace
    workspace.engine.dispose()


def fast() -> Caller:
    return Caller(attempts=3, delay=0.001, max_wait=0.01)


def sync(ws: Workspace, needs: list[PriceNeed], **options: Any) -> SyncSummary:
    options.setdefault("caller", fast())
    return sync_prices(ws, needs, currency=ws.settings.currency, **options)


def klines_close(url: str, symbol: str, interval: str, open_ms: int) -> Decimal:
    """The close of one candle as the simulator serves it, read without ccxt."""
    query = f"symbol={symbol}&interval={interval}&startTime={open_ms}&limit=1"
    with urllib.request.urlopen(f"{url}/api/v3/klines?{query}") as reply:
        (row,) = json.loads(reply.read())
    assert row[0] == open_ms
    return Decimal(row[4])


def stored_count(ws: Workspace) -> int:
    with Session(ws.engine) as session:
        return session.scalar(select(func.count()).select_from(Price)) or 0


@pytest.fixture
def needs(history: SimHistory) -> list[PriceNeed]:
    """BTC three times within a few hours (one request) and once a month later (another), ETH once, and an
    asset Binance has no market for."""
    t0 = history.start_ms + 50 * DAY + 7 * HOUR + 12 * MINUTE + 34_567
    return [
        PriceNeed("BTC", t0, "binance-main", "trade-1"),
        PriceNeed("ETH", t0 + 7_000, "binance-main", "trade-1"),
        PriceNeed("BTC", t0 + 5 * MINUTE, "binance-main", "trade-2"),
        PriceNeed("BTC", t0 + 3 * HOUR, "binance-main", "trade-3"),
        PriceNeed("BTC", t0 + 3 * HOUR + 1, "binance-main", "trade-3b"),  # the same minute: one price
        PriceNeed("BTC", t0 + 30 * DAY, "binance-main", "trade-4"),
        PriceNeed("PEPE", t0, "binance-main", "trade-5"),
        PriceNeed("BTC", t0, "binance-main", "trade-1"),  # twice the same need counts once
    ]


def test_minute_candles_are_fetched_and_stored_with_source_and_resolution(ws, sim, needs) -> None:
    summary = sync(ws, needs)
    assert (summary.needed, summary.cached, summary.fetched, summary.stored) == (7, 0, 6, 5)
    assert [(m.asset, m.exchange) for m in summary.not_found] == [("PEPE", "binance")]
    assert "lists no market PEPE/USD, PEPE/USDT, PEPE/USDC" in summary.not_found[0].reason
    assert summary.failed == []
    assert sim.requests == {"/api/v3/exchangeInfo": 1, "/api/v3/klines": 3}  # BTC twice, ETH once
    assert summary.requests == 4
    with Session(ws.engine) as session:
        book = load_book(session)
    for need in needs[:6]:
        point = book.lookup(need.asset, "USDT", need.timestamp)
        assert point is not None
        assert (point.resolution, point.source) == ("1m", f"binance 1m close {need.asset}/USDT")
        assert point.timestamp == need.timestamp - need.timestamp % MINUTE
        assert point.price == klines_close(sim.url, f"{need.asset}USDT", "1m", point.timestamp)
    assert stored_count(ws) == 5  # only the candles that price a need are kept


def test_second_run_makes_no_request(ws, sim, needs) -> None:
    sync(ws, needs)
    sim.reset_counts()
    again = sync(ws, [n for n in needs if n.asset != "PEPE"])
    assert sim.total_requests == 0 and again.requests == 0
    assert (again.needed, again.cached, again.fetched, again.stored) == (6, 6, 0, 0)
    assert again.complete


def test_interrupted_run_resumes_without_fetching_again(ws, sim, needs) -> None:
    seen: list[tuple[str, int, int]] = []

    def stop_after_first_batch(label: str, done: int, total: int) -> None:
        seen.append((label, done, total))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync(ws, needs, progress=stop_after_first_batch)
    assert seen == [("binance BTC/USDT 1m", 4, 7)]  # the first batch: four BTC moments, stored at once
    assert stored_count(ws) == 3 and sim.requests["/api/v3/klines"] == 1
    sim.reset_counts()
    resumed = sync(ws, needs)
    assert (resumed.cached, resumed.fetched, resumed.stored) == (4, 2, 2)
    assert sim.requests["/api/v3/klines"] == 2  # the month-later BTC and the ETH: nothing asked twice
    assert stored_count(ws) == 5


def test_rate_limited_exchange_is_failed_not_missing_and_the_next_run_completes(ws, sim, needs) -> None:
    sim.set_faults(Faults(seed=1, rate_429=1.0, fail_paths=("/api/v3/klines",)))
    summary = sync(ws, needs)
    assert (summary.fetched, summary.stored) == (0, 0)
    assert sorted({m.asset for m in summary.failed}) == ["BTC", "ETH"] and len(summary.failed) == 6
    assert all("binance rate-limited after 3 attempts" in m.reason for m in summary.failed)
    assert [m.asset for m in summary.failed[:5]] == ["BTC"] * 5  # the asset whose request failed
    assert summary.failed[5].reason.startswith("not asked: binance rate-limited")  # no hammering after that
    assert [m.asset for m in summary.not_found] == ["PEPE"]  # known not to exist, down or not
    assert sim.requests["/api/v3/klines"] == 3  # three attempts, then the exchange is left alone
    with Session(ws.engine) as session:  # kept for the report: which moments failed, which have no price
        outcomes = {(a.asset, a.outcome) for a in load_attempts(session).values()}
    assert outcomes == {("BTC", FAILED), ("ETH", FAILED), ("PEPE", NOT_FOUND)}
    sim.set_faults(None)
    later = sync(ws, needs)
    assert (later.fetched, later.stored, later.failed) == (6, 5, [])
    with Session(ws.engine) as session:  # priced now: only the price that does not exist is left
        assert {(a.asset, a.outcome) for a in load_attempts(session).values()} == {("PEPE", NOT_FOUND)}


def test_unreachable_exchange_is_failed_not_missing(ws, needs) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    dead = make_exchange("binance", None, api_url=f"http://127.0.0.1:{port}", timeout_ms=2000)
    summary = sync(ws, needs, exchange_for=lambda account: dead)
    assert summary.not_found == [] and summary.fetched == 0 and len(summary.failed) == 7
    assert "binance unreachable after 3 attempts" in summary.failed[0].reason
    assert summary.requests == 3  # loading the markets, three times; then nothing more is tried


def test_no_exchange_to_ask_is_not_found(ws, needs) -> None:
    summary = sync(ws, needs[:2], exchange_for=lambda account: None)
    assert len(summary.not_found) == 2 and summary.requests == 0
    assert "no exchange to ask" in summary.not_found[0].reason


def test_before_the_market_existed_no_candle_is_not_found(ws, sim) -> None:
    t = datetime(2016, 3, 1, 12, tzinfo=UTC).timestamp() * 1000
    summary = sync(ws, [PriceNeed("BTC", int(t), "binance-main", "old")])
    (missing,) = summary.not_found
    assert missing.reason == "binance has no 1m, 1h, 1d candle of BTC/USDT at that time"
    assert sim.requests["/api/v3/klines"] == 3  # minute, hour and day asked once each


def test_kraken_falls_back_to_hour_and_day_candles_for_old_moments(tmp_path: Path) -> None:
    history = generate_kraken_history(seed=5, trades=20, pairs=4, years=1, deposits=3, withdrawals=1)
    with KrakenSimulator(history, [KRAKEN_KEY], tier=None) as sim:
        ws = init_workspace(tmp_path / "de", jurisdiction="de")  # EUR
        accounts.add_account(ws, "kraken", exchange="kraken", api_key_env="KRAKEN_KEY",
                             secret_env="KRAKEN_SECRET", api_url=sim.url)
        now = sim.now_ms()
        needs = [PriceNeed("BTC", now - 2 * HOUR, "kraken", "a"), PriceNeed("BTC", now - 3 * DAY, "kraken", "b"),
                 PriceNeed("ETH", now - 400 * DAY, "kraken", "c"), PriceNeed("DOT", now - 1000 * DAY, "kraken", "d")]
        summary = sync(ws, needs)
        assert (summary.fetched, summary.stored, summary.failed) == (3, 3, [])
        assert [(m.asset, m.reason) for m in summary.not_found] == [
            ("DOT", "kraken has no 1m, 1h, 1d candle of DOT/EUR at that time")]
        assert sim.requests["/0/public/OHLC"] == 3  # minutes and hours older than 720 candles are not asked
        with Session(ws.engine) as session:
            book = load_book(session)
        found = {n.ref: book.lookup(n.asset, "EUR", n.timestamp) for n in needs[:3]}
        assert {ref: (p.resolution, p.source) for ref, p in found.items() if p} == {
            "a": ("1m", "kraken 1m close BTC/EUR"), "b": ("1h", "kraken 1h close BTC/EUR"),
            "c": ("1d", "kraken 1d close ETH/EUR")}
        sim.reset_counts()
        assert sync(ws, needs[:3]).cached == 3 and sim.total_requests == 0
        ws.engine.dispose()


# -- the command line -----------------------------------------------------------------------------------------


@pytest.fixture
def imported(ws: Workspace, sim: Simulator, history: SimHistory) -> Workspace:
    """The account's history imported from the simulator: its crypto-to-crypto trades need market prices."""
    opened = datetime.fromtimestamp(history.start_ms // 1000, UTC).date()
    accounts.remove_account(ws, "binance-main")
    accounts.add_account(ws, "binance-main", exchange="binance", api_key_env="BINANCE_KEY",
                         secret_env="BINANCE_SECRET", api_url=sim.url, since=opened)
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok, result.error
    sim.reset_counts()
    return ws


def missing_prices(runner: CliRunner, ws: Workspace) -> list[dict[str, str]]:
    result = runner.invoke(app, ["problems", "--json", "--home", str(ws.home)])
    assert result.exit_code == 0, result.output
    return [p for p in json.loads(result.stdout) if p["kind"] == "missing_price"]


def test_cli_sync_fills_the_cache_and_a_second_run_asks_nothing(imported: Workspace, sim: Simulator) -> None:
    runner = CliRunner()
    home = ["--home", str(imported.home)]
    sim.reset_counts()
    before = missing_prices(runner, imported)
    assert before and sim.total_requests == 0  # valuation itself never goes to the network
    first = runner.invoke(app, ["prices", "sync", *home])
    assert first.exit_code == 0, first.output
    assert sim.requests["/api/v3/klines"] > 0
    last = first.stdout.splitlines()[-1]  # after the progress lines (one every 10 s without a terminal)
    assert re.fullmatch(r"prices sync: (\d+) needed, 0 already cached, \1 fetched \(\d+ new prices stored\), "
                        r"0 not found, 0 failed; \d+ requests", last), first.stdout
    assert int(last.split()[2]) > 0
    sim.reset_counts()
    second = runner.invoke(app, ["prices", "sync", *home])
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[-1] == ("prices sync: 0 needed, 0 already cached, 0 fetched "
                                              "(0 new prices stored), 0 not found, 0 failed; 0 requests")
    assert missing_prices(runner, imported) == []
    assert sim.total_requests == 0


def test_cli_rate_limited_sync_exits_1_and_says_why(imported: Workspace, sim: Simulator,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(price_sync, "Caller", lambda: Caller(delay=0.001, max_wait=0.01))  # 4 quick attempts
    sim.set_faults(Faults(seed=4, rate_429=1.0, fail_paths=("/api/v3/klines",)))
    started = time.monotonic()
    result = CliRunner().invoke(app, ["prices", "sync", "--home", str(imported.home)])
    assert result.exit_code == int(ExitCode.PARTIAL), result.output
    assert "failed: " in result.stderr and "binance rate-limited after 4 attempts" in result.stderr
    assert "not found" not in result.stderr
    assert re.search(r", 0 fetched \(0 new prices stored\), 0 not found, (\d+) failed; 5 requests\n$",
                     result.stdout), result.stdout
    assert time.monotonic() - started < 30


def test_cli_bad_year_is_a_usage_error(ws: Workspace) -> None:
    result = CliRunner().invoke(app, ["prices", "sync", "--year", "2024-25", "--home", str(ws.home)])
    assert result.exit_code == int(ExitCode.USAGE)
    assert "not a tax year" in result.stderr


def test_a_moment_in_the_current_minute_is_left_for_the_next_run(ws: Workspace, sim: Simulator) -> None:
    if sim.now_ms() % MINUTE > 50_000:  # the minute must not end while the test runs
        time.sleep((MINUTE - sim.now_ms() % MINUTE) / 1000 + 0.05)
    now = sim.now_ms()
    summary = sync(ws, [PriceNeed("BTC", now, "binance-main", "just now"),
                        PriceNeed("BTC", now - 10 * MINUTE, "binance-main", "ten minutes ago")])
    assert summary.fetched == 1 and summary.not_found == []
    (waiting,) = summary.failed
    assert waiting.timestamp == now and waiting.reason == "the minute has not ended yet on binance: run again later"


def test_file_accounts_are_priced_on_the_configured_price_exchange(tmp_path: Path, sim: Simulator,
                                                                   needs: list[PriceNeed]) -> None:
    """A workspace of file imports only: with `[prices] exchange` set in taxsync.toml, sync asks that exchange."""
    home = tmp_path / "files-only"
    init_workspace(home, jurisdiction="us").engine.dispose()
    config = home / "taxsync.toml"
    text = config.read_text(encoding="utf-8")
    assert '[prices]\n' in text and 'exchange = ""' in text  # documented, empty by default
    config.write_text(text.replace('exchange = ""', 'exchange = "binance"', 1)
                      .replace('api_url = ""', f'api_url = "{sim.url}"', 1), encoding="utf-8")
    workspace = open_workspace(home)
    assert (workspace.settings.price_exchange, workspace.settings.price_api_url) == ("binance", sim.url)
    file_needs = [PriceNeed(n.asset, n.timestamp, "ledger-file", n.ref) for n in needs]
    summary = sync(workspace, file_needs)
    assert summary.fetched == 6 and [m.asset for m in summary.not_found] == ["PEPE"]
    assert sim.requests["/api/v3/klines"] >= 1
    workspace.engine.dispose()
