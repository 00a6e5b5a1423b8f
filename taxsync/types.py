"""Small shared types: asset codes, millisecond timestamps and the leg roles.

Every stage speaks in these: an amount is a signed ``Decimal`` (positive in, negative out), a moment is a
``TimestampMs`` (milliseconds since the Unix epoch, UTC) and an asset is an upper-case ``Asset`` code.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any, NewType, TypeVar
from zoneinfo import ZoneInfo

Asset = NewType("Asset", str)
TimestampMs = NewType("TimestampMs", int)

DAY_MS = 86_400_000  # one UTC day in milliseconds (calendar days of a jurisdiction use ``day_start``)


def now_ms() -> TimestampMs:
    """The current moment as a millisecond timestamp, UTC."""
    return TimestampMs(time.time_ns() // 1_000_000)


class Role(StrEnum):
    """What a leg does inside its transaction."""

    IN = "in"
    OUT = "out"
    FEE = "fee"


def to_datetime(ts: TimestampMs) -> datetime:
    """The aware UTC datetime of a millisecond timestamp (exact: integer arithmetic)."""
    seconds, millis = divmod(int(ts), 1000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=millis * 1000)


def from_datetime(moment: datetime) -> TimestampMs:
    """Millisecond timestamp of an aware datetime; sub-millisecond digits are truncated."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a timezone is required")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return TimestampMs((delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000)


def local_date(ts: TimestampMs, zone: ZoneInfo) -> date:
    """The calendar date of ``ts`` in ``zone``: day-based tax rules count local days."""
    return datetime.fromtimestamp(ts // 1000, zone).date()  # whole seconds decide the day exactly


def day_start(day: date, zone: ZoneInfo) -> TimestampMs:
    """The first millisecond of ``day`` in ``zone``."""
    return from_datetime(datetime(day.year, day.month, day.day, tzinfo=zone))


def decimal_text(value: Decimal) -> str:
    """Plain fixed-point text of a decimal, never exponent notation (``1E+2`` becomes ``100``)."""
    text = str(value)  # fixed-point already for the usual amounts; the exceptions take the long way
    if "E" not in text and text[-1].isdigit():
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_Record = TypeVar("_Record", bound=type)


def pickled_by_fields(cls: _Record) -> _Record:
    """Pickle a frozen slots dataclass as its constructor's arguments. Python 3.11's generated ``__getstate__``
    looks the fields up again for every object: kept results of 100,000 records took half a second more."""
    names = tuple(field.name for field in dataclasses.fields(cls))
    values = attrgetter(*names)
    one = len(names) == 1

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, (values(self),) if one else values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls
