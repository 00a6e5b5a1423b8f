"""An unmodified ccxt.kraken imports the simulated Kraken history exactly; auth, limits and faults behave like Kraken.

The simulator answers errors with HTTP 200 and Kraken's strings; ccxt 4.5.90 maps them as follows:
``EAPI:Invalid key`` -> AuthenticationError; ``EAPI:Invalid signature`` -> plain ExchangeError (no mapping in
ccxt); ``EAPI:Invalid nonce`` -> InvalidNonce; ``EGeneral:Permission denied`` -> PermissionDenied;
``EAPI:Rate limit exceeded`` -> DDoSProtection (the exact map wins over the broad ``:Rate limit exceeded`` ->
RateLimitExceeded); ``EQuery:Unknown asset pair`` -> plain ExchangeError. Injected faults: 429 (body
``EGeneral:Too many requests``) -> DDoSProtection, 5xx -> ExchangeNotAvailable, slow -> RequestTimeout,
truncated -> no error at all (an empty page) unless ``reject_non_json`` (then BadResponse).
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from importer.ccxt_url import point_ccxt_at, reject_non_json
from importer.simulator.kraken_history import KrakenHistory, generate_kraken_activity, generate_kraken_history
from importer.simulator.kraken_server import STARTER, CallCounter, KrakenSimulator
from importer.simulator.kraken_universe import PAIRS
from importer.simulator.server import Faults, SimKey

REPO = Path(__file__).resolve().parents[2]
END = 1_767_225_600  # 2026-01-01


def _secret(tag: str) -> str:
    return base64.b64encode(tag.encode().ljust(64, b"#")).decode()


READ = SimKey("KR" + "r" * 54, _secret("read"), created_ms=1_690_000_000_000)
TRADE = SimKey("KT" + "t" * 54, _secret("trade"), can_trade=True, can_withdraw=True)
CUSTOM = SimKey("KC" + "c" * 54, _secret("custom"), kraken_permissions=("query-funds", "query-ledger", "export-data"),
                name="tax export", query_from_s=1_700_000_000, query_to_s=1_750_000_000, valid_until_s=4_000_000_000,
                ip_allowlist=("127.0.0.1",), nonce_window=5000)
NO_TRADES = SimKey("KN" + "n" * 54, _secret("no-trades"), kraken_permissions=("query-funds", "query-ledger"))


@pytest.fixture(scope="module")
def history() -> KrakenHistory:
    return generate_kraken_history(seed=7, trades=420, pairs=7, years=2, deposits=12, withdrawals=8,
                                   staking_rewards=30, unstakes=2)


@pytest.fixture(scope="module")
def sim(history: KrakenHistory) -> Iterator[KrakenSimulator]:
    with KrakenSimulator(history, [READ, TRADE, CUSTOM, NO_TRADES], tier=None, ohlc_depth=None) as running:
        yield running


def make(url: str, key: SimKey = READ, secret: str | None = None) -> Any:
    """An unmodified ``ccxt.kraken`` aimed at ``url``: exact decimal strings, a 1 ms rateLimit."""
    ex = ccxt.kraken({"apiKey": key.api_key, "secret": secret or key.secret, "rateLimit": 1})
    point_ccxt_at(ex, url)
    ex.number = str
    return ex


@pytest.fixture
def ex(sim: KrakenSimulator) -> Any:
    exchange = make(sim.url)
    exchange.load_markets()
    return exchange


def fetch_all(fetch: Callable[..., list[dict[str, Any]]], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Page a newest-first Kraken stream by ``ofs`` until a short page."""
    out: list[dict[str, Any]] = []
    while True:
        page = fetch(None, None, None, {**(params or {}), "ofs": len(out)})
        out += page
        if len(page) < 50:
            return out


