"""Taxable gain and income per jurisdiction from a year's disposals and income (reference/tax-rules.md),
computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from taxsync.tax.records import Disposal, Income, Term
from taxsync.tax.summary import SUMMARIES
from taxsync.types import Asset, TimestampMs


def row(gain: str, term: Term = Term.SHORT, day: date = date(2024, 6, 1), proceeds: str = "1000") -> Disposal:
    return Disposal(ref=f"r{gain}{day}", account="a", asset=Asset("BTC"), amount=D(1), disposed_at=TimestampMs(0),
                    disposed=day, acquired=None, proceeds=D(proceeds), cost=D(proceeds) - D(gain), term=term,
                    rule="fifo", matches=())


def receipt(value: str | None, kind: str = "staking", day: date = date(2024, 6, 1)) -> Income:
    return Income(ref=f"i{value}{kind}", account="a", asset=Asset("ETH"), amount=D("0.1"),
                  value=None if value is None else D(value), kind=kind, received_at=TimestampMs(0), received=day)


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
    assert SUMMARIES[jurisdiction](rows, [], end).taxable_gain == taxable


def test_uk_2024_25_is_split_at_30_october() -> None:
    summary = SUMMARIES["uk"]([row("100", day=date(2024, 10, 29)), row("250", day=date(2024, 10, 30))], [],
                              date(2025, 4, 5))
    lines = dict(summary.lines)
    assert (lines["Net gain before 30 October 2024"], lines["Net gain on or after 30 October 2024"]) == (
        D("100"), D("250"))


# --- income ------------------------------------------------------------------------------------------------

# jurisdiction, receipts' values, year end, taxable income, the return line and its amount, a word of the rule
INCOME_CASES = [
    ("us", ["95", "138.5"], date(2024, 12, 31), D("233.5"),
     ("Schedule 1: other income (digital assets received as ordinary income)", D("233.5")), "Rev. Rul. 2023-14"),
    ("uk", ["95", "138.5"], date(2025, 4, 5), D("233.5"),
     ("SA100: other taxable income (miscellaneous income from cryptoassets)", D("233.5")), "miscellaneous income"),
    # Germany, §22 Nr. 3 EStG: the €256 Freigrenze is a cliff
    ("de", ["255.99"], date(2024, 12, 31), D("0"),
     ("Anlage SO: income from other services (§22 Nr. 3 EStG)", D("255.99")), "§22 Nr. 3"),
    ("de", ["256"], date(2024, 12, 31), D("256"),
     ("Anlage SO: taxable after the EUR 256 Freigrenze", D("256")), "§22 Nr. 3"),
    ("de", ["200", "56"], date(2024, 12, 31), D("256"),  # the limit is for the year's total
     ("Anlage SO: taxable after the EUR 256 Freigrenze", D("256")), "§22 Nr. 3"),
    ("de", ["255.99"], date(2024, 12, 31), D("0"),
     ("Anlage SO: taxable after the EUR 256 Freigrenze", D("0")), "EUR 256"),
    ("ca", ["95", "138.5"], date(2024, 12, 31), D("233.5"),  # fully included, not 50% like gains
     ("T1 line 13000: other income", D("233.5")), "fully included"),
    ("au", ["95", "138.5"], date(2025, 6, 30), D("233.5"),
     ("Other income: crypto rewards (ordinary income)", D("233.5")), "s6-5"),
    ("generic", ["1", "2"], date(2024, 12, 31), D("3"), ("Income", D("3")), "taxable income"),
]


@pytest.mark.parametrize(("jurisdiction", "values", "end", "taxable", "line", "rule"), INCOME_CASES)
def test_taxable_income(jurisdiction: str, values: list[str], end: date, taxable: D, line: tuple[str, D],
                        rule: str) -> None:
    summary = SUMMARIES[jurisdiction]([], [receipt(v, kind=f"k{i}") for i, v in enumerate(values)], end)
    assert summary.taxable_income == taxable
    assert line in summary.lines
    assert rule in " ".join(summary.rules.values())
    assert summary.income_unvalued == 0 and "income_unvalued" not in summary.rules


INCOME_LINES = {"us": 1, "uk": 1, "de": 2, "ca": 1, "au": 1, "generic": 1}


@pytest.mark.parametrize("jurisdiction", sorted(SUMMARIES))
def test_income_leaves_the_gain_figures_alone_and_its_lines_come_after_them(jurisdiction: str) -> None:
    end, n = date(2024, 12, 31), INCOME_LINES[jurisdiction]
    with_income = SUMMARIES[jurisdiction]([row("100")], [receipt("300")], end)
    without = SUMMARIES[jurisdiction]([row("100")], [], end)
    assert with_income.taxable_gain == without.taxable_gain
    assert with_income.lines[:-n] == without.lines[:-n]
    assert [amount for _, amount in with_income.lines[-n:]] == [D("300")] * n
    assert (with_income.taxable_income, without.taxable_income) == (D("300"), D("0"))


@pytest.mark.parametrize("jurisdiction", sorted(SUMMARIES))
def test_unvalued_income_is_counted_and_said_not_zero(jurisdiction: str) -> None:
    summary = SUMMARIES[jurisdiction]([], [receipt("300"), receipt(None, "airdrop"), receipt(None, "reward")],
                                      date(2024, 12, 31))
    assert summary.income_unvalued == 2
    assert summary.taxable_income == D("300")  # the known values only, and the rules say so
    assert summary.rules["income_unvalued"].startswith("2 receipts without a known value are not included")


def test_de_unvalued_income_below_the_limit_leaves_the_cliff_open() -> None:
    summary = SUMMARIES["de"]([], [receipt("100"), receipt(None, "reward")], date(2024, 12, 31))
    assert summary.taxable_income == 0
    assert "may take the year over it" in summary.rules["freigrenze_income_open"]
    over = SUMMARIES["de"]([], [receipt("300"), receipt(None, "reward")], date(2024, 12, 31))
    assert over.taxable_income == D("300") and "freigrenze_income_open" not in over.rules
