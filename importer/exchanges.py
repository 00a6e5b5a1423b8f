"""Build the ccxt client of an account: exact numbers, throttling on, quiet logs, optional base URL.

``number = str`` makes ccxt return every amount as the exchange's decimal text, so nothing passes through a
binary float on its way to the ledger. ccxt's own logger would print request headers (API keys) at DEBUG, so
it is held at WARNING.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import ccxt

from importer.ccxt_url import BINANCE_SPOT_OPTIONS, point_ccxt_at, reject_non_json
from importer.credentials import Credentials
from taxsync.errors import UsageError

logging.getLogger("ccxt").setLevel(logging.WARNING)

# Per-exchange construction options: only what history import needs, so loading markets costs one request.
OPTIONS: dict[str, dict[str, Any]] = {
    "binance": BINANCE_SPOT_OPTIONS,
    "kucoin": {"fetchMarkets": {"types": ["spot"], "fetchTickersFees": False}},
    "okx": {"fetchMarkets": {"types": ["spot"]}},
    "bybit": {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"},
    "gemini": {"fetchCurrencies": {"webApiEnable": False}},
}


def known_exchange(exchange_id: str) -> str:
    if exchange_id not in ccxt.exchanges:
        raise UsageError(f"'{exchange_id}' is not an exchange ccxt knows (see https://docs.ccxt.com for ids)")
    return exchange_id


def make_exchange(
    exchange_id: str,
    credentials: Credentials | None,
    *,
    api_url: str | None = None,
    sandbox: bool = False,
    timeout_ms: int = 30_000,
    extra: Mapping[str, Any] | None = None,
) -> ccxt.Exchange:
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": timeout_ms,
        "options": dict(OPTIONS.get(exchange_id, {})),
        **(extra or {}),
    }
    if credentials is not None:
        config.update(apiKey=credentials.api_key, secret=credentials.secret)
        if credentials.password:
            config["password"] = credentials.password
    if override := os.environ.get("TAXSYNC_RATE_LIMIT_MS"):  # for tests and local proxies: ms per request unit
        config["rateLimit"] = int(override)
    exchange = getattr(ccxt, known_exchange(exchange_id))(config)
    exchange.number = str
    if sandbox:
        exchange.set_sandbox_mode(True)
    if api_url:  # a testnet, a proxy or the simulator: every request goes there, paths unchanged
        point_ccxt_at(exchange, api_url)
    reject_non_json(exchange)  # a body cut short in transit must fail (and be retried), not parse as junk
    return exchange
