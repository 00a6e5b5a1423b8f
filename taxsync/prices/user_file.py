"""Prices the user gives in a CSV file: for assets no exchange prices, or to replace a day's market price.

The file has the header ``date,base,quote,price`` and optionally a ``source`` column (a note on where the price
comes from), one price per line::

    date,base,quote,price,source
    2024-03-01,XYZ,USD,0.0123,CoinGecko daily close
    2024-03-05T14:30:00Z,XYZ,USD,0.0131,OTC trade confirmation

A date (``2024-03-01``) gives the price of a whole UTC day (resolution ``1d``); a time with ``Z`` or an offset
(``2024-03-05T14:30:00Z``) gives the price at that moment only (resolution ``exact``). ``price`` is how much
one ``base`` is worth in ``quote``: a plain decimal, zero or more. A price from a file wins over the exchanges'
prices of the same or a coarser resolution (see ``taxsync.prices.book``).

The whole file is checked before anything is stored: the first bad line stops the import with a message naming
the file, the line and the column. Each price is stored with the source ``user file NAME:LINE`` (and the note in
parentheses). A file is known by its name: importing a file of that name again replaces what it gave before.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from taxsync.db import Price
from taxsync.errors import InputError
from taxsync.parsing import parse_decimal
from taxsync.prices.records import PricePoint
from taxsync.prices.store import save_prices
from taxsync.types import from_datetime

REQUIRED = ("date", "base", "quote", "price")
OPTIONAL = ("source",)
SOURCE_MAX = 100  # the length of the prices.source column
EXAMPLE = "2024-03-01,BTC,USD,61234.50"
_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")
_DAY = re.compile(r"\d{4}-\d\d-\d\d")


@dataclass(frozen=True, slots=True)
class PriceFileImport:
    """What importing a price file changed: prices new to the cache, with another price than before, no longer
    in the file (removed), and as they were."""

    path: Path
    prices: int
    added: int
    changed: int
    removed: int
    unchanged: int


class _Bad(ValueError):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


def file_source(name: str, line: int, note: str = "") -> str:
    """The ``source`` of the price on ``line`` of the file ``name``."""
    return f"user file {name}:{line}" + (f" ({note})" if note else "")


def _moment(text: str) -> tuple[int, str]:
    """(timestamp, resolution) of a date (a whole UTC day) or of a time with a zone (that moment)."""
    cleaned = text.strip()
    if _DAY.fullmatch(cleaned):
        try:
            day = date.fromisoformat(cleaned)
        except ValueError:
            raise _Bad("date", f"'{text}' is not a date: no such day") from None
        return from_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC)), "1d"
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _Bad("date", f"'{text}' is not a date such as 2024-03-01 or a time such as 2024-03-01T14:30:00Z"
                   ) from None
    if moment.tzinfo is None:
        raise _Bad("date", f"'{text}' has no time zone: add Z for UTC (2024-03-01T14:30:00Z) or an offset")
    return from_datetime(moment), "exact"


def _asset(values: dict[str, str], column: str) -> str:
    text = values[column].strip()
    if not _ASSET.fullmatch(text):
        raise _Bad(column, f"'{values[column]}' is not an asset code such as BTC or USD")
    return text.upper()


def _point(values: dict[str, str], name: str, line: int) -> PricePoint:
    timestamp, resolution = _moment(values["date"])
    base, quote = _asset(values, "base"), _asset(values, "quote")
    if base == quote:
        raise _Bad("quote", f"the price of {base} in {base} is always 1: give another quote currency")
    try:
        price = parse_decimal(values["price"])
    except ValueError as error:
        raise _Bad("price", str(error)) from None
    if price < 0:
        raise _Bad("price", f"'{values['price']}' is negative: a price is zero or more")
    note = " ".join(values.get("source", "").split())
    source = file_source(name, line, note)
    if len(source) > SOURCE_MAX:
        room = SOURCE_MAX - len(file_source(name, line)) - 3
        raise _Bad("source", f"the note is {len(source) - SOURCE_MAX} characters too long: at most {room} here")
    return PricePoint(base, quote, timestamp, resolution, price, source)


def _header(path: Path, header: Sequence[str]) -> list[str]:
    names = [column.strip().lower() for column in header]
    for name in names:
        if not name:
            raise InputError(str(path), "the header has a column without a name (a comma too many?)", line=1)
        if name not in REQUIRED + OPTIONAL:
            raise InputError(str(path), f"unknown column '{name}': a price file has the columns "
                                        f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}",
                             line=1, column=name)
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        raise InputError(str(path), f"the column '{duplicated[0]}' appears twice", line=1, column=duplicated[0])
    if missing := [name for name in REQUIRED if name not in names]:
        raise InputError(str(path), f"the header lacks {', '.join(missing)}: it must be "
                                    f"{','.join(REQUIRED)} (and optionally ,source)", line=1)
    return names


def read_price_file(path: Path) -> tuple[PricePoint, ...]:
    """Every price in the file at ``path``; an ``InputError`` names the file, line and column of the first
    problem (nothing is returned then)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(str(path), f"cannot read the file: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(str(path), "not UTF-8 text: save the file as UTF-8",
                         line=data[: error.start].count(b"\n") + 1) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(column.strip() for column in header):
            raise InputError(str(path), f"the file is empty: start it with the header {','.join(REQUIRED)}",
                             line=1)
        names = _header(path, header)
        if len(file_source(path.name, 10**7)) > SOURCE_MAX:
            raise InputError(str(path), f"the file name is too long to cite in a price's source: rename the file "
                                        f"(at most {SOURCE_MAX - len(file_source('', 10**7))} characters)")
        points: list[PricePoint] = []
        seen: dict[tuple[str, str, int, str], int] = {}
        line = reader.line_num
        for fields in reader:
            start, line = line + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(names):
                raise InputError(str(path), f"expected {len(names)} fields as in the header, found {len(fields)}",
                                 line=start)
            try:
                point = _point(dict(zip(names, fields, strict=True)), path.name, start)
            except _Bad as error:
                raise InputError(str(path), str(error), line=start, column=error.column) from None
            key = (point.base, point.quote, point.timestamp, point.resolution)
            if key in seen:
                raise InputError(str(path), f"a second price of {point.base} in {point.quote} for this "
                                            f"{'day' if point.resolution == '1d' else 'moment'} (the first is on "
                                            f"line {seen[key]}): keep one", line=start, column="date")
            seen[key] = start
            points.append(point)
    except csv.Error as error:
        raise InputError(str(path), f"malformed CSV: {error}", line=reader.line_num) from None
    if not points:
        raise InputError(str(path), f"no prices in the file: add lines such as {EXAMPLE}", line=2)
    return tuple(points)


