"""An HTTP server on 127.0.0.1 that speaks enough of OKX's REST API v5 for unmodified ``ccxt.okx``.

``OkxSimulator`` serves an ``OkxHistory`` through OKX's paths, envelope, error codes, retention windows, rate
limits and authentication (OKX API v5 docs, "REST Authentication"): a private request carries
``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE`` (the passphrase chosen when the key was created),
``OK-ACCESS-TIMESTAMP`` (ISO 8601 UTC with milliseconds; more than 30 s off the server's clock is "Timestamp
request expired") and ``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + method + requestPath +
body)), where a GET's query string is part of ``requestPath``. The checks answer HTTP 401 with OKX's codes:
50103/50104/50106/50107 missing header, 50111 unknown key, 50112 unreadable timestamp, 50102 expired, 50105
wrong passphrase, 50113 bad signature, 50110 IP not on the key's allowlist, 50101 a live key used with the
demo-trading header. A key's ``perm`` (GET /api/v5/account/config) follows its ``SimKey`` flags.

Rate limits are per endpoint (``okx_api.LIMITS``), per User ID for private endpoints: every key of the account
shares one budget, as on OKX. Injected faults (``Faults``) answer 429 with OKX's 50011 body or an HTML 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from importer.simulator import okx_endpoints as ep
from importer.simulator.okx_api import LIMITS, OkxError, Query, RateLimiter, envelope, rate_limited
from importer.simulator.okx_history import OkxActivity, OkxHistory
from importer.simulator.server import Faults, HttpSimulator, Reply, SimKey
from importer.simulator.traffic import FAULT_BODIES

__all__ = ["OkxSimulator"]

JSON = "application/json"
TIMESTAMP_TOLERANCE_MS = 30_000


def _reply(status: int, payload: Any) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), (), JSON)


def _auth_error(code: str, msg: str) -> OkxError:
    return OkxError(401, code, msg)


def _parse_timestamp(text: str) -> int:
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise _auth_error("50112", "Invalid OK-ACCESS-TIMESTAMP.") from exc
    return int(parsed.timestamp() * 1000)


class OkxSimulator(HttpSimulator):
    """Serves an OKX ``history`` for ``keys`` on 127.0.0.1 in a background thread; use as a context manager.

    ``passphrases`` maps each key's ``api_key`` to its passphrase (OKX keys have one; ``SimKey`` has no field for
    it). ``rate_limits=False`` switches OKX's per-endpoint limits off (for clients with a tiny ccxt
    ``rateLimit``).
    """

    thread_name = "okx-simulator"

    def __init__(self, history: OkxHistory, keys: Sequence[SimKey], *, passphrases: Mapping[str, str],
                 faults: Faults | None = None, port: int = 0, rate_limits: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(faults=faults, port=port, clock=clock)
        missing = [k.api_key for k in keys if not passphrases.get(k.api_key)]
        if missing:
            raise ValueError(f"every OKX key needs a passphrase; none for {[m[:6] + '...' for m in missing]}")
        self._history = history
        self._keys = {k.api_key: k for k in keys}
        self._passphrases = dict(passphrases)
        self.rate_limits = rate_limits
        self.limiter = RateLimiter(clock)

    # -- state -------------------------------------------------------------------------------------------
    @property
    def history(self) -> OkxHistory:
        return self._history

    def add_activity(self, activity: OkxActivity) -> None:
        """Serve ``activity`` from now on (new fills and bills; deposits/withdrawals new or changed)."""
        with self._lock:
            self._history = self._history.with_added(activity)

    def reset_rate_limits(self) -> None:
        self.limiter.reset()

    # -- request handling --------------------------------------------------------------------------------
    def _fault_reply(self, status: int) -> Reply:
        if status == 429:
            return _reply(429, rate_limited().body())
        content_type, payload = FAULT_BODIES[status]
        return Reply(status, payload, (), content_type)

    def _error_reply(self, exc: Exception) -> Reply:
        if isinstance(exc, OkxError):
            return _reply(exc.status, exc.body())
        self.errors.append(exc)
        return _reply(500, {"code": "50026", "msg": "System error. Try again later.", "data": []})

    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        route = _ROUTES.get(path)
        if route is None:
            return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", (), "text/html")
        private, handler = route
        if method != "GET":
            raise OkxError(405, "50115", "Invalid request method.")
        target = path + (f"?{query}" if query else "")
        key = self._authenticate(method, target, headers, client, body) if private else None
        q = Query(query)
        limit = LIMITS.get(path)
        if self.rate_limits and limit is not None:
            who = self._history.uid if limit.rule == "uid" else client
            extra = (q.text("instType") or "") if path.endswith("/instruments") else ""
            if not self.limiter.allow(f"{path}|{who}|{extra}", limit):
                raise rate_limited()
        with self._lock:
            history = self._history
        return _reply(200, envelope(handler(history, q, self.now_ms(), key)))

    def _authenticate(self, method: str, target: str, headers: Any, client: str, body: bytes) -> SimKey:
        api_key = headers.get("OK-ACCESS-KEY") or ""
        passphrase = headers.get("OK-ACCESS-PASSPHRASE") or ""
        stamp = headers.get("OK-ACCESS-TIMESTAMP") or ""
        signature = headers.get("OK-ACCESS-SIGN") or ""
        for value, code, name in ((api_key, "50103", "KEY"), (passphrase, "50104", "PASSPHRASE"),
                                  (signature, "50106", "SIGN"), (stamp, "50107", "TIMESTAMP")):
            if not value:
                raise _auth_error(code, f'Request header "OK-ACCESS-{name}" cannot be empty.')
        key = self._keys.get(api_key)
        if key is None:
            raise _auth_error("50111", "Invalid OK-ACCESS-KEY.")
        if headers.get("x-simulated-trading") == "1":
            raise _auth_error("50101", "APIKey does not match current environment.")
        if abs(self.now_ms() - _parse_timestamp(stamp)) > TIMESTAMP_TOLERANCE_MS:
            raise _auth_error("50102", "Timestamp request expired.")
        if not hmac.compare_digest(passphrase.encode(), self._passphrases[api_key].encode()):
            raise _auth_error("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
        prehash = (stamp + method + target).encode() + body
        expected = base64.b64encode(hmac.new(key.secret.encode(), prehash, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise _auth_error("50113", "Invalid Sign.")
        if key.ip_allowlist and client not in key.ip_allowlist:
            raise _auth_error("50110", f"Your IP {client} is not included in your API key's IP whitelist.")
        return key


Handler = Callable[[OkxHistory, Query, int, Any], Any]
_ROUTES: dict[str, tuple[bool, Handler]] = {
    "/api/v5/public/time": (False, lambda h, q, now, k: [{"ts": str(now)}]),
    "/api/v5/public/instruments": (False, lambda h, q, now, k: ep.instruments(h, q)),
    "/api/v5/market/candles": (False, lambda h, q, now, k: ep.candles(h, q, now, recent=True)),
    "/api/v5/market/history-candles": (False, lambda h, q, now, k: ep.candles(h, q, now, recent=False)),
    "/api/v5/asset/currencies": (True, lambda h, q, now, k: ep.currencies(h, q)),
    "/api/v5/asset/balances": (True, lambda h, q, now, k: ep.asset_balances(h, q)),
    "/api/v5/account/balance": (True, lambda h, q, now, k: ep.account_balance(h, q, now)),
    "/api/v5/account/config": (True, lambda h, q, now, k: ep.account_config(h, k)),
    "/api/v5/trade/fills": (True, lambda h, q, now, k: ep.fills(h, q, now, archive=False)),
    "/api/v5/trade/fills-history": (True, lambda h, q, now, k: ep.fills(h, q, now, archive=True)),
    "/api/v5/account/bills": (True, lambda h, q, now, k: ep.bills(h, q, now, archive=False)),
    "/api/v5/account/bills-archive": (True, lambda h, q, now, k: ep.bills(h, q, now, archive=True)),
    "/api/v5/asset/deposit-history": (True, lambda h, q, now, k: ep.deposit_history(h, q)),
    "/api/v5/asset/withdrawal-history": (True, lambda h, q, now, k: ep.withdrawal_history(h, q)),
}
