"""Strict parsers for the text fields of source files: exact decimals and UTC millisecond timestamps.

They raise ``ValueError`` with a message meant for the user; the importer adds file, line and column.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from taxsync.types import TimestampMs, from_datetime

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_decimal(text: str) -> Decimal:
    """An exact decimal from plain numeric text (``1234.5``, ``-0.001``, ``1e-8``); no thousands separators."""
    cleaned = text.strip()
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"'{text}' is not a number (use a dot for decimals and no thousands separators)")
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"'{text}' is not a number") from None


def parse_optional_decimal(text: str) -> Decimal | None:
    return None if not text.strip() else parse_decimal(text)


def parse_timestamp(text: str) -> TimestampMs:
    """UTC milliseconds from ``2024-03-01 14:25:00 UTC``, ``2024-03-01 14:25``, ISO 8601 with an offset or Z.

    Times without an offset are UTC. Digits beyond the millisecond are truncated.
    """
    cleaned = text.strip()
    if cleaned.endswith(" UTC"):
        cleaned = cleaned[:-4].rstrip()
    for fmt in _DATE_FORMATS:
        try:
            return from_datetime(datetime.strptime(cleaned, fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time such as 2024-03-01 14:25:00 UTC") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return from_datetime(moment)