def test_load_markets_asks_for_assets_then_asset_pairs(sim: KrakenSimulator, history: KrakenHistory) -> None:
    sim.reset_counts()
    exchange = make(sim.url)
    markets = exchange.load_markets()
    assert list(sim.requests) == ["/0/public/Assets", "/0/public/AssetPairs"] and sim.total_requests == 2
    assert len(markets) == len(PAIRS)
    btc = exchange.market("BTC/USD")
    assert (btc["id"], btc["altname"], btc["base"], btc["quote"]) == ("XXBTZUSD", "XBTUSD", "BTC", "USD")
    assert exchange.market("ETH/BTC")["id"] == "XETHXXBT" and exchange.market("DOGE/EUR")["id"] == "XDGEUR"
    assert {"BTC", "EUR", "USD", "DOT", "DOT.S", "ETH2.S", "DOGE"} <= set(exchange.currencies)
    assert {a.code for a in history.assets} == set(exchange.currencies)
    assert exchange.currencies["BTC"]["id"] == "XXBT" and exchange.currencies["DOT.S"]["id"] == "DOT.S"


def test_trades_paged_by_ofs_recover_every_trade_exactly(ex: Any, history: KrakenHistory) -> None:
    got = fetch_all(ex.fetch_my_trades)
    assert len(got) == len(history.trades) == 420
    assert sorted(t["id"] for t in got) == sorted(t.txid for t in history.trades)
    rows = {t["id"]: t for t in got}
    for t in history.trades:
        row, pair = rows[t.txid], history.pair(t.pair)
        assert isinstance(row["price"], str)  # exchange.number = str: no float rounding anywhere
        assert (row["order"], row["timestamp"], row["symbol"], row["side"], row["type"]) == (
            t.ordertxid, t.timestamp_ms, history.symbol(t.pair), t.type, t.ordertype)
        assert (row["price"], row["amount"], row["cost"]) == (t.price, t.vol, t.cost)
        assert row["fee"] == {"cost": t.fee, "currency": history.code(pair.quote)}
        assert row["takerOrMaker"] == ("maker" if t.maker else "taker")
    raw = ex.private_post_tradeshistory({"ofs": 100})["result"]
    assert raw["count"] == 420 and list(raw["trades"]) == [t.txid for t in history.trades_newest_first()[100:150]]


