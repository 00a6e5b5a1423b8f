"""The key-permission answer of each exchange mapped to what taxsync allows, from documented response shapes.

Binance, Kraken, Coinbase, OKX, Bybit and KuCoin are also checked end to end against their simulators; Gemini
has no simulator, so its documented ``/v1/roles`` answer is fed to ccxt here.
"""

from __future__ import annotations

from typing import Any

import pytest

from importer.credentials import Credentials
from importer.exchanges import make_exchange
from importer.permissions import KeyPermissions, check_key

ANSWERS: list[tuple[str, Any, KeyPermissions]] = [
    ("gemini", {"isAuditor": True, "isFundManager": False, "isTrader": False, "counterparty_id": "abc"},
     KeyPermissions(True, False, False, {})),
    ("gemini", {"isAuditor": False, "isFundManager": True, "isTrader": True},
     KeyPermissions(True, True, True, {})),
    ("okx", {"code": "0", "data": [{"perm": "read_only,trade", "ip": ""}]},
     KeyPermissions(True, True, False, {"ip": ""})),
    ("kucoin", {"code": "200000", "data": {"permission": "General,Withdrawal", "ipWhitelist": ""}},
     KeyPermissions(True, False, True, {"ipWhitelist": ""})),
]


@pytest.mark.parametrize(("exchange_id", "answer", "expected"), ANSWERS)
def test_documented_answers_map_to_permissions(exchange_id: str, answer: Any, expected: KeyPermissions) -> None:
    exchange = make_exchange(exchange_id, Credentials("account-key", "c2VjcmV0", "pass"))  # gemini: account keys
    asked: list[str] = []

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        asked.append(url)
        return answer

    exchange.fetch = fetch
    assert check_key(exchange_id, exchange) == expected
    assert len(asked) == 1


def test_exchanges_without_a_permission_endpoint_cannot_tell() -> None:
    assert check_key("bitstamp", make_exchange("bitstamp", Credentials("k", "s"))) is None


def test_sandbox_switches_to_the_testnet() -> None:
    exchange = make_exchange("binance", Credentials("k", "s"), sandbox=True)
    assert "testnet" in str(exchange.urls["api"])
