"""An HTTP server on 127.0.0.1 that speaks enough of KuCoin's spot REST API for unmodified ``ccxt.kucoin``.

``KucoinSimulator`` serves a ``KucoinHistory`` (a classic or, with ``history.hf``, a high-frequency account;
never a unified one) the way KuCoin does:

* Envelope ``{"code": "200000", "data": ...}``; errors ``{"code": "...", "msg": "..."}`` with KuCoin's codes:
  400001 missing auth headers, 400002 timestamp off by more than 5 s, 400003 unknown key, 400004 wrong
  passphrase, 400005 bad signature, 400007 missing permission (all HTTP 401), 400100 bad parameter, 404000
  unknown URL, 429000 rate limit (HTTP 429, from the seeded ``Faults``).
* Signing (key version 2): ``KC-API-SIGN`` = base64(HMAC-SHA256(secret, timestamp + method + path?query +
  body)), ``KC-API-PASSPHRASE`` = base64(HMAC-SHA256(secret, passphrase)); passphrases come from the
  constructor's map (api key -> passphrase).
* ``/api/v1/fills``, ``/api/v1/deposits``, ``/api/v1/withdrawals``, ``/api/v1/accounts/ledgers``: ``startAt`` /
  ``endAt`` in ms, inclusive, at most 7 days apart (400100 beyond); only one given: the other is 7 days
  away; none: the last 7 days. Newest first, paged by ``currentPage`` (from 1) and ``pageSize`` (10..500,
  default 50) with ``totalNum`` / ``totalPage``. ``symbol`` (fills) and ``currency`` filter.
* HF accounts (KuCoin docs, https://www.kucoin.com/docs-new/rest/spot-trading/orders/get-trade-history and
  .../account-info/account-funding/get-account-ledgers-tradehf): ``/api/v1/hf/fills`` needs ``symbol``
  (400100 without), ``/api/v1/hf/accounts/ledgers`` does not; both take ``startAt``/``endAt`` as above (at most 7
  days, default the last 7), answer newest first (by id) and page by ``lastId`` (rows with a smaller id than the
  last row of the previous page) and ``limit`` (fills 1..100, default 20; ledger 1..200, default 100); the answer
  is ``{"items": [...], "lastId": ...}`` for fills and a bare list for the ledger. The classic ``/api/v1/fills``
  has none of the HF fills and the classic ledger none of the TRADE_HF rows; ``/api/v1/accounts`` lists the
  ``trade_hf`` wallets.
* load_markets: ``/api/v3/currencies``, ``/api/v2/symbols`` (the traded ``MARKETS`` and the merely ``LISTED``
  ones), ``/api/v1/hf/accounts/opened`` (``history.hf``),
  ``/api/ua/v1/account/mode`` (CLASSIC); also the margin symbol lists, ``/api/v1/market/allTickers`` and the
  futures ``/api/v1/contracts/active`` (empty) that ccxt asks unless told not to.
* ``/api/v1/user/api-key``: ``permission`` = comma list of General / Spot / Withdrawal / Transfer from the
  ``SimKey`` flags.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from importer.simulator.kucoin_history import CHAINS, LISTED, MARKETS, KucoinHistory, fmt
from importer.simulator.server import Faults, HttpSimulator, Reply, SimKey
from importer.simulator.traffic import FAULT_BODIES

__all__ = ["KucoinError", "KucoinSimulator", "kucoin_permission"]

JSON = "application/json"
WEEK_MS = 7 * 86_400_000
MAX_PAGE = 500


class KucoinError(Exception):
    def __init__(self, code: str, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def _reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), (), JSON)


def kucoin_permission(key: SimKey) -> str:
    perms = (["General"] if key.can_read else []) + (["Spot"] if key.can_trade else [])
    perms += (["Withdrawal"] if key.can_withdraw else []) + (["Transfer"] if key.can_internal_transfer else [])
    return ",".join(perms)


class _Query:
    def __init__(self, query: str) -> None:
        self.values = dict(parse_qsl(query, keep_blank_values=True))

    def text(self, name: str) -> str | None:
        return self.values.get(name) or None

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if not value.lstrip("-").isdigit():
            raise KucoinError("400100", f"{name} invalid")
        return int(value)

    def window(self, now_ms: int) -> tuple[int, int]:
        start, end = self.integer("startAt"), self.integer("endAt")
        if start is None and end is None:
            start, end = now_ms - WEEK_MS, now_ms
        elif start is None:
            start = end - WEEK_MS  # type: ignore[operator]
        elif end is None:
            end = start + WEEK_MS
        assert start is not None and end is not None
        if end < start or end - start > WEEK_MS:
            raise KucoinError("400100", "Time range cannot exceed 7 days")
        return start, end

    def after_last_id(self, rows: list[dict[str, Any]], default: int, most: int) -> list[dict[str, Any]]:
        """HF paging: newest first by id; only ids below ``lastId``; at most ``limit`` (1..most) rows."""
        limit, last_id = self.integer("limit", default) or default, self.integer("lastId")
        if not 1 <= limit <= most:
            raise KucoinError("400100", f"limit should be between 1 and {most}")
        ordered = sorted(rows, key=lambda r: int(r["id"]), reverse=True)
        return [r for r in ordered if last_id is None or int(r["id"]) < last_id][:limit]

    def page(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        current = self.integer("currentPage", 1) or 1
        size = self.integer("pageSize", 50) or 50
        if size > MAX_PAGE:
            raise KucoinError("400100", f"pageSize should not greater than {MAX_PAGE}")
        size, current = max(size, 10), max(current, 1)
        total = len(rows)
        return {"currentPage": current, "pageSize": size, "totalNum": total, "totalPage": -(-total // size),
                "items": rows[(current - 1) * size: current * size]}


def _newest_first(rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["createdAt"], str(r.get(key) or r.get("walletTxId"))), reverse=True)


class KucoinSimulator(HttpSimulator):
    """Serves a KuCoin ``history`` for ``keys`` (passphrases in ``passphrases``: api key -> passphrase)."""

    thread_name = "kucoin-simulator"

    def __init__(self, history: KucoinHistory, keys: Sequence[SimKey], passphrases: Mapping[str, str], *,
                 faults: Faults | None = None, port: int = 0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(faults=faults, port=port, clock=clock)
        missing = [k.api_key for k in keys if k.api_key not in passphrases]
        if missing:
            raise ValueError(f"no passphrase for keys {missing}")
        self._keys = {k.api_key: k for k in keys}
        self._passphrases = dict(passphrases)
        self._history = history
        self._history_lock = threading.Lock()

    @property
    def history(self) -> KucoinHistory:
        return self._history

    def add_activity(self, more: KucoinHistory) -> None:
        with self._history_lock:
            self._history = self._history.with_added(more)

    # -- replies -----------------------------------------------------------------------------------------
    def _fault_reply(self, status: int) -> Reply:
        if status == 429:
            return Reply(429, b'{"code":"429000","msg":"Too many requests in a short period of time, please '
                              b'retry later."}', (("Retry-After", "1"),), JSON)
        content_type, payload = FAULT_BODIES[status]
        return Reply(status, payload, (), content_type)

    def _error_reply(self, exc: Exception) -> Reply:
        if isinstance(exc, KucoinError):
            return _reply({"code": exc.code, "msg": exc.msg}, exc.status)
        self.errors.append(exc)
        return _reply({"code": "500000", "msg": "Internal Server Error"}, 500)

    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        route = _ROUTES.get(path)
        if route is None or method != "GET":
            raise KucoinError("404000", "Url Not Found", 404)
        private, handler = route
        key = self._authenticate(method, path, query, headers, body) if private else None
        return _reply({"code": "200000", "data": handler(self, _Query(query), key)})

    def _authenticate(self, method: str, path: str, query: str, headers: Any, body: bytes) -> SimKey:
        api_key, sign = headers.get("KC-API-KEY"), headers.get("KC-API-SIGN")
        stamp, passphrase = headers.get("KC-API-TIMESTAMP"), headers.get("KC-API-PASSPHRASE")
        if not (api_key and sign and stamp and passphrase):
            raise KucoinError("400001", "Please check the header of your request for KC-API-KEY, KC-API-SIGN, "
                                        "KC-API-TIMESTAMP, KC-API-PASSPHRASE", 401)
        if not stamp.isdigit() or abs(int(stamp) - self.now_ms()) > 5000:
            raise KucoinError("400002", "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than "
                                        "5 seconds", 401)
        key = self._keys.get(api_key)
        if key is None:
            raise KucoinError("400003", "KC-API-KEY not exists", 401)
        secret = key.secret.encode()
        if headers.get("KC-API-KEY-VERSION") == "2":
            expected_pass = base64.b64encode(hmac.new(secret, self._passphrases[api_key].encode(),
                                                      hashlib.sha256).digest()).decode()
        else:
            expected_pass = self._passphrases[api_key]
        if not hmac.compare_digest(expected_pass.encode(), passphrase.encode()):
            raise KucoinError("400004", "Invalid KC-API-PASSPHRASE", 401)
        endpoint = path + (f"?{query}" if query else "")
        payload = (stamp + method + endpoint).encode() + body
        expected = base64.b64encode(hmac.new(secret, payload, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected.encode(), sign.encode()):
            raise KucoinError("400005", "Signature verification failed", 401)
        if not key.can_read and path != "/api/v1/user/api-key":
            raise KucoinError("400007", "Access denied, require more permission.", 401)
        return key

    # -- endpoints ---------------------------------------------------------------------------------------
    def fills(self, q: _Query) -> dict[str, Any]:
        lo, hi = q.window(self.now_ms())
        symbol = q.text("symbol")
        if symbol is not None and symbol not in MARKETS:
            raise KucoinError("400100", "symbol invalid")
        rows = [f.row() for f in self.history.fills if lo <= f.created_at <= hi and symbol in (None, f.symbol)
                and not f.record_id]  # HF fills are only in /api/v1/hf/fills
        return q.page(_newest_first(rows, "tradeId"))

    def hf_fills(self, q: _Query) -> dict[str, Any]:
        symbol = q.text("symbol")
        if symbol is None:
            raise KucoinError("400100", "symbol can not be empty")
        if symbol not in MARKETS and symbol not in LISTED:
            raise KucoinError("400100", "symbol invalid")
        lo, hi = q.window(self.now_ms())
        rows = q.after_last_id([f.row() for f in self.history.fills
                                if f.record_id and f.symbol == symbol and lo <= f.created_at <= hi], 20, 100)
        return {"items": rows, "lastId": rows[-1]["id"] if rows else q.integer("lastId", 0)}

    def hf_ledgers(self, q: _Query) -> list[dict[str, Any]]:
        lo, hi = q.window(self.now_ms())
        currency, direction, biz = q.text("currency"), q.text("direction"), q.text("bizType")
        rows = [e.row() for e in self.history.ledger if e.account_type == "TRADE_HF" and lo <= e.created_at <= hi
                and currency in (None, e.currency) and biz in (None, e.biz_type)]
        return q.after_last_id([r for r in rows if direction in (None, r["direction"])], 100, 200)

    def transfers(self, q: _Query, kind: str) -> dict[str, Any]:
        lo, hi = q.window(self.now_ms())
        currency, status = q.text("currency"), q.text("status")
        source = self.history.deposits if kind == "deposit" else self.history.withdrawals
        rows = [t.row() for t in source if lo <= t.created_at <= hi and currency in (None, t.currency)
                and status in (None, t.status)]
        return q.page(_newest_first(rows))

    def ledgers(self, q: _Query) -> dict[str, Any]:
        lo, hi = q.window(self.now_ms())
        currency, direction = q.text("currency"), q.text("direction")
        rows = [e.row() for e in self.history.ledger if lo <= e.created_at <= hi and currency in (None, e.currency)
                and e.account_type != "TRADE_HF"]  # HF wallet rows are only in /api/v1/hf/accounts/ledgers
        return q.page(_newest_first([r for r in rows if direction in (None, r["direction"])]))

    def accounts(self, q: _Query) -> list[dict[str, Any]]:
        kind, currency = q.text("type"), q.text("currency")
        out = []
        for (account, code), balance in sorted(self.history.wallets().items()):
            if kind in (None, account.lower()) and currency in (None, code):
                out.append({"id": hashlib.md5(f"{account}{code}".encode()).hexdigest()[:24], "currency": code,
                            "type": account.lower(), "balance": fmt(balance), "available": fmt(balance),
                            "holds": "0"})
        return out

    def api_key(self, key: SimKey) -> dict[str, Any]:
        ips = ",".join(key.ip_allowlist) or ("127.0.0.1" if key.ip_restrict else "")
        return {"remark": key.name or "taxsync", "apiKey": key.api_key, "apiVersion": 3,
                "permission": kucoin_permission(key), "ipWhitelist": ips,
                "createdAt": key.created_ms, "uid": 165111215, "isMaster": True}


def _currencies() -> list[dict[str, Any]]:
    return [{"currency": code, "name": code, "fullName": code, "precision": 8, "confirms": None,
             "contractAddress": None, "isMarginEnabled": False, "isDebitEnabled": False,
             "chains": [{"chainName": chain.upper(), "chainId": chain, "withdrawalMinSize": "0.0001",
                         "withdrawalMinFee": "0.0001", "isWithdrawEnabled": True, "isDepositEnabled": True,
                         "confirms": 12, "preConfirms": 6, "contractAddress": "", "withdrawPrecision": 8,
                         "maxWithdraw": None, "maxDeposit": None, "needTag": False}]}
            for code, chain in sorted(CHAINS.items())]


def _symbols() -> list[dict[str, Any]]:
    return [{"symbol": s, "name": s, "baseCurrency": b, "quoteCurrency": q, "feeCurrency": q, "market": "USDS",
             "baseMinSize": lot, "quoteMinSize": "0.1", "baseMaxSize": "10000000000", "quoteMaxSize": "99999999",
             "baseIncrement": lot, "quoteIncrement": "0.00000001", "priceIncrement": tick, "priceLimitRate": "0.1",
             "minFunds": "0.1", "isMarginEnabled": False, "enableTrading": True, "feeCategory": 1,
             "makerFeeCoefficient": "1.00", "takerFeeCoefficient": "1.00", "st": False}
            for s, (b, q, lot, tick) in sorted({**{k: v[:4] for k, v in MARKETS.items()}, **LISTED}.items())]


Handler = Callable[[KucoinSimulator, _Query, Any], Any]
_ROUTES: dict[str, tuple[bool, Handler]] = {
    "/api/v1/timestamp": (False, lambda sim, q, k: sim.now_ms()),
    "/api/v3/currencies": (False, lambda sim, q, k: _currencies()),
    "/api/v2/symbols": (False, lambda sim, q, k: _symbols()),
    "/api/v1/market/allTickers": (False, lambda sim, q, k: {"time": sim.now_ms(), "ticker": []}),
    "/api/v1/contracts/active": (False, lambda sim, q, k: []),
    "/api/v3/margin/symbols": (True, lambda sim, q, k: {"timestamp": sim.now_ms(), "items": []}),
    "/api/v1/isolated/symbols": (True, lambda sim, q, k: []),
    "/api/v1/hf/accounts/opened": (True, lambda sim, q, k: sim.history.hf),
    "/api/ua/v1/account/mode": (True, lambda sim, q, k: {"selfAccountMode": "CLASSIC"}),
    "/api/v1/accounts": (True, lambda sim, q, k: sim.accounts(q)),
    "/api/v1/fills": (True, lambda sim, q, k: sim.fills(q)),
    "/api/v1/deposits": (True, lambda sim, q, k: sim.transfers(q, "deposit")),
    "/api/v1/withdrawals": (True, lambda sim, q, k: sim.transfers(q, "withdrawal")),
    "/api/v1/accounts/ledgers": (True, lambda sim, q, k: sim.ledgers(q)),
    "/api/v1/hf/fills": (True, lambda sim, q, k: sim.hf_fills(q)),
    "/api/v1/hf/accounts/ledgers": (True, lambda sim, q, k: sim.hf_ledgers(q)),
    "/api/v1/user/api-key": (True, lambda sim, q, k: sim.api_key(k)),
}
