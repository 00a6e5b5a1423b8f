"""Authentication, weight limits and injected faults, and the ccxt exception each one produces."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from importer.ccxt_url import reject_non_json
from importer.simulator.history import SimHistory
from importer.simulator.server import Faults, SimKey, Simulator
from importer.simulator.traffic import FaultPlan, WeightLimiter


def test_wrong_secret_unknown_key_and_missing_permission(sim: Simulator, new_exchange: Any,
                                                         keys: dict[str, SimKey]) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):  # bad signature
        new_exchange(sim.url, keys["read"], secret="not-the-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="-2014"):  # key unknown to the exchange
        new_exchange(sim.url, SimKey("X" * 64, "whatever")).fetch_balance()
    no_read = new_exchange(sim.url, keys["no_read"])
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        no_read.fetch_balance()
    assert no_read.sapi_get_account_apirestrictions()["enableReading"] is False


def test_timestamp_outside_recv_window_is_refused(history: SimHistory, new_exchange: Any,
                                                  keys: dict[str, SimKey]) -> None:
    with Simulator(history, [keys["read"]], clock=lambda: time.time() + 30) as sim:  # server clock 30 s ahead
        ex = new_exchange(sim.url)
        with pytest.raises(ccxt.InvalidNonce, match="-1021"):
            ex.fetch_balance()
        ex.options["recvWindow"] = 60_000
        assert ex.fetch_balance()["total"]


def test_weight_limit_answers_429_with_retry_after(history: SimHistory, new_exchange: Any) -> None:
    frozen = 1_800_000_000.0 + 10  # 10 s into a minute, forever
    with Simulator(history, [], weight_limit_per_minute=100, clock=lambda: frozen) as sim:
        ex = new_exchange(sim.url, None)
        for i in range(5):  # exchangeInfo weighs 20
            ex.publicGetExchangeInfo()
            assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == str(20 * (i + 1))
        with pytest.raises(ccxt.DDoSProtection, match="-1003"):
            ex.publicGetExchangeInfo()
        assert ex.last_response_headers["Retry-After"] == "50"
        assert sim.requests["/api/v3/exchangeInfo"] == 6


def test_weight_limiter_resets_each_minute_and_fits_ccxt_pacing() -> None:
    now = [1_800_000_000.0]
    limiter = WeightLimiter(6000, clock=lambda: now[0])
    # ccxt's default throttle for binance: myTrades costs 4 * 50 ms, i.e. 300 requests of weight 20 a minute.
    for _ in range(300):
        assert limiter.charge("key", 20)[0]
        now[0] += 0.1999  # whole-millisecond rounding can make a gap a little short
    assert limiter.charge("key", 20)[0]  # the 301st fits the rounding allowance
    assert not limiter.charge("key", 20 * 5)[0]
    now[0] = 1_800_000_060.0 + 60
    assert limiter.charge("key", 20) == (True, 20, 60)


def test_injected_429_and_5xx(sim: Simulator, exchange: Any) -> None:
    try:
        sim.set_faults(Faults(seed=1, rate_429=1.0))
        with pytest.raises(ccxt.DDoSProtection):  # binance's handler raises DDoSProtection on 418/429
            exchange.fetch_my_trades("BTC/USDT", None, 10, {"fromId": 0})
        assert exchange.last_response_headers["Retry-After"] == "1"
        sim.set_faults(Faults(seed=2, rate_5xx=1.0))
        seen = set()
        for _ in range(12):
            with pytest.raises(ccxt.ExchangeNotAvailable) as info:  # a NetworkError: retry later
                exchange.fetch_balance()
            seen.add(next(code for code in ("500", "502", "503") if f" {code} " in str(info.value)))
        assert seen == {"500", "502", "503"}
    finally:
        sim.set_faults(None)


def test_truncated_body_is_no_ccxt_error_unless_guarded(sim: Simulator, new_exchange: Any) -> None:
    ex = new_exchange(sim.url)
    try:
        sim.set_faults(Faults(rate_truncated=1.0, fail_paths=("apiRestrictions",)))
        raw = ex.sapi_get_account_apirestrictions()
        assert isinstance(raw, str) and raw.startswith('{"ipRestrict"')  # ccxt hands back the cut text
        reject_non_json(ex)
        with pytest.raises(ccxt.BadResponse) as info:
            ex.sapi_get_account_apirestrictions()
        assert "signature" not in str(info.value)
        assert ex.fetch_balance()["total"]  # other paths are untouched
    finally:
        sim.set_faults(None)


def test_slow_reply_hits_ccxt_timeout(sim: Simulator, exchange: Any) -> None:
    try:
        sim.set_faults(Faults(rate_slow=1.0, slow_seconds=0.6, fail_paths=("/api/v3/account",)))
        exchange.timeout = 200
        with pytest.raises(ccxt.RequestTimeout):
            exchange.fetch_balance()
        exchange.timeout = 5000
        started = time.monotonic()
        assert exchange.fetch_balance()["total"]
        assert time.monotonic() - started >= 0.6
    finally:
        sim.set_faults(None)


def test_fault_plan_is_deterministic_per_seed_and_path_filter() -> None:
    faults = Faults(seed=7, rate_429=0.2, rate_5xx=0.2, rate_slow=0.1, rate_truncated=0.2)
    first = [FaultPlan(faults).draw("/api/v3/myTrades") for _ in range(1)]
    plan_a, plan_b = FaultPlan(faults), FaultPlan(faults)
    run_a = [plan_a.draw("/api/v3/myTrades") for _ in range(200)]
    run_b = [plan_b.draw("/api/v3/myTrades") for _ in range(200)]
    assert run_a == run_b and run_a[:1] == first
    assert {f.status for f in run_a} == {0, 429, 500, 502, 503}
    assert any(f.truncate for f in run_a) and any(f.slow_seconds for f in run_a)
    other = FaultPlan(Faults(seed=8, rate_429=0.2, rate_5xx=0.2, rate_slow=0.1, rate_truncated=0.2))
    assert [other.draw("/x") for _ in range(200)] != run_a
    only = FaultPlan(Faults(rate_429=1.0, fail_paths=("myTrades",)))
    assert only.draw("/api/v3/account").status == 0 and only.draw("/api/v3/myTrades").status == 429
