"""The bodies the simulated Coinbase endpoints answer with, their paging and their errors.

Two APIs share api.coinbase.com (ccxt's ``v2`` and ``v3`` groups):

* v2, the Coinbase App "Track APIs" (Accounts, Transactions, Currencies, Exchange Rates): lists are
  ``{"pagination": {...}, "data": [...]}``, paged as the "Pagination" page says: ``limit`` (default 25, up to 100),
  ``order`` (``desc`` newest first by default, or ``asc``), ``starting_after`` / ``ending_before`` (a resource id
  that "defines your place in the list"), ``next_uri`` empty on the last page. Errors are
  ``{"errors": [{"id": "not_found", "message": ...}]}`` with the ids of the v2 "Errors" page (``invalid_request``,
  ``authentication_error``, ``invalid_scope``, ``not_found``, ``rate_limit_exceeded``), which ccxt maps by id.
* v3, the Advanced Trade API: List Accounts (``limit`` default 49, max 250, ``cursor``, ``has_next``), List Fills
  (newest first, ``cursor``, ``limit`` default 100, ``start_sequence_timestamp`` inclusive,
  ``end_sequence_timestamp`` exclusive), List Public Products, Get Transactions Summary, Get API Key Permissions.
  Errors are ``{"error": "PERMISSION_DENIED", "error_details": ..., "message": ...}``; an unauthenticated call is
  answered ``401`` with the plain text ``Unauthorized``.

Cursors are opaque to the client: here, the base64 of the last served item's id.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from importer.simulator.coinbase_history import (
    CbAccount,
    CbFill,
    CbTransaction,
    CoinbaseHistory,
    iso,
    iso_us,
    plain,
)

JSON = "application/json; charset=utf-8"
V2_LIMIT = (25, 100)  # (default, maximum) of v2 transaction lists
V2_ACCOUNTS_LIMIT = (25, 300)  # ccxt asks /v2/accounts for 250 at once; its own sample shows a 244-row page
V3_ACCOUNTS_LIMIT = (49, 250)
FILLS_LIMIT = (100, 3000)  # ccxt's coinbase features: fetchMyTrades limit 3000
T = TypeVar("T")


class CoinbaseError(Exception):
    """An error reply: HTTP ``status`` with a JSON (or, for ``text``, plain) body."""

    def __init__(self, status: int, body: Any, text: bool = False) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.text = text

    def encoded(self) -> tuple[bytes, str]:
        if self.text:
            return str(self.body).encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body, separators=(",", ":")).encode(), JSON


def v2_error(status: int, error_id: str, message: str) -> CoinbaseError:
    return CoinbaseError(status, {"errors": [{"id": error_id, "message": message}]})


def v3_error(status: int, code: str, message: str) -> CoinbaseError:
    return CoinbaseError(status, {"error": code, "error_details": message, "message": message})


UNAUTHORIZED = CoinbaseError(401, "Unauthorized\n", text=True)
RATE_LIMITED = {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}


class Query:
    """A request's query string; array parameters repeat their name (``product_ids=A&product_ids=B``)."""

    def __init__(self, text: str, v3: bool) -> None:
        self.v3 = v3
        self.values: dict[str, list[str]] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            self.values.setdefault(key, []).append(value)

    def bad(self, name: str) -> CoinbaseError:
        if self.v3:
            return v3_error(400, "INVALID_ARGUMENT", f"invalid value for {name}")
        return v2_error(400, "invalid_request", f"{name} is invalid")

    def one(self, key: str) -> str | None:
        values = self.values.get(key)
        return values[-1] if values and values[-1] != "" else None

    def many(self, *keys: str) -> set[str]:
        return {v for k in keys for v in self.values.get(k, []) if v}

    def limit(self, default_max: tuple[int, int]) -> int:
        default, maximum = default_max
        text = self.one("limit")
        if text is None:
            return default
        if not text.isdigit() or int(text) < 1:
            raise self.bad("limit")
        return min(int(text), maximum)

    def time_us(self, key: str) -> int | None:
        """An RFC 3339 parameter in microseconds (fractions beyond microseconds are cut)."""
        text = self.one(key)
        if text is None:
            return None
        try:
            whole, _, rest = text.removesuffix("Z").partition(".")
            moment = datetime.fromisoformat(whole + "+00:00")
        except ValueError:
            raise self.bad(key) from None
        digits = "".join(ch for ch in rest if ch.isdigit())[:6].ljust(6, "0")
        return int(moment.timestamp()) * 1_000_000 + int(digits)


