"""Replay ccxt's recorded exchange responses through the real ccxt parsers, offline.

The recordings are ccxt's own static response tests, copied to ``shared/fixtures/ccxt-static`` (its README says
where from). As ccxt's harness does, an exchange is built with markets (and currencies) given up front, its
``fetch`` returns the recorded ``httpResponse``, and the unified method is called with the recorded ``input``.
Markets that were not copied are made up: the fewest fields ccxt's parsers read, merged with
``safe_market_structure()`` (the parsers read keys such as ``linear`` that a bare dict lacks).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "ccxt-static"
EXCHANGES = ("binance", "kraken", "coinbase", "okx", "bybit")


def _market(market_id: str, symbol: str, settle: str | None = None) -> dict[str, Any]:
    base, quote = symbol.split(":")[0].split("/")
    swap = settle is not None
    return {
        "id": market_id, "symbol": symbol, "base": base, "quote": quote, "baseId": base, "quoteId": quote,
        "settle": settle, "settleId": settle, "type": "swap" if swap else "spot", "spot": not swap, "swap": swap,
        "future": False, "option": False, "margin": False, "contract": swap, "active": True,
        "linear": True if swap else None, "inverse": False if swap else None, "contractSize": 1 if swap else None,
    }


# Markets the recorded entries need beyond markets/<exchange>.json (which exists for binance only).
EXTRA_MARKETS: dict[str, list[dict[str, Any]]] = {
    "binance": [_market("BTCUSDT", "BTC/USDT:USDT", "USDT")],
    "kraken": [_market("XXBTZUSD", "BTC/USD")],  # any market: kraken's deposits only need the currencies
    "coinbase": [_market("ADA-USDT", "ADA/USDT"), _market("ADA-PERP-INTX", "ADA/USDC:USDC", "USDC")],
    "okx": [_market("LTC-USDT", "LTC/USDT")],
    "bybit": [_market("BTCUSDT", "BTC/USDT"), _market("ETHUSDT", "ETH/USDT"),
              _market("LTCUSDT", "LTC/USDT:USDT", "USDT")],
}


def available() -> bool:
    return FIXTURES.is_dir()


def entries(exchange_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(method, entry) of every recorded entry of ``exchange_id``, in file order."""
    data = json.loads((FIXTURES / "response" / f"{exchange_id}.json").read_text(encoding="utf-8"))
    return [(method, entry) for method, listed in data["methods"].items() for entry in listed]


def _ec_secret() -> str:
    """A throwaway EC key: coinbase signs every request with an ES256 JWT, even when ``fetch`` is replaced."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return pem.decode()


def make_exchange(exchange_id: str, number: Callable[..., Any] = float) -> ccxt.Exchange:
    """An offline ccxt exchange with the fixture's markets and currencies; ``number=str`` as the importer uses."""
    cls = getattr(ccxt, exchange_id)
    template = cls()
    markets: dict[str, Any] = {}
    if (path := FIXTURES / "markets" / f"{exchange_id}.json").exists():
        markets.update(json.loads(path.read_text(encoding="utf-8")))
    markets.update({m["symbol"]: m for m in EXTRA_MARKETS.get(exchange_id, [])})
    config: dict[str, Any] = {
        "markets": {s: template.deep_extend(template.safe_market_structure(), m) for s, m in markets.items()},
        "enableRateLimit": False,
        "apiKey": "key",
        "secret": _ec_secret() if exchange_id == "coinbase" else "secretsecret",
        "password": "password",
        "accounts": [{"id": "myAccount", "code": "USDT"}],  # coinbase asks per account
    }
    if (path := FIXTURES / "currencies" / f"{exchange_id}.json").exists():
        config["currencies"] = json.loads(path.read_text(encoding="utf-8"))
    exchange = cls(config)
    exchange.number = number
    return exchange


def replay(exchange_id: str, method: str, entry: dict[str, Any], number: Callable[..., Any] = float) -> list[Any]:
    """What the real ccxt parser returns for the recorded response of ``entry``."""
    exchange = make_exchange(exchange_id, number)
    response = entry["httpResponse"]

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        return json.loads(json.dumps(response))  # a fresh copy: parsers may keep references into it

    exchange.fetch = fetch
    result = getattr(exchange, method)(*entry["input"])
    return result if isinstance(result, list) else [result]
