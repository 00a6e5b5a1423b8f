"""Local calendar days of millisecond timestamps, fast enough for millions of events and exact.

Day-based rules (holding terms, UK same-day and 30-day matching, superficial losses) count the jurisdiction's
local days. Converting every timestamp through ``zoneinfo`` costs microseconds; events arrive in time order, so
``LocalDays`` remembers the UTC span of the last local day it saw and answers from it. A span is only
remembered when the zone's offset is the same at both of its ends (no daylight-saving change inside it), so
within it the local date is the same for every instant; any other day is converted directly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from taxsync.types import TimestampMs, day_start, local_date


class LocalDays:
    """``days(ts)`` is ``local_date(ts, zone)``, answered from the last day's span where possible."""

    __slots__ = ("_day", "_end", "_start", "zone")

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self._start = self._end = 0
        self._day = date.min

    def __call__(self, ts: TimestampMs) -> date:
        if self._start <= ts < self._end:
            return self._day
        day = local_date(ts, self.zone)
        start, end = day_start(day, self.zone), day_start(day + timedelta(days=1), self.zone)
        if start <= ts < end and self._steady(start, end):
            self._start, self._end, self._day = start, end, day
        return day

    def span(self, ts: TimestampMs) -> tuple[date, int, int]:
        """The local day of ``ts`` and the UTC span [start, end) in which every instant has that day (just
        ``ts`` itself when the day holds a daylight-saving change)."""
        day = self(ts)
        if self._start <= ts < self._end:
            return day, self._start, self._end
        return day, ts, ts + 1

    def _steady(self, start: int, end: int) -> bool:
        first = datetime.fromtimestamp(start // 1000, self.zone).utcoffset()
        last = datetime.fromtimestamp((end - 1) // 1000, self.zone).utcoffset()
        return first == last
