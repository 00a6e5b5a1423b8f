"""TaxPeriod: --year, --from and --to read in one place, with local days and millisecond bounds."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from taxsync.errors import UsageError
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from taxsync.types import day_start

LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")


def test_a_uk_tax_year_runs_from_6_april_and_its_bounds_are_london_midnights() -> None:
    period = TaxPeriod.parse(JURISDICTIONS["uk"], LONDON, year="2024-25")
    assert period is not None
    assert (period.label, period.first, period.last, period.tax_year) == ("2024-25", date(2024, 4, 6),
                                                                          date(2025, 4, 5), 2025)
    assert period.start_ms == day_start(date(2024, 4, 6), LONDON)  # 23:00 UTC on 5 April (summer time)
    assert period.end_ms == day_start(date(2025, 4, 6), LONDON)
    assert period.contains(period.end_ms - 1) and not period.contains(period.end_ms)
    assert TaxPeriod.parse(JURISDICTIONS["uk"], LONDON, year="2025") == period


def test_from_and_to_are_local_days_both_included() -> None:
    period = TaxPeriod.parse(JURISDICTIONS["us"], NEW_YORK, start="2024-03-01", end="2024-06-30")
    assert period is not None and period.tax_year is None
    assert (period.label, period.slug) == ("2024-03-01 to 2024-06-30", "2024-03-01_2024-06-30")
    last_moment = day_start(date(2024, 7, 1), NEW_YORK) - 1
    assert period.holds(last_moment) and not period.holds(last_moment + 1)
    through = TaxPeriod.parse(JURISDICTIONS["us"], NEW_YORK, end="2024-12-31")
    assert through is not None and through.first is None and through.start_ms is None and through.contains(0)


@pytest.mark.parametrize(("options", "message"), [
    ({"year": "2024", "start": "2024-01-01"}, "either --year or --from/--to"),
    ({"start": "2024-01-01"}, "--from needs --to"),
    ({"start": "2024-05-01", "end": "2024-04-01"}, "is after --to"),
    ({"start": "1/5/2024", "end": "2024-06-01"}, "--from: '1/5/2024' is not a date"),
    ({"year": "2024-26"}, "the second year must follow the first"),
    ({"year": "24"}, "is not a tax year"),
])
def test_a_period_that_cannot_be_read_names_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        TaxPeriod.parse(JURISDICTIONS["uk"], LONDON, **options)


def test_no_option_is_the_whole_history() -> None:
    assert TaxPeriod.parse(JURISDICTIONS["us"], NEW_YORK) is None


@pytest.mark.parametrize(("code", "day", "label"), [
    ("uk", date(2024, 4, 5), "2023-24"), ("uk", date(2024, 4, 6), "2024-25"), ("us", date(2024, 12, 31), "2024"),
    ("au", date(2024, 6, 30), "2023-24"), ("au", date(2024, 7, 1), "2024-25"), ("de", date(2024, 1, 1), "2024"),
])
def test_the_tax_year_a_day_falls_in(code: str, day: date, label: str) -> None:
    period = TaxPeriod.tax_year_containing(JURISDICTIONS[code], LONDON, day)
    assert period.label == label and period.covers_day(day)
    assert period == TaxPeriod.tax_year_of(JURISDICTIONS[code], LONDON, label)
