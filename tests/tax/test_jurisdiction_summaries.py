"""Taxable gain per jurisdiction from a year's disposals (reference/tax-rules.md), computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from taxsync.tax.records import Disposal, Term
from taxsync.tax.summary import SUMMARIES
from taxsync.types import Asset, TimestampMs


def row(gain: str, term: Term = Term.SHORT, day: date = date(2024, 6, 1), proceeds: str = "1000") -> Disposal:
    return Disposal(ref=f"r{gain}{day}", account="a", asset=Asset("BTC"), amount=D(1), disposed_at=TimestampMs(0),
                    disposed=day, acquired=None, proceeds=D(proceeds), cost=D(proceeds) - D(gain), term=term,
                    rule="fifo", matches=())


@pytest.mark.parametrize(
    ("jurisdiction", "rows", "end", "taxable"),
    [
        ("us", [row("500"), row("-200", Term.LONG)], date(2024, 12, 31), D("300")),
        ("de", [row("999.99")], date(2024, 12, 31), D("0")),  # below the €1,000 Freigrenze: nothing
        ("de", [row("1000")], date(2024, 12, 31), D("1000")),  # at it: all of it
        ("de", [row("700")], date(2023, 12, 31), D("700")),  # 2023: €600 limit
        ("de", [row("5000", Term.LONG), row("100")], date(2024, 12, 31), D("0")),  # held > 1 year: tax-free
        ("ca", [row("3485"), row("-16")], date(2024, 12, 31), D("1734.5")),  # 50% inclusion
        ("au", [row("1000", Term.LONG), row("400"), row("-600")], date(2025, 6, 30), D("400")),  # losses first
        ("uk", [row("5000"), row("-1000")], date(2025, 4, 5), D("1000")),  # 2024/25 exempt amount £3,000
        ("uk", [row("5000")], date(2024, 4, 5), D("0")),  # 2023/24 exempt amount £6,000
    ],
)
def test_taxable_gain(jurisdiction: str, rows: list[Disposal], end: date, taxable: D) -> None:
    assert SUMMARIES[jurisdiction](rows, end).taxable_gain == taxable


def test_uk_2024_25_is_split_at_30_october() -> None:
    summary = SUMMARIES["uk"]([row("100", day=date(2024, 10, 29)), row("250", day=date(2024, 10, 30))],
                              date(2025, 4, 5))
    lines = dict(summary.lines)
    assert (lines["Net gain before 30 October 2024"], lines["Net gain on or after 30 October 2024"]) == (
        D("100"), D("250"))
