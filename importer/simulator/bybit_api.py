"""Request parameters, time windows, cursor pages and error replies shared by the simulated Bybit v5 endpoints.

Bybit v5 answers with an envelope ``{"retCode": 0, "retMsg": "OK", "result": {...}, "retExtInfo": {}, "time":
ms}``; errors keep the envelope with a non-zero ``retCode`` (Bybit v5 docs, "Error Codes": 10001 parameter
error, 10002 request time outside the recv window, 10003 invalid API key, 10004 bad signature, 10005
permission denied, 10006 too many visits, 10010 unmatched IP, 10016 server error (retry), 10017 route not
found, 33004 key expired).
ccxt's ``bybit.handle_errors`` maps the code before looking at the HTTP status, so the status mostly matters
for replies without a JSON body (the per-IP limit's 403).

History endpoints share three rules that importers trip over, reproduced by ``TimeWindow`` and ``page``:
* a query covers a bounded time range: ``startTime``/``endTime`` may be at most ``max_span`` apart (7 days
  for executions and the transaction log, 30 days for deposits and withdrawals), and a missing bound is
  filled from the other one or from now with a *default* span (7 days, 24 hours for the transaction log,
  30 days) — so a client that sends only ``startTime`` silently gets one default span, not "everything since";
* rows come newest first, ``limit`` at a time (bounded per endpoint), and ``nextPageCursor`` (URL-encoded,
  empty on the last page) is passed back as ``cursor`` with the same other parameters;
* data older than the retention (2 years for executions and the transaction log) is not served.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote

T = TypeVar("T")
DAY_MS = 86_400_000
_INT = re.compile(r"^[0-9]{1,16}$")

PARAMS_ERROR = 10001
TIMESTAMP_ERROR = 10002
INVALID_KEY = 10003
INVALID_SIGN = 10004
PERMISSION_DENIED = 10005
TOO_MANY_VISITS = 10006
IP_MISMATCH = 10010
SERVER_ERROR = 10016
ROUTE_NOT_FOUND = 10017
KEY_EXPIRED = 33004


@dataclass(slots=True)
class BybitError(Exception):
    """An error reply: HTTP ``status`` with Bybit's envelope carrying ``code`` and ``msg``."""

    code: int
    msg: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()

    def body(self, now_ms: int) -> dict[str, Any]:
        return {"retCode": self.code, "retMsg": self.msg, "result": {}, "retExtInfo": {}, "time": now_ms}


def envelope(result: Any, now_ms: int, msg: str = "OK") -> dict[str, Any]:
    return {"retCode": 0, "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms}


def params_error(detail: str) -> BybitError:
    return BybitError(PARAMS_ERROR, f"params error: {detail}")


class Query:
    """The query string of one GET request, as Bybit validates it."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.values: dict[str, str] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            if key in self.values:
                raise params_error(f"duplicate parameter {key}")
            self.values[key] = value

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        return default if value in (None, "") else value

    def integer(self, key: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        if not _INT.match(value):
            raise params_error(f"{key} must be an integer")
        return int(value)

    def limit(self, default: int, maximum: int) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if not 1 <= value <= maximum:
            raise params_error(f"limit must be in [1, {maximum}]")
        return value

    def one_of(self, key: str, allowed: Sequence[str], default: str | None = None) -> str | None:
        value = self.text(key, default)
        if value is not None and value not in allowed:
            raise params_error(f"{key} must be one of {', '.join(allowed)}")
        return value


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An endpoint's time rules: the span used when a bound is missing, and the largest span allowed."""

    default_span: int
    max_span: int
    retention: int | None = None  # how far back the endpoint serves data

    def resolve(self, query: Query, now_ms: int) -> tuple[int, int]:
        """The inclusive [start, end] ms a query covers, or a params error (10001) for a too-long range."""
        start, end = query.integer("startTime"), query.integer("endTime")
        if start is None and end is None:
            end = now_ms
            start = now_ms - self.default_span
        elif end is None:
            assert start is not None
            end = start + self.default_span
        elif start is None:
            start = end - self.default_span
        if end < start:
            raise params_error("startTime must be earlier than endTime")
        if end - start > self.max_span:
            raise params_error(f"the time range between startTime and endTime cannot exceed "
                               f"{self.max_span // DAY_MS} days")
        if self.retention is not None:
            start = max(start, now_ms - self.retention)
        return start, end


def page(rows: Sequence[T], query: Query, key: Callable[[T], tuple[int, ...]], limit: int) -> tuple[list[T], str]:
    """One page of ``rows`` (already filtered), newest first by ``key``, after the cursor if one was sent.

    The cursor names the sort key of the last row handed out, so paging is stable while rows are added
    elsewhere; it is URL-encoded like Bybit's ("…%3A…%2C…") and comes back decoded by the query parser."""
    ordered = sorted(rows, key=key, reverse=True)
    cursor = query.text("cursor")
    if cursor is not None:
        after = _decode(cursor)
        ordered = [r for r in ordered if key(r) < after]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return chunk, _encode(key(chunk[-1])) if more and chunk else ""


def _encode(sort_key: tuple[int, ...]) -> str:
    text = ":".join(str(part) for part in sort_key)
    return quote(f"{text},{text}", safe="")


def _decode(cursor: str) -> tuple[int, ...]:
    first = unquote(cursor).split(",")[0]
    parts = first.split(":")
    if not parts or not all(_INT.match(p) for p in parts):
        raise params_error("invalid cursor")
    return tuple(int(p) for p in parts)
