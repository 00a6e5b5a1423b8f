"""Reading the fields of exported rows: text, amounts, assets, moments, trading pairs and stated values.

Every exchange export needs the same few readings; each raises ``FieldError`` naming the column, so the importer
can point at file, line and column. Numbers and dates go through ``taxsync.parsing``. Two kinds of export are read:

- most exports write loosely: ``amount``, ``positive``, ``required``, ``asset`` and ``moment`` take off what an
  exchange adds around a value (a unit after the number, ``-`` for nothing, a day-first date, a time zone in the
  column name) first;
- Binance, Coinbase and Kraken exports and OKX's trades are read strictly, a row of a record at a time:
  ``required_text``, ``record_amount``, ``optional_amount``, ``record_asset`` and ``timestamp`` take the row's
  place in a record of several rows (``rows_of``) as ``index``, for the error; ``-`` is not empty there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Leg, Quote
from taxsync.ledger.sources.base import FieldError
from taxsync.parsing import parse_decimal, parse_timestamp
from taxsync.types import Asset, Role, TimestampMs

EMPTY = frozenset({"", "-", "--"})
# Quote currencies that end a pair written without a separator (``ICPUSDT``), longest first.
QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDE", "EURT", "EURC", "DAI", "USD", "EUR", "GBP", "BTC", "ETH",
          "BNB", "TRY", "BRL", "JPY", "AUD", "CAD", "CHF", "PLN", "MNT", "SOL")
_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d\d)(?::(\d\d))?)?")
_TIME_FIRST = re.compile(r"(\d\d:\d\d(?::\d\d)?) (\d{4}-\d\d-\d\d)")  # Bybit: ``14:35 2024-11-16``
_OFFSET = re.compile(r"UTC\s*(?:([+-])(\d{1,2})(?::?(\d\d))?)?")
_VALUE_COLUMN = re.compile(r"(?P<side>.+?) [Vv]alue in (?P<currency>[A-Za-z]{3,5})")
_SYMBOLS = "$€£¥"


def text(row: Mapping[str, Any], column: str) -> str:
    """The field without surrounding blanks; "" when it is missing or not text."""
    value = row.get(column, "")
    return value.strip() if isinstance(value, str) else ""


def amount(row: Mapping[str, str], column: str, *, unit: str = "") -> Decimal | None:
    """The number in ``column`` (None when empty or ``-``). ``unit`` allows the number to be followed by that
    asset code (``99.68 USDT``), as some exports write it."""
    raw = text(row, column)
    if raw in EMPTY:
        return None
    if unit and raw.upper().endswith(unit.upper()):
        raw = raw[: -len(unit)].strip()
    try:
        return parse_decimal(raw)
    except ValueError as error:
        raise FieldError(column, str(error)) from None


def positive(row: Mapping[str, str], column: str, *, unit: str = "") -> Decimal | None:
    """A quantity that must not be negative (None when empty)."""
    value = amount(row, column, unit=unit)
    if value is not None and value < 0:
        raise FieldError(column, f"'{row[column]}' is negative: a quantity is expected")
    return value


def required(row: Mapping[str, str], column: str, *, unit: str = "") -> Decimal:
    value = positive(row, column, unit=unit)
    if value is None:
        raise FieldError(column, "the amount is empty")
    return value


def asset(row: Mapping[str, str], column: str, *, needed: bool = True) -> Asset:
    code = text(row, column).upper()
    if code in EMPTY:
        if needed:
            raise FieldError(column, "the asset is empty")
        return Asset("")
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,19}", code):
        raise FieldError(column, f"'{row[column]}' is not an asset code")
    return Asset(code)


def amount_with_unit(row: Mapping[str, str], column: str) -> tuple[Decimal, Asset] | None:
    """``0.19937 USDT``: a number followed by its asset (None when empty)."""
    raw = text(row, column)
    if raw in EMPTY:
        return None
    number, _, unit = raw.partition(" ")
    if not unit.strip():
        raise FieldError(column, f"'{raw}' names no asset after the number (such as '0.2 USDT')")
    code = Asset(unit.strip().upper())
    return required({column: number}, column), code


def moment(row: Mapping[str, str], column: str) -> TimestampMs:
    """UTC milliseconds from the usual spellings (``taxsync.parsing.parse_timestamp``), a day-first date
    ``20.09.2019 13:00[:00]`` or Bybit's ``14:35 2024-11-16``. The column's name may carry the offset the times are
    written in: ``Order Time(UTC+08:00)`` is read as eight hours ahead of UTC."""
    raw = text(row, column)
    if not raw:
        raise FieldError(column, "the date is empty")
    if match := _DAY_FIRST.fullmatch(raw):
        day, month, year, hour, minute, second = match.groups()
        raw = f"{year}-{int(month):02d}-{int(day):02d} {int(hour or 0):02d}:{minute or '00'}:{second or '00'}"
    elif match := _TIME_FIRST.fullmatch(raw):
        raw = f"{match.group(2)} {match.group(1)}"
    try:
        stamp = parse_timestamp(raw)
    except ValueError as error:
        raise FieldError(column, str(error)) from None
    return TimestampMs(stamp - column_offset(column))


def column_offset(column: str) -> int:
    """Milliseconds ahead of UTC that a column's name says its times are in (``Time(UTC+08:00)``); 0 otherwise."""
    match = _OFFSET.search(column)
    if not match or not match.group(1):
        return 0
    sign = 1 if match.group(1) == "+" else -1
    offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    return sign * int(offset.total_seconds() * 1000)


