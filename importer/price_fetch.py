"""Exchange candles as prices: which market to ask, and the candles of a time range, over ccxt's public API.

Valuation needs the value of an asset at a moment; an exchange the user already trades on answers that with
the close of the candle that contains the moment (``fetch_ohlcv``, no API key needed). ``choose_market``
picks the market: the asset against the tax currency when the exchange lists it, else against a stablecoin
bridge (USDT, then USDC), which valuation converts to the tax currency. ``fetch_candles`` pages through a time
range and turns each candle into a ``PricePoint`` with the close as an exact ``Decimal`` (the client is built
with ``number = str``, so the exchange's decimal text never passes through a float).

Two kinds of failure must not be confused, because they call for different actions: "there is no price"
(no such market, no candle at that time: import a price file or configure another exchange) and "the source
could not be asked" (unreachable, rate-limited, in maintenance: try again later). The first is
``MarketNotFound`` or an empty result; the second is ``SourceUnavailable``, raised after ``Caller`` has
retried the request a few times with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt

from taxsync.prices.records import RESOLUTION_MS, PricePoint

TIMEFRAMES: tuple[str, ...] = ("1m", "1h", "1d")  # the candle sizes the price cache keeps, finest first
BRIDGES: tuple[str, ...] = ("USDT", "USDC")  # stablecoins valuation converts to the tax currency
DEFAULT_PAGE = 500  # candles per request when ccxt does not know the exchange's maximum
# How many of the most recent candles of each size an exchange serves at all (Kraken: 720); older ranges are
# not asked for, since the answer would only be the most recent candles again.
CANDLE_DEPTH: dict[str, int] = {"kraken": 720}
TRANSIENT = (ccxt.NetworkError, ccxt.BadResponse)  # unreachable, timeouts, 5xx, rate limits, cut-off bodies
RATE_LIMITED = (ccxt.RateLimitExceeded, ccxt.DDoSProtection)


class PriceSourceError(Exception):
    """A price source could not give prices; ``reason`` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MarketNotFound(PriceSourceError):
    """The exchange has no market to price the asset with: no price exists there."""


class SourceUnavailable(PriceSourceError):
    """The exchange could not be asked (unreachable, rate-limited, down): try again later."""


class SourceRefused(PriceSourceError):
    """The exchange answered the request with an error that retrying will not cure."""


@dataclass
class Caller:
    """Calls one exchange method, retrying transient failures with exponential backoff, and counts requests.

    A rate limit (HTTP 429/418) backs off four times longer and waits at least the server's ``Retry-After``
    (up to ``max_wait`` seconds). After ``attempts`` tries the failure becomes ``SourceUnavailable``.
    """

    attempts: int = 4
    delay: float = 1.0
    max_wait: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0

    def __call__(self, exchange: Any, method: Callable[..., Any], *args: Any) -> Any:
        for attempt in range(1, self.attempts + 1):
            self.requests += 1
            try:
                return method(*args)
            except ccxt.BadSymbol as error:
                raise MarketNotFound(f"{exchange.id}: {_short(error)}") from None
            except TRANSIENT as error:
                limited = isinstance(error, RATE_LIMITED)
                if attempt == self.attempts:
                    what = "rate-limited" if limited else "unreachable"
                    raise SourceUnavailable(f"{exchange.id} {what} after {attempt} attempts "
                                            f"({type(error).__name__}: {_short(error)})") from None
                self.sleep(self._wait(exchange, attempt, limited))
            except ccxt.BaseError as error:
                raise SourceRefused(f"{exchange.id} refused ({type(error).__name__}: {_short(error)})") from None
        raise AssertionError("unreachable")

    def _wait(self, exchange: Any, attempt: int, limited: bool) -> float:
        wait = self.delay * 2 ** (attempt - 1) * (4 if limited else 1)
        if limited:
            headers = getattr(exchange, "last_response_headers", None) or {}
            retry_after = str(headers.get("Retry-After") or "")
            if retry_after.isdigit():  # seconds; the HTTP-date form is not used by exchanges
                wait = max(wait, int(retry_after))
        return min(wait, self.max_wait)


