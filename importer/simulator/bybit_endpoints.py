"""The simulated Bybit v5 endpoints a spot history import needs, with Bybit's row shapes and filters.

Each handler takes the history, the parsed query, the calling key and the server time, and returns the
``result`` object of Bybit's envelope (or raises ``BybitError``). Row shapes follow the Bybit v5 docs pages
"Get Instruments Info", "Get Coin Info", "Get Wallet Balance", "Get Trade History" (``/v5/execution/list``),
"Get Deposit Records (on-chain)", "Get Withdrawal Records", "Get Transaction Log" and "Get API Key Information",
and ccxt's static fixture rows (`shared/fixtures/ccxt-static/response/bybit.json`) field for field. Rules:

* instruments-info: ``category`` is required; spot is not paged (Bybit ignores ``limit``/``cursor`` for spot),
  linear is paged by cursor (``limit`` up to 1000); delisted spot markets are absent.
* execution list: ``category`` required; 7-day windows (7 days back from now by default), 2-year retention,
  ``limit`` 1..100 (default 50); filters ``symbol``, ``baseCoin``, ``orderId``, ``execType``.
* deposits / withdrawals: 30-day windows (the last 30 days by default), ``limit`` 1..50; withdrawals list only
  on-chain ones unless ``withdrawType`` is 1 (off chain) or 2 (all).
* transaction log: ``accountType`` UNIFIED only; 7-day windows but **24 hours** when a bound is missing;
  ``limit`` 1..50 (default 20); filters ``category``, ``currency``, ``baseCoin``, ``type``.
* query-api: ``readOnly`` 1 for a key without trade, transfer or withdraw rights; ``permissions`` by area.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from importer.simulator.bybit_api import DAY_MS, Query, TimeWindow, page, params_error
from importer.simulator.bybit_history import BybitDeposit, BybitExecution, BybitHistory, BybitLogEntry, BybitWithdrawal
from importer.simulator.prices import usd_price
from importer.simulator.server import SimKey

EXECUTIONS = TimeWindow(7 * DAY_MS, 7 * DAY_MS, 730 * DAY_MS)
TRANSFERS = TimeWindow(30 * DAY_MS, 30 * DAY_MS)
TRANSACTION_LOG = TimeWindow(DAY_MS, 7 * DAY_MS, 730 * DAY_MS)
CATEGORIES = ("spot", "linear", "inverse", "option")
EXEC_TYPES = ("Trade", "AdlTrade", "Funding", "BustTrade", "Delivery", "Settle", "BlockTrade", "MovePosition")
Handler = Callable[[BybitHistory, Query, SimKey | None, int], Any]


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- public ----------------------------------------------------------------------------------------------------
def market_time(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, str]:
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def instruments_info(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    category = query.one_of("category", CATEGORIES)
    if category is None:
        raise params_error("category is required")
    symbol = query.text("symbol")
    markets = [m for m in history.markets if m.category == category and m.listed and symbol in (None, m.symbol)]
    if category == "spot":
        rows = [{"symbol": m.symbol, "baseCoin": m.base, "quoteCoin": m.quote, "innovation": "0",
                 "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
                 "lotSizeFilter": {"basePrecision": m.base_precision, "quotePrecision": "0.00000001",
                                   "minOrderQty": m.base_precision, "maxOrderQty": "100000", "minOrderAmt": "1",
                                   "maxOrderAmt": "2000000"},
                 "priceFilter": {"tickSize": m.tick},
                 "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"}} for m in markets]
        return {"category": category, "list": rows}
    if query.text("status") == "PreLaunch":
        markets = []
    indexed = list(enumerate(markets))
    chunk, cursor = page(indexed, query, key=lambda im: (len(markets) - im[0],), limit=query.limit(500, 1000))
    rows = [{"symbol": m.symbol, "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": m.base,
             "quoteCoin": m.quote, "launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
             "priceScale": "2", "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
             "priceFilter": {"minPrice": m.tick, "maxPrice": "1999999.8", "tickSize": m.tick},
             "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": m.base_precision, "qtyStep": m.base_precision,
                               "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "119.000",
                               "minNotionalValue": "5"},
             "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": m.quote, "copyTrading": "both",
             "upperFundingRate": "0.005", "lowerFundingRate": "-0.005"} for _, m in chunk]
    return {"category": category, "list": rows, "nextPageCursor": cursor}


# -- account and key -------------------------------------------------------------------------------------------
def coin_info(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    coins = sorted({m.base for m in history.markets} | {m.quote for m in history.markets}
                   | {d.coin for d in history.deposits} | {e.currency for e in history.log})
    wanted = query.text("coin")
    rows = [{"name": c, "coin": c, "remainAmount": "1000000",
             "chains": [{"chainType": c, "confirmation": "12", "withdrawFee": "0.5", "depositMin": "0",
                         "withdrawMin": "0.001", "chain": c, "chainDeposit": "1", "chainWithdraw": "1",
                         "minAccuracy": "8", "withdrawPercentageFee": "0"}]} for c in coins if wanted in (None, c)]
    return {"rows": rows}


def permissions(key: SimKey) -> dict[str, list[str]]:
    """Bybit's permission areas for a key: read scopes stay listed on a read-only key (``readOnly`` 1)."""
    wallet = (["AccountTransfer", "SubMemberTransfer"] if key.can_internal_transfer or key.can_withdraw else [])
    wallet += ["Withdraw"] if key.can_withdraw else []
    readable = key.can_read or key.can_trade
    return {"ContractTrade": ["Order", "Position"] if readable else [], "Spot": ["SpotTrade"] if readable else [],
            "Wallet": wallet, "Options": ["OptionsTrade"] if readable else [],
            "Derivatives": ["DerivativesTrade"] if readable else [], "CopyTrading": [], "BlockTrade": [],
            "Exchange": ["ExchangeHistory"] if readable else [], "NFT": [], "Affiliate": [], "Earn": []}


