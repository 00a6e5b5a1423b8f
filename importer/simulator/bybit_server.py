"""An HTTP server on 127.0.0.1 that speaks enough of Bybit's v5 REST API for unmodified ``ccxt.bybit``.

``BybitSimulator`` serves a ``BybitHistory`` (a unified trading account) through Bybit's paths, envelope and
error codes (``bybit_api``), its endpoint rules (``bybit_endpoints``), its authentication and its limits.

Authentication (Bybit v5 docs, "Integration Guidance" / "Authentication"): headers ``X-BAPI-API-KEY``,
``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-RECV-WINDOW`` (default 5000) and ``X-BAPI-SIGN`` = hex HMAC-SHA256(secret,
timestamp + apiKey + recvWindow + queryString) for GET (the JSON body instead of the query string for POST).
The query string is signed exactly as sent, so a cursor must be passed back byte for byte. A request is
refused with 10002 unless ``server_time - recvWindow <= timestamp < server_time + 1000``; an unknown key gets
10003 (HTTP 401), a wrong signature 10004 (whose message echoes the signed string, API key included: a real
leak path for error messages), an expired key 33004, a request from outside the key's IP list 10010, and a
key without read rights 10005 on everything but ``/v5/user/query-api``.

Limits ("Rate Limit Rules"): per UID and endpoint a rolling one-second budget (``RATE_LIMITS``, the figures of
ccxt's cost table, which mirrors Bybit's UTA table) answered with ``retCode`` 10006 "Too many visits!" and the
``X-Bapi-Limit``, ``X-Bapi-Limit-Status``, ``X-Bapi-Limit-Reset-Timestamp`` headers on every private reply;
per IP 600 requests in any 5 seconds, beyond which Bybit answers HTTP 403 ("access too frequent") and bans the
IP for 10 minutes (``ip_ban_seconds``). ccxt maps 10006 and the 403 to ``RateLimitExceeded``. Injected faults
(``Faults``) answer 429 with a gateway text body (ccxt: ``RateLimitExceeded`` from the HTTP status) and 5xx
with CloudFront HTML (``ExchangeNotAvailable``).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from importer.simulator import bybit_endpoints as endpoints
from importer.simulator.bybit_api import (
    INVALID_KEY,
    INVALID_SIGN,
    IP_MISMATCH,
    KEY_EXPIRED,
    PERMISSION_DENIED,
    ROUTE_NOT_FOUND,
    SERVER_ERROR,
    TIMESTAMP_ERROR,
    TOO_MANY_VISITS,
    BybitError,
    Query,
    envelope,
)
from importer.simulator.bybit_history import BybitDeposit, BybitExecution, BybitHistory, BybitLogEntry, BybitWithdrawal
from importer.simulator.server import Faults, HttpSimulator, Reply, SimKey

__all__ = ["IP_LIMIT", "RATE_LIMITS", "BybitSimulator"]

JSON = "application/json; charset=utf-8"
QUERY_API = "/v5/user/query-api"
# Requests per second per UID (ccxt 4.5.90 bybit cost comments: "10/s => cost = 50 / 10 = 5" and so on).
RATE_LIMITS: dict[str, int] = {
    "/v5/execution/list": 10, "/v5/account/transaction-log": 30, "/v5/account/wallet-balance": 50,
    "/v5/account/info": 10, "/v5/asset/deposit/query-record": 5, "/v5/asset/withdraw/query-record": 5,
    QUERY_API: 10, "/v5/asset/coin/query-info": 2,
}
IP_LIMIT = (600, 5.0)  # requests per window of seconds, per IP
FAULT_BODIES: dict[int, tuple[str, bytes]] = {
    429: ("text/plain", b"Too Many Requests"),
    500: ("text/html", b"<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 "
                       b"Internal Server Error</h1></center></body></html>"),
    502: ("text/html", b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                       b"</h1></center><hr><center>CloudFront</center></body></html>"),
    503: ("text/html", b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
                       b"<h1>503 Service Temporarily Unavailable</h1></center></body></html>"),
}
Route = tuple[bool, endpoints.Handler]  # (signed, handler)
ROUTES: dict[str, Route] = {
    "/v5/market/time": (False, endpoints.market_time),
    "/v5/market/instruments-info": (False, endpoints.instruments_info),
    "/v5/asset/coin/query-info": (True, endpoints.coin_info),
    QUERY_API: (True, endpoints.query_api),
    "/v5/account/info": (True, endpoints.account_info),
    "/v5/account/wallet-balance": (True, endpoints.wallet_balance),
    "/v5/execution/list": (True, endpoints.executions),
    "/v5/asset/deposit/query-record": (True, endpoints.deposits),
    "/v5/asset/withdraw/query-record": (True, endpoints.withdrawals),
    "/v5/account/transaction-log": (True, endpoints.transaction_log),
}


class _Window:
    """Request times per bucket within a rolling window; thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._times: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def take(self, bucket: str, limit: int, seconds: float) -> tuple[bool, int, float]:
        """Count one request if the budget allows: (accepted, remaining, when the oldest one leaves)."""
        now = self._clock()
        with self._lock:
            times = self._times[bucket]
            while times and times[0] <= now - seconds:
                times.popleft()
            if len(times) >= limit:
                return False, 0, times[0] + seconds
            times.append(now)
            return True, limit - len(times), now

    def reset(self) -> None:
        with self._lock:
            self._times.clear()


