"""An unmodified ccxt.binance imports the simulated history exactly: markets, trades, transfers, balances."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from importer.ccxt_url import add_market, market_for
from importer.simulator.history import SimHistory, generate_activity
from importer.simulator.server import SimKey, Simulator

DAY = 86_400_000
NINETY_DAYS = 90 * DAY


def fetch_all_trades(ex: Any, symbol: str, start_id: int = 0) -> list[dict[str, Any]]:
    """Page myTrades by id: fromId = last id + 1, 1000 per request, until a short page."""
    out: list[dict[str, Any]] = []
    next_id = start_id
    while True:
        page = ex.fetch_my_trades(symbol, None, 1000, {"fromId": next_id})
        out += page
        if len(page) < 1000:
            return out
        next_id = int(page[-1]["id"]) + 1


def test_load_markets_asks_only_for_exchange_info(sim: Simulator, history: SimHistory, new_exchange: Any) -> None:
    sim.reset_counts()
    ex = new_exchange(sim.url)
    markets = ex.load_markets()
    assert dict(sim.requests) == {"/api/v3/exchangeInfo": 1}
    assert len(markets) == len(history.listed_markets()) == 40
    delisted = [m.symbol for m in history.markets if not m.listed]
    assert delisted and not set(delisted) & set(ex.markets_by_id)
    btc = ex.market("BTC/USDT")
    assert (btc["id"], btc["spot"], btc["active"]) == ("BTCUSDT", True, True)
    assert Decimal(btc["precision"]["price"]) == Decimal("0.01")
    assert Decimal(btc["precision"]["amount"]) == Decimal("0.00001")


def test_paging_by_from_id_recovers_every_trade_exactly(exchange: Any, history: SimHistory) -> None:
    for symbol_id in history.traded_symbols():
        sim_market = history.market(symbol_id)
        assert sim_market is not None
        if not sim_market.listed:
            continue
        got = fetch_all_trades(exchange, f"{sim_market.base}/{sim_market.quote}")
        expected = history.trades_for(symbol_id)
        assert [t["id"] for t in got] == [str(t.id) for t in expected]
        for row, t in zip(got, expected, strict=True):
            assert isinstance(row["price"], str)  # exchange.number = str: no float rounding anywhere
            assert (row["order"], row["timestamp"], row["price"], row["amount"], row["cost"]) == (
                str(t.order_id), t.time, t.price, t.qty, t.quote_qty)
            assert row["fee"] == {"cost": t.commission, "currency": t.commission_asset}
            assert row["side"] == ("buy" if t.is_buyer else "sell")
            assert row["takerOrMaker"] == ("maker" if t.is_maker else "taker")


def test_delisted_market_trades_are_served_once_the_market_is_injected(exchange: Any, history: SimHistory) -> None:
    gone = next(m for m in history.markets if not m.listed and history.trades_for(m.symbol))
    symbol = f"{gone.base}/{gone.quote}"
    with pytest.raises(ccxt.BadSymbol):  # ccxt refuses a symbol load_markets did not return
        exchange.fetch_my_trades(symbol, None, 1000, {"fromId": 0})
    add_market(exchange, market_for(gone.symbol, gone.base, gone.quote))
    got = fetch_all_trades(exchange, symbol)
    assert [(t["id"], t["amount"]) for t in got] == [(str(t.id), t.qty) for t in history.trades_for(gone.symbol)]
    assert exchange.market(symbol)["active"] is False
    with pytest.raises(ccxt.BadSymbol):  # a symbol the exchange never had is still -1121 Invalid symbol
        exchange.privateGetMyTrades({"symbol": "NOPEUSDT"})


def test_my_trades_time_windows_follow_binance_rules(exchange: Any, history: SimHistory) -> None:
    trades = history.trades_for("BTCUSDT")
    t0 = trades[len(trades) // 2].time
    with pytest.raises(ccxt.BadRequest, match="-1127"):  # more than 24 hours
        exchange.fetch_my_trades("BTC/USDT", t0, 1000, {"until": t0 + DAY + 1})
    window = exchange.fetch_my_trades("BTC/USDT", t0, 1000, {"until": t0 + DAY})
    assert [t["id"] for t in window] == [str(t.id) for t in trades if t0 <= t.time <= t0 + DAY]
    with pytest.raises(ccxt.BadRequest, match="-1128"):  # fromId cannot be combined with a time range
        exchange.fetch_my_trades("BTC/USDT", t0, 1000, {"fromId": trades[0].id})
    with pytest.raises(ccxt.BadRequest, match="-1102"):
        exchange.privateGetMyTrades({})
    latest = exchange.privateGetMyTrades({"symbol": "BTCUSDT"})  # default: the 500 most recent, ascending
    assert [r["id"] for r in latest] == [t.id for t in trades[-500:]]
    capped = exchange.privateGetMyTrades({"symbol": "BTCUSDT", "fromId": 0, "limit": 5000})
    assert len(capped) == min(1000, len(trades))


def fetch_transfers(method: Any, start: int) -> dict[str, dict[str, Any]]:
    """Walk 90-day windows [since, since + 90d - 1] from ``start`` to now; rows keyed by id."""
    rows: dict[str, dict[str, Any]] = {}
    since, now = start, int(time.time() * 1000)
    while since <= now:
        until = since + NINETY_DAYS - 1
        for row in method(None, since, None, {"until": until}):
            rows[row["id"]] = row
        since = until + 1
    return rows


def test_deposits_and_withdrawals_in_90_day_windows(exchange: Any, history: SimHistory) -> None:
    deposits = fetch_transfers(exchange.fetch_deposits, history.start_ms - DAY)
    assert sorted(deposits) == sorted(d.id for d in history.deposits)
    for d in history.deposits:
        row = deposits[d.id]
        assert (row["currency"], row["amount"], row["txid"], row["timestamp"], row["address"]) == (
            d.coin, d.amount, d.tx_id, d.time, d.address)
        assert row["info"]["network"] == d.network and row["status"] == "ok" and row["type"] == "deposit"
    withdrawals = fetch_transfers(exchange.fetch_withdrawals, history.start_ms - DAY)
    assert sorted(withdrawals) == sorted(w.id for w in history.withdrawals)
    status = {6: "ok", 1: "canceled", 3: "failed"}
    for w in history.withdrawals:
        row = withdrawals[w.id]
        assert Decimal(row["amount"]) == Decimal(w.amount) and row["fee"]["cost"] == w.fee
        assert (row["currency"], row["timestamp"], row["status"], row["info"]["txId"]) == (
            w.coin, w.time, status[w.status], w.tx_id)


def test_transfer_windows_over_90_days_are_refused(exchange: Any, history: SimHistory) -> None:
    start = history.start_ms
    with pytest.raises(ccxt.ExchangeError, match="-4047"):
        exchange.fetch_deposits(None, None, None, {"startTime": start, "endTime": start + NINETY_DAYS + 1})
    with pytest.raises(ccxt.ExchangeError, match="-4047"):
        exchange.sapi_get_capital_withdraw_history({"startTime": start, "endTime": start + 91 * DAY})
    recent = exchange.fetch_deposits()  # no window: the last 90 days only
    cutoff = int(time.time() * 1000) - NINETY_DAYS
    assert sorted(r["id"] for r in recent) == sorted(d.id for d in history.deposits if d.time >= cutoff)


def test_offset_paging_of_transfers(exchange: Any, history: SimHistory) -> None:
    d = history.deposits[len(history.deposits) // 2]
    params = {"startTime": d.time - NINETY_DAYS // 2, "endTime": d.time + NINETY_DAYS // 2}
    full = exchange.sapi_get_capital_deposit_hisrec(params)
    pages = [exchange.sapi_get_capital_deposit_hisrec({**params, "limit": 2, "offset": i})
             for i in range(0, len(full) + 2, 2)]
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in full]
    assert [r["insertTime"] for r in full] == sorted((r["insertTime"] for r in full), reverse=True)


def test_balance_equals_history(exchange: Any, history: SimHistory) -> None:
    balance = exchange.fetch_balance()
    expected = history.balances()
    assert set(balance["total"]) == set(expected)
    for asset, amount in expected.items():
        assert Decimal(balance["total"][asset]) == amount
        assert Decimal(balance[asset]["used"]) == 0
    assert any(v > 0 for v in expected.values())


def test_api_restrictions_reflect_the_key(sim: Simulator, new_exchange: Any, keys: dict[str, SimKey]) -> None:
    read = new_exchange(sim.url, keys["read"]).sapi_get_account_apirestrictions()
    assert read["enableReading"] is True
    assert not any(read[f] for f in ("enableWithdrawals", "enableSpotAndMarginTrading", "enableInternalTransfer",
                                     "permitsUniversalTransfer", "enableMargin", "enableFutures",
                                     "enableVanillaOptions", "ipRestrict"))
    assert read["createTime"] == keys["read"].created_ms and "tradingAuthorityExpirationTime" not in read
    trade = new_exchange(sim.url, keys["trade"]).sapi_get_account_apirestrictions()
    assert trade["enableSpotAndMarginTrading"] and trade["enableWithdrawals"] and trade["enableInternalTransfer"]
    assert trade["tradingAuthorityExpirationTime"] == keys["trade"].created_ms + 90 * DAY


def test_klines_are_deterministic_and_contain_trade_prices(exchange: Any, history: SimHistory) -> None:
    for t in history.trades_for("BTCUSDT")[::97]:
        hour = t.time - t.time % 3_600_000
        (candle,) = exchange.fetch_ohlcv("BTC/USDT", "1h", hour, 1)
        assert candle[0] == hour
        assert Decimal(candle[3]) <= Decimal(t.price) <= Decimal(candle[2])
    since = history.end_ms - 30 * DAY
    days = exchange.fetch_ohlcv("ETH/USDT", "1d", since, 10)
    assert [c[0] for c in days] == [since + i * DAY for i in range(10)]
    assert days == exchange.fetch_ohlcv("ETH/USDT", "1d", since, 10)
    assert len(exchange.fetch_ohlcv("ETH/USDT", "1m", None, 1500)) == 1000
    with pytest.raises(ccxt.BadRequest, match="-1120"):
        exchange.publicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
    with pytest.raises(ccxt.BadSymbol):
        exchange.publicGetKlines({"symbol": "NOPEUSDT", "interval": "1h"})


def test_new_activity_between_two_runs(history: SimHistory, new_exchange: Any, keys: dict[str, SimKey]) -> None:
    with Simulator(history, [keys["read"]]) as sim:
        ex = new_exchange(sim.url)
        ex.load_markets()
        last = {s: history.trades_for(s)[-1].id for s in history.traded_symbols()}
        trades, deposits, _ = generate_activity(history, seed=5, trades=40, deposits=2)  # the next day
        sim.add_trades(trades)
        sim.add_deposits(deposits)
        new = {}
        for symbol_id, last_id in last.items():
            m = history.market(symbol_id)
            if m is not None and m.listed:
                new[symbol_id] = fetch_all_trades(ex, f"{m.base}/{m.quote}", last_id + 1)
        assert sorted((s, int(t["id"])) for s, rows in new.items() for t in rows) == sorted(
            (t.symbol, t.id) for t in trades)
        balance = ex.fetch_balance()
        assert {a: Decimal(balance["total"][a]) for a in balance["total"]} == sim.history.balances()
        assert min(sim.history.lowest_running_balances().values()) >= 0


def test_concurrent_clients_get_consistent_answers(sim: Simulator, history: SimHistory, new_exchange: Any) -> None:
    def sync(_: int) -> list[str]:
        ex = new_exchange(sim.url)
        ex.load_markets()
        return [t["id"] for t in fetch_all_trades(ex, "BTC/USDT")]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(sync, range(6)))
    assert all(r == [str(t.id) for t in history.trades_for("BTCUSDT")] for r in results)
    assert not sim.errors
