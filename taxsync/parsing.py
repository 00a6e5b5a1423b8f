"""Strict parsers for the text fields of source files: exact decimals and UTC millisecond timestamps.

They raise ``ValueError`` with a message meant for the user; the importer adds file, line and column.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from taxsync.types import TimestampMs, from_datetime

_SLASHED = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T]+(\d{1,2}):(\d\d)(?::(\d\d))?)?")
_COMMON = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?(?: ?UTC|Z)?")


def parse_decimal(text: str) -> Decimal:
    """An exact decimal from plain numeric text (``1234.5``, ``-0.001``, ``1e-8``); no thousands separators."""
    cleaned = text.strip()
    try:  # Decimal reads plain and exponent notation, and also NaN, Infinity and 1_000, refused below
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or "_" in cleaned:
        raise ValueError(f"'{text}' is not a number (use a dot for decimals and no thousands separators)")
    return value


def parse_optional_decimal(text: str) -> Decimal | None:
    return None if not text.strip() else parse_decimal(text)


_DAYS: dict[str, int] = {}  # "2024-03-01" -> its midnight in UTC milliseconds (a file has a few thousand days)
_CLOCKS: dict[str, int] = {}  # "14:25:00" -> milliseconds after midnight, for times read in full already
_UTC_TAILS = frozenset({"", " UTC", "UTC", "Z"})  # what may follow "YYYY-MM-DD HH:MM:SS" in the usual spellings


def parse_timestamp(text: str, *, day_first: bool | None = None) -> TimestampMs:
    """UTC milliseconds from ``2024-03-01 14:25:00 UTC``, ``2024-03-01 14:25``, ISO 8601 with an offset or Z.

    Times without an offset are UTC. Digits beyond the millisecond are truncated. ``01/02/2024 10:00`` is read
    only where the format's documented layout says which comes first (``day_first``); elsewhere it is refused,
    whatever its numbers: one file must not be read day-first on one line and month-first on the next.
    """
    cleaned = text.strip()
    # A day and a time of day this process has already read in full (below) need no second look: a big export
    # repeats them, and each is a dictionary lookup.
    if len(cleaned) > 18 and cleaned[10] == " " and cleaned[19:] in _UTC_TAILS:
        midnight, clock = _DAYS.get(cleaned[:10]), _CLOCKS.get(cleaned[11:19])
        if midnight is not None and clock is not None:
            return TimestampMs(midnight + clock)
    if match := _COMMON.fullmatch(cleaned):  # the usual UTC spellings, without strptime's cost
        year, month, day, hour, minute, second, fraction = match.groups()
        clock = int(hour or 0), int(minute or 0), int(second or 0)
        midnight = _DAYS.get(cleaned[:10])
        if midnight is None or clock[0] > 23 or clock[1] > 59 or clock[2] > 59:
            try:
                midnight = from_datetime(datetime(int(year), int(month), int(day), *clock, tzinfo=UTC)) - (
                    (clock[0] * 60 + clock[1]) * 60 + clock[2]) * 1000
            except ValueError:
                raise ValueError(f"'{text}' is not a date and time: no such day or hour") from None
            if len(_DAYS) < 100_000:
                _DAYS[cleaned[:10]] = midnight
        if second is not None and len(_CLOCKS) < 100_000:
            _CLOCKS[cleaned[11:19]] = ((clock[0] * 60 + clock[1]) * 60 + clock[2]) * 1000
        return TimestampMs(midnight + ((clock[0] * 60 + clock[1]) * 60 + clock[2]) * 1000
                           + int((fraction or "0").ljust(3, "0")[:3]))
    if slashed := _SLASHED.fullmatch(cleaned):
        return _slashed(text, slashed.groups(), day_first)
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time such as 2024-03-01 14:25:00 UTC") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return from_datetime(moment)


def _slashed(text: str, parts: tuple[str | None, ...], day_first: bool | None) -> TimestampMs:
    if day_first is None:
        raise ValueError(f"'{text}' is ambiguous (day/month/year or month/day/year?): expected a date such as "
                         "2024-03-01 14:25:00 as the export writes it; a spreadsheet may have rewritten the dates, "
                         "so export the file again and import it unopened")
    first, second, year, hour, minute, sec = parts
    day, month = (first, second) if day_first else (second, first)
    try:
        moment = datetime(int(year or 0), int(month or 0), int(day or 0), int(hour or 0), int(minute or 0),
                          int(sec or 0), tzinfo=UTC)
    except ValueError:
        order = "day/month/year" if day_first else "month/day/year"
        raise ValueError(f"'{text}' is not a date and time in {order}: no such day or hour") from None
    return from_datetime(moment)
