"""How numbers and dates look in reports, defined once so every format agrees.

Money is exact inside taxsync and rounded only for display: half-up to cents, the way people round on
paper (2.675 -> 2.68, where Python's default would give 2.67). Crypto quantities are never rounded; they are
written in plain fixed-point notation because ``Decimal`` would otherwise print ``1E+2`` or ``1.0E-7``, which
spreadsheets, accountants and most JSON consumers misread. No function here ever goes through ``float``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from taxsync.types import TimestampMs, to_datetime

CENT = Decimal("0.01")
PRECISION = 50  # digits for sums and rounding: far beyond any amount an exchange reports

# Jurisdictions whose forms write dates month first (Form 8949: MM/DD/YYYY); elsewhere ISO dates.
MONTH_FIRST_JURISDICTIONS = frozenset({"us"})


def round_cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to cents; a negative zero becomes ``0.00``."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded == 0 else rounded


def decimal_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of ``values`` (``Decimal(0)`` for none), with enough precision never to round."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total = Decimal(0)
        for value in values:
            total += value
        return total


def plain(value: Decimal) -> str:
    """Exact fixed-point text without exponent or trailing zeros: ``Decimal("1E+2")`` -> ``"100"``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def cents_text(value: Decimal) -> str:
    """Two decimals, dot separator, no grouping, minus sign: the form a spreadsheet reads as a number."""
    return format(round_cents(value), "f")


def money_display(value: Decimal) -> str:
    """Human form for HTML and PDF: grouped thousands, two decimals, losses in parentheses."""
    rounded = round_cents(value)
    text = format(rounded.copy_abs(), ",f")
    return f"({text})" if rounded < 0 else text


def iso_date(day: date) -> str:
    return day.isoformat()


def month_first_date(day: date) -> str:
    """``MM/DD/YYYY``, as Form 8949 and US tax software expect."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def form_date(day: date, jurisdiction: str) -> str:
    """A date as the jurisdiction's forms write it: month first for the US, ISO everywhere else."""
    return month_first_date(day) if jurisdiction in MONTH_FIRST_JURISDICTIONS else iso_date(day)


def timestamp_text(moment: datetime) -> str:
    """A generation time to the second, with its UTC offset when the datetime carries one."""
    return moment.isoformat(sep=" ", timespec="seconds")


def utc_ms_text(ts: TimestampMs) -> str:
    """A moment as UTC ISO 8601 to the millisecond: ``2024-01-10T12:00:00.000Z``."""
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts) % 1000:03d}Z"
