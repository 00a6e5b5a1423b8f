"""An unmodified ccxt.bybit reads the simulated Bybit v5 history exactly; windows, paging, auth and limits behave
like Bybit's.

How ccxt 4.5.90 sees the simulator's errors: retCode 10003 (unknown key, HTTP 401), 10004 (bad signature) and
33004 (expired key) -> AuthenticationError; 10002 (timestamp outside the recv window) -> InvalidNonce; 10005 (no
permission) and 10010 (IP not bound) -> PermissionDenied; 10006 (per-UID budget) -> RateLimitExceeded; 10001
(a range over 7/30 days, a limit over the maximum) -> BadRequest; 10016 (server error) -> plain ExchangeError;
the per-IP limit's HTTP 403 and an injected 429 -> RateLimitExceeded (by HTTP status); injected 5xx ->
ExchangeNotAvailable; a truncated body -> BadResponse with ``reject_non_json``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from importer.adapters.bybit import BYBIT_SPOT_OPTIONS
from importer.ccxt_url import point_ccxt_at, reject_non_json
from importer.permissions import check_key
from importer.simulator.bybit_history import BybitHistory, generate_bybit_history
from importer.simulator.bybit_server import BybitSimulator
from importer.simulator.server import Faults, SimKey
from taxsync.ledger.sources import NORMALIZERS
from taxsync.problems import ProblemKind

DAY = 86_400_000
WEEK = 7 * DAY
READ = SimKey("BYREAD" + "r" * 12, "read-secret-" + "r" * 24, created_ms=1_760_000_000_000)
TRADE = SimKey("BYTRAD" + "t" * 12, "trade-secret-" + "t" * 23, can_trade=True)
WITHDRAW = SimKey("BYWITH" + "w" * 12, "withdraw-secret-" + "w" * 20, can_trade=True, can_withdraw=True)
NO_READ = SimKey("BYNORD" + "n" * 12, "noread-secret-" + "n" * 22, can_read=False)
EXPIRED = SimKey("BYEXPD" + "e" * 12, "expired-secret-" + "e" * 21, valid_until_s=1_600_000_000)
BOUND = SimKey("BYBOND" + "b" * 12, "bound-secret-" + "b" * 23, ip_allowlist=("10.9.8.7",))
KEYS = [READ, TRADE, WITHDRAW, NO_READ, EXPIRED, BOUND]


@pytest.fixture(scope="module")
def history() -> BybitHistory:
    return generate_bybit_history(seed=5, trades=500, days=120, deposits=10, withdrawals=6, rewards=8, fundings=6,
                                  reward_types=("BONUS", "FEE_REFUND", "AIRDRP"), interest=3)


@pytest.fixture(scope="module")
def sim(history: BybitHistory) -> Iterator[BybitSimulator]:
    with BybitSimulator(history, KEYS, rate_limits=None, ip_limit=None) as running:
        yield running


def make(url: str, key: SimKey = READ, *, secret: str | None = None, options: dict[str, Any] | None = None,
         throttle: bool = False) -> Any:
    """An unmodified ``ccxt.bybit`` aimed at ``url``: exact decimal strings, truncated bodies rejected."""
    config: dict[str, Any] = {"apiKey": key.api_key, "secret": secret or key.secret, "enableRateLimit": throttle,
                              "options": copy.deepcopy(BYBIT_SPOT_OPTIONS if options is None else options)}
    ex = ccxt.bybit(config)
    point_ccxt_at(ex, url)
    ex.number = str
    reject_non_json(ex)
    return ex


def walk(fetch: Any, start: int, end: int, width: int, page: int, params: dict[str, Any],
         until: str = "until") -> tuple[list[dict[str, Any]], int]:
    """Everything ``fetch`` returns over [start, end] in windows of ``width``, paged by cursor; and the calls."""
    rows: list[dict[str, Any]] = []
    calls = 0
    lo = start
    while lo <= end:
        hi = min(lo + width - 1, end)
        cursor = None
        while True:
            got = fetch(None, lo, page, {**params, until: hi, **({"cursor": cursor} if cursor else {})})
            calls += 1
            rows += got
            cursor = next((r["info"]["nextPageCursor"] for r in got if r["info"].get("nextPageCursor")), None)
            if not cursor:
                break
        lo = hi + 1
    return rows, calls


# -- the history itself ----------------------------------------------------------------------------------------
def test_history_is_consistent_and_deterministic(history: BybitHistory) -> None:
    assert min(history.lowest_spot_balances().values()) >= 0
    for e in history.spot_trades():
        market = history.spot_market(e.symbol)
        assert Decimal(e.value) == Decimal(e.qty) * Decimal(e.price)
        received = Decimal(e.qty) if e.side == "Buy" else Decimal(e.value)
        assert Decimal(e.fee) == received * Decimal("0.001")
        assert e.fee_currency == (market.base if e.side == "Buy" else market.quote)
    funding = sum((Decimal(e.change) for e in history.log_of("SETTLEMENT")), Decimal(0))
    expected = history.expected_totals()
    assert history.wallet_balances() == {**expected, "USDT": expected["USDT"] + funding}
    assert funding and len(history.fundings()) == 6
    again = generate_bybit_history(seed=5, trades=500, days=120, deposits=10, withdrawals=6, rewards=8, fundings=6,
                                   reward_types=("BONUS", "FEE_REFUND", "AIRDRP"), interest=3,
                                   end_ms=history.end_ms)
    assert again == history


# -- markets -------------------------------------------------------------------------------------------------------
def test_spot_markets_load_with_one_instruments_request(sim: BybitSimulator, history: BybitHistory) -> None:
    ex = make(sim.url)
    sim.reset_counts()
    ex.load_markets()
    assert sim.requests == {"/v5/market/instruments-info": 1, "/v5/asset/coin/query-info": 1}
    listed = {f"{m.base}/{m.quote}" for m in history.markets if m.category == "spot" and m.listed}
    assert set(ex.markets) == listed
    assert not any(m.base in ex.markets for m in history.markets if not m.listed)


def test_ccxt_defaults_load_every_category(sim: BybitSimulator) -> None:
    ex = make(sim.url, options={})
    sim.reset_counts()
    ex.load_markets()
    assert ex.markets["BTC/USDT:USDT"]["swap"] and ex.markets["BTC/USDT"]["spot"]
    assert sim.requests["/v5/market/instruments-info"] > 4  # linear (+ PreLaunch), inverse, options per coin


# -- history endpoints -------------------------------------------------------------------------------------------
def test_spot_executions_come_back_exactly_through_windows_and_cursor_pages(sim: BybitSimulator,
                                                                            history: BybitHistory) -> None:
    ex = make(sim.url)
    trades, calls = walk(ex.fetch_my_trades, history.start_ms, history.end_ms, WEEK, 7, {"type": "spot"})
    windows = -(-(history.end_ms - history.start_ms + 1) // WEEK)
    assert calls > windows  # pages of 7 rows: several per window, some split fills of one millisecond
    got = {t["id"]: (t["symbol"], t["side"], t["amount"], t["price"], t["cost"], t["fee"]["cost"],
                     t["fee"]["currency"], t["timestamp"]) for t in trades}
    want = {}
    for e in history.spot_trades():
        market = history.spot_market(e.symbol)
        # a delisted market is unknown to ccxt: the symbol stays the exchange id and the fee has no currency
        want[e.exec_id] = (f"{market.base}/{market.quote}" if market.listed else e.symbol, e.side.lower(), e.qty,
                           e.price, e.value, e.fee, e.fee_currency if market.listed else None, e.time)
    assert len(trades) == len(got) == len(want) and got == want


def test_execution_windows_are_seven_days_at_most(sim: BybitSimulator, history: BybitHistory) -> None:
    ex = make(sim.url)
    start = history.start_ms
    with pytest.raises(ccxt.BadRequest, match="cannot exceed 7 days"):
        ex.fetch_my_trades(None, start, 100, {"type": "spot", "until": start + WEEK + 1})
    only_since = ex.fetch_my_trades(None, start, 100, {"type": "spot"})  # Bybit: startTime + 7 days
    assert {t["id"] for t in only_since} == {e.exec_id for e in history.spot_trades() if e.time <= start + WEEK}
    recent = ex.fetch_my_trades(None, None, 100, {"type": "spot"})  # Bybit: the last 7 days
    assert all(t["timestamp"] >= sim.now_ms() - WEEK - 1000 for t in recent)


def test_transaction_log_covers_24_hours_unless_end_time_is_sent(sim: BybitSimulator, history: BybitHistory) -> None:
    ex = make(sim.url)
    t = history.log[len(history.log) // 2].time
    rows = ex.fetch_ledger(None, t, 50)  # ccxt passes no endTime: Bybit answers startTime + 24 hours
    assert {r["id"] for r in rows} == {e.id for e in history.log if t <= e.time <= t + DAY}
    week = ex.fetch_ledger(None, t, 50, {"endTime": t + WEEK - 1})
    assert len(week) == min(50, len([e for e in history.log if t <= e.time < t + WEEK]))
    with pytest.raises(ccxt.BadRequest):
        ex.fetch_ledger(None, t, 51, {"endTime": t + DAY})


def test_withdrawals_are_on_chain_only_unless_withdraw_type_2(sim: BybitSimulator, history: BybitHistory) -> None:
    ex = make(sim.url)
    plain, _ = walk(ex.fetch_withdrawals, history.start_ms, history.end_ms, 30 * DAY, 50, {})
    every, _ = walk(ex.fetch_withdrawals, history.start_ms, history.end_ms, 30 * DAY, 50, {"withdrawType": 2})
    assert {w["id"] for w in plain} == {w.withdraw_id for w in history.withdrawals if w.withdraw_type == 0}
    assert {w["id"] for w in every} == {w.withdraw_id for w in history.withdrawals}
    assert {w["status"] for w in every} == {"ok", "canceled"}
    deposits, _ = walk(ex.fetch_deposits, history.start_ms, history.end_ms, 30 * DAY, 50, {})
    assert {(d["id"], d["amount"], d["status"]) for d in deposits} == {
        (d.id, d.amount, "ok" if d.status == 3 else "fail") for d in history.deposits}
    with pytest.raises(ccxt.BadRequest):
        ex.fetch_deposits(None, history.start_ms, 50, {"until": history.start_ms + 31 * DAY})


def test_executions_older_than_two_years_are_not_served() -> None:
    old = generate_bybit_history(seed=2, trades=60, days=760, deposits=2, withdrawals=0, rewards=0, fundings=0)
    with BybitSimulator(old, [READ], rate_limits=None, ip_limit=None) as running:
        ex = make(running.url)
        first = old.spot_trades()[0].time
        assert first < running.now_ms() - 730 * DAY
        assert ex.fetch_my_trades(None, first, 100, {"type": "spot", "until": first + DAY}) == []


def test_funding_executions_are_derivatives_not_spot_trades(sim: BybitSimulator, history: BybitHistory) -> None:
    ex = make(sim.url)
    first = history.fundings()[0].time
    spot = ex.fetch_my_trades(None, first - DAY, 100, {"type": "spot", "until": first + DAY})
    assert all(t["info"]["execType"] == "Trade" for t in spot)
    funding = ex.fetch_my_trades(None, first, 100, {"category": "linear", "execType": "Funding", "until": first + DAY})
    assert funding and {t["info"]["execType"] for t in funding} == {"Funding"}
    assert funding[0]["symbol"] == "BTC/USDT"  # the trap: the perpetual shares the spot market's id
    normalized = NORMALIZERS["ccxt-trade"]({"exchange": "bybit", "kind": "trade", **funding[0]}, "acct", "ref")
    assert normalized.transaction is None
    assert [p.kind for p in normalized.problems] == [ProblemKind.UNSUPPORTED]
    full = make(sim.url, options={})  # even with the perpetual loaded: a funding row names no category
    assert full.fetch_my_trades(None, first, 100, {"category": "linear", "execType": "Funding",
                                                   "until": first + DAY})[0]["symbol"] == "BTC/USDT"


def test_wallet_balance_is_the_unified_wallet(sim: BybitSimulator, history: BybitHistory) -> None:
    total = make(sim.url).fetch_balance()["total"]
    assert {c: Decimal(v) for c, v in total.items()} == history.wallet_balances()


# -- keys, signatures and permissions ------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "secret", "error", "words"), [
    (READ, "wrong-secret", ccxt.AuthenticationError, "error sign"),
    (SimKey("BYUNKNOWN", "x"), None, ccxt.AuthenticationError, "API key is invalid"),
    (EXPIRED, None, ccxt.AuthenticationError, "expired"),
    (BOUND, None, ccxt.PermissionDenied, "Unmatched IP"),
    (NO_READ, None, ccxt.PermissionDenied, "Permission denied"),
])
def test_refused_requests_raise_the_matching_ccxt_error(sim: BybitSimulator, key: SimKey, secret: str | None,
                                                         error: type[Exception], words: str) -> None:
    ex = make(sim.url, key, secret=secret)
    with pytest.raises(error, match=words):
        ex.private_get_v5_execution_list({"category": "spot"})


def test_a_stale_timestamp_is_refused_as_an_invalid_nonce(sim: BybitSimulator) -> None:
    ex = make(sim.url)
    ex.options["timeDifference"] = 6000  # the client's clock 6 s behind: outside the 5 s recv window
    with pytest.raises(ccxt.InvalidNonce, match="recv_window"):
        ex.private_get_v5_execution_list({"category": "spot"})


def test_key_permissions_as_taxsync_reads_them(sim: BybitSimulator) -> None:
    info = make(sim.url).private_get_v5_user_query_api()["result"]
    assert info["readOnly"] == 1 and info["ips"] == ["*"] and info["expiredAt"].startswith("2026-")
    verdicts = {k.api_key: check_key("bybit", make(sim.url, k)) for k in (READ, TRADE, WITHDRAW)}
    assert [(v.can_trade, v.can_withdraw) for v in verdicts.values() if v] == [(False, False), (True, False),
                                                                              (True, True)]


# -- limits and faults -----------------------------------------------------------------------------------------
def test_the_per_uid_budget_answers_10006(history: BybitHistory) -> None:
    with BybitSimulator(history, [READ], rate_limits={"/v5/execution/list": 3}, ip_limit=None) as limited:
        ex = make(limited.url)
        for _ in range(3):
            ex.private_get_v5_execution_list({"category": "spot"})
        assert ex.last_response_headers["X-Bapi-Limit"] == "3"
        with pytest.raises(ccxt.RateLimitExceeded, match="Too many visits"):
            ex.private_get_v5_execution_list({"category": "spot"})


def test_ccxt_default_pacing_is_bybit_budget_exactly_so_10006_must_be_retried(history: BybitHistory) -> None:
    """ccxt spaces execution-list calls 20 ms x cost 5 = 100 ms apart, in whole milliseconds: exactly Bybit's
    10 a second, so network jitter can still land an 11th call inside one second. Importers retry 10006."""
    with BybitSimulator(history, [READ]) as limited:
        ex = make(limited.url, throttle=True)
        began, refused = time.monotonic(), 0
        for _ in range(12):
            while True:
                try:
                    ex.private_get_v5_execution_list({"category": "spot"})
                    break
                except ccxt.RateLimitExceeded:
                    refused += 1
                    time.sleep(0.1)
        assert time.monotonic() - began >= 1.0 and refused <= 3


def test_the_per_ip_limit_answers_403_until_the_ban_ends(history: BybitHistory) -> None:
    with BybitSimulator(history, [READ], ip_limit=(4, 0.4), ip_ban_seconds=0.3) as limited:
        ex = make(limited.url)
        for _ in range(4):
            ex.fetch_time()
        with pytest.raises(ccxt.RateLimitExceeded):
            ex.fetch_time()
        time.sleep(0.75)
        assert ex.fetch_time()


@pytest.mark.parametrize(("faults", "errors", "error"), [
    (Faults(rate_429=1.0), 0.0, ccxt.RateLimitExceeded),
    (Faults(rate_5xx=1.0), 0.0, ccxt.ExchangeNotAvailable),
    (Faults(rate_truncated=1.0), 0.0, ccxt.BadResponse),
    (None, 1.0, ccxt.ExchangeError),
])
def test_faults_raise_the_matching_ccxt_error(history: BybitHistory, faults: Faults | None, errors: float,
                                              error: type[Exception]) -> None:
    with (BybitSimulator(history, [READ], faults=faults, server_errors=errors, rate_limits=None) as faulty,
          pytest.raises(error)):
        make(faulty.url).private_get_v5_execution_list({"category": "spot"})
