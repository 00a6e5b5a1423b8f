"""An HTTP server on 127.0.0.1 that speaks enough of Coinbase's REST API for unmodified ``ccxt.coinbase``.

``CoinbaseSimulator`` serves a ``CoinbaseHistory`` (``coinbase_history``) the way api.coinbase.com does for a
Coinbase Advanced user (bodies and paging in ``coinbase_api``):

* what ccxt's ``load_markets`` asks: ``GET /v2/currencies``, ``/v2/currencies/crypto``, ``/v2/exchange-rates``,
  ``/api/v3/brokerage/market/products`` (spot, then ``product_type=FUTURE``) and, with a key,
  ``/api/v3/brokerage/transaction_summary``;
* accounts: ``/api/v3/brokerage/accounts`` (ccxt's ``fetch_accounts``) and ``/v2/accounts`` (``fetch_balance``),
  one wallet per currency with the same id in both;
* ``/api/v3/brokerage/orders/historical/fills`` (``fetch_my_trades``) and
  ``/v2/accounts/{id}/transactions`` (``fetch_ledger`` with ``params.account_id``);
* ``/api/v3/brokerage/key_permissions``: ``can_view`` / ``can_trade`` / ``can_transfer`` from the ``SimKey``'s
  ``can_read`` / ``can_trade`` / ``can_withdraw or can_internal_transfer``.

Private calls need a CDP key's ES256 JWT (``coinbase_auth``); ``SimKey.api_key`` is the key name, ``secret`` its
PEM private key. A key without ``can_read`` gets ``403`` (``PERMISSION_DENIED`` on v3, ``invalid_scope`` on v2).
Rate limits (optional, ``RateLimits``) answer ``429 rate_limit_exceeded``; injected faults answer the same 429
or Cloudflare's 5xx pages. ccxt 4.5.90 maps these to AuthenticationError (401), PermissionDenied (v3 403),
RateLimitExceeded (429) and ExchangeNotAvailable (5xx).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from importer.simulator import coinbase_api as api
from importer.simulator.coinbase_api import CoinbaseError, Query, v2_error, v3_error
from importer.simulator.coinbase_auth import AuthFailure, RateLimits, WindowLimiter, public_key_of, verify_jwt
from importer.simulator.coinbase_history import CbActivity, CoinbaseHistory, iso
from importer.simulator.server import Faults, HttpSimulator, Reply, SimKey

__all__ = ["CoinbaseSimulator", "RateLimits"]

V3 = "/api/v3/brokerage/"
KEY_PERMISSIONS = V3 + "key_permissions"
_CLOUDFLARE = ("<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center><hr><center>cloudflare"
               "</center></body></html>")
FAULT_BODIES: dict[int, tuple[str, bytes]] = {
    429: (api.JSON, json.dumps(api.RATE_LIMITED).encode()),
    500: ("text/html", _CLOUDFLARE.format("500 Internal Server Error").encode()),
    502: ("text/html", _CLOUDFLARE.format("502 Bad Gateway").encode()),
    503: ("text/html", _CLOUDFLARE.format("503 Service Temporarily Unavailable").encode()),
}

Handler = Callable[["CoinbaseSimulator", Query, SimKey | None, tuple[str, ...]], Any]


def _reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), (), api.JSON)


class CoinbaseSimulator(HttpSimulator):
    """Serves a Coinbase ``history`` for ``keys`` on 127.0.0.1 in a background thread; use as a context manager.

    ``page_caps`` lowers the largest page a list endpoint serves (keys ``v2``, ``v2_accounts``, ``v3_accounts``,
    ``fills``) so that small histories still exercise paging; ``rate_limits=None`` switches limiting off.
    """

    thread_name = "coinbase-simulator"

    def __init__(self, history: CoinbaseHistory, keys: Sequence[SimKey], *, faults: Faults | None = None,
                 port: int = 0, rate_limits: RateLimits | None = RateLimits(),
                 page_caps: dict[str, int] | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(faults=faults, port=port, clock=clock)
        self._history = history
        self._keys = {k.api_key: k for k in keys}
        self._public: dict[str, ec.EllipticCurvePublicKey] = {k.api_key: public_key_of(k.secret) for k in keys}
        self.rate_limits = rate_limits
        self._limiter = WindowLimiter(clock)
        caps = page_caps or {}
        self.limits = {name: (min(default, caps.get(name, top)), min(top, caps.get(name, top)))
                       for name, (default, top) in (("v2", api.V2_LIMIT), ("v2_accounts", api.V2_ACCOUNTS_LIMIT),
                                                    ("v3_accounts", api.V3_ACCOUNTS_LIMIT),
                                                    ("fills", api.FILLS_LIMIT))}
        self.auth_failures: list[str] = []  # why tokens were refused, for tests
        self._state_lock = threading.Lock()

    # -- state -------------------------------------------------------------------------------------------
    @property
    def history(self) -> CoinbaseHistory:
        return self._history

    def add_activity(self, activity: CbActivity) -> None:
        """Serve ``activity`` from now on (new fills and transactions)."""
        with self._state_lock:
            self._history = self._history.with_added(activity)

    def set_status(self, tx_id: str, status: str) -> None:
        """Change a transaction's status (a pending send completing, say)."""
        with self._state_lock:
            self._history = self._history.with_status(tx_id, status)

    def reset_rate_limits(self) -> None:
        self._limiter.reset()

    # -- request handling --------------------------------------------------------------------------------
    def _fault_reply(self, status: int) -> Reply:
        content_type, body = FAULT_BODIES[status]
        return Reply(status, body, (("Retry-After", "1"),) if status == 429 else (), content_type)

    def _error_reply(self, exc: Exception) -> Reply:
        if isinstance(exc, CoinbaseError):
            body, content_type = exc.encoded()
            return Reply(exc.status, body, (), content_type)
        self.errors.append(exc)
        return _reply({"errors": [{"id": "internal_server_error", "message": "Internal server error"}]}, 500)

    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        v3 = path.startswith("/api/v3/")
        found = _route(path)
        if found is None or method != "GET":
            raise (v3_error(404, "NOT_FOUND", "Not Found") if v3 else v2_error(404, "not_found", "Not found"))
        (private, handler), groups = found
        params = Query(query, v3)
        key = None
        if private:
            key = self._authenticate(method, path, headers)
            if not key.can_read and path != KEY_PERMISSIONS:
                raise (v3_error(403, "PERMISSION_DENIED", "Missing required scopes") if v3
                       else v2_error(403, "invalid_scope", "Key does not have the view permission"))
        self._limit(v3, private, key, client)
        return _reply(handler(self, params, key, groups))

    def _authenticate(self, method: str, path: str, headers: Any) -> SimKey:
        try:
            name = verify_jwt(headers.get("Authorization"), self._public, method, headers.get("Host") or "", path,
                              self._clock())
        except AuthFailure as failure:
            self.auth_failures.append(str(failure))
            if path.startswith("/api/v3/"):
                raise api.UNAUTHORIZED from None
            raise v2_error(401, "authentication_error", "invalid api key") from None
        return self._keys[name]

    def _limit(self, v3: bool, private: bool, key: SimKey | None, client: str) -> None:
        limits = self.rate_limits
        if limits is None:
            return
        if not private:
            ok = self._limiter.allow(f"ip:{client}", limits.public_per_second, 1.0)
        elif v3:
            ok = self._limiter.allow(f"v3:{key.api_key if key else ''}", limits.private_per_second, 1.0)
        else:
            ok = self._limiter.allow(f"v2:{key.api_key if key else ''}", limits.v2_per_hour, 3600.0)
        if not ok:
            raise CoinbaseError(429, api.RATE_LIMITED)


