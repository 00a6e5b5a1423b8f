"""An HTTP server on 127.0.0.1 that speaks enough of Binance's REST API for unmodified ccxt.

Testing an exchange importer against the real Binance needs a funded account and cannot reproduce rate
limits or outages; mocking ccxt hides the very behaviour (paging, windows, signatures, errors) that
breaks importers. ``Simulator`` serves a known ``SimHistory`` through the real paths, parameters,
signatures (HMAC-SHA256 with ``X-MBX-APIKEY``), error codes and weight limits, optionally injecting
seeded faults, so a test can import through ccxt and compare the result with the history exactly.

``HttpSimulator`` is the dialect-neutral part (lifecycle, request counts, fault injection) that other
exchange dialects build on: ``kraken_server.KrakenSimulator`` serves a ``KrakenHistory`` the same way.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from importer.ccxt_url import point_ccxt_at
from importer.simulator import binance_private as private
from importer.simulator import binance_public as public
from importer.simulator.api_common import ApiError, Params
from importer.simulator.history import SimHistory, SimTrade, SimTransfer
from importer.simulator.traffic import FAULT_BODIES, FaultPlan, WeightLimiter, weight_of

__all__ = ["Faults", "HttpSimulator", "Reply", "SimKey", "Simulator", "point_ccxt_at", "serve"]

JSON = "application/json;charset=UTF-8"
RESTRICTIONS_PATH = "/sapi/v1/account/apiRestrictions"


@dataclass(frozen=True, slots=True)
class SimKey:
    """An API key of the simulated account and what the exchange would report about it.

    Each dialect reports these as its exchange does (``GET /sapi/v1/account/apiRestrictions``, Kraken
    ``GetApiKeyInfo``, Coinbase ``key_permissions``, OKX ``account/config``, Bybit ``query-api``, KuCoin
    ``user/api-key``). ``ip_allowlist`` (empty = any address) is enforced by Binance, Kraken, OKX and Bybit
    (the request comes from 127.0.0.1); ``ip_restrict`` marks a key as restricted without a list (Binance
    reports only the flag). Kraken also reads ``kraken_permissions`` (None: derived from the ``can_*``
    flags), ``name``, ``query_from_s`` / ``query_to_s`` (unix seconds the key may see data from/to; 0 =
    unrestricted), ``valid_until_s`` (0 = never expires; Bybit reports it as ``expiredAt`` too) and
    ``nonce_window`` (Kraken's out-of-order allowance; 0 = every nonce must exceed the previous one), and
    needs a base64 ``secret``.
    """

    api_key: str
    secret: str
    can_read: bool = True
    can_trade: bool = False
    can_withdraw: bool = False
    can_internal_transfer: bool = False
    ip_restrict: bool = False
    created_ms: int = 1_700_000_000_000
    kraken_permissions: tuple[str, ...] | None = None
    name: str = ""
    query_from_s: int = 0
    query_to_s: int = 0
    valid_until_s: int = 0
    ip_allowlist: tuple[str, ...] = ()
    nonce_window: int = 0


@dataclass
class Faults:
    """Per-request fault probabilities, deterministic for ``seed``; only on paths containing one of
    ``fail_paths`` when given. 429 and 5xx replace the answer; slow delays it; truncated cuts it."""

    seed: int = 0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 2.0
    rate_truncated: float = 0.0
    fail_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = JSON


def _json(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), headers)


_NOT_FOUND = Reply(404, b"<html><body><h2>404 Not found</h2></body></html>", (), "text/html")


class HttpSimulator:
    """Serves one exchange dialect on 127.0.0.1 in a background thread; use as a context manager.

    Subclasses implement ``_dispatch`` (and ``_fault_reply`` / ``_error_reply`` for their error shapes);
    this class counts requests per path and applies the seeded ``Faults`` before dispatching.
    """

    thread_name = "exchange-simulator"

    def __init__(self, *, faults: Faults | None = None, port: int = 0,
                 clock: Callable[[], float] = time.time) -> None:
        self._plan = FaultPlan(faults)
        self._port = port
        self._clock = clock
        self._lock = threading.Lock()
        self.requests: collections.Counter[str] = collections.Counter()
        self.errors: list[BaseException] = []  # unexpected exceptions inside handlers (answered with 500)
        self.url = ""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.url
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.sim = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state -------------------------------------------------------------------------------------------
    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    def set_faults(self, faults: Faults | None) -> None:
        """Replace the fault settings (the draw sequence restarts)."""
        self._plan = FaultPlan(faults)

    def _count(self, path: str) -> None:
        with self._lock:
            self.requests[path] += 1

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- request handling --------------------------------------------------------------------------------
    def answer(self, method: str, target: str, headers: Any, client: str,
               body: bytes = b"") -> tuple[Reply, float, bool]:
        """The reply to one request, the delay before sending it, and whether to truncate its body."""
        path = urlsplit(target).path
        self._count(path)
        fault = self._plan.draw(path)
        if fault.status:
            return self._fault_reply(fault.status), fault.slow_seconds, False
        try:
            reply = self._dispatch(method, path, urlsplit(target).query, headers, client, body)
        except Exception as exc:  # a simulator bug must not look like a hang to the client
            reply = self._error_reply(exc)
        return reply, fault.slow_seconds, fault.truncate and reply.status == 200

    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        raise NotImplementedError

    def _fault_reply(self, status: int) -> Reply:
        """What an injected 429 / 5xx looks like (Binance's bodies by default)."""
        content_type, payload = FAULT_BODIES[status]
        extra = (("Retry-After", "1"),) if status == 429 else ()
        return Reply(status, payload, extra, content_type)

    def _error_reply(self, exc: Exception) -> Reply:
        """The answer to an exception escaping ``_dispatch``: recorded in ``errors``, answered with a 500."""
        self.errors.append(exc)
        return _json(500, {"code": -1000, "msg": "An unknown error occurred while processing the request."})


class Simulator(HttpSimulator):
    """Serves a Binance ``history`` for ``keys`` on 127.0.0.1 in a background thread; use as a context manager."""

    thread_name = "binance-simulator"

    def __init__(self, history: SimHistory, keys: Sequence[SimKey], *, faults: Faults | None = None,
                 port: int = 0, weight_limit_per_minute: int = 6000,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(faults=faults, port=port, clock=clock)
        self._book = private.Book(history)
        self._keys = {k.api_key: k for k in keys}
        self.weight_limit = weight_limit_per_minute
        self._limiter = WeightLimiter(weight_limit_per_minute, clock)

    @property
    def history(self) -> SimHistory:
        return self._book.history

    def reset_weights(self) -> None:
        self._limiter.reset()

    def _extend(self, **records: Iterable[Any]) -> None:
        with self._lock:
            self._book = private.Book(self._book.history.with_added(**records))

    def add_trades(self, trades: Iterable[SimTrade]) -> None:
        self._extend(trades=trades)

    def add_deposits(self, deposits: Iterable[SimTransfer]) -> None:
        self._extend(deposits=deposits)

    def add_withdrawals(self, withdrawals: Iterable[SimTransfer]) -> None:
        self._extend(withdrawals=withdrawals)

    # -- request handling --------------------------------------------------------------------------------
    def _error_reply(self, exc: Exception) -> Reply:
        if isinstance(exc, ApiError):
            return _json(exc.status, exc.body())
        return super()._error_reply(exc)

    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        route = _ROUTES.get(path)
        if route is None or method != "GET":
            return _NOT_FOUND
        signed, handler = route
        params = Params(query)
        api_key = headers.get("X-MBX-APIKEY")
        sapi = path.startswith("/sapi/")
        bucket = f"sapi-ip:{client}" if sapi else (f"key:{api_key}" if api_key else f"ip:{client}")
        limit = self.weight_limit * 2 if sapi else self.weight_limit
        ok, used, retry_after = self._limiter.charge(bucket, weight_of(path, "orderId" in params), limit)
        weight_headers = ((("X-SAPI-USED-IP-WEIGHT-1M", str(used)),) if sapi else
                          (("X-MBX-USED-WEIGHT-1M", str(used)), ("X-MBX-USED-WEIGHT", str(used))))
        if not ok:
            msg = (f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
                   "Please use WebSocket Streams for live updates to avoid polling the API.")
            return _json(429, {"code": -1003, "msg": msg}, (*weight_headers, ("Retry-After", str(retry_after))))
        try:
            key = self._authenticate(params, api_key, path, client) if signed else None
            return _json(200, handler(self, params, key), weight_headers)
        except ApiError as err:
            return _json(err.status, err.body(), weight_headers)

    def _authenticate(self, params: Params, api_key: str | None, path: str, client: str) -> SimKey:
        key = self._keys.get(api_key or "")
        if key is None:
            raise ApiError(401, -2014, "API-key format invalid.")
        signature = params.required("signature")
        expected = hmac.new(key.secret.encode(), params.without_signature().encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise ApiError(400, -1022, "Signature for this request is not valid.")
        timestamp = params.integer("timestamp")
        if timestamp is None:
            params.required("timestamp")
        recv_window = params.integer("recvWindow", 5000) or 5000
        if recv_window > 60000:
            raise ApiError(400, -1131, "recvWindow must be less than 60000")
        now = self.now_ms()
        assert timestamp is not None
        if timestamp >= now + 1000:
            raise ApiError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now - timestamp > recv_window:
            raise ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        if key.ip_allowlist and client not in key.ip_allowlist:  # Binance names the caller's address
            raise ApiError(401, -2015, f"Invalid API-key, IP, or permissions for action, request ip: {client}")
        if not key.can_read and path != RESTRICTIONS_PATH:
            raise ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        return key


Handler = Callable[[Simulator, Params, Any], Any]
_ROUTES: dict[str, tuple[bool, Handler]] = {
    "/api/v3/ping": (False, lambda sim, p, k: {}),
    "/api/v3/time": (False, lambda sim, p, k: {"serverTime": sim.now_ms()}),
    "/api/v3/exchangeInfo": (False, lambda sim, p, k: public.exchange_info(
        sim._book.history, p, sim.now_ms(), sim.weight_limit)),
    "/api/v3/klines": (False, lambda sim, p, k: public.klines(sim._book.history, p, sim.now_ms())),
    "/api/v3/account": (True, lambda sim, p, k: private.account(sim._book, p, k)),
    "/api/v3/myTrades": (True, lambda sim, p, k: private.my_trades(sim._book, p)),
    "/sapi/v1/capital/deposit/hisrec": (True, lambda sim, p, k: private.deposit_history(
        sim._book, p, sim.now_ms())),
    "/sapi/v1/capital/withdraw/history": (True, lambda sim, p, k: private.withdraw_history(
        sim._book, p, sim.now_ms())),
    RESTRICTIONS_PATH: (True, lambda sim, p, k: private.api_restrictions(k)),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: HttpSimulator

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: no tracebacks on stderr
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "nginx"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without NODELAY, Nagle + delayed ACK add 40 ms per request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        pass

    def _respond(self, method: str) -> None:
        length = self.headers.get("Content-Length")
        request_body = self.rfile.read(int(length)) if length else b""
        reply, delay, truncate = self.server.sim.answer(method, self.path, self.headers, self.client_address[0],
                                                        request_body)
        if delay:
            time.sleep(delay)
        body = reply.body[: max(1, len(reply.body) // 2)] if truncate else reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def do_PUT(self) -> None:
        self._respond("PUT")

    def do_DELETE(self) -> None:
        self._respond("DELETE")


def serve(history: SimHistory, keys: Sequence[SimKey], **options: Any) -> Simulator:
    """Start a simulator and return it (call ``stop()`` when done)."""
    sim = Simulator(history, keys, **options)
    sim.start()
    return sim
