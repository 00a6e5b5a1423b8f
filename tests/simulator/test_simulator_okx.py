"""An unmodified ccxt.okx reads the simulated OKX account exactly; retention, auth, limits and faults behave like OKX.

ccxt 4.5.90 maps the simulator's OKX errors as follows (``okx.exceptions['exact']``, applied before the HTTP
status): 50111 invalid key, 50105 wrong passphrase, 50113 invalid sign, 50101 demo-trading header on a live key
-> AuthenticationError; 50102 expired timestamp -> InvalidNonce; 50110 IP not allowed -> PermissionDenied;
50011 (HTTP 429) -> RateLimitExceeded; 51000 bad parameter -> BadRequest. A missing passphrase never leaves
ccxt (``check_required_credentials``: AuthenticationError). Injected faults: 429 -> RateLimitExceeded, HTML 5xx
-> ExchangeNotAvailable, a truncated body -> BadResponse once ``reject_non_json`` is applied.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from importer.ccxt_url import point_ccxt_at, reject_non_json
from importer.simulator.okx_history import OkxHistory, fill_effects, generate_okx_history
from importer.simulator.okx_server import OkxSimulator
from importer.simulator.server import Faults, SimKey

READ = SimKey("okx-read-" + "r" * 27, "okx-secret-read")
TRADE = SimKey("okx-trade-" + "t" * 26, "okx-secret-trade", can_trade=True, can_withdraw=True)
FENCED = SimKey("okx-fenced-" + "f" * 25, "okx-secret-fenced", ip_allowlist=("10.1.2.3",))
PHRASES = {READ.api_key: "Read-Phrase-1", TRADE.api_key: "Trade-Phrase-2", FENCED.api_key: "Fenced-Phrase-3"}
SPOT = {"fetchMarkets": {"types": ["spot"]}}


@pytest.fixture(scope="module")
def history() -> OkxHistory:
    return generate_okx_history(seed=11, trades=450, days=130, deposits=9, withdrawals=5, interest=15)


@pytest.fixture(scope="module")
def sim(history: OkxHistory) -> Iterator[OkxSimulator]:
    with OkxSimulator(history, [READ, TRADE, FENCED], passphrases=PHRASES, rate_limits=False) as running:
        yield running


def make(url: str, key: SimKey = READ, *, secret: str | None = None, password: str | None = None,
         rate_limit: bool = False) -> Any:
    """An unmodified ``ccxt.okx`` aimed at ``url``: spot markets only, exact decimal strings."""
    ex = ccxt.okx({"apiKey": key.api_key, "secret": secret or key.secret,
                   "password": PHRASES[key.api_key] if password is None else password,
                   "options": {**SPOT}, "enableRateLimit": rate_limit})
    point_ccxt_at(ex, url)
    ex.number = str
    return ex


@pytest.fixture
def ex(sim: OkxSimulator) -> Any:
    exchange = make(sim.url)
    exchange.load_markets()
    return exchange


def walk(call: Any, params: dict[str, Any], cursor: str, limit: int) -> list[dict[str, Any]]:
    """Page an OKX endpoint newest first with ``after`` = the oldest cursor value seen."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = call({**params, "limit": limit, **({"after": after} if after else {})})["data"]
        rows += page
        if len(page) < limit:
            return rows
        after = page[-1][cursor]


def test_load_markets_asks_spot_instruments_and_currencies(sim: OkxSimulator, history: OkxHistory) -> None:
    sim.reset_counts()
    exchange = make(sim.url)
    markets = exchange.load_markets()
    assert dict(sim.requests) == {"/api/v5/asset/currencies": 1, "/api/v5/public/instruments": 1}
    assert set(markets) == {f"{i.base}/{i.quote}" for i in history.instruments}
    btc = exchange.market("BTC/USDT")
    assert (btc["id"], btc["spot"], btc["precision"]["price"], btc["precision"]["amount"]) == (
        "BTC-USDT", True, history.instrument_by_id["BTC-USDT"].tick_sz, history.instrument_by_id["BTC-USDT"].lot_sz)
    assert exchange.currencies["USDT"]["networks"]["TRC20"]["id"] == "USDT-TRC20"
    public = ccxt.okx({"options": {**SPOT}})
    point_ccxt_at(public, sim.url)
    sim.reset_counts()
    public.load_markets()  # without a key, ccxt skips asset/currencies
    assert dict(sim.requests) == {"/api/v5/public/instruments": 1}