def test_start_txid_and_time_bounds_select_exactly(ex: Any, history: KrakenHistory) -> None:
    cut = history.trades[len(history.trades) // 3]
    newer = fetch_all(ex.fetch_my_trades, {"start": cut.txid})  # exclusive: strictly after the cut
    after = [t.txid for t in history.trades[len(history.trades) // 3 + 1:]]
    assert sorted(t["id"] for t in newer) == sorted(after)
    window = ex.private_post_tradeshistory({"start": cut.txid, "end": history.trades[-1].txid})["result"]
    assert window["count"] == len(after)  # end is inclusive
    same_second = Counter(t.time // 10_000 for t in history.trades)
    second = next(s for s, n in same_second.items() if n > 1)
    rows = ex.private_post_tradeshistory({"start": str(second - 1), "end": str(second)})["result"]
    assert rows["count"] == 0  # the fills happen at second.xxxx, after ``end``
    rows = ex.private_post_tradeshistory({"start": str(second), "end": f"{second}.9999"})["result"]
    assert sorted(rows["trades"]) == sorted(t.txid for t in history.trades if t.time // 10_000 == second)
    with pytest.raises(ccxt.BadRequest, match="EGeneral:Invalid arguments"):
        ex.private_post_tradeshistory({"start": "TNOPE1-XXXXX-YYYYYY"})


def test_ledger_paged_by_ofs_recovers_every_entry(ex: Any, history: KrakenHistory) -> None:
    got = fetch_all(ex.fetch_ledger)
    assert sorted(e["id"] for e in got) == sorted(e.id for e in history.ledger)
    rows = {e["id"]: e for e in got}
    kinds = {"trade": "trade", "deposit": "transaction", "withdrawal": "transaction", "transfer": "transfer",
             "staking": "staking"}
    for e in history.ledger:
        row = rows[e.id]
        assert (row["referenceId"], row["timestamp"], row["currency"], row["type"]) == (
            e.refid, e.timestamp_ms, history.code(e.asset), kinds[e.type])
        assert Decimal(row["amount"]) == abs(Decimal(e.amount)) and row["after"] == e.balance
        assert row["direction"] == ("out" if e.amount.startswith("-") else "in") and row["fee"]["cost"] == e.fee
        assert row["info"]["subtype"] == e.subtype
    dot = fetch_all(ex.fetch_ledger, {"asset": "DOT.S", "type": "staking"})
    assert sorted(e["id"] for e in dot) == sorted(e.id for e in history.ledger if e.asset == "DOT.S"
                                                  and e.type == "staking")
    btc = ex.fetch_ledger("BTC", None, None, {"ofs": 0})  # the code becomes asset=XXBT
    assert btc and {e["info"]["asset"] for e in btc} == {"XXBT"}


def test_ledger_books_trades_transfers_and_staking_consistently(history: KrakenHistory) -> None:
    by_id = {e.id: e for e in history.ledger}
    for t in history.trades:
        pair = history.pair(t.pair)
        base, quote = (by_id[i] for i in t.ledgers)
        sign = 1 if t.type == "buy" else -1
        assert (base.refid, quote.refid, base.time, quote.time) == (t.txid, t.txid, t.time, t.time)
        assert (base.asset, quote.asset) == (pair.base, pair.quote)
        assert Decimal(base.amount) == sign * Decimal(t.vol) and Decimal(base.fee) == 0
        assert Decimal(quote.amount) == -sign * Decimal(t.cost) and Decimal(quote.fee) == Decimal(t.fee)
    assert Counter(e.type for e in history.ledger)["trade"] == 2 * len(history.trades)
    running: dict[str, Decimal] = Counter()
    for e in history.ledger:
        running[e.asset] += e.change
        assert Decimal(e.balance) == running[e.asset]
    subtypes = Counter(e.subtype for e in history.ledger if e.type == "transfer")
    assert subtypes == {"spottostaking": 2, "stakingfromspot": 2, "stakingtospot": 2, "spotfromstaking": 2}
    assert {e.asset for e in history.ledger if e.type == "staking"} == {"DOT.S", "ETH2.S"}
    withdrawals = [e for e in history.ledger if e.type == "withdrawal"]
    assert withdrawals and all(Decimal(e.amount) < 0 < Decimal(e.fee) for e in withdrawals)
    counts = history.counts()
    assert counts["ledger_withdrawal"] == counts["withdrawals"] - counts["failed_withdrawals"]
    assert counts["staking_rewards"] == 30 and counts["ledger_deposit"] == counts["deposits"] == 12


def test_balance_equals_expected_totals(ex: Any, history: KrakenHistory) -> None:
    balance = ex.fetch_balance()
    expected = history.expected_totals()
    assert {"BTC", "EUR", "USD", "DOT", "DOT.S", "ETH2.S"} <= set(expected)
    assert {c: Decimal(v) for c, v in balance["total"].items()} == expected
    assert all(Decimal(balance[c]["used"]) == 0 for c in expected)
    raw = ex.private_post_balance()["result"]
    assert {history.code(a): Decimal(v) for a, v in raw.items()} == expected


def test_api_key_info_reflects_the_key(sim: KrakenSimulator, history: KrakenHistory) -> None:
    info = make(sim.url).private_post_getapikeyinfo()["result"]
    assert info["permissions"] == ["query-funds", "query-open-trades", "query-closed-trades", "query-ledger"]
    assert (info["apiKey"], info["queryFrom"], info["validUntil"], info["ipAllowlist"]) == (READ.api_key, "0", "0", [])
    assert info["createdTime"] == "1690000000" and info["iban"] == history.iban and info["lastUsed"] is not None
    trade = make(sim.url, TRADE).private_post_getapikeyinfo()["result"]["permissions"]
    assert {"modify-trades", "close-trades", "withdraw-funds"} <= set(trade)
    custom = make(sim.url, CUSTOM).private_post_getapikeyinfo()["result"]
    assert (custom["apiKeyName"], custom["permissions"], custom["queryFrom"], custom["queryTo"]) == (
        "tax export", ["query-funds", "query-ledger", "export-data"], "1700000000", "1750000000")
    assert (custom["validUntil"], custom["ipAllowlist"], custom["nonceWindow"]) == ("4000000000", ["127.0.0.1"], 5000)
    with pytest.raises(ValueError, match="query-ledger"):
        KrakenSimulator(history, [SimKey("X" * 56, _secret("x"), kraken_permissions=("query-ledger-entries",))])


def test_query_window_and_permissions_limit_what_a_key_sees(sim: KrakenSimulator, history: KrakenHistory) -> None:
    custom = make(sim.url, CUSTOM)
    seen = fetch_all(custom.fetch_ledger)
    inside = [e.id for e in history.ledger if 1_700_000_000 <= e.time // 10_000 <= 1_750_000_000]
    assert sorted(e["id"] for e in seen) == sorted(inside) and len(inside) < len(history.ledger)
    with pytest.raises(ccxt.PermissionDenied, match="EGeneral:Permission denied"):  # no query-closed-trades
        custom.fetch_my_trades()
    with pytest.raises(ccxt.PermissionDenied):
        make(sim.url, NO_TRADES).private_post_tradeshistory()


def test_bad_key_signature_and_nonce(sim: KrakenSimulator, history: KrakenHistory) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
        make(sim.url, SimKey("unknown-key", _secret("x"))).fetch_balance()
    with pytest.raises(ccxt.ExchangeError, match="EAPI:Invalid signature") as info:
        make(sim.url, READ, secret=_secret("wrong")).fetch_balance()
    assert not isinstance(info.value, ccxt.AuthenticationError)  # ccxt 4.5.90 has no mapping for it
    first, second = make(sim.url), make(sim.url)
    first.private_post_balance()  # nonce = now in ms
    second.options["timeDifference"] = 60_000  # a client whose nonce runs a minute behind
    with pytest.raises(ccxt.InvalidNonce, match="EAPI:Invalid nonce"):
        second.private_post_balance()
    first.private_post_balance()
    windowed = make(sim.url, CUSTOM)
    windowed.private_post_balance()
    windowed.options["timeDifference"] = 2_000  # within the key's nonce window of 5000
    windowed.private_post_balance()
    with (KrakenSimulator(history, [CUSTOM], clock=lambda: 4_000_000_001.0) as expired,
          pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key")):  # past the key's validUntil
        make(expired.url, CUSTOM).fetch_balance()
    assert not sim.errors


def test_call_counter_refuses_beyond_the_tier(history: KrakenHistory) -> None:
    now = [1_800_000_000.0]
    with KrakenSimulator(history, [READ], clock=lambda: now[0]) as sim:
        exchange = make(sim.url)
        for _ in range(7):  # history calls weigh 2: 14 of the starter tier's 15
            exchange.private_post_tradeshistory()
        with pytest.raises(ccxt.DDoSProtection, match="EAPI:Rate limit exceeded"):
            exchange.private_post_tradeshistory()  # 14 + 2 > 15; refused calls count too: 16
        with pytest.raises(ccxt.DDoSProtection):
            exchange.private_post_balance()  # 16 + 1 > 15: hammering prolongs the block
        assert sim.counter is not None and sim.counter.value(READ.api_key) == 17
        now[0] += 18  # 6 points decay in 18 s: 11
        exchange.private_post_balance()
        exchange.load_markets()  # public calls do not count
        assert sim.counter.value(READ.api_key) == 12


def test_call_counter_fits_ccxt_default_pacing() -> None:
    now = [1_800_000_000.0]
    counter = CallCounter(STARTER, clock=lambda: now[0])
    # ccxt.kraken waits rateLimit (1000 ms) x cost: 3 for Balance/GetApiKeyInfo, 6 for TradesHistory/Ledgers.
    plan = [(3, 1), (3, 1)] + [(6, 2)] * 3000 + [(3, 1)] * 200 + [(6, 2)] * 3000
    for seconds, weight in plan:
        assert counter.charge("key", weight)
        now[0] += seconds - 0.001  # whole-millisecond rounding can make a gap a little short
    assert counter.value("key") < 6


def test_injected_faults_map_to_ccxt_errors(sim: KrakenSimulator, ex: Any) -> None:
    try:
        sim.set_faults(Faults(seed=1, rate_429=1.0))
        with pytest.raises(ccxt.DDoSProtection, match="EGeneral:Too many requests"):
            ex.fetch_my_trades(None, None, None, {"ofs": 0})
        sim.set_faults(Faults(seed=2, rate_5xx=1.0))
        for _ in range(6):
            with pytest.raises(ccxt.ExchangeNotAvailable):
                ex.fetch_balance()
        sim.set_faults(Faults(rate_slow=1.0, slow_seconds=0.6, fail_paths=("BalanceEx",)))
        ex.timeout = 200
        with pytest.raises(ccxt.RequestTimeout):
            ex.fetch_balance()
        ex.timeout = 10_000
    finally:
        sim.set_faults(None)


def test_truncated_body_is_an_empty_page_unless_guarded(sim: KrakenSimulator, ex: Any) -> None:
    try:
        sim.set_faults(Faults(rate_truncated=1.0, fail_paths=("TradesHistory",)))
        assert ex.fetch_my_trades(None, None, None, {"ofs": 0}) == []  # silently "no trades"!
        reject_non_json(ex)
        with pytest.raises(ccxt.BadResponse) as info:
            ex.fetch_my_trades(None, None, None, {"ofs": 0})
        assert "API-Sign" not in str(info.value) and "nonce" not in str(info.value)
        assert ex.fetch_balance()["total"]  # other paths are untouched
    finally:
        sim.set_faults(None)


def test_ohlc_candles_are_deterministic_and_contain_trade_prices(ex: Any, history: KrakenHistory) -> None:
    for t in history.trades[::41]:
        hour = t.timestamp_ms - t.timestamp_ms % 3_600_000
        (candle,) = ex.fetch_ohlcv(history.symbol(t.pair), "1h", hour, 1)
        assert candle[0] == hour and Decimal(candle[3]) <= Decimal(t.price) <= Decimal(candle[2])
    day = ex.fetch_ohlcv("BTC/USD", "1d", (END - 30 * 86_400) * 1000, 10)
    assert [c[0] for c in day] == [(END - (30 - i) * 86_400) * 1000 for i in range(10)]
    assert day == ex.fetch_ohlcv("BTC/USD", "1d", (END - 30 * 86_400) * 1000, 10)
    with pytest.raises(ccxt.ExchangeError, match="EQuery:Unknown asset pair"):  # ccxt maps only "Invalid asset pair"
        ex.public_get_ohlc({"pair": "NOPEUSD"})
    with pytest.raises(ccxt.BadRequest):
        ex.public_get_ohlc({"pair": "XBTUSD", "interval": 7})


def test_ohlc_serves_only_the_720_most_recent_candles(history: KrakenHistory) -> None:
    now = 1_800_000_123
    with KrakenSimulator(history, [], clock=lambda: float(now)) as sim:
        exchange = make(sim.url)
        raw = exchange.public_get_ohlc({"pair": "XXBTZUSD", "interval": 60, "since": 0})["result"]
        rows = raw["XXBTZUSD"]
        current = now - now % 3600
        assert len(rows) == 720 and rows[-1][0] == current and raw["last"] == current - 3600
        recent = exchange.public_get_ohlc({"pair": "XBTUSD", "interval": 60, "since": current - 3 * 3600})["result"]
        assert [r[0] for r in recent["XXBTZUSD"]] == [current - 2 * 3600, current - 3600, current]


def test_deposit_and_withdraw_status(ex: Any, history: KrakenHistory) -> None:
    deposits = ex.fetch_deposits()
    assert sorted(d["id"] for d in deposits) == sorted(d.refid for d in history.deposits)
    for d in deposits:
        r = next(r for r in history.deposits if r.refid == d["id"])
        assert (d["amount"], d["fee"]["cost"], d["timestamp"]) == (r.amount, r.fee, r.time // 10_000 * 1000)
    withdrawals = {w["id"]: w for w in ex.fetch_withdrawals()}
    assert set(withdrawals) == {w.refid for w in history.withdrawals}
    failed = {w.refid for w in history.withdrawals if w.status == "Failure"}
    assert {i for i, w in withdrawals.items() if w["status"] == "failed"} == failed
    ledger_ids = {e.refid for e in history.ledger if e.type == "withdrawal"}
    assert ledger_ids == {i for i, w in withdrawals.items() if w["status"] == "ok"} == set(withdrawals) - failed


def test_generator_is_deterministic_consistent_and_exact() -> None:
    a = generate_kraken_history(seed=3, trades=150, pairs=4, end_s=END)
    assert a == generate_kraken_history(seed=3, trades=150, pairs=4, end_s=END)
    assert a.trades != generate_kraken_history(seed=4, trades=150, pairs=4, end_s=END).trades
    assert len(a.traded_pairs()) == 4 and len(a.trades) == 150
    assert sum(n > 1 for n in Counter(t.time // 10_000 for t in a.trades).values()) >= 3  # fills share a second
    for seed in range(20, 26):
        h = generate_kraken_history(seed=seed, trades=200, pairs=9, deposits=5, withdrawals=12, staking_rewards=20,
                                    unstakes=3, end_s=END)
        assert min(h.lowest_running_balances().values()) >= 0 and len(h.ledger) == len({e.id for e in h.ledger})
        for t in h.trades:
            pair = h.pair(t.pair)
            assert re.fullmatch(rf"\d+\.\d{{{pair.pair_decimals}}}", t.price) and re.fullmatch(r"\d+\.\d{8}", t.vol)
            assert t.time % 10 and re.fullmatch(r"T[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}", t.txid)
        for e in h.ledger:
            assert re.fullmatch(rf"-?\d+\.\d{{{h.asset(e.asset).decimals}}}", e.amount)
    with pytest.raises(ValueError, match="deposits >= 3"):
        generate_kraken_history(deposits=2)


def test_new_activity_between_two_runs(history: KrakenHistory) -> None:
    with KrakenSimulator(history, [READ], tier=None) as sim:
        exchange = make(sim.url)
        newest = history.trades[-1].txid
        activity = generate_kraken_activity(history, seed=5, trades=30, deposits=1, withdrawals=1, staking_rewards=2)
        sim.add_activity(activity)
        new = fetch_all(exchange.fetch_my_trades, {"start": newest})
        assert sorted(t["id"] for t in new) == sorted(t.txid for t in activity.trades)
        new_ledger = fetch_all(exchange.fetch_ledger, {"start": history.ledger[-1].id})
        assert sorted(e["id"] for e in new_ledger) == sorted(e.id for e in activity.ledger)
        totals = exchange.fetch_balance()["total"]
        assert {c: Decimal(v) for c, v in totals.items()} == sim.history.expected_totals()
        assert min(sim.history.lowest_running_balances().values()) >= 0


def test_module_serves_kraken_until_sigterm(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    proc = subprocess.Popen([sys.executable, "-m", "importer.simulator", "--exchange", "kraken", "--seed", "1",
                             "--trades", "40", "--staking-rewards", "5", "--port", "0", "--url-file", str(url_file)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not url_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        url = url_file.read_text().strip()
        with urllib.request.urlopen(url + "/0/public/Time", timeout=5) as reply:
            assert json.loads(reply.read())["error"] == []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