def _cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _uncursor(query: Query, value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise query.bad("cursor") from None


def _after(query: Query, items: Sequence[T], ident: Callable[[T], str], cursor: str | None) -> int:
    """Index of the first item after the one whose id is ``cursor`` (0 without a cursor)."""
    if cursor is None:
        return 0
    for i, item in enumerate(items):
        if ident(item) == cursor:
            return i + 1
    raise query.bad("cursor")


# -- v2 -------------------------------------------------------------------------------------------------------
def v2_page(query: Query, items: Sequence[T], ident: Callable[[T], str], path: str,
            limits: tuple[int, int] = V2_LIMIT) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` (oldest first) as the v2 Pagination page describes, with its pagination object."""
    limit = query.limit(limits)
    order = query.one("order") or "desc"
    if order not in ("asc", "desc"):
        raise query.bad("order")
    ordered = list(items) if order == "asc" else list(reversed(items))
    ids = [ident(i) for i in ordered]
    after, before = query.one("starting_after"), query.one("ending_before")
    for name, value in (("starting_after", after), ("ending_before", before)):
        if value is not None and value not in ids:
            raise v2_error(400, "invalid_request", f"{name} is not a valid id")
    if before is not None:  # the page that ends just before the item
        end = ids.index(before)
        lo = max(0, end - limit) if after is None else ids.index(after) + 1
        chunk = ordered[lo:end]
        more = False
    else:
        lo = ids.index(after) + 1 if after is not None else 0
        chunk = ordered[lo:lo + limit]
        more = lo + limit < len(ordered)
    last = ident(chunk[-1]) if chunk else None
    first = ident(chunk[0]) if chunk else None
    next_after = last if more else None
    previous = first if chunk and lo > 0 else None
    common = {"limit": limit, "order": order}
    return chunk, {
        "ending_before": before, "starting_after": after, "previous_ending_before": previous,
        "next_starting_after": next_after, "limit": limit, "order": order,
        "previous_uri": f"{path}?{urlencode({**common, 'ending_before': previous})}" if previous else None,
        "next_uri": f"{path}?{urlencode({**common, 'starting_after': next_after})}" if next_after else None,
    }


def _money(amount: str | Decimal, currency: str) -> dict[str, str]:
    return {"amount": plain(amount) if isinstance(amount, Decimal) else amount, "currency": currency}


def v2_account(history: CoinbaseHistory, account: CbAccount) -> dict[str, Any]:
    cur = next(c for c in history.currencies if c.code == account.currency)
    currency: dict[str, Any] = {"code": cur.code, "name": cur.name, "color": cur.color, "sort_index": 100,
                                "exponent": cur.exponent, "type": "fiat" if cur.fiat else "crypto"}
    if not cur.fiat:
        currency.update(address_regex="^.+$", asset_id=_asset_id(cur.code), slug=cur.name.lower())
    created = iso(account.created_ms // 1000)
    balance = history.balance(account.currency)
    return {"id": account.uuid, "name": f"{cur.code} Wallet", "primary": cur.code == "BTC",
            "type": "fiat" if cur.fiat else "wallet", "currency": currency,
            "balance": _money(plain(balance), cur.code), "created_at": created, "updated_at": created,
            "resource": "account", "resource_path": f"/v2/accounts/{account.uuid}", "allow_deposits": True,
            "allow_withdrawals": True}


def _asset_id(code: str) -> str:
    return f"{sum(map(ord, code)):08x}-0000-5000-8000-{len(code):012x}"


def v2_transaction(history: CoinbaseHistory, tx: CbTransaction) -> dict[str, Any]:
    path = f"/v2/accounts/{tx.account}/transactions/{tx.id}"
    when = iso(tx.created_s)
    row: dict[str, Any] = {
        "id": tx.id, "type": tx.type, "status": tx.status, "amount": _money(tx.amount, tx.currency),
        "native_amount": _money(tx.native_usd, "USD"), "description": None, "created_at": when, "updated_at": when,
        "resource": "transaction", "resource_path": path, "instant_exchange": False,
        "details": {"title": _TITLES.get(tx.type, tx.type.replace("_", " ").title()), "subtitle": "",
                    "header": f"{tx.amount} {tx.currency}", "health": "positive"},
        "hide_native_amount": False,
    }
    cur = next(c for c in history.currencies if c.code == tx.currency)
    if tx.type == "send":
        network: dict[str, Any] = {
            "status": "confirmed" if tx.status == "completed" else "pending", "hash": tx.tx_hash,
            "network_name": cur.network, "transaction_fee": _money(tx.network_fee, tx.currency),
            "transaction_amount": _money(tx.network_amount, tx.currency), "confirmations": 6}
        row.update(network=network, idem=tx.id[::-1], to={"resource": f"{cur.network}_address",
                                                         "address": tx.address, "currency": tx.currency,
                                                         "address_info": {"address": tx.address}})
    elif tx.type == "receive":
        row.update(network={"status": "confirmed", "hash": tx.tx_hash, "network_name": cur.network},
                   **{"from": {"resource": f"{cur.network}_network", "currency": tx.currency}})
    elif tx.type in ("fiat_deposit", "fiat_withdrawal"):
        kind = "deposits" if tx.type == "fiat_deposit" else "withdrawals"
        row[tx.type] = {"id": tx.id[::-1], "resource": tx.type,
                        "resource_path": f"/v2/accounts/{tx.account}/{kind}/{tx.id[::-1]}"}
    elif tx.type == "advanced_trade_fill":
        fill = history.fill_by_entry[tx.fill]
        row["advanced_trade_fill"] = {"fill_price": fill.price, "product_id": fill.product_id,
                                      "order_id": fill.order_id, "commission": fill.commission,
                                      "order_side": fill.side.lower()}
    return row


_TITLES = {"send": "Sent", "receive": "Received", "fiat_deposit": "Deposited funds",
           "fiat_withdrawal": "Withdrew funds", "staking_reward": "Staking income", "interest": "USDC reward",
           "inflation_reward": "Inflation reward", "advanced_trade_fill": "Advanced Trade fill"}


# -- v3 -------------------------------------------------------------------------------------------------------
def v3_page(query: Query, items: Sequence[T], ident: Callable[[T], str],
            limits: tuple[int, int]) -> tuple[list[T], str]:
    """One page after the ``cursor`` item; the cursor of the next page ("" on the last one)."""
    limit = query.limit(limits)
    raw = query.one("cursor")
    start = _after(query, items, ident, _uncursor(query, raw) if raw else None)
    chunk = list(items[start:start + limit])
    more = start + limit < len(items)
    return chunk, _cursor(ident(chunk[-1])) if more and chunk else ""


def v3_account(history: CoinbaseHistory, account: CbAccount) -> dict[str, Any]:
    cur = next(c for c in history.currencies if c.code == account.currency)
    created = iso(account.created_ms // 1000)
    return {"uuid": account.uuid, "name": f"{cur.code} Wallet", "currency": cur.code,
            "available_balance": {"value": plain(history.balance(cur.code)), "currency": cur.code},
            "default": True, "active": True, "created_at": created, "updated_at": created,
            "deleted_at": None, "type": "ACCOUNT_TYPE_FIAT" if cur.fiat else "ACCOUNT_TYPE_CRYPTO",
            "ready": True, "hold": {"value": "0", "currency": cur.code},
            "retail_portfolio_id": history.portfolio_uuid, "platform": "ACCOUNT_PLATFORM_CONSUMER"}


def v3_fill(history: CoinbaseHistory, fill: CbFill) -> dict[str, Any]:
    return {"entry_id": fill.entry_id, "trade_id": fill.trade_id, "order_id": fill.order_id,
            "trade_time": iso_us(fill.trade_us), "trade_type": "FILL", "price": fill.price, "size": fill.size,
            "commission": fill.commission, "product_id": fill.product_id,
            "sequence_timestamp": iso_us(fill.sequence_us), "liquidity_indicator": fill.liquidity,
            "size_in_quote": fill.size_in_quote, "user_id": history.user_id, "side": fill.side,
            "retail_portfolio_id": history.portfolio_uuid}


def fills(history: CoinbaseHistory, query: Query, limits: tuple[int, int]) -> dict[str, Any]:
    """List Fills: newest first, filtered, one page."""
    products = query.many("product_ids", "product_id")
    orders, trades = query.many("order_ids", "order_id"), query.many("trade_ids")
    start, end = query.time_us("start_sequence_timestamp"), query.time_us("end_sequence_timestamp")
    chosen = [f for f in reversed(history.fills)
              if (not products or f.product_id in products) and (not orders or f.order_id in orders)
              and (not trades or f.trade_id in trades) and (start is None or f.sequence_us >= start)
              and (end is None or f.sequence_us < end)]
    page, cursor = v3_page(query, chosen, lambda f: f.entry_id, limits)
    return {"fills": [v3_fill(history, f) for f in page], "cursor": cursor}


def products(history: CoinbaseHistory, query: Query) -> dict[str, Any]:
    """List Public Products: the spot products (no futures are listed for this user)."""
    if (query.one("product_type") or "SPOT") != "SPOT":
        return {"products": [], "num_products": 0}
    names = {c.code: c.name for c in history.currencies}
    rows = [{"product_id": p.id, "price": "0", "price_percentage_change_24h": "0", "volume_24h": "0",
             "volume_percentage_change_24h": "0", "base_increment": plain(Decimal(1).scaleb(-p.size_decimals)),
             "quote_increment": "0.01", "quote_min_size": "1", "quote_max_size": "150000000",
             "base_min_size": plain(Decimal(1).scaleb(-p.size_decimals)), "base_max_size": "100000000",
             "base_name": names[p.base], "quote_name": names[p.quote], "watched": False, "is_disabled": False,
             "new": False, "status": "online", "cancel_only": False, "limit_only": False, "post_only": False,
             "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
             "quote_currency_id": p.quote, "base_currency_id": p.base, "fcm_trading_session_details": None,
             "mid_market_price": "", "alias": "", "alias_to": [], "base_display_symbol": p.base,
             "quote_display_symbol": p.quote, "view_only": False, "price_increment": "0.01",
             "display_name": p.id, "product_venue": "CBE"} for p in history.products]
    return {"products": rows, "num_products": len(rows)}


def currencies(history: CoinbaseHistory) -> dict[str, Any]:
    return {"data": [{"id": c.code, "name": c.name, "min_size": plain(c.quantum)}
                     for c in history.currencies if c.fiat]}


def crypto_currencies(history: CoinbaseHistory) -> dict[str, Any]:
    return {"data": [{"asset_id": _asset_id(c.code), "code": c.code, "name": c.name, "color": c.color,
                      "sort_index": i, "exponent": c.exponent, "type": "crypto", "address_regex": "^.+$"}
                     for i, c in enumerate(history.currencies) if not c.fiat]}


def exchange_rates(history: CoinbaseHistory) -> dict[str, Any]:
    rates = {c.code: plain((1 / c.usd).quantize(Decimal("1E-12"))) for c in history.currencies}
    return {"data": {"currency": "USD", "rates": rates}}


TRANSACTION_SUMMARY = {
    "total_volume": 0, "total_fees": 0, "fee_tier": {"pricing_tier": "Advanced 1", "usd_from": "0",
                                                     "usd_to": "1000", "taker_fee_rate": "0.006",
                                                     "maker_fee_rate": "0.004", "aop_from": "", "aop_to": ""},
    "margin_rate": None, "goods_and_services_tax": None, "advanced_trade_only_volume": 0,
    "advanced_trade_only_fees": 0, "coinbase_pro_volume": 0, "coinbase_pro_fees": 0, "total_balance": "",
    "has_promo_fee": False,
}
