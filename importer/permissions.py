"""What an API key may do, asked of the exchange where it can tell (reference/ccxt-notes.md §5).

Each checker asks one read-only endpoint and maps its answer to ``KeyPermissions``. A key that can withdraw is
always refused; a key that can trade is refused unless the user allowed it when adding the account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ccxt

from taxsync.errors import ConfigError


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    can_read: bool | None
    can_trade: bool | None
    can_withdraw: bool | None
    details: dict[str, Any] = field(default_factory=dict)


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _binance(exchange: ccxt.Exchange) -> KeyPermissions:
    r = exchange.sapi_get_account_apirestrictions()
    trading = ("enableSpotAndMarginTrading", "enableMargin", "enableFutures", "enableVanillaOptions",
               "enablePortfolioMarginTrading")
    moving = ("enableWithdrawals", "enableInternalTransfer", "permitsUniversalTransfer")
    return KeyPermissions(
        can_read=_truthy(r.get("enableReading")),
        can_trade=any(_truthy(r.get(k)) for k in trading),
        can_withdraw=any(_truthy(r.get(k)) for k in moving),
        details={k: r.get(k) for k in ("ipRestrict", "createTime", *trading, *moving) if k in r},
    )


def _kraken(exchange: ccxt.Exchange) -> KeyPermissions:
    result = exchange.private_post_getapikeyinfo().get("result", {})
    perms = set(result.get("permissions", []))
    # Kraken's permission codes (API docs, "Get API Key Info"): query-funds, add-funds, withdraw-funds,
    # earn-funds, query-open-trades, query-closed-trades, modify-trades, close-trades, query-ledger,
    # export-data, create-ws-token, add-withdraw-address, update-withdraw-address.
    return KeyPermissions(
        can_read=bool(perms & {"query-funds", "query-closed-trades", "query-ledger"}),
        can_trade=bool(perms & {"modify-trades", "close-trades", "earn-funds"}),
        can_withdraw=bool(perms & {"withdraw-funds", "add-withdraw-address", "update-withdraw-address"}),
        details={k: result.get(k) for k in ("queryFrom", "queryTo", "validUntil", "ipAllowlist") if k in result},
    )


def _coinbase(exchange: ccxt.Exchange) -> KeyPermissions:
    r = exchange.v3_private_get_brokerage_key_permissions()
    return KeyPermissions(_truthy(r.get("can_view")), _truthy(r.get("can_trade")), _truthy(r.get("can_transfer")),
                          {"portfolio_type": r.get("portfolio_type")})


def _okx(exchange: ccxt.Exchange) -> KeyPermissions:
    data = (exchange.private_get_account_config().get("data") or [{}])[0]
    perms = {p.strip() for p in str(data.get("perm", "")).split(",")}
    return KeyPermissions("read_only" in perms, "trade" in perms, "withdraw" in perms, {"ip": data.get("ip")})


def _bybit(exchange: ccxt.Exchange) -> KeyPermissions:
    r = exchange.private_get_v5_user_query_api().get("result", {})
    perms = r.get("permissions", {}) or {}
    read_only = _truthy(r.get("readOnly"))
    return KeyPermissions(True, not read_only and any(perms.get(k) for k in ("Spot", "ContractTrade", "Options",
                                                                           "Derivatives")),
                          bool(perms.get("Wallet")) and not read_only, {"ips": r.get("ips"),
                                                                         "expiredAt": r.get("expiredAt")})


def _kucoin(exchange: ccxt.Exchange) -> KeyPermissions:
    data = exchange.private_get_user_api_key().get("data", {})
    perms = {p.strip() for p in str(data.get("permission", "")).split(",")}
    return KeyPermissions("General" in perms, bool(perms - {"General"} - {"Transfer", "Withdrawal"}),
                          bool(perms & {"Transfer", "Withdrawal"}), {"ipWhitelist": data.get("ipWhitelist")})


def _gemini(exchange: ccxt.Exchange) -> KeyPermissions:
    r = exchange.private_post_v1_roles()
    return KeyPermissions(True, _truthy(r.get("isTrader")), _truthy(r.get("isFundManager")), {})


CHECKERS: dict[str, Callable[[ccxt.Exchange], KeyPermissions]] = {
    "binance": _binance,
    "kraken": _kraken,
    "coinbase": _coinbase,
    "okx": _okx,
    "bybit": _bybit,
    "kucoin": _kucoin,
    "gemini": _gemini,
}

READ_ONLY_HOWTO = (
    "create a new API key on the exchange with only the read (view) permission — no trading, no withdrawals, "
    "no transfers — ideally restricted to this machine's IP address, then add the account again with it"
)


def check_key(exchange_id: str, exchange: ccxt.Exchange) -> KeyPermissions | None:
    """What the key may do, or None when the exchange offers no way to tell."""
    checker = CHECKERS.get(exchange_id)
    return checker(exchange) if checker else None


def enforce(account: str, permissions: KeyPermissions | None, *, allow_trading: bool) -> str:
    """Refuse unsafe keys with a ConfigError; returns a one-line verdict for the user."""
    if permissions is None:
        return f"{account}: this exchange cannot tell what the key may do; make sure it is read-only"
    if permissions.can_withdraw:
        raise ConfigError(f"{account}: the API key can withdraw or transfer funds, so taxsync refuses it: "
                          f"{READ_ONLY_HOWTO}")
    if permissions.can_trade and not allow_trading:
        raise ConfigError(f"{account}: the API key can trade, so taxsync refuses it: {READ_ONLY_HOWTO} "
                          "(or add the account with --allow-trading-key to accept a trading key knowingly)")
    if permissions.can_read is False:
        raise ConfigError(f"{account}: the API key cannot read the account; enable its read permission")
    return f"{account}: key is read-only" if not permissions.can_trade else f"{account}: key can trade (allowed)"