def import_price_file(session: Session, path: Path, *, now: int) -> PriceFileImport:
    """Check the whole file, then store its prices (fetched at ``now``, ms UTC) in place of those an earlier
    import of a file of the same name gave. Run it inside a transaction: nothing is half-written."""
    points = {(p.base, p.quote, p.timestamp, p.resolution): p for p in read_price_file(path)}
    table = Price.__table__.c
    earlier = session.execute(
        select(table.id, table.base, table.quote, table.timestamp, table.resolution, table.price, table.source)
        .where(table.source.startswith(f"user file {path.name}:", autoescape=True)))
    before = {(base, quote, timestamp, resolution): (row_id, price, source)
              for row_id, base, quote, timestamp, resolution, price, source in earlier}
    same = {key for key, (_, price, _) in before.items() if key in points and points[key].price == price}
    kept = {key for key in same if before[key][2] == points[key].source}  # as stored: not rewritten
    stale = [before[key][0] for key in before.keys() - kept]
    for start in range(0, len(stale), 500):
        session.execute(delete(Price).where(Price.id.in_(stale[start : start + 500])))
    save_prices(session, [point for key, point in points.items() if key not in kept], now)
    return PriceFileImport(path, len(points), added=len(points.keys() - before.keys()),
                           changed=len((points.keys() & before.keys()) - same),
                           removed=len(before.keys() - points.keys()), unchanged=len(same))