def _short(error: Exception) -> str:
    """The first line of a ccxt message without the query string (it may carry a signature)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return " ".join(part.split("?", 1)[0] if "://" in part else part for part in text.split(" "))[:200]


def choose_market(exchange: Any, asset: str, currency: str, *, call: Caller | None = None,
                  bridges: Sequence[str] = BRIDGES) -> tuple[str, str] | None:
    """``(symbol, quote)`` of the spot market that prices ``asset``: ``asset/currency`` if the exchange lists
    it, else ``asset/USDT`` (then ``asset/USDC``); None when it lists none of them. Loads the markets once
    (one request or a few, retried like any other)."""
    call = call or Caller()
    if not exchange.markets:
        call(exchange, exchange.load_markets)
    for quote in (currency, *bridges):
        if quote == asset:
            continue
        market = exchange.markets.get(f"{asset}/{quote}")
        if market is not None and market.get("spot", True) and market.get("active") is not False:
            return market["symbol"], quote
    return None


def page_size(exchange: Any) -> int:
    """The most candles one ``fetch_ohlcv`` request returns on this exchange (ccxt's feature table)."""
    features = (getattr(exchange, "features", None) or {}).get("spot") or {}
    limit = (features.get("fetchOHLCV") or {}).get("limit")
    return int(limit) if limit else DEFAULT_PAGE


def served_from(exchange: Any, timeframe: str, now_ms: int) -> int | None:
    """The oldest candle open the exchange still serves for ``timeframe`` (None: no limit)."""
    depth = CANDLE_DEPTH.get(exchange.id)
    if depth is None:
        return None
    step = RESOLUTION_MS[timeframe]
    return now_ms - now_ms % step - (depth - 1) * step


def fetch_candles(exchange: Any, base: str, quote: str, since_ms: int, until_ms: int, timeframe: str, *,
                  call: Caller | None = None, now_ms: int | None = None) -> list[PricePoint]:
    """The closed ``timeframe`` candles of ``base/quote`` that open in ``[since_ms, until_ms]``, oldest first,
    as prices (the close). Pages with ``since`` and ``limit`` until ``until_ms``; the still-forming candle is
    left out (its close is not final). An empty list means the exchange has no candle there (the market did
    not trade then, or the exchange no longer serves candles that old). Raises ``MarketNotFound``,
    ``SourceUnavailable`` or ``SourceRefused``."""
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"timeframe must be one of {', '.join(TIMEFRAMES)}, not {timeframe!r}")
    call = call or Caller()
    if not exchange.markets:
        call(exchange, exchange.load_markets)
    now = exchange.milliseconds() if now_ms is None else now_ms
    step = RESOLUTION_MS[timeframe]
    symbol, source = f"{base}/{quote}", f"{exchange.id} {timeframe} close {base}/{quote}"
    cursor = since_ms - since_ms % step
    oldest = served_from(exchange, timeframe, now)
    if oldest is not None and cursor < oldest:
        cursor = oldest  # what lies before is not served: asking would return the most recent candles
    last = min(until_ms, now - step)  # the open of the last candle that has closed
    page = page_size(exchange)
    points: list[PricePoint] = []
    while cursor <= last:
        limit = min(page, (last - cursor) // step + 1)
        rows = call(exchange, exchange.fetch_ohlcv, symbol, timeframe, cursor, limit)
        fresh = [row for row in rows or () if cursor <= int(row[0]) <= last]
        if not fresh:
            break
        for row in fresh:
            price = _close(row[4], source)
            if price is not None:  # a candle without a usable close is no price; the others still are
                points.append(PricePoint(base, quote, int(row[0]), timeframe, price, source))
        cursor = int(fresh[-1][0]) + step
    return points


def _close(value: Any, source: str) -> Decimal | None:
    if isinstance(value, float):  # a bug: the client must be built with number=str (importer.exchanges)
        raise TypeError(f"{source}: the ccxt client returned a float; build it with number = str")
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() and price > 0 else None
