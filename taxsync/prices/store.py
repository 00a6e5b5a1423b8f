"""The price cache in the database: store prices once, load them all back in one query as a ``PriceBook``.

Every price fetched or given is kept in the ``prices`` table with its source and resolution, so a second report
run needs no network at all. A price is stored once per (base, quote, timestamp, resolution, source): storing it
again changes nothing. Prices are exact decimals stored as text; the book keeps that text and makes a
``Decimal`` of it only when a lookup returns it.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import String, Text, cast, func, insert, or_, select, tuple_, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from taxsync.db import Price
from taxsync.prices.book import IntArray, PriceBook
from taxsync.prices.records import RESOLUTIONS, PricePoint

_CHUNK = 5000
_INSERT_IGNORING: dict[str, Callable[[Any], Any]] = {
    "sqlite": lambda table: sqlite.insert(table).on_conflict_do_nothing(),
    "postgresql": lambda table: postgresql.insert(table).on_conflict_do_nothing(),
}


def _row(point: PricePoint, fetched_at: int) -> dict[str, Any]:
    if point.resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution '{point.resolution}' of {point}: use one of {RESOLUTIONS}")
    if not isinstance(point.price, Decimal) or not point.price.is_finite() or point.price < 0:
        raise ValueError(f"a price must be a finite, non-negative Decimal: {point}")
    return {"base": point.base, "quote": point.quote, "timestamp": point.timestamp, "resolution": point.resolution,
            "price": point.price, "source": point.source, "fetched_at": fetched_at}


def save_prices(session: Session, points: Iterable[PricePoint], fetched_at: int) -> int:
    """Store ``points`` (fetched at ``fetched_at``, ms UTC); returns how many were new. A point already stored
    under the same (base, quote, timestamp, resolution, source) is left as it is."""
    dialect = session.get_bind().dialect.name
    statement = _INSERT_IGNORING.get(dialect, lambda table: insert(table))(Price.__table__)
    new = 0
    batch: list[dict[str, Any]] = []
    for point in points:
        batch.append(_row(point, fetched_at))
        if len(batch) == _CHUNK:
            new += session.execute(statement, batch).rowcount  # type: ignore[attr-defined]
            batch = []
    if batch:  # rowcount counts the rows inserted, not those the conflict skipped
        new += session.execute(statement, batch).rowcount  # type: ignore[attr-defined]
    return new


def _concat(dialect: str, column: Any, order: Any) -> Any:
    """All the values of ``column`` in a group as one comma-separated text (an aggregate in SQL). SQLite feeds
    the rows of a group to every aggregate of the query in the same order; PostgreSQL is told the order."""
    if dialect == "postgresql":
        return func.string_agg(cast(column, Text), postgresql.aggregate_order_by(",", order))
    return func.group_concat(column, ",")


def load_book(session: Session, pairs: Iterable[tuple[str, str]] | None = None) -> PriceBook:
    """Every stored price (only those of ``pairs``, (base, quote) tuples, when given) as a ``PriceBook``, in
    one query. Prices stay the exact text they were stored as until a lookup returns them.

    The query returns one row per (base, quote, resolution, source) with that group's ids, timestamps and prices
    each as one comma-separated text: for a million prices about four times faster than a million rows
    (numbers and decimal texts hold no commas)."""
    table = Price.__table__.c
    dialect = session.get_bind().dialect.name
    keys = (table.base, table.quote, table.resolution, table.source)
    statement = select(*keys, *(_concat(dialect, column, table.id) for column in (
        table.id, table.timestamp, type_coerce(table.price, String)))).group_by(*keys)
    if pairs is not None:
        wanted = sorted(set(pairs))
        if not wanted:
            return PriceBook.from_points(())
        statement = statement.where(tuple_(table.base, table.quote).in_(wanted))
    groups: list[tuple[str, str, str, str]] = []
    sizes: list[int] = []
    ids: list[IntArray] = []
    stamps: list[IntArray] = []
    prices: list[str] = []
    for base, quote, resolution, source, id_text, stamp_text, price_text in session.execute(statement):
        group_prices = price_text.split(",")
        groups.append((base, quote, resolution, source))
        sizes.append(len(group_prices))
        prices.extend(group_prices)
        ids.append(np.array(id_text.split(","), dtype=np.int64))
        stamps.append(np.array(stamp_text.split(","), dtype=np.int64))
    if not groups:
        return PriceBook.from_points(())
    key_columns = [np.repeat(np.array([group[i] for group in groups], dtype=object), sizes) for i in range(4)]
    return PriceBook.from_columns(key_columns[0], key_columns[1], np.concatenate(stamps), key_columns[2], prices,
                                  key_columns[3], order=np.concatenate(ids))


def book_digest(session: Session) -> str:
    """A digest of every stored price (what ``load_book`` reads), in one grouped query: equal digests, equal
    books."""
    table = Price.__table__.c
    dialect = session.get_bind().dialect.name
    keys = (table.base, table.quote, table.resolution, table.source)
    statement = select(*keys, *(_concat(dialect, column, table.id) for column in (
        table.id, table.timestamp, type_coerce(table.price, String)))).group_by(*keys).order_by(*keys)
    digest = hashlib.blake2b(digest_size=20)
    for row in session.execute(statement):
        digest.update("\x1f".join(row).encode() + b"\x1e")
    return digest.hexdigest()


# -- what is cached: `taxsync prices list` -------------------------------------------------------------------

_USER_FILE_LINE = re.compile(r"^(user file .+):\d+(?: \(.*\))?$")


@dataclass(frozen=True, slots=True)
class PriceSummary:
    """The prices cached for one pair, resolution and source (a user file's lines count as one source)."""

    base: str
    quote: str
    resolution: str
    source: str
    count: int
    first: int  # ms UTC: the earliest period start
    last: int  # ms UTC: the latest period start


def source_group(source: str) -> str:
    """The source a listing counts a price under: ``user file prices.csv:12`` counts as ``user file prices.csv``."""
    match = _USER_FILE_LINE.match(source)
    return match.group(1) if match else source


def summarize_prices(session: Session, *, asset: str | None = None) -> list[PriceSummary]:
    """Counts and time spans of the cached prices per pair, resolution and source, sorted; ``asset`` keeps
    the pairs it is the base or the quote of."""
    table = Price.__table__.c
    statement = select(table.base, table.quote, table.resolution, table.source, func.count(),
                       func.min(table.timestamp), func.max(table.timestamp)).group_by(
        table.base, table.quote, table.resolution, table.source)
    if asset:
        statement = statement.where(or_(table.base == asset.upper(), table.quote == asset.upper()))
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 2**63 - 1, -(2**63)])
    for base, quote, resolution, source, count, first, last in session.execute(statement):
        group = groups[(base, quote, resolution, source_group(source))]
        group[0] += count
        group[1], group[2] = min(group[1], first), max(group[2], last)
    rank = {res: i for i, res in enumerate(RESOLUTIONS)}
    return [PriceSummary(base, quote, res, source, count, first, last)
            for (base, quote, res, source), (count, first, last)
            in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1], rank.get(item[0][2], 9), item[0][3]))]
