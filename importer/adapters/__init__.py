"""Exchange adapters: one module per exchange with its quirks, plus a generic one over ccxt's unified API.

``ADAPTERS`` lists every first-class adapter class by its ccxt id, so adding an exchange is adding a module and
a line below. ``adapter_for(exchange_id)`` picks the first-class adapter where there is one, else the generic
adapter.
"""

from __future__ import annotations

from importer.adapters.binance import BinanceAdapter
from importer.adapters.bybit import BybitAdapter
from importer.adapters.coinbase import CoinbaseAdapter
from importer.adapters.generic import GenericAdapter
from importer.adapters.kraken import KrakenAdapter
from importer.adapters.kucoin import KucoinAdapter
from importer.adapters.okx import OkxAdapter
from importer.sync import Adapter

ADAPTERS: dict[str, type] = {
    "binance": BinanceAdapter,
    "bybit": BybitAdapter,
    "coinbase": CoinbaseAdapter,
    "kraken": KrakenAdapter,
    "kucoin": KucoinAdapter,
    "okx": OkxAdapter,
}


def adapter_for(exchange_id: str) -> Adapter:
    return ADAPTERS.get(exchange_id, GenericAdapter)()


__all__ = ["ADAPTERS", "adapter_for"]