def test_the_history_is_consistent_exact_and_deterministic(history: OkxHistory) -> None:
    running: dict[str, Decimal] = defaultdict(Decimal)
    for bill in history.bills:
        running[bill.ccy] += Decimal(bill.bal_chg)
        assert Decimal(bill.bal) == running[bill.ccy] >= 0  # never negative, and ``bal`` is the running balance
    assert [b.bill_id for b in history.bills] == sorted(b.bill_id for b in history.bills)
    for fill in history.fills:
        inst = history.instrument_by_id[fill.inst_id]
        assert Decimal(fill.fee) < 0 and fill.fee_ccy == (inst.base if fill.side == "buy" else inst.quote)
        received = Decimal(fill.fill_sz) if fill.side == "buy" else Decimal(fill.fill_sz) * Decimal(fill.fill_px)
        assert -Decimal(fill.fee) in (received * Decimal("0.001"), received * Decimal("0.0008"))
    per_bill = Counter(b.bill_id for b in history.bills if b.type == "2")
    assert all(per_bill[f.bill_id] == 1 for f in history.fills)
    trades: dict[str, Decimal] = defaultdict(Decimal)
    for fill in history.fills:
        for ccy, delta in fill_effects(fill, history.instrument_by_id[fill.inst_id]):
            trades[ccy] += delta
    booked = defaultdict(Decimal, {c: Decimal(0) for c in trades})
    for bill in history.bills:
        if bill.type == "2":
            booked[bill.ccy] += Decimal(bill.bal_chg)
    assert dict(trades) == dict(booked)  # the fills' effects are exactly their bills, fees included
    moved = generate_okx_history(seed=11, trades=450, days=130, deposits=9, withdrawals=5, interest=15,
                                 end_ms=history.end_ms - 7 * 86_400_000)
    assert [(f.fill_sz, f.fill_px, f.fee) for f in moved.fills] == [
        (f.fill_sz, f.fill_px, f.fee) for f in history.fills]  # end_ms shifts the times, not the amounts
    assert 2 in Counter(d.ts for d in history.deposits).values()  # two deposits in one millisecond


