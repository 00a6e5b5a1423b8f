"""The report model: which rows belong to the period, in what order, and how they add up.

Figures are worked out by hand from the sample in conftest.py (calendar 2024, US).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from reports import ReportModel, build_report_model
from reports.formatting import cents_text, money_display, plain, round_cents
from reports.model import ACQUIRED_UNKNOWN, ACQUIRED_VARIOUS
from taxsync.ledger.integrity import IntegrityReport
from taxsync.problems import ProblemKind, Severity
from taxsync.tax.records import LotMatch, TaxResult, Term
from tests.reports.conftest import disposal, sample_context


def test_period_keeps_rows_dated_inside_it_both_ends_included(model: ReportModel) -> None:
    refs = [row.record.ref for row in model.disposals]
    assert "binance-main/1" not in refs  # 2023-12-31
    assert "binance-main/99" not in refs  # 2025-01-01
    assert "coinbase/7" in refs  # 2024-12-31, the last day
    assert [row.record.ref for row in model.income] == [
        "kraken/20",
        "binance-main/21",
        "kraken/22",
        "kraken/23",
    ]


def test_disposals_are_listed_short_term_first_then_by_time(model: ReportModel) -> None:
    assert [(row.record.term, row.record.ref) for row in model.disposals] == [
        (Term.SHORT, "binance-main/2"),
        (Term.SHORT, "binance-main/3"),
        (Term.SHORT, "coinbase/7"),
        (Term.LONG, "kraken/9"),
        (Term.LONG, "kraken/11"),
    ]
    assert model.short_term.rows + model.long_term.rows == model.disposals


def test_exact_totals_are_unrounded_sums(model: ReportModel) -> None:
    totals = model.totals
    assert totals.proceeds == D("37700.130")
    assert totals.cost == D("23112.620")
    assert totals.gain == D("14587.510")
    assert totals.short_term_gain == D("11487.501")
    assert totals.long_term_gain == D("3100.009")
    assert totals.income == D("163.465")  # 123.456 + 40.004 + 0.005; the unvalued airdrop is left out
    assert totals.income_unvalued == 1


def test_rows_round_half_up_and_gain_is_rounded_proceeds_minus_rounded_cost(model: ReportModel) -> None:
    btc = model.disposals[0]
    assert (btc.proceeds, btc.cost, btc.gain) == (D("30000.01"), D("20000.00"), D("10000.01"))
    assert btc.exact_gain == D("10000.001")
    eth = model.long_term.rows[0]
    assert (eth.proceeds, eth.cost, eth.gain) == (D("6000.13"), D("3000.12"), D("3000.01"))


def test_part_totals_are_sums_of_rounded_rows(model: ReportModel) -> None:
    short, long_ = model.short_term.totals, model.long_term.totals
    assert (short.proceeds, short.cost, short.gain) == (D("31600.01"), D("20112.50"), D("11487.51"))
    assert (long_.proceeds, long_.cost, long_.gain) == (D("6100.13"), D("3000.12"), D("3100.01"))
    both = model.form_totals
    assert (both.proceeds, both.cost, both.gain) == (D("37700.14"), D("23112.62"), D("14587.52"))
    for part in (model.short_term, model.long_term):
        assert part.totals.gain == sum((r.gain for r in part.rows), D(0))
        assert part.totals.gain == part.totals.proceeds - part.totals.cost


def test_income_and_holdings_display_totals_add_up_rounded_rows(model: ReportModel) -> None:
    assert [row.value for row in model.income] == [D("123.46"), None, D("40.00"), D("0.01")]
    assert model.income_total == D("163.47")  # the exact total is 163.465
    assert [row.cost for row in model.holdings] == [D("25000.51"), D("0.00"), D("10.00")]
    assert model.holdings_cost_total == D("25010.51")


def test_acquired_is_a_date_various_or_unknown(model: ReportModel) -> None:
    by_ref = {row.record.ref: row for row in model.disposals}
    assert by_ref["binance-main/2"].acquired_text == ""
    assert by_ref["binance-main/3"].acquired_text == ACQUIRED_VARIOUS
    assert by_ref["coinbase/7"].acquired_text == ACQUIRED_UNKNOWN


def test_holdings_are_kept_as_given_and_problems_all_kept_errors_first(model: ReportModel, result: TaxResult) -> None:
    assert tuple(row.record for row in model.holdings) == result.holdings
    gap = [p for p in model.problems if p not in result.problems]  # the unvalued airdrop, for the return
    assert sorted(model.problems, key=repr) == sorted([*result.problems, *gap], key=repr)
    assert [p.severity for p in model.problems] == [
        Severity.ERROR,
        Severity.ERROR,
        Severity.ERROR,
        Severity.WARNING,
        Severity.INFO,
    ]
    assert model.problem_counts == ((Severity.ERROR, 3), (Severity.WARNING, 1), (Severity.INFO, 1))


def test_unvalued_income_is_a_problem_for_the_taxable_income_not_a_silent_zero(model: ReportModel) -> None:
    assert model.summary.income_unvalued == 1
    assert model.summary.taxable_income == D("163.47")  # US: the valued receipts of the period, all ordinary
    assert model.exact_summary is not None and model.exact_summary.taxable_income == D("163.465")
    (gap,) = [p for p in model.problems if "taxable income" in p.message]
    assert (gap.kind, gap.severity, gap.source) == (ProblemKind.MISSING_PRICE, Severity.ERROR, "binance-main/21")
    assert gap.message.startswith("1 income receipt of the period has no known value")
    assert "1 receipt without a known value is not included" in model.summary.rules["income_unvalued"]


def test_no_gap_problem_when_every_receipt_is_valued(make_model: Callable[..., ReportModel], result: TaxResult) -> None:
    valued = replace(result, income=tuple(i for i in result.income if i.value is not None))
    model = make_model(valued)
    assert model.summary.income_unvalued == 0 and "income_unvalued" not in model.summary.rules
    assert not [p for p in model.problems if "taxable income" in p.message]


def test_each_disposal_row_carries_the_lots_it_consumed(model: ReportModel) -> None:
    for row in model.disposals:
        assert row.lots == row.record.matches and row.lots
        assert sum((lot.amount for lot in row.lots), D(0)) == row.record.amount
        assert sum((lot.cost for lot in row.lots), D(0)) == row.record.cost
    by_ref = {row.record.ref: row for row in model.disposals}
    assert by_ref["binance-main/2"].lots[0].lot_ref == "binance-main/2-lot"
    assert by_ref["coinbase/7"].lots[0].lot_ref == ""  # no known acquisition


def test_integrity_is_absent_unless_the_caller_ran_it(
    make_model: Callable[..., ReportModel], model: ReportModel, result: TaxResult
) -> None:
    assert model.integrity is None
    checked = IntegrityReport(checked=3, differences=0, explained=1)
    assert build_report_model(result, sample_context(), checked).integrity is checked


def test_empty_result_gives_zero_totals(make_model: Callable[..., ReportModel]) -> None:
    empty = make_model(TaxResult((), (), (), ()))
    assert empty.disposals == () and empty.income == () and empty.holdings == ()
    assert empty.totals.gain == 0 and empty.form_totals.gain == 0 and empty.income_total == 0
    assert empty.problem_counts == ((Severity.ERROR, 0), (Severity.WARNING, 0), (Severity.INFO, 0))


def test_tax_year_period_that_spans_calendar_years(make_model: Callable[..., ReportModel]) -> None:
    model = make_model(tax_year="2024-25", period_start=date(2024, 4, 6), period_end=date(2025, 4, 5))
    assert [row.record.ref for row in model.disposals] == [
        "coinbase/7",
        "kraken/9",
        "kraken/11",
        "binance-main/99",
    ]


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("2.665", "2.67"),  # half-up; banker's rounding (Python's default) would give 2.66
        ("0.125", "0.13"),
        ("-0.125", "-0.13"),
        ("-0.004", "0.00"),  # no negative zero
        ("1E+3", "1000.00"),
        ("123456789012345678901234567890.005", "123456789012345678901234567890.01"),
    ],
)
def test_round_cents(value: str, rounded: str) -> None:
    assert cents_text(round_cents(D(value))) == rounded


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1E+2", "100"),
        ("1E-8", "0.00000001"),
        ("0.50000", "0.5"),
        ("-0", "0"),
        ("0E-10", "0"),
        ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
    ],
)
def test_plain_never_uses_exponents(value: str, text: str) -> None:
    assert plain(D(value)) == text


def test_money_display_groups_thousands_and_puts_losses_in_parentheses() -> None:
    assert money_display(D("1234567.891")) == "1,234,567.89"
    assert money_display(D("-12.5")) == "(12.50)"
    assert money_display(D("-0.001")) == "0.00"


def test_lots_are_completed_with_the_units_no_acquisition_covered(
    make_model: Callable[..., ReportModel], result: TaxResult
) -> None:
    # A UK Section 104 row with a shortfall: 3 units sold, the pool covered 2 (its only match), 1 had no basis.
    pool = LotMatch("section 104 pool", None, None, D("2"), D("50"), "all")
    row = disposal("kraken/30", "TOK", "3", date(2024, 5, 1), None, "90", "50", Term.SHORT, account="kraken",
                   no_basis="1", matches=(pool,))
    model = make_model(replace(result, disposals=(row,)))
    assert model.disposals[0].lots == (pool, LotMatch("", None, None, D("1"), D("0"), "kraken"))
