"""An HTTP server on 127.0.0.1 that speaks enough of Kraken's REST API for unmodified ``ccxt.kraken``.

``KrakenSimulator`` serves a ``KrakenHistory`` through Kraken's paths (``/0/public/...`` GET,
``/0/private/...`` POST), its envelope and error strings, and its authentication: ``API-Key`` header, a
form-encoded (or JSON) body carrying ``nonce``, and ``API-Sign`` = base64(HMAC-SHA512(base64decode(secret),
path + SHA256(nonce + body))). Each key's nonce must grow (``EAPI:Invalid nonce``; a key's ``nonce_window``
allows Kraken's out-of-order slack), and each key has Kraken's tiered call counter: +1 per private call,
+2 for ``TradesHistory`` / ``Ledgers``, decaying continuously; a call that would take it over the tier's
maximum is refused with ``EAPI:Rate limit exceeded`` (and still counts, so hammering prolongs the block).

ccxt's default pacing fits the starter tier: it waits ``rateLimit`` (1000 ms) x cost between calls, i.e.
6 s per history call (+2, while 6 s x 1/3 decays 2) and 3 s per other private call (+1 vs 1). Kraken
documents the starter decay as "0.33/sec"; it removes one point every three seconds, which is what keeps
ccxt's pacing from creeping up: ``STARTER`` uses exactly 1/3.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from importer.simulator import kraken_private as private
from importer.simulator import kraken_public as public
from importer.simulator.kraken_api import (
    INVALID_KEY,
    INVALID_NONCE,
    INVALID_SIGNATURE,
    PERMISSION_DENIED,
    RATE_LIMIT,
    UNKNOWN_METHOD,
    Form,
    KrakenError,
    envelope,
)
from importer.simulator.kraken_history import KrakenActivity, KrakenHistory
from importer.simulator.server import Faults, HttpSimulator, Reply, SimKey

__all__ = ["INTERMEDIATE", "PERMISSIONS", "PRO", "STARTER", "CallCounter", "KrakenSimulator", "KrakenTier",
           "kraken_permissions"]

JSON = "application/json; charset=utf-8"
PERMISSIONS = ("query-funds", "add-funds", "withdraw-funds", "earn-funds", "query-open-trades",
               "query-closed-trades", "modify-trades", "close-trades", "query-ledger", "export-data",
               "create-ws-token", "add-withdraw-address", "update-withdraw-address")
# Private method -> permissions of which the key needs one (Kraken's "API Key Permissions Required").
REQUIRED: dict[str, tuple[str, ...]] = {
    "Balance": ("query-funds",), "BalanceEx": ("query-funds",), "TradesHistory": ("query-closed-trades",),
    "QueryTrades": ("query-closed-trades",), "Ledgers": ("query-ledger",), "QueryLedgers": ("query-ledger",),
    "DepositStatus": ("query-funds",), "WithdrawStatus": ("withdraw-funds", "query-ledger"), "GetApiKeyInfo": (),
}
HISTORY_CALLS = frozenset({"TradesHistory", "Ledgers"})  # +2 on the call counter
FAULT_BODIES: dict[int, tuple[str, bytes]] = {
    429: (JSON, b'{"error":["EGeneral:Too many requests"]}'),
    500: ("text/html", b"<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 "
                       b"Internal Server Error</h1></center><hr><center>cloudflare</center></body></html>"),
    502: ("text/html", b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                       b"</h1></center><hr><center>cloudflare</center></body></html>"),
    503: ("text/html", b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
                       b"<h1>503 Service Temporarily Unavailable</h1></center><hr><center>cloudflare</center>"
                       b"</body></html>"),
}


@dataclass(frozen=True, slots=True)
class KrakenTier:
    """A verification tier's call counter: refused beyond ``max_counter``, decaying ``decay_per_second``."""

    name: str
    max_counter: float
    decay_per_second: float


STARTER = KrakenTier("starter", 15, 1 / 3)
INTERMEDIATE = KrakenTier("intermediate", 20, 0.5)
PRO = KrakenTier("pro", 20, 1.0)