def find_column(row: Mapping[str, str], prefix: str) -> str:
    """The first column whose name starts with ``prefix`` (``Filled Time(UTC`` finds ``Filled Time(UTC+02:00)``)."""
    return next((column for column in row if column.startswith(prefix)), "")


def pair(row: Mapping[str, str], column: str) -> tuple[Asset, Asset]:
    """Base and quote of ``BTC-USDT``, ``BTC/USDT``, ``BTC_USDT`` or ``BTCUSDT`` (a known quote at the end)."""
    symbol = text(row, column).upper()
    for separator in ("-", "/", "_"):
        if separator in symbol:
            base, _, quote = symbol.partition(separator)
            if base and quote and separator not in quote:
                return Asset(base), Asset(quote)
            raise FieldError(column, f"'{symbol}' is not a trading pair such as BTC-USDT")
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return Asset(symbol[: -len(quote)]), Asset(quote)
    raise FieldError(column, f"'{symbol}' is not a trading pair such as BTC-USDT (or its quote is not known)")


def stated_value(row: Mapping[str, str], *sides: str) -> Quote | None:
    """The value a row states for itself in a column ``<side> Value in <CUR>`` (BittyTax's ``Buy Value in GBP``,
    CoinTracking's ``Buy value in USD``): the first side in ``sides`` that has one."""
    by_side: dict[str, tuple[str, str]] = {}
    for column in row:
        if match := _VALUE_COLUMN.fullmatch(column.strip()):
            by_side.setdefault(match.group("side").strip().lower(), (column, match.group("currency").upper()))
    for side in sides:
        if found := by_side.get(side.lower()):
            value = positive(row, found[0])
            if value is not None:
                return Quote(value, Asset(found[1]))
    return None


def trade_legs(base: Asset, quote: Asset, side: str, base_amount: Decimal, quote_amount: Decimal,
               fee: Decimal | None, fee_asset: Asset, side_column: str) -> tuple[Leg, ...]:
    """A spot fill: a buy brings the base in and sends the quote out, a sell the reverse; the fee is paid on top
    (as ccxt and the exchanges' own APIs report it). A zero amount gives no leg."""
    word = side.strip().lower()
    if word not in ("buy", "sell"):
        raise FieldError(side_column, f"'{side}' is neither buy nor sell")
    got, gave = ((base, base_amount), (quote, quote_amount)) if word == "buy" else (
        (quote, quote_amount), (base, base_amount))
    legs = [Leg(gave[0], -gave[1], Role.OUT)] if gave[1] else []
    if got[1]:
        legs.append(Leg(got[0], got[1], Role.IN))
    if fee:
        legs.append(Leg(fee_asset, -fee, Role.FEE))
    return tuple(legs)


# Strict readings of one row of a record (Binance, Coinbase, Kraken, OKX trades): the error names the row's index.


def rows_of(payload: Mapping[str, Any], column: str) -> Sequence[Mapping[str, Any]]:
    """The rows of a grouped record (``{"rows": [...]}``)."""
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(row, Mapping) for row in rows):
        raise FieldError(column, "the record holds no rows")
    return rows


def required_text(row: Mapping[str, Any], column: str, *, index: int = 0) -> str:
    value = text(row, column)
    if not value:
        raise FieldError(column, "the field is empty", row=index)
    return value


def record_amount(row: Mapping[str, Any], column: str, *, index: int = 0, symbols: bool = False) -> Decimal:
    """An exact decimal that must be written; with ``symbols``, a currency sign before the digits (``-$1.50``) is
    allowed."""
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
    """Like ``record_amount``; an empty field is zero."""
    return record_amount(row, column, index=index, symbols=symbols) if text(row, column) else Decimal(0)


def timestamp(row: Mapping[str, Any], column: str, *, index: int = 0, day_first: bool | None = None) -> TimestampMs:
    try:
        return parse_timestamp(text(row, column), day_first=day_first)
    except ValueError as error:
        raise FieldError(column, str(error), row=index) from None


_ASSETS: dict[str, Asset] = {}  # asset codes as written that ``record_asset`` checked already


def record_asset(row: Mapping[str, Any], column: str, *, index: int = 0) -> Asset:
    """An asset code that must be written (letters and digits, with ``.``, ``-`` or ``_``; at most 20)."""
    written = row.get(column, "")
    if isinstance(written, str) and (known := _ASSETS.get(written)) is not None:
        return known
    value = required_text(row, column, index=index).upper()
    if not value.replace(".", "").replace("-", "").replace("_", "").isalnum() or len(value) > 20:
        raise FieldError(column, f"'{value}' is not an asset code", row=index)
    if len(_ASSETS) < 100_000 and isinstance(written, str):
        _ASSETS[written] = Asset(value)
    return Asset(value)
