"""Exchange adapters: one module per exchange with its quirks, plus a generic one over ccxt's unified API.

``adapter_for(exchange_id)`` picks the first-class adapter where there is one, else the generic adapter.
"""

from __future__ import annotations

from importer.adapters.binance import BinanceAdapter
from importer.adapters.generic import GenericAdapter
from importer.adapters.kraken import KrakenAdapter
from importer.sync import Adapter

ADAPTERS: dict[str, type] = {"binance": BinanceAdapter, "kraken": KrakenAdapter}


def adapter_for(exchange_id: str) -> Adapter:
    return ADAPTERS.get(exchange_id, GenericAdapter)()
