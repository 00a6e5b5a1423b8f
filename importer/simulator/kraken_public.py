"""Kraken's public market-data endpoints, computed from a ``KrakenHistory``.

``Assets`` and ``AssetPairs`` are what ``ccxt.kraken.load_markets`` asks for (in that order); ``OHLC`` serves
deterministic candles from the same price path the trades were generated on, with Kraken's rules: nine
fixed intervals, ``since`` exclusive, the still-forming current candle always last, and, as on Kraken, only
the 720 most recent candles retrievable (``depth=None`` lifts that for pricing old trades in tests);
``Time`` and ``SystemStatus`` complete the set ccxt may call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from importer.simulator.kraken_api import INVALID_ARGUMENTS, UNKNOWN_ASSET, UNKNOWN_PAIR, Form, KrakenError
from importer.simulator.kraken_history import KrakenHistory
from importer.simulator.kraken_universe import FIAT, KrakenPair, fmt_fixed, pair_price, usd, wsname

INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)  # minutes
OHLC_DEPTH = 720
_BREAKPOINT_S = 20 * 60  # the finest octave of prices.usd_price: the path is linear between these
TAKER_TIERS = [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16],
               [2500000, 0.14], [5000000, 0.12], [10000000, 0.1]]
MAKER_TIERS = [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06],
               [2500000, 0.04], [5000000, 0.02], [10000000, 0.0]]


def time_info(now_s: int) -> dict[str, object]:
    """GET /0/public/Time."""
    return {"unixtime": now_s, "rfc1123": datetime.fromtimestamp(now_s, UTC).strftime("%a, %d %b %y %H:%M:%S +0000")}


def system_status(now_s: int) -> dict[str, object]:
    """GET /0/public/SystemStatus."""
    return {"status": "online", "timestamp": datetime.fromtimestamp(now_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def assets(history: KrakenHistory, form: Form) -> dict[str, object]:
    """GET /0/public/Assets (optionally ``asset=XBT,ZEUR`` by id or altname)."""
    by_name = {a.id: a for a in history.assets} | {a.altname: a for a in history.assets}
    wanted = form.items("asset")
    if wanted is not None and any(w not in by_name for w in wanted):
        raise KrakenError(UNKNOWN_ASSET)
    chosen = list(history.assets) if wanted is None else [by_name[w] for w in wanted]
    out: dict[str, object] = {}
    for a in chosen:
        row: dict[str, object] = {"aclass": "currency", "altname": a.altname, "decimals": a.decimals,
                                  "display_decimals": a.display_decimals}
        if a.collateral_value is not None:
            row["collateral_value"] = float(a.collateral_value)  # float-ok: Kraken sends a JSON number here
        row["status"] = "enabled"
        out[a.id] = row
    return out


def find_pair(history: KrakenHistory, name: str | None) -> KrakenPair:
    """A pair by id or altname (``XXBTZUSD`` or ``XBTUSD``), else EQuery:Unknown asset pair."""
    for p in history.pairs:
        if name in (p.id, p.altname):
            return p
    raise KrakenError(UNKNOWN_PAIR)


def pair_info(p: KrakenPair) -> dict[str, object]:
    """One ``AssetPairs`` entry, shaped like Kraken's."""
    leverage = [2, 3, 4, 5] if p.base in ("XXBT", "XETH") and p.quote in FIAT else []
    return {
        "altname": p.altname, "wsname": wsname(p), "aclass_base": "currency", "base": p.base,
        "aclass_quote": "currency", "quote": p.quote, "lot": "unit", "cost_decimals": p.cost_decimals,
        "pair_decimals": p.pair_decimals, "lot_decimals": p.lot_decimals, "lot_multiplier": 1,
        "leverage_buy": leverage, "leverage_sell": leverage, "fees": TAKER_TIERS, "fees_maker": MAKER_TIERS,
        "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40, "ordermin": p.ordermin,
        "costmin": p.costmin, "tick_size": fmt_fixed(p.tick, p.pair_decimals), "status": "online",
    }


def asset_pairs(history: KrakenHistory, form: Form) -> dict[str, object]:
    """GET /0/public/AssetPairs (optionally ``pair=XBTUSD,DOTEUR``)."""
    wanted = form.items("pair")
    chosen = list(history.pairs) if wanted is None else [find_pair(history, w) for w in wanted]
    info = form.text("info", "info")
    if info not in ("info", "leverage", "fees", "margin"):
        raise KrakenError(INVALID_ARGUMENTS)
    out: dict[str, object] = {}
    for p in chosen:
        full = pair_info(p)
        keys = {"leverage": ("leverage_buy", "leverage_sell"), "fees": ("fees", "fees_maker", "fee_volume_currency"),
                "margin": ("margin_call", "margin_stop")}.get(info)
        out[p.id] = full if keys is None else {k: full[k] for k in keys}
    return out


def _candle(history: KrakenHistory, p: KrakenPair, open_s: int, step: int, now_s: int) -> list[object]:
    end = min(open_s + step, now_s)
    # Sampling the breakpoints gives exact extremes for candles up to 8h; longer ones are sampled at 24 points.
    every = _BREAKPOINT_S if end - open_s <= 24 * _BREAKPOINT_S else max(1, (end - open_s) // 24)
    first = open_s - open_s % every + every
    path = [pair_price(p, t * 1000, history.seed) for t in (open_s, *range(first, end, every), end)]
    tick = p.tick
    open_, close = path[0].quantize(tick), path[-1].quantize(tick)
    high = (max(path) * Decimal("1.002")).quantize(tick, rounding=ROUND_CEILING)
    low = max((min(path) * Decimal("0.998")).quantize(tick, rounding=ROUND_FLOOR), tick)
    noise = (open_s * 2654435761 + len(p.id) * 40503) % 100_000
    minutes = max(1, (end - open_s) // 60)
    unit = Decimal(500) / max(usd(history.code(p.base), open_s * 1000, history.seed), Decimal("0.00000001"))
    volume = (unit * minutes * (noise + 500) / 100_000).quantize(p.lot)
    vwap = ((open_ + close) / 2).quantize(tick)
    count = int(noise % 97 + 1) * minutes if volume else 0
    d = p.pair_decimals
    return [open_s, fmt_fixed(open_, d), fmt_fixed(high, d), fmt_fixed(low, d), fmt_fixed(close, d),
            fmt_fixed(vwap, d), fmt_fixed(volume, p.lot_decimals), count]


def ohlc(history: KrakenHistory, form: Form, now_s: int, depth: int | None = OHLC_DEPTH) -> dict[str, object]:
    """GET /0/public/OHLC: ``pair`` (required), ``interval`` in minutes (default 1), ``since`` (exclusive)."""
    p = find_pair(history, form.text("pair"))
    interval = form.integer("interval", 1)
    if interval not in INTERVALS:
        raise KrakenError(INVALID_ARGUMENTS)
    step = interval * 60
    current = now_s - now_s % step
    since_text = form.text("since")
    try:
        since = int(Decimal(since_text)) if since_text is not None else None
    except ArithmeticError as exc:
        raise KrakenError(INVALID_ARGUMENTS) from exc
    if depth is not None:
        lo = current - (depth - 1) * step
        if since is not None:
            lo = max(lo, since - since % step + step)
        opens = range(lo, current + step, step)
    elif since is None:
        opens = range(current - (OHLC_DEPTH - 1) * step, current + step, step)
    else:
        lo = since - since % step + step
        opens = range(lo, min(current, lo + (OHLC_DEPTH - 1) * step) + step, step)
    return {p.id: [_candle(history, p, o, step, now_s) for o in opens], "last": current - step}