class BybitSimulator(HttpSimulator):
    """Serves a Bybit ``history`` for ``keys`` on 127.0.0.1 in a background thread; use as a context manager.

    ``rate_limits=None`` switches the per-UID budgets off and ``ip_limit=None`` the per-IP one (for clients
    with a tiny ccxt ``rateLimit``); ``ip_ban_seconds`` is how long a 403 lasts; ``server_errors`` is the share
    of signed requests answered with Bybit's transient ``retCode`` 10016 (drawn reproducibly from the faults' seed).
    """

    thread_name = "bybit-simulator"

    def __init__(self, history: BybitHistory, keys: Sequence[SimKey], *, faults: Faults | None = None,
                 port: int = 0, rate_limits: Mapping[str, int] | None = RATE_LIMITS,
                 ip_limit: tuple[int, float] | None = IP_LIMIT, ip_ban_seconds: float = 600.0,
                 server_errors: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(faults=faults, port=port, clock=clock)
        self._history = history
        self._keys = {k.api_key: k for k in keys}
        self.rate_limits = dict(rate_limits) if rate_limits is not None else None
        self.ip_limit = ip_limit
        self.ip_ban_seconds = ip_ban_seconds
        self._uid_window = _Window(clock)
        self._ip_window = _Window(clock)
        self._banned: dict[str, float] = {}
        self.server_errors = server_errors
        self._draws = itertools.count()
        self._seed = faults.seed if faults is not None else 0

    # -- state -------------------------------------------------------------------------------------------
    @property
    def history(self) -> BybitHistory:
        return self._history

    def add_activity(self, *, executions: Iterable[BybitExecution] = (), log: Iterable[BybitLogEntry] = (),
                     deposits: Iterable[BybitDeposit] = (), withdrawals: Iterable[BybitWithdrawal] = ()) -> None:
        """Serve new records from now on (the next night's activity)."""
        with self._lock:
            self._history = self._history.with_added(executions=executions, log=log, deposits=deposits,
                                                     withdrawals=withdrawals)

    def set_history(self, history: BybitHistory) -> None:
        """Serve ``history`` from now on (e.g. the same records with a pending withdrawal now final)."""
        with self._lock:
            self._history = history

    def reset_rate_limits(self) -> None:
        self._uid_window.reset()
        self._ip_window.reset()
        self._banned.clear()

    # -- replies -----------------------------------------------------------------------------------------
    def _json(self, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), headers, JSON)

    def _fault_reply(self, status: int) -> Reply:
        content_type, payload = FAULT_BODIES[status]
        return Reply(status, payload, (), content_type)

    def _error_reply(self, exc: Exception) -> Reply:
        if isinstance(exc, BybitError):
            return self._json(exc.status, exc.body(self.now_ms()), exc.headers)
        self.errors.append(exc)
        return self._json(500, BybitError(SERVER_ERROR, "Server error.").body(self.now_ms()))

    # -- request handling --------------------------------------------------------------------------------
    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        if not self._ip_allowed(client):
            return Reply(403, b"access too frequent", (), "text/plain")
        route = ROUTES.get(path)
        if route is None or method != "GET":
            raise BybitError(ROUTE_NOT_FOUND, "Route not found", 404)
        signed, handler = route
        params = Query(query)
        key, limit_headers = (self._authenticate(path, query, headers, client) if signed else (None, ()))
        if signed and self.server_errors and random.Random(f"{self._seed}:{next(self._draws)}").random() < (
                self.server_errors):
            raise BybitError(SERVER_ERROR, "System error. Please try again later.", headers=limit_headers)
        try:
            result = handler(self._history, params, key, self.now_ms())
        except BybitError as err:
            err.headers = limit_headers
            raise
        return self._json(200, envelope(result, self.now_ms()), limit_headers)

    def _ip_allowed(self, client: str) -> bool:
        if self.ip_limit is None:
            return True
        now = self._clock()
        if self._banned.get(client, 0.0) > now:
            return False
        ok, _, _ = self._ip_window.take(f"ip:{client}", *self.ip_limit)
        if not ok:
            self._banned[client] = now + self.ip_ban_seconds
        return ok

    def _authenticate(self, path: str, query: str, headers: Any, client: str
                      ) -> tuple[SimKey, tuple[tuple[str, str], ...]]:
        key = self._keys.get(headers.get("X-BAPI-API-KEY") or "")
        if key is None:
            raise BybitError(INVALID_KEY, "API key is invalid.", 401)
        stamp, recv = headers.get("X-BAPI-TIMESTAMP") or "", headers.get("X-BAPI-RECV-WINDOW") or "5000"
        signed = f"{stamp}{key.api_key}{recv}{query}"
        expected = hmac.new(key.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, (headers.get("X-BAPI-SIGN") or "").lower()):
            raise BybitError(INVALID_SIGN, f"error sign! origin_string[{signed}]")
        now = self.now_ms()
        if not (stamp.isdigit() and recv.isdigit() and now - int(recv) <= int(stamp) < now + 1000):
            raise BybitError(TIMESTAMP_ERROR, "invalid request, please check your server timestamp or recv_window "
                                              f"param. req_timestamp[{stamp}],server_timestamp[{now}],"
                                              f"recv_window[{recv}]")
        if key.valid_until_s and now > key.valid_until_s * 1000:
            raise BybitError(KEY_EXPIRED, "Your api key has expired.")
        if key.ip_allowlist and client not in key.ip_allowlist:
            raise BybitError(IP_MISMATCH, "Unmatched IP, please check your API key's bound IP addresses.")
        limit_headers = self._charge(key, path)
        if not key.can_read and path != QUERY_API:
            raise BybitError(PERMISSION_DENIED, "Permission denied, please check your API key permissions.",
                             headers=limit_headers)
        return key, limit_headers

    def _charge(self, key: SimKey, path: str) -> tuple[tuple[str, str], ...]:
        """Count the request against the key's per-endpoint budget; 10006 beyond it."""
        if self.rate_limits is None or path not in self.rate_limits:
            return ()
        limit = self.rate_limits[path]
        ok, remaining, reset = self._uid_window.take(f"{key.api_key}:{path}", limit, 1.0)
        headers = (("X-Bapi-Limit", str(limit)), ("X-Bapi-Limit-Status", str(remaining)),
                   ("X-Bapi-Limit-Reset-Timestamp", str(int(reset * 1000))))
        if not ok:
            raise BybitError(TOO_MANY_VISITS, "Too many visits!", headers=headers)
        return headers