def test_fills_history_paged_by_bill_id_recovers_every_fill_of_3_months(ex: Any, history: OkxHistory) -> None:
    oldest = history.visible("fills-history", int(time.time() * 1000))
    served = [f for f in history.fills if f.ts >= oldest]
    assert 0 < len(served) < len(history.fills)
    for limit in (100, 7):
        rows = walk(ex.private_get_trade_fills_history, {"instType": "SPOT"}, "billId", limit)
        assert [r["billId"] for r in rows] == [str(f.bill_id) for f in reversed(served)]
    trades = ex.parse_trades(rows)
    by_id = {f"{f.inst_id}:{f.trade_id}": f for f in served}
    for trade in trades:
        fill = by_id[f"{trade['info']['instId']}:{trade['id']}"]
        assert (trade["amount"], trade["price"], trade["side"], trade["timestamp"]) == (
            fill.fill_sz, fill.fill_px, fill.side, fill.ts)
        assert trade["fee"] == {"cost": fill.fee.lstrip("-"), "currency": fill.fee_ccy}
        assert Decimal(trade["cost"]) == Decimal(fill.fill_sz) * Decimal(fill.fill_px)
    middle = served[len(served) // 2]
    newer = ex.private_get_trade_fills_history({"instType": "SPOT", "before": str(middle.bill_id), "limit": 5})
    adjacent = [str(f.bill_id) for f in served if f.bill_id > middle.bill_id][:5]
    assert [r["billId"] for r in newer["data"]] == adjacent[::-1]  # the 5 just newer than the cursor
    window = ex.private_get_trade_fills_history({"instType": "SPOT", "begin": str(middle.ts), "end": str(middle.ts)})
    assert {r["billId"] for r in window["data"]} == {str(f.bill_id) for f in served if f.ts == middle.ts}
    with pytest.raises(ccxt.BadRequest):
        ex.private_get_trade_fills_history({"limit": 5})  # instType is required
    with pytest.raises(ccxt.BadRequest):
        ex.private_get_trade_fills_history({"instType": "SPOT", "limit": 101})


def test_retention_windows_are_enforced(ex: Any, history: OkxHistory) -> None:
    now = int(time.time() * 1000)
    recent = ex.private_get_trade_fills({"limit": 100})["data"]
    assert {r["billId"] for r in recent} == {str(f.bill_id) for f in history.fills if f.ts >= now - 3 * 86_400_000}
    week = walk(ex.private_get_account_bills, {}, "billId", 100)
    assert [r["billId"] for r in week] == [str(b.bill_id) for b in reversed(history.bills)
                                          if b.ts >= now - 7 * 86_400_000]
    archive = walk(ex.private_get_account_bills_archive, {}, "billId", 100)
    assert [r["billId"] for r in archive] == [str(b.bill_id) for b in reversed(history.bills)
                                             if b.ts >= now - 90 * 86_400_000]
    assert len(archive) < len(history.bills)
    old = history.fills[0]
    assert ex.private_get_trade_fills_history({"instType": "SPOT", "end": str(old.ts)})["data"] == []
    assert len(ex.fetch_deposits()) == len(history.deposits)  # deposit history documents no retention


def test_bills_carry_the_fee_inside_balchg_and_parse_as_ledger(ex: Any, history: OkxHistory) -> None:
    entries = ex.parse_ledger(walk(ex.private_get_account_bills_archive, {}, "billId", 100))
    kinds = Counter(e["type"] for e in entries)
    assert set(kinds) == {"trade", "transfer", "381"}  # ccxt names types 1 and 2, passes 381 through
    fills = {str(f.bill_id): f for f in history.fills}
    for entry in entries:
        if entry["id"] in fills:
            fill = fills[entry["id"]]
            gross = Decimal(fill.fill_sz) if fill.side == "buy" else Decimal(fill.fill_sz) * Decimal(fill.fill_px)
            assert Decimal(entry["amount"]) == gross + Decimal(fill.fee)
            assert entry["fee"] == {"cost": fill.fee.lstrip("-"), "currency": fill.fee_ccy}


def test_deposits_and_withdrawals_page_by_ts(ex: Any, history: OkxHistory) -> None:
    got: dict[str, dict[str, Any]] = {}
    after: int | None = None
    while True:  # the import's walk: after = oldest ts + 1, so a millisecond split across pages is asked again
        page = ex.private_get_asset_deposit_history({"limit": 3, **({"after": after} if after else {})})["data"]
        new = {r["depId"]: r for r in page if r["depId"] not in got}
        got.update(new)
        if len(page) < 3 or not new:
            break
        after = int(page[-1]["ts"]) + 1
    assert set(got) == {d.dep_id for d in history.deposits}
    deposits = ex.parse_transactions(list(got.values()))
    assert {d["status"] for d in deposits} == {"ok"} and {d["type"] for d in deposits} == {"deposit"}
    withdrawals = ex.fetch_withdrawals()
    assert sorted(w["id"] for w in withdrawals) == sorted(w.wd_id for w in history.withdrawals)
    statuses = Counter(w["status"] for w in withdrawals)
    assert statuses["canceled"] == 1 and statuses["ok"] == len(history.withdrawals) - 1
    first = min(history.withdrawals, key=lambda w: w.ts)
    parsed = next(w for w in withdrawals if w["id"] == first.wd_id)
    assert (parsed["amount"], parsed["fee"]["cost"], parsed["currency"]) == (first.amt, first.fee, first.ccy)


def test_balances_and_key_permissions(ex: Any, sim: OkxSimulator, history: OkxHistory) -> None:
    totals = ex.fetch_balance()["total"]
    assert {c: Decimal(v) for c, v in totals.items()} == {c: v for c, v in history.trading_balances().items() if v}
    assert ex.fetch_balance({"type": "funding"})["total"] == {}  # every deposit moved on to trading
    assert ex.private_get_account_config()["data"][0]["perm"] == "read_only"
    assert make(sim.url, TRADE).private_get_account_config()["data"][0]["perm"] == "read_only,withdraw,trade"


@pytest.mark.parametrize(("change", "error", "code"), [
    ({"secret": "not-the-secret"}, ccxt.AuthenticationError, "50113"),
    ({"password": "not-the-phrase"}, ccxt.AuthenticationError, "50105"),
    ({"key": SimKey("okx-unknown", "x")}, ccxt.AuthenticationError, "50111"),
    ({"key": FENCED}, ccxt.PermissionDenied, "50110"),
])
def test_authentication_errors(sim: OkxSimulator, change: dict[str, Any], error: type[Exception], code: str) -> None:
    key = change.get("key", READ)
    if key.api_key not in PHRASES:
        PHRASES[key.api_key] = "whatever"
    exchange = make(sim.url, key, secret=change.get("secret"), password=change.get("password"))
    with pytest.raises(error, match=code):
        exchange.private_get_account_balance()


def test_missing_passphrase_expired_timestamp_and_demo_header(sim: OkxSimulator, history: OkxHistory) -> None:
    sim.reset_counts()
    with pytest.raises(ccxt.AuthenticationError, match="password"):
        make(sim.url, password="").private_get_account_balance()
    assert sim.total_requests == 0  # ccxt refuses before sending
    with (OkxSimulator(history, [READ], passphrases=PHRASES, clock=lambda: time.time() + 45) as late,
          pytest.raises(ccxt.InvalidNonce, match="50102")):
        make(late.url).private_get_account_balance()
    demo = make(sim.url)
    demo.headers = {"x-simulated-trading": "1"}  # what set_sandbox_mode(True) adds
    with pytest.raises(ccxt.AuthenticationError, match="50101"):
        demo.private_get_account_balance()


def test_rate_limit_per_user_and_ccxt_pacing(history: OkxHistory) -> None:
    with OkxSimulator(history, [READ, TRADE], passphrases=PHRASES) as limited:
        fast, other = make(limited.url), make(limited.url, TRADE)
        for _ in range(5):
            fast.private_get_trade_fills_history({"instType": "SPOT", "limit": 1})
            other.private_get_trade_fills_history({"instType": "SPOT", "limit": 1})  # same User ID, same budget
        with pytest.raises(ccxt.RateLimitExceeded, match="50011"):
            fast.private_get_trade_fills_history({"instType": "SPOT", "limit": 1})
        fast.private_get_account_balance()  # another endpoint, another budget
        limited.reset_rate_limits()
        paced = make(limited.url, rate_limit=True)  # ccxt's own throttle: 110 ms x cost 2 per fills-history call
        for _ in range(12):
            paced.private_get_trade_fills_history({"instType": "SPOT", "limit": 1})


@pytest.mark.parametrize(("faults", "error"), [
    (Faults(seed=1, rate_429=1.0), ccxt.RateLimitExceeded),
    (Faults(seed=1, rate_5xx=1.0), ccxt.ExchangeNotAvailable),
    (Faults(seed=1, rate_truncated=1.0), ccxt.BadResponse),
])
def test_injected_faults(history: OkxHistory, faults: Faults, error: type[Exception]) -> None:
    with OkxSimulator(history, [READ], passphrases=PHRASES, faults=faults) as faulty:
        exchange = make(faulty.url)
        reject_non_json(exchange)
        with pytest.raises(error):
            exchange.private_get_asset_deposit_history({"limit": 5})


def test_candles_hold_every_fill_price(ex: Any, history: OkxHistory) -> None:
    fill = next(f for f in reversed(history.fills) if f.inst_id == "BTC-USDT")
    bar = fill.ts - fill.ts % 60_000
    (candle,) = ex.fetch_ohlcv("BTC/USDT", "1m", bar, 1)
    assert candle[0] == bar and Decimal(candle[3]) <= Decimal(fill.fill_px) <= Decimal(candle[2])
    days = ex.fetch_ohlcv("BTC/USDT", "1d", history.start_ms, 30)
    assert len(days) == 30 and all(c[0] % 86_400_000 == 0 for c in days)  # ccxt asks 1Dutc: UTC days
