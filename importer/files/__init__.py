"""File formats: one module per export format, registered in ``FORMATS`` and detected by header."""

from __future__ import annotations

from importer.files.base import FileFormat, OpenedFile, RawRow, ReadFile, open_file, read_file
from importer.files.binance import BINANCE_HISTORY, BINANCE_TRADES, BINANCE_TRADES_2019
from importer.files.bittytax import BITTYTAX
from importer.files.bybit import BYBIT
from importer.files.coinbase import COINBASE_HISTORY
from importer.files.cointracking import COINTRACKING
from importer.files.koinly import KOINLY
from importer.files.kraken import KRAKEN_LEDGERS, KRAKEN_TRADES
from importer.files.kucoin import KUCOIN, KUCOIN_DEPOSITS, KUCOIN_WITHDRAWALS
from importer.files.okx import OKX_MOVEMENTS, OKX_TRADES

FORMATS: dict[str, FileFormat] = {fmt.name: fmt for fmt in (
    KOINLY, BINANCE_HISTORY, BINANCE_TRADES, BINANCE_TRADES_2019, COINBASE_HISTORY, KRAKEN_LEDGERS, KRAKEN_TRADES,
    KUCOIN, KUCOIN_DEPOSITS, KUCOIN_WITHDRAWALS, BYBIT, OKX_MOVEMENTS, OKX_TRADES, COINTRACKING, BITTYTAX)}

__all__ = ["FORMATS", "FileFormat", "OpenedFile", "RawRow", "ReadFile", "open_file", "read_file"]