def read_only(key: SimKey) -> bool:
    return not (key.can_trade or key.can_withdraw or key.can_internal_transfer)


def query_api(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    assert key is not None
    expires = key.valid_until_s * 1000 if key.valid_until_s else (
        0 if key.ip_allowlist else key.created_ms + 90 * DAY_MS)  # keys bound to no IP expire after 90 days
    return {"id": str(zlib.crc32(key.api_key.encode()) % 10**8), "note": key.name, "apiKey": key.api_key,
            "readOnly": 1 if read_only(key) else 0, "secret": "", "permissions": permissions(key),
            "ips": list(key.ip_allowlist) or ["*"], "type": 1,
            "deadlineDay": max((expires - now) // DAY_MS, 0) if expires else -1,
            "expiredAt": _iso(expires) if expires else "", "createdAt": _iso(key.created_ms), "unified": 0,
            "uta": 1, "userID": history.uid, "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0",
            "affiliateID": 0, "rsaPublicKey": "", "isMaster": True, "parentUid": "0", "kycLevel": "LEVEL_1",
            "kycRegion": ""}


def account_info(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    return {"marginMode": "REGULAR_MARGIN", "updatedTime": str(history.start_ms), "unifiedMarginStatus": 6,
            "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0, "isMasterTrader": False,
            "spotHedgingStatus": "OFF"}


def wallet_balance(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    if query.text("accountType") != "UNIFIED":
        raise params_error("accountType only supports UNIFIED")
    wanted = set((query.text("coin") or "").split(",")) - {""}
    last: dict[str, Decimal] = {}
    for entry in history.log:
        if entry.time <= now:
            last[entry.currency] = Decimal(entry.cash_balance)
    coins = []
    for coin, balance in sorted(last.items()):
        if not balance or (wanted and coin not in wanted):
            continue
        usd = (balance * usd_price(coin, now, history.seed)).quantize(Decimal("0.00000001"))
        coins.append({"coin": coin, "equity": str(balance), "usdValue": str(usd), "walletBalance": str(balance),
                      "free": "", "locked": "0", "spotHedgingQty": "0", "borrowAmount": "0", "availableToWithdraw": "",
                      "accruedInterest": "0", "totalOrderIM": "0", "totalPositionIM": "0", "totalPositionMM": "0",
                      "unrealisedPnl": "0", "cumRealisedPnl": "0", "bonus": "0", "marginCollateral": True,
                      "collateralSwitch": True, "availableToBorrow": ""})
    total = str(sum((Decimal(c["usdValue"]) for c in coins), Decimal(0)))
    return {"list": [{"accountType": "UNIFIED", "accountIMRate": "0", "accountMMRate": "0", "accountLTV": "0",
                      "totalEquity": total, "totalWalletBalance": total, "totalMarginBalance": total,
                      "totalAvailableBalance": total, "totalPerpUPL": "0", "totalInitialMargin": "0",
                      "totalMaintenanceMargin": "0", "coin": coins}]}


# -- history ---------------------------------------------------------------------------------------------------
def _execution_row(e: BybitExecution) -> dict[str, Any]:
    spot = e.category == "spot"
    row: dict[str, Any] = {
        "symbol": e.symbol, "orderType": e.order_type, "underlyingPrice": "", "orderLinkId": "",
        "orderId": e.order_id, "stopOrderType": "" if spot else "UNKNOWN", "execTime": str(e.time),
        "feeCurrency": e.fee_currency, "feeRate": e.fee_rate, "tradeIv": "", "blockTradeId": "",
        "markPrice": "" if spot else e.price, "execPrice": e.price, "markIv": "",
        "orderQty": e.qty if e.exec_type == "Trade" else "0", "orderPrice": e.price if e.exec_type == "Trade" else "0",
        "execValue": e.value, "closedSize": "" if spot else "0", "execType": e.exec_type, "seq": str(e.seq),
        "side": e.side, "indexPrice": "", "leavesQty": "0", "isMaker": e.is_maker, "execFee": e.fee,
        "execId": e.exec_id, "marketUnit": "baseCoin" if spot else "", "execQty": e.qty,
    }
    if not spot and e.exec_type == "Trade":
        row["createType"] = "CreateByUser"
    return row


def executions(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    category = query.one_of("category", CATEGORIES)
    if category is None:
        raise params_error("category is required")
    exec_type = query.one_of("execType", EXEC_TYPES)
    start, end = EXECUTIONS.resolve(query, now)
    limit = query.limit(50, 100)
    symbol, base, order = query.text("symbol"), query.text("baseCoin"), query.text("orderId")
    spot = {m.symbol: m.base for m in history.markets if m.category == "spot"}
    rows = [e for e in history.executions
            if e.category == category and start <= e.time <= end and exec_type in (None, e.exec_type)
            and symbol in (None, e.symbol) and order in (None, e.order_id)
            and base in (None, spot.get(e.symbol, e.symbol.removesuffix("USDT")))]
    chunk, cursor = page(rows, query, key=lambda e: (e.time, e.seq), limit=limit)
    return {"nextPageCursor": cursor, "category": category, "list": [_execution_row(e) for e in chunk]}


def _deposit_row(d: BybitDeposit) -> dict[str, Any]:
    return {"id": d.id, "coin": d.coin, "chain": d.chain, "amount": d.amount, "txID": d.tx_id, "status": d.status,
            "toAddress": d.to_address, "tag": "", "depositFee": "", "successAt": str(d.time), "confirmations": "64",
            "txIndex": "0", "blockHash": d.tx_id[::-1], "batchReleaseLimit": "-1", "depositType": "0",
            "fromAddress": "", "taxDepositRecordsId": "0", "taxStatus": 0}


def deposits(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    start, end = TRANSFERS.resolve(query, now)
    limit, coin = query.limit(50, 50), query.text("coin")
    rows = [d for d in history.deposits if start <= d.time <= end and coin in (None, d.coin)]
    chunk, cursor = page(rows, query, key=lambda d: (d.time, int(d.id)), limit=limit)
    return {"rows": [_deposit_row(d) for d in chunk], "nextPageCursor": cursor}


def _withdrawal_row(w: BybitWithdrawal) -> dict[str, Any]:
    return {"withdrawId": w.withdraw_id, "txID": w.tx_id, "withdrawType": w.withdraw_type, "coin": w.coin,
            "chain": w.chain, "amount": w.amount, "withdrawFee": w.fee, "status": w.status,
            "toAddress": w.to_address, "tag": "", "createTime": str(w.time), "updateTime": str(w.update_time)}


def withdrawals(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    start, end = TRANSFERS.resolve(query, now)
    limit, coin = query.limit(50, 50), query.text("coin")
    kind = int(query.one_of("withdrawType", ("0", "1", "2"), "0") or 0)
    wanted = query.text("withdrawID")
    rows = [w for w in history.withdrawals if start <= w.time <= end and coin in (None, w.coin)
            and (kind == 2 or w.withdraw_type == kind) and wanted in (None, w.withdraw_id)]
    chunk, cursor = page(rows, query, key=lambda w: (w.time, int(w.withdraw_id)), limit=limit)
    return {"rows": [_withdrawal_row(w) for w in chunk], "nextPageCursor": cursor}


def _log_row(e: BybitLogEntry) -> dict[str, Any]:
    return {"id": e.id, "symbol": e.symbol, "category": e.category, "side": e.side,
            "transactionTime": str(e.time), "type": e.type, "transSubType": "", "qty": e.qty, "size": e.size,
            "currency": e.currency, "tradePrice": e.trade_price, "funding": e.funding, "fee": e.fee,
            "cashFlow": "0", "change": e.change, "cashBalance": e.cash_balance, "feeRate": e.fee_rate,
            "bonusChange": "", "tradeId": e.trade_id, "orderId": e.order_id, "orderLinkId": "", "extraFees": ""}


def transaction_log(history: BybitHistory, query: Query, key: SimKey | None, now: int) -> dict[str, Any]:
    query.one_of("accountType", ("UNIFIED",))
    category = query.one_of("category", ("spot", "linear", "option"))
    start, end = TRANSACTION_LOG.resolve(query, now)
    limit = query.limit(20, 50)
    currency, base, kind = query.text("currency"), query.text("baseCoin"), query.text("type")
    rows = [e for e in history.log if start <= e.time <= end and category in (None, e.category)
            and currency in (None, e.currency) and kind in (None, e.type)
            and (base is None or e.symbol.startswith(base))]
    chunk, cursor = page(rows, query, key=lambda e: (e.time, int(e.id)), limit=limit)
    return {"nextPageCursor": cursor, "list": [_log_row(e) for e in chunk]}
