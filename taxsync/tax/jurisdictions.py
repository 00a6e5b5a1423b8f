"""Jurisdictions as data: tax-year periods, local calendar, default method and the holding-term rule.

``--year N`` is the tax year that ends in N (US 2024 = calendar 2024; UK 2025 = 6 Apr 2024 to 5 Apr 2025;
AU 2025 = 1 Jul 2024 to 30 Jun 2025); ``N-1-NN`` spellings such as ``2024-25`` work too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from taxsync.tax.records import Term


def held_more_than_one_year(acquired: date, disposed: date) -> Term:
    """Long term when disposed of after the anniversary of the acquisition date.

    US: IRC §1222(3), "held for more than 1 year"; the holding period starts the day after acquisition and
    is counted in calendar months (Rev. Rul. 66-7), so a purchase on 1 Mar 2023 sold on 1 Mar 2024 is short
    term and sold on 2 Mar 2024 long term; 29 Feb acquisitions turn long on 1 Mar of the next year.
    DE: §23 Abs. 1 Nr. 2 EStG ("nicht mehr als ein Jahr" is taxable). AU: ITAA 1997 s115-25, "at least
    12 months" not counting the days of acquisition and disposal, which comes to the same test.
    """
    if disposed.year - acquired.year > 1:
        return Term.LONG
    anniversary = acquired + relativedelta(years=1)  # 29 Feb -> 28 Feb
    return Term.LONG if disposed > anniversary else Term.SHORT


def no_holding_term(_acquired: date, _disposed: date) -> Term:
    """UK and Canada tax gains the same whatever the holding period."""
    return Term.SHORT


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str
    name: str
    currency: str
    method: str
    timezone: str
    year_start: tuple[int, int]  # (month, day) on which a tax year begins
    term: Callable[[date, date], Term]
    term_rule: str
    crypto_fee_is_disposal: bool = True
    tracking: str = "universal"  # default basis tracking for new workspaces
    per_wallet_from: date | None = None  # universal tracking switches to per wallet on this local day

    @property
    def calendar_year(self) -> bool:
        return self.year_start == (1, 1)

    def period(self, year: int) -> tuple[date, date]:
        """First and last local day of the tax year ending in ``year``."""
        month, day = self.year_start
        if self.calendar_year:
            return date(year, 1, 1), date(year, 12, 31)
        start = date(year - 1, month, day)
        return start, date(year, month, day) - timedelta(days=1)

    def year_label(self, year: int) -> str:
        return str(year) if self.calendar_year else f"{year - 1}-{year % 100:02d}"

    def parse_year(self, text: str) -> int:
        """The year a tax year ends in, from ``2024`` or (for split years) ``2023-24`` / ``2023-2024``."""
        text = text.strip()
        if re.fullmatch(r"\d{4}", text):
            return int(text)
        match = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", text)
        if not match or self.calendar_year:
            raise ValueError(f"'{text}' is not a tax year for {self.name}: use a year such as 2024")
        first, second = int(match[1]), match[2]
        end = int(second) if len(second) == 4 else (first + 1) // 100 * 100 + int(second)
        if end != first + 1:
            raise ValueError(f"'{text}' is not a tax year: the second year must follow the first")
        return end


ONE_YEAR = "long term when held more than one year (sold after the anniversary of the purchase date)"
NO_TERM = "no distinction by holding period"

JURISDICTIONS: dict[str, Jurisdiction] = {
    j.code: j
    for j in (
        # From 2025 basis is tracked per wallet or account (Reg. 1.1012-1(j)); earlier years may be universal.
        Jurisdiction("us", "United States", "USD", "fifo", "America/New_York", (1, 1), held_more_than_one_year,
                     f"{ONE_YEAR}, IRC §1222", per_wallet_from=date(2025, 1, 1)),
        Jurisdiction("uk", "United Kingdom", "GBP", "uk-pooling", "Europe/London", (4, 6), no_holding_term, NO_TERM),
        # FIFO per wallet ("Depot"), BMF letter of 6 March 2025 on cryptoassets.
        Jurisdiction("de", "Germany", "EUR", "fifo", "Europe/Berlin", (1, 1), held_more_than_one_year,
                     "tax-free when held more than one year, §23 Abs. 1 Nr. 2 EStG", tracking="per-wallet"),
        Jurisdiction("ca", "Canada", "CAD", "acb", "America/Toronto", (1, 1), no_holding_term, NO_TERM),
        Jurisdiction("au", "Australia", "AUD", "fifo", "Australia/Sydney", (7, 1), held_more_than_one_year,
                     "discount when held at least 12 months, ITAA 1997 s115-25"),
        Jurisdiction("generic", "Generic (calendar year, UTC)", "USD", "fifo", "UTC", (1, 1),
                     held_more_than_one_year, ONE_YEAR),
    )
}
