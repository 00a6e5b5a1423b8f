"""Reading one field of an export row of Binance, Coinbase or Kraken, strictly: a bad field raises ``FieldError``
naming its column (and, in a record of several rows, the row), which the importer turns into a file/line/column
message. (``fields`` does the same for the other exchanges' exports, with their looser writing of numbers.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from taxsync.ledger.sources import FieldError
from taxsync.parsing import parse_decimal, parse_timestamp
from taxsync.types import Asset, TimestampMs

_SYMBOLS = "$€£¥"


def text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column, "")
    return value.strip() if isinstance(value, str) else ""


def required(row: Mapping[str, Any], column: str, *, index: int = 0) -> str:
    value = text(row, column)
    if not value:
        raise FieldError(column, "the field is empty", row=index)
    return value


def amount(row: Mapping[str, Any], column: str, *, index: int = 0, symbols: bool = False) -> Decimal:
    """An exact decimal; with ``symbols``, a currency sign before the digits (``-$1.50``) is allowed."""
    value = text(row, column)
    if symbols:
        value = value.replace(" ", "")
        sign = "-" if value.startswith("-") else ""
        value = sign + value.lstrip("+-").lstrip(_SYMBOLS)
    try:
        return parse_decimal(value)
    except ValueError as error:
        raise FieldError(column, str(error), row=index) from None


def optional_amount(row: Mapping[str, Any], column: str, *, index: int = 0, symbols: bool = False) -> Decimal:
    """Like ``amount``; an empty field is zero."""
    return amount(row, column, index=index, symbols=symbols) if text(row, column) else Decimal(0)


def timestamp(row: Mapping[str, Any], column: str, *, index: int = 0, day_first: bool | None = None) -> TimestampMs:
    try:
        return parse_timestamp(text(row, column), day_first=day_first)
    except ValueError as error:
        raise FieldError(column, str(error), row=index) from None


_ASSETS: dict[str, Asset] = {}  # asset codes as written that were checked already


def asset(row: Mapping[str, Any], column: str, *, index: int = 0) -> Asset:
    written = row.get(column, "")
    if isinstance(written, str) and (known := _ASSETS.get(written)) is not None:
        return known
    value = required(row, column, index=index).upper()
    if not value.replace(".", "").replace("-", "").replace("_", "").isalnum() or len(value) > 20:
        raise FieldError(column, f"'{value}' is not an asset code", row=index)
    if len(_ASSETS) < 100_000 and isinstance(written, str):
        _ASSETS[written] = Asset(value)
    return Asset(value)


def rows_of(payload: Mapping[str, Any], column: str) -> Sequence[Mapping[str, Any]]:
    """The rows of a grouped record (``{"rows": [...]}``)."""
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(row, Mapping) for row in rows):
        raise FieldError(column, "the record holds no rows")
    return rows
