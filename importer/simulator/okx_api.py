"""Envelope, errors, parameters, cursor paging and rate limits shared by the simulated OKX endpoints.

OKX answers ``{"code": "0", "msg": "", "data": [...]}``; a failure carries a non-zero ``code`` (a string) that
ccxt's ``okx.handle_errors`` maps to an exception before it looks at the HTTP status. The codes and messages
here are OKX's ("Error Code > REST API > Public" in the OKX API v5 docs): 50011 rate limit (HTTP 429), 50014
empty parameter, 50101-50113 authentication (HTTP 401), 51000 bad parameter.

Paging ("Get bills details", "Get transaction details", "Get deposit history"): results are newest first, at
most ``limit`` (default and maximum 100); ``after`` asks for records older than the cursor, ``before`` for
records newer than it; the cursor is a bill id for fills and bills and a ``ts`` in ms for deposits and
withdrawals. ``begin`` / ``end`` (fills and bills) filter on ``ts``, both inclusive. With ``after`` (or no
cursor) the newest matching records come back; with ``before`` alone the docs do not say which end of a longer
range is served, and this simulator serves the records adjacent to the cursor (oldest of the range).

Rate limits ("Rate limit" of each endpoint): a fixed number of requests per window, counted per User ID for
private endpoints and per IP (instruments: per IP and instType) for public ones; beyond it HTTP 429 with
code 50011.
"""

from __future__ import annotations

import bisect
import collections
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

Row = TypeVar("Row")
INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
MAX_LIMIT = 100


class OkxError(Exception):
    """An error reply: HTTP ``status`` with ``{"code": code, "msg": msg, "data": []}``."""

    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.status, self.code, self.msg = status, code, msg

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": []}


def rate_limited() -> OkxError:
    return OkxError(429, "50011", "Rate limit reached. Please refer to API documentation and throttle requests "
                                  "accordingly.")


def param_empty(name: str) -> OkxError:
    return OkxError(400, "50014", f"Parameter {name} can not be empty.")


def param_error(name: str) -> OkxError:
    return OkxError(400, "51000", f"Parameter {name} error")


def envelope(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


class Query:
    """The query string of one GET request, read the way OKX validates it."""

    def __init__(self, text: str) -> None:
        self.values: dict[str, str] = dict(parse_qsl(text, keep_blank_values=True))

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if value not in (None, "") else None

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise param_empty(key)
        return value

    def integer(self, key: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        if not value.isdigit() or len(value) > 20:
            raise param_error(key)
        return int(value)

    def limit(self, maximum: int = MAX_LIMIT, default: int = MAX_LIMIT) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if not 1 <= value <= maximum:
            raise param_error("limit")
        return value

    def inst_type(self, required: bool) -> str | None:
        value = self.required("instType") if required else self.text("instType")
        if value is not None and value not in INST_TYPES:
            raise param_error("instType")
        return value

    def choices(self, key: str) -> set[str] | None:
        """A comma-separated filter (``ccy=BTC,ETH``), or None when absent."""
        value = self.text(key)
        return None if value is None else {v.strip() for v in value.split(",") if v.strip()}


def newest_first(rows: Sequence[Row], key: Callable[[Row], int], query: Query, *, time_of: Callable[[Row], int],
                 oldest: int = 0, limit: int = MAX_LIMIT, time_filter: bool = True) -> list[Row]:
    """One page of ``rows`` (sorted ascending by ``key``) the way OKX pages them; see the module docstring.

    ``oldest`` is the retention limit: rows with ``time_of(row) < oldest`` no longer exist for this endpoint."""
    after, before = query.integer("after"), query.integer("before")
    begin = query.integer("begin") if time_filter else None
    end = query.integer("end") if time_filter else None
    keys = [key(r) for r in rows]
    low = bisect.bisect_right(keys, before) if before is not None else 0
    high = bisect.bisect_left(keys, after) if after is not None else len(rows)
    lower = max(oldest, begin or 0)
    window = [r for r in rows[low:high] if time_of(r) >= lower and (end is None or time_of(r) <= end)]
    chosen = window[:limit] if before is not None and after is None else window[-limit:]
    return chosen[::-1]


@dataclass(frozen=True, slots=True)
class Limit:
    """``count`` requests per ``window_ms``, counted per User ID (``uid``) or per client IP (``ip``)."""

    count: int
    window_ms: int
    rule: str = "uid"


# OKX API v5 docs, "Rate Limit" of each endpoint.
LIMITS: dict[str, Limit] = {
    "/api/v5/public/time": Limit(10, 2000, "ip"),
    "/api/v5/public/instruments": Limit(20, 2000, "ip"),
    "/api/v5/market/candles": Limit(40, 2000, "ip"),
    "/api/v5/market/history-candles": Limit(20, 2000, "ip"),
    "/api/v5/asset/currencies": Limit(6, 1000),
    "/api/v5/asset/balances": Limit(6, 1000),
    "/api/v5/account/balance": Limit(10, 2000),
    "/api/v5/account/config": Limit(5, 2000),
    "/api/v5/trade/fills": Limit(60, 2000),
    "/api/v5/trade/fills-history": Limit(10, 2000),
    "/api/v5/account/bills": Limit(5, 1000),
    "/api/v5/account/bills-archive": Limit(5, 2000),
    "/api/v5/asset/deposit-history": Limit(6, 1000),
    "/api/v5/asset/withdrawal-history": Limit(6, 1000),
}


class RateLimiter:
    """Sliding-window request counts per bucket; thread-safe. Refused requests are not counted."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def allow(self, bucket: str, limit: Limit) -> bool:
        now = self._clock() * 1000
        with self._lock:
            seen = self._seen[bucket]
            while seen and seen[0] <= now - limit.window_ms:
                seen.popleft()
            if len(seen) >= limit.count:
                return False
            seen.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
