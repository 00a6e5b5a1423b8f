"""Point any ccxt exchange at another base URL, and teach it about a market it cannot load.

ccxt builds every request URL as ``exchange.urls['api'][<api name>] + '/' + path``. Rewriting the
scheme and host of each entry (``https://api.binance.com/sapi/v1`` -> ``http://127.0.0.1:8123/sapi/v1``)
sends all traffic to a simulator or a proxy while keeping the paths ccxt expects. The same function
serves the importer's ``--api-url`` option, so it works for any exchange: entries may be strings or
nested dicts, and may use the ``{hostname}`` placeholder (okx, bybit), which is dropped with the host.

Delisted markets are missing from ``load_markets`` but their trades are still served by the exchange;
``market_for`` + ``add_market`` inject such a market so ``fetch_my_trades('LUNA/BUSD')`` works.
"""

from __future__ import annotations

import re
from typing import Any

_ORIGIN = re.compile(r"^(?:https?|wss?)://[^/]*", re.IGNORECASE)

# ccxt.binance options for a read-only spot import: load_markets then asks only GET /api/v3/exchangeInfo
# (no futures exchangeInfo, no sapi capital/config/getall, no margin pairs).
BINANCE_SPOT_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


def rewrite_url(url: str, base_url: str) -> str:
    """``https://host[:port]/path`` -> ``base_url/path``; non-HTTP(S) values are returned unchanged."""
    if not re.match(r"^https?://", url, re.IGNORECASE):
        return url
    return base_url.rstrip("/") + _ORIGIN.sub("", url, count=1)


def _rewrite(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return rewrite_url(value, base_url)
    if isinstance(value, dict):
        return {key: _rewrite(item, base_url) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, base_url) for item in value]
    return value


def point_ccxt_at(exchange: Any, base_url: str) -> None:
    """Rewrite every HTTP(S) entry of ``exchange.urls['api']`` (recursively) onto ``base_url``.

    ``base_url`` is ``scheme://host[:port][/prefix]``; the original path of each entry is appended.
    WebSocket entries are left alone (the simulator speaks REST only).
    """
    if not re.match(r"^https?://[^/]+", base_url, re.IGNORECASE):
        raise ValueError(f"base URL must look like http(s)://host[:port][/prefix], got {base_url!r}")
    urls = exchange.urls
    urls["api"] = _rewrite(urls.get("api"), base_url)


def market_for(symbol_id: str, base: str, quote: str, *, active: bool = False,
               info: dict[str, Any] | None = None) -> dict[str, Any]:
    """A unified ccxt spot market for an exchange symbol id, shaped like ``load_markets`` output.

    Build it with the exchange's ids and unified codes (they are the same on Binance for nearly all
    assets); ``active=False`` because the usual reason to need it is a delisted market.
    """
    return {
        "id": symbol_id, "lowercaseId": symbol_id.lower(), "symbol": f"{base}/{quote}",
        "base": base, "quote": quote, "settle": None, "baseId": base, "quoteId": quote, "settleId": None,
        "type": "spot", "spot": True, "margin": False, "swap": False, "future": False, "option": False,
        "index": None, "active": active, "contract": False, "linear": None, "inverse": None, "subType": None,
        "taker": None, "maker": None, "contractSize": None, "expiry": None, "expiryDatetime": None,
        "strike": None, "optionType": None,
        "precision": {"amount": None, "price": None, "cost": None, "base": None, "quote": None},
        "limits": {"leverage": {"min": None, "max": None}, "amount": {"min": None, "max": None},
                   "price": {"min": None, "max": None}, "cost": {"min": None, "max": None}},
        "marginModes": {"cross": False, "isolated": False}, "created": None,
        "info": info if info is not None else {"symbol": symbol_id, "baseAsset": base, "quoteAsset": quote,
                                               "status": "BREAK"},
    }


def add_market(exchange: Any, market: dict[str, Any]) -> None:
    """Add (or replace) one market in a loaded exchange, keeping ccxt's indexes consistent.

    ``set_markets`` rebuilds ``markets``, ``markets_by_id``, ``symbols``, ``ids`` and the currencies, so
    ``exchange.market('X/Y')`` and the id lookup used when parsing trades both find the new market.
    """
    if exchange.markets is None:
        exchange.load_markets()
    merged = exchange.deep_extend(exchange.safe_market_structure(), market)
    others = [m for m in exchange.markets.values() if m["symbol"] != merged["symbol"]]
    exchange.set_markets([*others, merged])


def reject_non_json(exchange: Any) -> None:
    """Make a cut-off or non-JSON success body raise ``ccxt.BadResponse`` (idempotent).

    ccxt (4.5.x) does not fail on a 200 reply whose JSON is truncated: ``fetch`` returns the raw text,
    implicit methods hand that string back and unified parsers turn it into garbage records (or
    ``TypeError``). Wrapping ``exchange.fetch`` turns that into a retryable ccxt error. The message names
    the method and the URL without its query string, which carries the request signature.
    """
    if getattr(exchange, "_rejects_non_json", False):
        return
    import ccxt  # the simulator itself does not need ccxt

    original = exchange.fetch

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        result = original(url, method, headers, body)
        if isinstance(result, str | bytes):
            where = url.split("?", 1)[0]
            raise ccxt.BadResponse(f"{exchange.id} {method} {where} answered a body that is not complete JSON")
        return result

    exchange.fetch = fetch
    exchange._rejects_non_json = True
