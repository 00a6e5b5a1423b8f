"""The period a command is about: a tax year, a range of local days, or everything up to a day.

``--year``, ``--from`` and ``--to`` are read here and nowhere else. A ``TaxPeriod`` knows its first and last
local calendar day in the jurisdiction's (or workspace's) time zone and the millisecond bounds those days
cover: ``start_ms`` is the first millisecond of the first day, ``end_ms`` the first millisecond after the last
day. ``--year N`` is the tax year that ends in N (``Jurisdiction.period``): US 2024 is calendar 2024, UK 2025 is
6 April 2024 to 5 April 2025 (ITA 2007 s.4), AU 2025 is 1 July 2024 to 30 June 2025.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from taxsync.errors import UsageError
from taxsync.tax.jurisdictions import Jurisdiction
from taxsync.types import TimestampMs, day_start, local_date

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TaxPeriod:
    """Local days ``first`` to ``last`` (both included) in ``zone``; ``first`` None: from the beginning."""

    label: str  # "2024", "2024-25", "2024-03-01 to 2024-06-30", "to 2024-12-31"
    first: date | None
    last: date
    zone: ZoneInfo
    tax_year: int | None = None  # the year a whole tax year ends in; None for any other range

    @property
    def slug(self) -> str:
        """The label as a part of a file name: ``2024``, ``2024-25``, ``2024-03-01_2024-06-30``, ``to_2024-12-31``."""
        return self.label.replace(" to ", "_").replace("to ", "to_")

    @property
    def start_ms(self) -> TimestampMs | None:
        """The first millisecond of the period (None: the history's beginning)."""
        return day_start(self.first, self.zone) if self.first is not None else None

    @property
    def end_ms(self) -> TimestampMs:
        """The first millisecond after the period's last day."""
        return day_start(self.last + ONE_DAY, self.zone)

    def words(self, jurisdiction: Jurisdiction) -> str:
        """The period as a sentence says it: ``UK tax year 2023-24: 6 April 2023 to 5 April 2024``."""
        last = _day_words(self.last)
        days = f"{_day_words(self.first)} to {last}" if self.first else f"up to {last}"
        if self.tax_year is None:
            return f"{days} ({jurisdiction.name} rules)"
        kind = "Tax year" if jurisdiction.code == "generic" else f"{jurisdiction.code.upper()} tax year"
        return f"{kind} {self.label}: {days}"

    def contains(self, timestamp: TimestampMs) -> bool:
        start = self.start_ms
        return (start is None or timestamp >= start) and timestamp < self.end_ms

    def covers_day(self, day: date) -> bool:
        return (self.first is None or day >= self.first) and day <= self.last

    def holds(self, timestamp: TimestampMs) -> bool:
        """Whether the local day of ``timestamp`` lies in the period."""
        return self.covers_day(local_date(timestamp, self.zone))

    @classmethod
    def tax_year_of(cls, jurisdiction: Jurisdiction, zone: ZoneInfo, year: str) -> TaxPeriod:
        """The tax year that ``year`` names (``2024``, or ``2024-25`` where tax years are split)."""
        try:
            end_year = jurisdiction.parse_year(year)
        except ValueError as error:
            raise UsageError(str(error)) from None
        first, last = jurisdiction.period(end_year)
        return cls(jurisdiction.year_label(end_year), first, last, zone, end_year)

    @classmethod
    def tax_year_containing(cls, jurisdiction: Jurisdiction, zone: ZoneInfo, day: date) -> TaxPeriod:
        """The tax year that the local ``day`` falls in (UK: 5 April 2024 is in 2023-24, 6 April in 2024-25)."""
        after_start = (day.month, day.day) >= jurisdiction.year_start
        end_year = day.year + 1 if after_start and not jurisdiction.calendar_year else day.year
        first, last = jurisdiction.period(end_year)
        return cls(jurisdiction.year_label(end_year), first, last, zone, end_year)

    @classmethod
    def through(cls, last: date, zone: ZoneInfo) -> TaxPeriod:
        """Everything up to the end of the local day ``last``."""
        return cls(f"to {last.isoformat()}", None, last, zone)

    @classmethod
    def parse(cls, jurisdiction: Jurisdiction, zone: ZoneInfo, *, year: str | None = None,
              start: str | None = None, end: str | None = None) -> TaxPeriod | None:
        """The period of ``--year`` or of ``--from``/``--to`` (local days, both included); None when none is
        given (the whole history). A usage error names the option that cannot be read."""
        if year is not None and (start is not None or end is not None):
            raise UsageError("give either --year or --from/--to, not both")
        if year is not None:
            return cls.tax_year_of(jurisdiction, zone, year)
        if start is None and end is None:
            return None
        first, last = _day(start, "--from"), _day(end, "--to")
        if last is None:
            raise UsageError("--from needs --to: the last day of the period")
        if first is not None and first > last:
            raise UsageError(f"--from {first} is after --to {last}")
        if first is None:
            return cls.through(last, zone)
        return cls(f"{first.isoformat()} to {last.isoformat()}", first, last, zone)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: '{text}' is not a date such as 2024-12-31") from None


def _day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
