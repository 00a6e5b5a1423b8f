"""Binance's public market-data endpoints, computed from a ``SimHistory``.

``GET /api/v3/exchangeInfo`` lists the listed spot markets with the filters ccxt parses into precision and
limits (delisted markets are absent, as on Binance); ``GET /api/v3/klines`` returns deterministic candles
from the same price path the trades were generated on, so valuing a trade at its candle gives a price
close to the trade's own; ``ping`` and ``time`` complete the set ccxt may call.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime
from decimal import Decimal

from importer.simulator.api_common import ApiError, Params, invalid_symbol
from importer.simulator.history import SimHistory, SimMarket
from importer.simulator.prices import ASSETS, fmt8, market_rules, pair_price

BINANCE_LAUNCH_MS = 1_500_000_000_000  # July 2017: no candles before this
_MIN = 60_000
INTERVALS: dict[str, int] = {
    "1s": 1000, "1m": _MIN, "3m": 3 * _MIN, "5m": 5 * _MIN, "15m": 15 * _MIN, "30m": 30 * _MIN,
    "1h": 60 * _MIN, "2h": 120 * _MIN, "4h": 240 * _MIN, "6h": 360 * _MIN, "8h": 480 * _MIN,
    "12h": 720 * _MIN, "1d": 1440 * _MIN, "3d": 3 * 1440 * _MIN, "1w": 7 * 1440 * _MIN, "1M": 0,
}
_WEEK_OFFSET = 4 * 1440 * _MIN  # weekly candles open on Mondays; 1970-01-01 was a Thursday
_BREAKPOINT = 20 * _MIN  # the finest octave of prices.usd_price


def symbol_info(market: SimMarket) -> dict[str, object]:
    """One ``exchangeInfo.symbols[]`` entry, shaped like Binance's."""
    rules = market_rules(market.base, market.quote)
    return {
        "symbol": market.symbol, "status": "TRADING", "baseAsset": market.base, "baseAssetPrecision": 8,
        "quoteAsset": market.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt8(rules.tick), "maxPrice": "1000000.00000000",
             "tickSize": fmt8(rules.tick)},
            {"filterType": "LOT_SIZE", "minQty": fmt8(rules.step), "maxQty": "9000000.00000000",
             "stepSize": fmt8(rules.step)},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100000.00000000",
             "stepSize": "0.00000000"},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000" if market.quote not in ASSETS else "0.00010000",
             "applyMinToMarket": True, "maxNotional": "9000000.00000000", "applyMaxToMarket": False,
             "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def exchange_info(history: SimHistory, params: Params, now_ms: int, weight_limit: int) -> dict[str, object]:
    listed = {m.symbol: m for m in history.listed_markets()}
    wanted: list[str] | None = None
    if params.text("symbol"):
        wanted = [params.required("symbol")]
    elif params.text("symbols"):
        try:
            wanted = [str(s) for s in json.loads(params.required("symbols"))]
        except (ValueError, TypeError) as exc:
            raise ApiError(400, -1100, "Illegal characters found in parameter 'symbols'.") from exc
    if wanted is not None and any(s not in listed for s in wanted):
        raise invalid_symbol()
    markets = [listed[s] for s in wanted] if wanted is not None else list(listed.values())
    return {
        "timezone": "UTC", "serverTime": now_ms,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(m) for m in markets],
    }


def _month_start(t_ms: int, shift: int = 0) -> int:
    d = datetime.fromtimestamp(t_ms // 1000, UTC)
    months = d.year * 12 + (d.month - 1) + shift
    return calendar.timegm((months // 12, months % 12 + 1, 1, 0, 0, 0)) * 1000


def _align_down(interval: str, t: int) -> int:
    if interval == "1M":
        return _month_start(t)
    size = INTERVALS[interval]
    offset = _WEEK_OFFSET if interval == "1w" else 0
    return t - (t - offset) % size


def _next_open(interval: str, t: int) -> int:
    return _month_start(t, 1) if interval == "1M" else t + INTERVALS[interval]


def _prev_open(interval: str, t: int) -> int:
    return _month_start(t, -1) if interval == "1M" else t - INTERVALS[interval]


def _candle(market: SimMarket, seed: int, open_ms: int, close_ms: int, now_ms: int) -> list[object]:
    rules = market_rules(market.base, market.quote)
    end = min(close_ms, now_ms)
    # The price path is piecewise linear with breakpoints every 20 minutes: sampling the breakpoints
    # gives the exact high and low of candles up to 8h; longer candles are sampled at 24 points.
    step = _BREAKPOINT if (end - open_ms) <= 24 * _BREAKPOINT else max(1, (end - open_ms) // 24)
    first = open_ms - open_ms % step + step
    points = [open_ms, *range(first, end, step), end]
    path = [pair_price(market.base, market.quote, p, seed) for p in points]
    open_, close = rules.price(path[0]), rules.price(path[-1])
    high = rules.price_up(max(path) * Decimal("1.002"))
    low = rules.price_down(min(path) * Decimal("0.998"))
    noise = (open_ms // 1000 * 2654435761 + len(market.symbol) * 40503) % 100_000
    scale = max(1, int((end - open_ms) // _MIN))
    unit = Decimal(1000) / max(Decimal(ASSETS.get(market.base, "1")), Decimal("0.00000001"))
    volume = rules.qty(unit * scale * (noise + 500) / 100_000)
    quote_volume = (volume * close).quantize(Decimal("0.00000001"))
    taker = rules.qty(volume * (noise % 61 + 20) / 100)
    return [open_ms, fmt8(open_), fmt8(high), fmt8(low), fmt8(close), fmt8(volume), close_ms,
            fmt8(quote_volume), int(noise % 997 + 3) * scale, fmt8(taker), fmt8(taker * close), "0"]


def klines(history: SimHistory, params: Params, now_ms: int) -> list[list[object]]:
    symbol = params.required("symbol")
    market = history.market(symbol)
    if market is None or not market.listed:
        raise invalid_symbol()
    interval = params.required("interval")
    if interval not in INTERVALS:
        raise ApiError(400, -1120, "Invalid interval.")
    limit = params.limit(500, 1000)
    start, end = params.integer("startTime"), params.integer("endTime")
    last_allowed = min(end if end is not None else now_ms, now_ms)
    opens: list[int] = []
    if start is not None:
        t = _align_down(interval, max(start, BINANCE_LAUNCH_MS))
        if t < start:
            t = _next_open(interval, t)
        while t <= last_allowed and len(opens) < limit:
            opens.append(t)
            t = _next_open(interval, t)
    else:
        t = _align_down(interval, last_allowed)
        while t >= BINANCE_LAUNCH_MS and len(opens) < limit:
            opens.append(t)
            t = _prev_open(interval, t)
        opens.reverse()
    return [_candle(market, history.seed, o, _next_open(interval, o) - 1, now_ms) for o in opens]
