"""Binance's signed account endpoints (USER_DATA), answered from a ``SimHistory`` with Binance's rules.

An importer is only as good as its handling of the real API's limits, so these are enforced as Binance
does: ``myTrades`` needs a symbol, accepts only the documented parameter combinations, pages by ``fromId``
or by time windows of at most 24 hours, returns at most 1000 rows in id order; deposit and withdrawal
history answer at most a 90-day window (the last 90 days by default), newest first, paged by
``offset``/``limit``. ``Book`` indexes one history snapshot so every request is a bisect, not a scan.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from importer.simulator.api_common import ApiError, Params, bad_combination, invalid_symbol
from importer.simulator.history import SimHistory, SimTrade, SimTransfer
from importer.simulator.prices import fmt8

if TYPE_CHECKING:
    from importer.simulator.server import SimKey

DAY_MS = 86_400_000
TRADE_WINDOW_MS = DAY_MS
TRANSFER_WINDOW_MS = 90 * DAY_MS
TRADING_AUTHORITY_MS = 90 * DAY_MS  # Binance: trading permission of a key without IP whitelist expires


@dataclass
class _Symbol:
    trades: tuple[SimTrade, ...]
    ids: list[int]
    times: list[int]
    by_time: bool  # ids ascending also means times ascending (true for generated histories)
    by_order: dict[int, list[SimTrade]] = field(default_factory=dict)


class Book:
    """Read-only indexes over one ``SimHistory`` snapshot."""

    def __init__(self, history: SimHistory) -> None:
        self.history = history
        self.symbols: dict[str, _Symbol] = {}
        for symbol in history.traded_symbols():
            trades = history.trades_for(symbol)
            times = [t.time for t in trades]
            entry = _Symbol(trades, [t.id for t in trades], times, all(a <= b for a, b in itertools.pairwise(times)))
            for t in trades:
                entry.by_order.setdefault(t.order_id, []).append(t)
            self.symbols[symbol] = entry
        self.balances: dict[str, Decimal] = history.balances()
        self.deposits = sorted(history.deposits, key=lambda d: d.time)
        self.deposit_times = [d.time for d in self.deposits]
        self.withdrawals = sorted(history.withdrawals, key=lambda w: w.time)
        self.withdrawal_times = [w.time for w in self.withdrawals]
        stamps = [*self.deposit_times, *self.withdrawal_times, *(t.time for t in history.trades)]
        self.update_time = max(stamps, default=history.end_ms)


def _trade_row(t: SimTrade) -> dict[str, object]:
    return {"symbol": t.symbol, "id": t.id, "orderId": t.order_id, "orderListId": -1, "price": t.price,
            "qty": t.qty, "quoteQty": t.quote_qty, "commission": t.commission,
            "commissionAsset": t.commission_asset, "time": t.time, "isBuyer": t.is_buyer,
            "isMaker": t.is_maker, "isBestMatch": True}


def my_trades(book: Book, params: Params) -> list[dict[str, object]]:
    """GET /api/v3/myTrades."""
    symbol = params.required("symbol")
    market = book.history.market(symbol)
    if market is None:
        raise invalid_symbol()
    limit = params.limit(500, 1000)
    order_id, from_id = params.integer("orderId"), params.integer("fromId")
    start, end = params.integer("startTime"), params.integer("endTime")
    has_time = start is not None or end is not None
    if (order_id is not None and has_time) or (from_id is not None and has_time):
        raise bad_combination()
    entry = book.symbols.get(symbol)
    if entry is None:
        return []
    if order_id is not None:
        rows = [t for t in entry.by_order.get(order_id, []) if from_id is None or t.id >= from_id]
        return [_trade_row(t) for t in rows[:limit]]
    if from_id is not None:
        i = bisect.bisect_left(entry.ids, from_id)
        return [_trade_row(t) for t in entry.trades[i:i + limit]]
    if not has_time:  # the most recent trades, still in ascending id order
        return [_trade_row(t) for t in entry.trades[-limit:]]
    if start is not None and end is not None and end - start > TRADE_WINDOW_MS:
        raise ApiError(400, -1127, "More than 24 hours between startTime and endTime.")
    if start is not None:
        lo, hi = start, end if end is not None else start + TRADE_WINDOW_MS
    else:
        assert end is not None
        lo, hi = end - TRADE_WINDOW_MS, end
    if entry.by_time:
        i, j = bisect.bisect_left(entry.times, lo), bisect.bisect_right(entry.times, hi)
        rows = list(entry.trades[i:j])
    else:
        rows = [t for t in entry.trades if lo <= t.time <= hi]
    return [_trade_row(t) for t in rows[:limit]]


def account(book: Book, params: Params, key: SimKey) -> dict[str, object]:
    """GET /api/v3/account: balances of the history (all free, nothing locked in open orders)."""
    balances = [{"asset": asset, "free": fmt8(amount), "locked": "0.00000000"}
                for asset, amount in sorted(book.balances.items())
                if amount or not params.flag("omitZeroBalances")]
    return {
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000",
                            "seller": "0.00000000"},
        "canTrade": key.can_trade, "canWithdraw": key.can_withdraw, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": book.update_time,
        "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 354937868,
    }


def _transfer_window(params: Params, now_ms: int) -> tuple[int, int]:
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None:
        if end - start > TRANSFER_WINDOW_MS:
            raise ApiError(400, -4047, "Time interval must be within 0-90 days")
        return start, end
    if start is not None:
        return start, start + TRANSFER_WINDOW_MS
    if end is not None:
        return end - TRANSFER_WINDOW_MS, end
    return now_ms - TRANSFER_WINDOW_MS, now_ms


def _window_rows(records: list[SimTransfer], times: list[int], params: Params, now_ms: int) -> list[SimTransfer]:
    lo, hi = _transfer_window(params, now_ms)
    rows = records[bisect.bisect_left(times, lo):bisect.bisect_right(times, hi)]
    coin, status, tx_id = params.text("coin"), params.integer("status"), params.text("txId")
    rows = [r for r in rows if (coin is None or r.coin == coin) and (status is None or r.status == status)
            and (tx_id is None or r.tx_id == tx_id)]
    rows.reverse()  # newest first, as Binance lists them
    offset = params.integer("offset", 0) or 0
    return rows[offset:offset + params.limit(1000, 1000)]


def _datetime(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def deposit_history(book: Book, params: Params, now_ms: int) -> list[dict[str, object]]:
    """GET /sapi/v1/capital/deposit/hisrec."""
    out: list[dict[str, object]] = []
    for d in _window_rows(book.deposits, book.deposit_times, params, now_ms):
        row: dict[str, object] = {
            "id": d.id, "amount": d.amount, "coin": d.coin, "network": d.network, "status": d.status,
            "address": d.address, "addressTag": "", "txId": d.tx_id, "insertTime": d.time,
            "transferType": 0, "confirmTimes": "12/12", "unlockConfirm": 0, "walletType": 0,
        }
        if d.status == 1:
            row["completeTime"] = d.time + 600_000
        out.append(row)
    return out


def withdraw_history(book: Book, params: Params, now_ms: int) -> list[dict[str, object]]:
    """GET /sapi/v1/capital/withdraw/history (``applyTime`` is a UTC "YYYY-MM-DD HH:MM:SS" string)."""
    out: list[dict[str, object]] = []
    for w in _window_rows(book.withdrawals, book.withdrawal_times, params, now_ms):
        row: dict[str, object] = {
            "id": w.id, "amount": fmt8(Decimal(w.amount)), "transactionFee": w.fee, "coin": w.coin,
            "status": w.status, "address": w.address, "txId": w.tx_id, "applyTime": _datetime(w.time),
            "network": w.network, "transferType": 0, "info": "", "confirmNo": 12 if w.status == 6 else 0,
            "walletType": 0, "txKey": "",
        }
        if w.status == 6:
            row["completeTime"] = _datetime(w.time + 900_000)
        out.append(row)
    return out


def api_restrictions(key: SimKey) -> dict[str, object]:
    """GET /sapi/v1/account/apiRestrictions for the calling key."""
    out: dict[str, object] = {
        "ipRestrict": key.ip_restrict or bool(key.ip_allowlist), "createTime": key.created_ms,
        "enableReading": key.can_read,
        "enableWithdrawals": key.can_withdraw, "enableInternalTransfer": key.can_internal_transfer,
        "enableMargin": False, "enableFutures": False, "permitsUniversalTransfer": key.can_internal_transfer,
        "enableVanillaOptions": False, "enableFixApiTrade": False, "enableFixReadOnly": key.can_read,
        "enableSpotAndMarginTrading": key.can_trade, "enablePortfolioMarginTrading": False,
    }
    if key.can_trade and not (key.ip_restrict or key.ip_allowlist):
        out["tradingAuthorityExpirationTime"] = key.created_ms + TRADING_AUTHORITY_MS
    return out