def _account(sim: CoinbaseSimulator, account_id: str, v3: bool) -> Any:
    account = sim.history.account_by_id.get(account_id)
    if account is None:
        raise v3_error(404, "NOT_FOUND", "account not found") if v3 else v2_error(404, "not_found", "Not found")
    return account


def _v2_accounts(sim: CoinbaseSimulator, q: Query, k: SimKey | None, g: tuple[str, ...]) -> Any:
    h = sim.history
    chunk, pagination = api.v2_page(q, h.accounts, lambda a: a.uuid, "/v2/accounts", sim.limits["v2_accounts"])
    return {"pagination": pagination, "data": [api.v2_account(h, a) for a in chunk]}


def _v2_transactions(sim: CoinbaseSimulator, q: Query, k: SimKey | None, g: tuple[str, ...]) -> Any:
    h = sim.history
    account = _account(sim, g[0], False)
    rows = h.transactions_of(account.uuid)
    if len(g) > 1 and g[1]:
        tx = next((t for t in rows if t.id == g[1]), None)
        if tx is None:
            raise v2_error(404, "not_found", "Not found")
        return {"data": api.v2_transaction(h, tx)}
    chunk, pagination = api.v2_page(q, rows, lambda t: t.id, f"/v2/accounts/{account.uuid}/transactions",
                                    sim.limits["v2"])
    return {"pagination": pagination, "data": [api.v2_transaction(h, t) for t in chunk]}


