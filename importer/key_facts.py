"""What an exchange reports about the API key taxsync uses, as one record per key (reference/ccxt-notes.md §5).

Each exchange has one read-only endpoint that describes the calling key; a reader here asks it and maps the
answer to ``KeyFacts``. A field is ``None`` when that exchange does not report it, so "the exchange cannot
tell" stays distinguishable from "no". ``importer.permissions`` derives its allow/refuse decision from these
facts, and ``taxsync.app.key_audit`` turns them into findings.

When an exchange refuses a request because of the key's IP allowlist, some say which address the request came
from (Binance ``request ip: ...``, OKX ``Your IP ... is not included``); ``reported_address`` reads it from the
error. taxsync never asks any other service for its own address.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ccxt

ANY_ADDRESS = frozenset({"*", "0.0.0.0/0", "::/0", "0.0.0.0"})


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """What the exchange says about one key; ``None`` = the exchange does not report it.

    ``allowed_ips`` is the allowlist as reported (empty = any address), ``ip_restricted`` whether there is one
    (Binance says only that). ``expires_ms`` 0 = never expires. ``query_from_ms`` / ``query_to_ms`` (Kraken)
    bound the history the key may read, 0 = unbounded.
    """

    exchange: str
    can_read: bool | None
    can_trade: bool | None
    can_withdraw: bool | None
    can_transfer: bool | None
    ip_restricted: bool | None = None
    allowed_ips: tuple[str, ...] | None = None
    created_ms: int | None = None
    expires_ms: int | None = None
    query_from_ms: int | None = None
    query_to_ms: int | None = None
    label: str | None = None
    owner: str | None = None  # the account the key belongs to (uid, IIBAN, portfolio), where reported
    details: dict[str, Any] = field(default_factory=dict)


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _seconds_ms(value: Any) -> int | None:
    """Unix seconds as text (Kraken) to ms; "0" stays 0 (= no bound)."""
    seconds = _int(value)
    return None if seconds is None else seconds * 1000


def _iso_ms(value: Any) -> int | None:
    """An ISO 8601 time (Bybit ``createdAt`` / ``expiredAt``) to ms; empty or unreadable = None."""
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _ip_list(text: Any) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(text or "").split(",") if p.strip())


def restricted(ips: tuple[str, ...]) -> bool:
    return bool(ips) and not (set(ips) & ANY_ADDRESS)


def binance_facts(r: dict[str, Any]) -> KeyFacts:
    """GET /sapi/v1/account/apiRestrictions: flags, ``ipRestrict`` (no list) and ``createTime``; no expiry for
    the key itself (``tradingAuthorityExpirationTime`` ends only its trading permission)."""
    trading = ("enableSpotAndMarginTrading", "enableMargin", "enableFutures", "enableVanillaOptions",
               "enablePortfolioMarginTrading", "enableFixApiTrade")
    moving = ("enableInternalTransfer", "permitsUniversalTransfer")
    keys = ("ipRestrict", "createTime", "tradingAuthorityExpirationTime", "enableWithdrawals", *trading, *moving)
    return KeyFacts(
        "binance", _truthy(r.get("enableReading")), any(_truthy(r.get(k)) for k in trading),
        _truthy(r.get("enableWithdrawals")), any(_truthy(r.get(k)) for k in moving),
        ip_restricted=_truthy(r.get("ipRestrict")), created_ms=_int(r.get("createTime")),
        details={k: r.get(k) for k in keys if k in r},
    )


# Kraken's permission codes (API docs, "Get API Key Info"): query-funds, add-funds, withdraw-funds, earn-funds,
# query-open-trades, query-closed-trades, modify-trades, close-trades, query-ledger, export-data,
# create-ws-token, add-withdraw-address, update-withdraw-address. Moving funds between Kraken wallets
# (WalletTransfer) needs withdraw-funds too.
KRAKEN_READ = frozenset({"query-funds", "query-closed-trades", "query-ledger"})
KRAKEN_TRADE = frozenset({"modify-trades", "close-trades", "earn-funds"})
KRAKEN_MOVE = frozenset({"withdraw-funds", "add-withdraw-address", "update-withdraw-address"})


def kraken_facts(result: dict[str, Any]) -> KeyFacts:
    """POST /0/private/GetApiKeyInfo: permission codes, ``ipAllowlist``, ``createdTime``, ``validUntil`` and the
    query window ``queryFrom`` / ``queryTo`` (unix seconds, "0" = none)."""
    perms = set(result.get("permissions") or [])
    ips = tuple(str(ip) for ip in result.get("ipAllowlist") or [])
    moving = bool(perms & KRAKEN_MOVE)
    return KeyFacts(
        "kraken", bool(perms & KRAKEN_READ), bool(perms & KRAKEN_TRADE), moving, moving,
        ip_restricted=restricted(ips), allowed_ips=ips, created_ms=_seconds_ms(result.get("createdTime")),
        expires_ms=_seconds_ms(result.get("validUntil")), query_from_ms=_seconds_ms(result.get("queryFrom")),
        query_to_ms=_seconds_ms(result.get("queryTo")), label=result.get("apiKeyName"),
        owner=_text(result.get("iban")),
        details={k: result.get(k) for k in ("permissions", "queryFrom", "queryTo", "validUntil", "ipAllowlist",
                                            "createdTime") if k in result},
    )


def coinbase_facts(r: dict[str, Any]) -> KeyFacts:
    """GET /api/v3/brokerage/key_permissions: ``can_view`` / ``can_trade`` / ``can_transfer`` only; the IP
    allowlist and dates of a CDP key are not reported."""
    moving = _truthy(r.get("can_transfer"))
    return KeyFacts("coinbase", _truthy(r.get("can_view")), _truthy(r.get("can_trade")), moving, moving,
                    owner=_text(r.get("portfolio_uuid")), details={"portfolio_type": r.get("portfolio_type")})


def okx_facts(r: dict[str, Any]) -> KeyFacts:
    """GET /api/v5/account/config: ``perm`` (read_only, trade, withdraw), ``ip`` (comma list, "" = any) and
    ``label``; no dates. OKX has no transfer permission of its own (moving funds between one's OKX accounts
    comes with trade), so ``can_transfer`` stays unknown."""
    data = (r.get("data") or [{}])[0]
    perms = {p.strip() for p in str(data.get("perm", "")).split(",")}
    ips = _ip_list(data.get("ip"))
    return KeyFacts("okx", "read_only" in perms, "trade" in perms, "withdraw" in perms, None,
                    ip_restricted=restricted(ips), allowed_ips=ips, label=data.get("label"),
                    owner=_text(data.get("uid")), details={"ip": data.get("ip")})


BYBIT_TRADE_AREAS = ("Spot", "ContractTrade", "Options", "Derivatives")


def bybit_facts(r: dict[str, Any]) -> KeyFacts:
    """GET /v5/user/query-api: ``readOnly``, ``permissions`` by area, ``ips`` (["*"] = any), ``createdAt`` and
    ``expiredAt`` (keys bound to no IP expire; "" = no expiry)."""
    result = r.get("result", {}) or {}
    perms = result.get("permissions", {}) or {}
    read_only = _truthy(result.get("readOnly"))
    wallet = set(perms.get("Wallet") or [])
    ips = tuple(str(ip) for ip in result.get("ips") or [])
    expires = _iso_ms(result.get("expiredAt"))
    return KeyFacts(
        "bybit", True, not read_only and any(perms.get(k) for k in BYBIT_TRADE_AREAS),
        not read_only and "Withdraw" in wallet, not read_only and bool(wallet - {"Withdraw"}),
        ip_restricted=restricted(ips), allowed_ips=tuple(ip for ip in ips if ip not in ANY_ADDRESS),
        created_ms=_iso_ms(result.get("createdAt")), expires_ms=expires or 0, label=result.get("note"),
        owner=_text(result.get("userID")),
        details={"ips": result.get("ips"), "expiredAt": result.get("expiredAt")},
    )


def kucoin_facts(r: dict[str, Any]) -> KeyFacts:
    """GET /api/v1/user/api-key: ``permission`` (General, Spot, Margin, Futures, Transfer, Withdrawal...),
    ``ipWhitelist`` (comma list, "" = any), ``createdAt`` (ms); no expiry."""
    data = r.get("data", {}) or {}
    perms = {p.strip() for p in str(data.get("permission", "")).split(",") if p.strip()}
    ips = _ip_list(data.get("ipWhitelist"))
    return KeyFacts("kucoin", "General" in perms, bool(perms - {"General", "Transfer", "Withdrawal"}),
                    "Withdrawal" in perms, "Transfer" in perms, ip_restricted=restricted(ips), allowed_ips=ips,
                    created_ms=_int(data.get("createdAt")), label=data.get("remark"), owner=_text(data.get("uid")),
                    details={"ipWhitelist": data.get("ipWhitelist")})


def gemini_facts(r: dict[str, Any]) -> KeyFacts:
    """POST /v1/roles: ``isAuditor`` / ``isTrader`` / ``isFundManager``; nothing about addresses or dates."""
    moving = _truthy(r.get("isFundManager"))
    return KeyFacts("gemini", True, _truthy(r.get("isTrader")), moving, moving,
                    owner=_text(r.get("counterparty_id")))


# exchange id -> (ask the key endpoint, map its answer)
READERS: dict[str, tuple[Callable[[ccxt.Exchange], Any], Callable[[Any], KeyFacts]]] = {
    "binance": (lambda ex: ex.sapi_get_account_apirestrictions(), binance_facts),
    "kraken": (lambda ex: ex.private_post_getapikeyinfo().get("result", {}), kraken_facts),
    "coinbase": (lambda ex: ex.v3_private_get_brokerage_key_permissions(), coinbase_facts),
    "okx": (lambda ex: ex.private_get_account_config(), okx_facts),
    "bybit": (lambda ex: ex.private_get_v5_user_query_api(), bybit_facts),
    "kucoin": (lambda ex: ex.private_get_user_api_key(), kucoin_facts),
    "gemini": (lambda ex: ex.private_post_v1_roles(), gemini_facts),
}


def fetch_key_facts(exchange_id: str, exchange: ccxt.Exchange) -> KeyFacts | None:
    """What the exchange reports about the key (one request), or None when it offers no way to ask."""
    reader = READERS.get(exchange_id)
    if reader is None:
        return None
    ask, parse = reader
    return parse(ask(exchange))


_ADDRESS_IN_ERROR = (
    re.compile(r"request ip: ?([0-9A-Fa-f:.]{3,45})"),  # Binance -2015
    re.compile(r"Your IP ([0-9A-Fa-f:.]{3,45}) is not included"),  # OKX 50110
)


def reported_address(error_text: str) -> str | None:
    """The address the exchange says a refused request came from, if its error message says so."""
    for pattern in _ADDRESS_IN_ERROR:
        if match := pattern.search(error_text):
            return match.group(1).rstrip(".")
    return None
