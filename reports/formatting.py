"""How numbers and dates look in reports, defined once so every format agrees.

Money is exact inside taxsync and rounded only for display: half-up to cents, the way people round on
paper (2.675 -> 2.68, where Python's default would give 2.67). Crypto quantities are never rounded; they are
written in plain fixed-point notation because ``Decimal`` would otherwise print ``1E+2`` or ``1.0E-7``, which
spreadsheets, accountants and most JSON consumers misread. No function here ever goes through ``float``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import cache

from taxsync.types import DAY_MS, TimestampMs

CENT = Decimal("0.01")
PRECISION = 50  # digits for sums and rounding: far beyond any amount an exchange reports
# Passed explicitly to every operation below (cheaper than a ``localcontext`` per call on a million rows).
EXACT = Context(prec=PRECISION, rounding=ROUND_HALF_UP)


def round_cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to cents; a negative zero becomes ``0.00``."""
    rounded = value.quantize(CENT, context=EXACT)
    return rounded.copy_abs() if rounded.is_signed() and not rounded else rounded


def decimal_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of ``values`` (``Decimal(0)`` for none), with enough precision never to round."""
    with localcontext(EXACT):  # one context switch per sum; the C loop of sum() adds at 50 digits
        return sum(values, Decimal(0))


def plain(value: Decimal) -> str:
    """Exact fixed-point text without exponent or trailing zeros: ``Decimal("1E+2")`` -> ``"100"``."""
    text = str(value)  # plain already unless it has an exponent or trailing zeros (3x faster than format)
    if (text[-1] == "0" and text != "0") or "E" in text:
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    return text


def cents_text(value: Decimal) -> str:
    """Two decimals, dot separator, no grouping, minus sign: the form a spreadsheet reads as a number."""
    return format(round_cents(value), "f")


def display_cents(value: Decimal) -> str:
    """``cents_text`` of a figure that is rounded to cents already (the report model's display figures): its
    own text unless it is not in that form (more or fewer than two decimals, or a negative zero)."""
    text = str(value)  # never an exponent at two decimals; three times faster than format()
    return text if text[-3:-2] == "." and text != "-0.00" else cents_text(value)


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


def day_first_date(day: date) -> str:
    """``DD/MM/YYYY``, as HMRC's and the ATO's forms write a date."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def german_date(day: date) -> str:
    """``DD.MM.YYYY``, as the Anlage SO writes a date."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


FORM_DATES: dict[str, Callable[[date], str]] = {  # how each jurisdiction's forms write a date; ISO elsewhere
    "us": month_first_date, "uk": day_first_date, "au": day_first_date, "de": german_date,
}


def form_date(day: date, jurisdiction: str) -> str:
    """A date as the jurisdiction's forms write it (``FORM_DATES``; ISO where none is named)."""
    return FORM_DATES.get(jurisdiction, iso_date)(day)


def timestamp_text(moment: datetime) -> str:
    """A generation time to the second, with its UTC offset when the datetime carries one."""
    return moment.isoformat(sep=" ", timespec="seconds")


def utc_ms_text(ts: TimestampMs) -> str:
    """A moment as UTC ISO 8601 to the millisecond: ``2024-01-10T12:00:00.000Z``."""
    day, millis = divmod(int(ts), DAY_MS)  # integer arithmetic; the day's text is made once per day
    seconds, millis = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{_epoch_day(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


@cache
def _epoch_day(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).isoformat()


_EPOCH = date(1970, 1, 1)