class CallCounter:
    """Kraken's per-key API call counter; thread-safe. Refused calls count too, up to twice the maximum."""

    def __init__(self, tier: KrakenTier, clock: Callable[[], float] = time.time) -> None:
        self.tier = tier
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (counter, at)

    def _decayed(self, key: str, now: float) -> float:
        value, at = self._state.get(key, (0.0, now))
        return max(0.0, value - (now - at) * self.tier.decay_per_second)

    def charge(self, key: str, cost: int) -> bool:
        """Add ``cost`` for one call: False (refused) if that takes the counter over the tier's maximum."""
        now = self._clock()
        with self._lock:
            value = self._decayed(key, now)
            ok = value + cost <= self.tier.max_counter
            self._state[key] = (min(value + cost, 2 * self.tier.max_counter), now)
            return ok

    def value(self, key: str) -> float:
        with self._lock:
            return self._decayed(key, self._clock())

    def reset(self) -> None:
        with self._lock:
            self._state.clear()


def kraken_permissions(key: SimKey) -> list[str]:
    """The key's Kraken permission codes: ``kraken_permissions`` if given, else derived from the ``can_*`` flags."""
    if key.kraken_permissions is not None:
        unknown = sorted(set(key.kraken_permissions) - set(PERMISSIONS))
        if unknown:
            raise ValueError(f"unknown Kraken permissions {unknown}; Kraken's codes are {list(PERMISSIONS)}")
        return list(key.kraken_permissions)
    perms: list[str] = []
    if key.can_read:
        perms += ["query-funds", "query-open-trades", "query-closed-trades", "query-ledger"]
    if key.can_trade:
        perms += ["modify-trades", "close-trades"]
    if key.can_withdraw:
        perms.append("withdraw-funds")
    return perms


def _reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), (), JSON)


