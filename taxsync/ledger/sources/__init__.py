"""Normalizers: one pure function per source format, from a verbatim raw row to a ledger transaction.

``NORMALIZERS`` maps the raw record's ``source`` to its function. A field that cannot be read raises
``FieldError`` naming the column; the importer turns that into a file/line/column message before anything is
stored, so stored rows always normalize.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from taxsync.ledger.records import Transaction
from taxsync.problems import Problem


class FieldError(ValueError):
    def __init__(self, column: str, message: str):
        self.column = column
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Normalized:
    transaction: Transaction | None
    problems: tuple[Problem, ...] = ()


Normalizer = Callable[[Mapping[str, str], str, str], Normalized]  # (row, account, ref)

NORMALIZERS: dict[str, Normalizer] = {}


def register(source: str) -> Callable[[Normalizer], Normalizer]:
    def add(function: Normalizer) -> Normalizer:
        NORMALIZERS[source] = function
        return function

    return add


# Each module registers itself.
from taxsync.ledger.sources import bittytax, bybit, ccxt, cointracking, koinly, kucoin, okx  # noqa: E402,F401