def _v3_accounts(sim: CoinbaseSimulator, q: Query, k: SimKey | None, g: tuple[str, ...]) -> Any:
    h = sim.history
    if g:
        return {"account": api.v3_account(h, _account(sim, g[0], True))}
    chunk, cursor = api.v3_page(q, h.accounts, lambda a: a.uuid, sim.limits["v3_accounts"])
    return {"accounts": [api.v3_account(h, a) for a in chunk], "has_next": bool(cursor), "cursor": cursor,
            "size": len(chunk)}


def _key_permissions(sim: CoinbaseSimulator, q: Query, k: SimKey | None, g: tuple[str, ...]) -> Any:
    assert k is not None
    return {"can_view": k.can_read, "can_trade": k.can_trade,
            "can_transfer": k.can_withdraw or k.can_internal_transfer,
            "portfolio_uuid": sim.history.portfolio_uuid, "portfolio_type": "DEFAULT"}


def _time(sim: CoinbaseSimulator, v3: bool) -> Any:
    ms = sim.now_ms()
    text = iso(ms // 1000)
    if v3:
        return {"iso": text, "epochSeconds": str(ms // 1000), "epochMillis": str(ms)}
    return {"data": {"iso": text, "epoch": ms // 1000}}


# path -> (private, handler); handlers get (simulator, query, key, path groups)
_EXACT: dict[str, tuple[bool, Handler]] = {
    "/v2/currencies": (False, lambda s, q, k, g: api.currencies(s.history)),
    "/v2/currencies/crypto": (False, lambda s, q, k, g: api.crypto_currencies(s.history)),
    "/v2/exchange-rates": (False, lambda s, q, k, g: api.exchange_rates(s.history)),
    "/v2/time": (False, lambda s, q, k, g: _time(s, False)),
    "/v2/accounts": (True, _v2_accounts),
    V3 + "time": (False, lambda s, q, k, g: _time(s, True)),
    V3 + "market/products": (False, lambda s, q, k, g: api.products(s.history, q)),
    V3 + "transaction_summary": (True, lambda s, q, k, g: api.TRANSACTION_SUMMARY),
    V3 + "accounts": (True, _v3_accounts),
    V3 + "orders/historical/fills": (True, lambda s, q, k, g: api.fills(s.history, q, s.limits["fills"])),
    KEY_PERMISSIONS: (True, _key_permissions),
}
_PATTERNS: tuple[tuple[re.Pattern[str], tuple[bool, Handler]], ...] = (
    (re.compile(r"^/v2/accounts/([^/]+)/transactions(?:/([^/]+))?$"), (True, _v2_transactions)),
    (re.compile(r"^/v2/accounts/([^/]+)$"),
     (True, lambda s, q, k, g: {"data": api.v2_account(s.history, _account(s, g[0], False))})),
    (re.compile(r"^/api/v3/brokerage/accounts/([^/]+)$"), (True, _v3_accounts)),
)


def _route(path: str) -> tuple[tuple[bool, Handler], tuple[str, ...]] | None:
    if path in _EXACT:
        return _EXACT[path], ()
    for pattern, route in _PATTERNS:
        match = pattern.match(path)
        if match:
            return route, tuple(x or "" for x in match.groups())
    return None
