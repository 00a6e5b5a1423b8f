"""Normalizers: one pure function per source format, from a verbatim raw row to a ledger transaction.

``NORMALIZERS`` maps the raw record's ``source`` to its function; every source is listed here, so adding a
format is adding a module and a line below. A field that cannot be read raises ``FieldError`` naming the column;
the importer turns that into a file/line/column message before anything is stored, so stored rows always
normalize.
"""

from __future__ import annotations

from taxsync.ledger.sources.base import FieldError, Normalized, Normalizer
from taxsync.ledger.sources.binance import normalize_binance
from taxsync.ledger.sources.binance_trades import normalize_binance_trades
from taxsync.ledger.sources.bittytax import normalize_bittytax
from taxsync.ledger.sources.bybit import normalize_bybit
from taxsync.ledger.sources.ccxt import normalize_ccxt_ledger, normalize_ccxt_trade, normalize_ccxt_transaction
from taxsync.ledger.sources.coinbase import normalize_coinbase
from taxsync.ledger.sources.cointracking import normalize_cointracking
from taxsync.ledger.sources.koinly import normalize_koinly
from taxsync.ledger.sources.kraken import normalize_kraken_ledgers, normalize_kraken_trades
from taxsync.ledger.sources.kucoin import normalize_kucoin, normalize_kucoin_deposit, normalize_kucoin_withdrawal
from taxsync.ledger.sources.okx import normalize_okx_movement, normalize_okx_trades

NORMALIZERS: dict[str, Normalizer] = {
    "binance-history": normalize_binance,
    "binance-trades": normalize_binance_trades,
    "binance-trades-2019": normalize_binance_trades,  # the older layout, read by the same function
    "bittytax": normalize_bittytax,
    "bybit": normalize_bybit,
    "ccxt-trade": normalize_ccxt_trade,
    "ccxt-transaction": normalize_ccxt_transaction,
    "ccxt-ledger": normalize_ccxt_ledger,
    "coinbase-history": normalize_coinbase,
    "cointracking": normalize_cointracking,
    "koinly": normalize_koinly,
    "kraken-ledgers": normalize_kraken_ledgers,
    "kraken-trades": normalize_kraken_trades,
    "kucoin": normalize_kucoin,
    "kucoin-deposits": normalize_kucoin_deposit,
    "kucoin-withdrawals": normalize_kucoin_withdrawal,
    "okx-movements": normalize_okx_movement,
    "okx-trades": normalize_okx_trades,
}

# The exchange whose export a file source is (its raw records' ``source``), so that an export and the same
# exchange's API count once (taxsync.ledger.duplicates). Interchange formats and the API's sources have none.
SOURCE_EXCHANGES: dict[str, str] = {
    "binance-history": "binance",
    "binance-trades": "binance",
    "binance-trades-2019": "binance",
    "bybit": "bybit",
    "coinbase-history": "coinbase",
    "kraken-ledgers": "kraken",
    "kraken-trades": "kraken",
    "kucoin": "kucoin",
    "kucoin-deposits": "kucoin",
    "kucoin-withdrawals": "kucoin",
    "okx-movements": "okx",
    "okx-trades": "okx",
}

__all__ = ["NORMALIZERS", "SOURCE_EXCHANGES", "FieldError", "Normalized", "Normalizer"]
