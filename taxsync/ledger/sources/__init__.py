"""Normalizers: one pure function per source format, from a verbatim raw row to a ledger transaction.

``NORMALIZERS`` maps the raw record's ``source`` to its function. A field that cannot be read raises
``FieldError`` naming the column; the importer turns that into a file/line/column message before anything is
stored, so stored rows always normalize.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from taxsync.ledger.records import Transaction
from taxsync.problems import Problem


class FieldError(ValueError):
    """A field that cannot be read: its column and, in a record of several rows, the row's index."""

    def __init__(self, column: str, message: str, *, row: int = 0):
        self.column, self.row = column, row
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Normalized:
    transaction: Transaction | None
    problems: tuple[Problem, ...] = ()


Normalizer = Callable[[Mapping[str, Any], str, str], Normalized]  # (row, account, ref)

NORMALIZERS: dict[str, Normalizer] = {}
# The exchange whose export a file source is (its raw records' ``source``), so that an export and the same
# exchange's API count once (taxsync.ledger.duplicates). Interchange formats have none.
SOURCE_EXCHANGES: dict[str, str] = {}


def register(source: str, *, exchange: str = "") -> Callable[[Normalizer], Normalizer]:
    def add(function: Normalizer) -> Normalizer:
        NORMALIZERS[source] = function
        if exchange:
            SOURCE_EXCHANGES[source] = exchange
        return function

    return add


# Each module registers itself.
from taxsync.ledger.sources import (  # noqa: E402,F401
    binance,
    binance_trades,
    bittytax,
    bybit,
    ccxt,
    coinbase,
    cointracking,
    koinly,
    kraken,
    kucoin,
    okx,
)