class KrakenSimulator(HttpSimulator):
    """Serves a Kraken ``history`` for ``keys`` on 127.0.0.1 in a background thread; use as a context manager.

    ``tier=None`` switches the call counter off (for clients with a tiny ccxt ``rateLimit``);
    ``ohlc_depth=None`` serves candles from any ``since`` instead of only the 720 most recent.
    """

    thread_name = "kraken-simulator"

    def __init__(self, history: KrakenHistory, keys: Sequence[SimKey], *, faults: Faults | None = None,
                 port: int = 0, tier: KrakenTier | None = STARTER, ohlc_depth: int | None = public.OHLC_DEPTH,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(faults=faults, port=port, clock=clock)
        self._book = private.Book(history)
        self._keys = {k.api_key: k for k in keys}
        self._secrets: dict[str, bytes] = {}
        self._permissions: dict[str, list[str]] = {}
        for k in keys:
            try:
                self._secrets[k.api_key] = base64.b64decode(k.secret, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"Kraken secrets are base64; the one for key {k.api_key[:6]}... is not") from exc
            self._permissions[k.api_key] = kraken_permissions(k)
        self._nonces: dict[str, int] = {}
        self._recent: dict[str, collections.deque[int]] = collections.defaultdict(lambda: collections.deque(maxlen=256))
        self._nonce_lock = threading.Lock()
        self.tier = tier
        self.counter = CallCounter(tier, clock) if tier is not None else None
        self.ohlc_depth = ohlc_depth

    # -- state -------------------------------------------------------------------------------------------
    @property
    def history(self) -> KrakenHistory:
        return self._book.history

    def add_activity(self, activity: KrakenActivity) -> None:
        """Serve ``activity`` from now on (new trades, ledger entries, deposits, withdrawals)."""
        with self._lock:
            self._book = private.Book(self._book.history.with_added(activity))

    def reset_rate_limits(self) -> None:
        if self.counter is not None:
            self.counter.reset()

    # -- request handling --------------------------------------------------------------------------------
    def _fault_reply(self, status: int) -> Reply:
        content_type, payload = FAULT_BODIES[status]
        return Reply(status, payload, (("Retry-After", "1"),) if status == 429 else (), content_type)

    def _error_reply(self, exc: Exception) -> Reply:
        if isinstance(exc, KrakenError):
            return _reply(exc.body())
        self.errors.append(exc)
        return _reply({"error": ["EGeneral:Internal error"]}, 500)

    def _dispatch(self, method: str, path: str, query: str, headers: Any, client: str, body: bytes) -> Reply:
        content_type = headers.get("Content-Type") or ""
        if path.startswith("/0/public/"):
            handler = _PUBLIC.get(path.removeprefix("/0/public/"))
            if handler is None:
                raise KrakenError(UNKNOWN_METHOD)
            form = Form(query if method == "GET" else body.decode("utf-8", "replace"), content_type)
            return _reply(envelope(handler(self, form)))
        if path.startswith("/0/private/"):
            name = path.removeprefix("/0/private/")
            private_handler = _PRIVATE.get(name)
            if private_handler is None or method != "POST":
                raise KrakenError(UNKNOWN_METHOD)
            key, form, nonce = self._authenticate(path, headers, body, client)
            if self.counter is not None and not self.counter.charge(key.api_key, 2 if name in HISTORY_CALLS else 1):
                raise KrakenError(RATE_LIMIT)
            needed = REQUIRED[name]
            if needed and not set(needed) & set(self._permissions[key.api_key]):
                raise KrakenError(PERMISSION_DENIED)
            return _reply(envelope(private_handler(self, form, key, nonce)))
        return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", (), "text/html")

    def _authenticate(self, path: str, headers: Any, body: bytes, client: str) -> tuple[SimKey, Form, int]:
        key = self._keys.get(headers.get("API-Key") or "")
        if key is None:
            raise KrakenError(INVALID_KEY)
        text = body.decode("utf-8", "replace")
        form = Form(text, headers.get("Content-Type") or "")
        nonce_text = form.text("nonce") or ""
        digest = hashlib.sha256((nonce_text + text).encode()).digest()
        expected = base64.b64encode(hmac.new(self._secrets[key.api_key], path.encode() + digest,
                                             hashlib.sha512).digest()).decode()
        if not hmac.compare_digest(expected.encode(), (headers.get("API-Sign") or "").encode()):
            raise KrakenError(INVALID_SIGNATURE)
        if key.valid_until_s and self._clock() > key.valid_until_s:
            raise KrakenError(INVALID_KEY)
        if key.ip_allowlist and client not in key.ip_allowlist:
            raise KrakenError(PERMISSION_DENIED)
        return key, form, self._take_nonce(key, nonce_text)

    def _take_nonce(self, key: SimKey, nonce_text: str) -> int:
        if not nonce_text.isdigit() or not 0 < int(nonce_text) < 1 << 64:
            raise KrakenError(INVALID_NONCE)
        nonce = int(nonce_text)
        with self._nonce_lock:
            last, recent = self._nonces.get(key.api_key, 0), self._recent[key.api_key]
            if nonce > last:
                self._nonces[key.api_key] = nonce
            elif not (key.nonce_window and nonce > last - key.nonce_window and nonce not in recent):
                raise KrakenError(INVALID_NONCE)
            recent.append(nonce)
        return nonce


PublicHandler = Callable[[KrakenSimulator, Form], Any]
PrivateHandler = Callable[[KrakenSimulator, Form, SimKey, int], Any]
_PUBLIC: dict[str, PublicHandler] = {
    "Time": lambda sim, f: public.time_info(sim.now_ms() // 1000),
    "SystemStatus": lambda sim, f: public.system_status(sim.now_ms() // 1000),
    "Assets": lambda sim, f: public.assets(sim.history, f),
    "AssetPairs": lambda sim, f: public.asset_pairs(sim.history, f),
    "OHLC": lambda sim, f: public.ohlc(sim.history, f, sim.now_ms() // 1000, sim.ohlc_depth),
}
_PRIVATE: dict[str, PrivateHandler] = {
    "Balance": lambda sim, f, k, n: private.balance(sim._book),
    "BalanceEx": lambda sim, f, k, n: private.balance_ex(sim._book),
    "TradesHistory": lambda sim, f, k, n: private.trades_history(sim._book, f, private.KeyView.of(k)),
    "QueryTrades": lambda sim, f, k, n: private.query_trades(sim._book, f, private.KeyView.of(k)),
    "Ledgers": lambda sim, f, k, n: private.ledgers(sim._book, f, private.KeyView.of(k)),
    "QueryLedgers": lambda sim, f, k, n: private.query_ledgers(sim._book, f, private.KeyView.of(k)),
    "DepositStatus": lambda sim, f, k, n: private.deposit_status(sim._book, f, private.KeyView.of(k)),
    "WithdrawStatus": lambda sim, f, k, n: private.withdraw_status(sim._book, f, private.KeyView.of(k)),
    "GetApiKeyInfo": lambda sim, f, k, n: private.api_key_info(k, sim._permissions[k.api_key], sim.history.iban, n,
                                                                 sim.now_ms() // 1000),
}
