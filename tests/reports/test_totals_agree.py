"""Totals agree everywhere: rows rounded to cents, each total the sum of its rounded rows, and the figures
for the return taken from those totals, in every jurisdiction (the exact figures stay in the JSON beside them).

Hypothesis writes disposals and income with sub-cent amounts, so rounding each row and rounding a sum differ
by cents; every return line must still be the total of its table as printed.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import build_report_model
from reports.json_writer import render_json
from reports.model import ReportModel
from reports.render import render_document
from taxsync.tax.records import Disposal, Income, TaxResult, Term
from taxsync.types import Asset, TimestampMs
from tests.reports.conftest import sample_context

money = st.integers(0, 10**9).map(lambda n: D(n) / 10_000)  # four places: sub-cent parts
disposal = st.builds(
    lambda n, proceeds, cost, term, adjustment: Disposal(
        f"r{n}", "a", Asset("BTC"), D(1), TimestampMs(1_718_000_000_000 + n), date(2024, 6, 10), date(2023, 1, 2),
        proceeds, cost, term, "fifo", (), D(0), adjustment),
    st.integers(0, 10**6), money, money, st.sampled_from([Term.SHORT, Term.LONG]),
    st.one_of(st.just(D(0)), money))
receipt = st.builds(lambda n, value: Income(f"i{n}", "a", Asset("ETH"), D(1), value, "staking",
                                            TimestampMs(1_718_000_000_000 + n), date(2024, 6, 10)),
                    st.integers(0, 10**6), money)


def _gains(model: ReportModel, positive: bool) -> D:
    return sum((row.gain for row in model.disposals if (row.gain > 0) == positive and row.gain), D(0))


# Each return line and the total of the table it comes from, as the printed rows add up.
TABLE_TOTALS = {
    "us": lambda m: {"Schedule D short-term net gain or (loss)": m.short_term.totals.gain,
                     "Schedule D long-term net gain or (loss)": m.long_term.totals.gain,
                     "Schedule 1: other income (digital assets received as ordinary income)": m.income_total},
    "uk": lambda m: {"Disposal proceeds": m.form_totals.proceeds, "Allowable costs": m.form_totals.cost,
                     "Gains in the year, before losses": _gains(m, True), "Losses in the year": -_gains(m, False),
                     "SA100: other taxable income (miscellaneous income from cryptoassets)": m.income_total},
    "de": lambda m: {"Anlage SO: private sales within one year, gain or (loss)": m.short_term.totals.gain,
                     "Anlage SO: tax-free sales held more than one year": m.long_term.totals.gain,
                     "Anlage SO: income from other services (§22 Nr. 3 EStG)": m.income_total},
    "ca": lambda m: {"Schedule 3: net capital gain or (loss)": m.form_totals.gain,
                     "Superficial losses denied": m.form_totals.adjustment,
                     "Taxable capital gain (50%)": m.form_totals.gain / 2,
                     "T1 line 13000: other income": m.income_total},
    "au": lambda m: {"Total current year capital gains": _gains(m, True),
                     "Other income: crypto rewards (ordinary income)": m.income_total},
    "generic": lambda m: {"Income": m.income_total},
}


@pytest.mark.parametrize("code", list(TABLE_TOTALS))
@settings(max_examples=40, deadline=None)
@given(disposals=st.lists(disposal, max_size=12, unique_by=lambda d: d.ref),
       income=st.lists(receipt, max_size=6, unique_by=lambda i: i.ref))
def test_every_return_line_is_the_total_of_its_table(code: str, disposals: list[Disposal],
                                                     income: list[Income]) -> None:
    model = build_report_model(TaxResult(tuple(disposals), tuple(income), (), ()), sample_context(jurisdiction=code))
    lines = dict(model.summary.lines)
    expected = TABLE_TOTALS[code](model)
    assert {label: lines[label] for label in expected} == expected
    assert model.form_totals.gain == model.short_term.totals.gain + model.long_term.totals.gain
    written = json.loads(render_json(model))
    for line, exact in zip(written["return_lines"], model.exact_summary.lines, strict=True):  # type: ignore[union-attr]
        assert (line["label"], D(line["amount_exact"])) == (exact[0], exact[1])


def test_the_cents_the_rows_lose_do_not_move_the_return() -> None:
    """Three short-term sales of 0.005 gain each: the rows print 0.01 each (half up), the form part totals 0.03,
    and the return line says 0.03 (the exact 0.015 is in the JSON)."""
    rows = [Disposal(f"r{n}", "a", Asset("BTC"), D(1), TimestampMs(1_718_000_000_000 + n), date(2024, 6, 10),
                     date(2024, 1, 2), D("10.005"), D("10.00"), Term.SHORT, "fifo", ()) for n in range(3)]
    model = build_report_model(TaxResult(tuple(rows), (), (), ()), sample_context())
    assert model.short_term.totals.gain == D("0.03")
    assert dict(model.summary.lines)["Schedule D short-term net gain or (loss)"] == D("0.03")
    line = json.loads(render_json(model))["return_lines"][0]
    assert (D(line["amount"]), D(line["amount_exact"])) == (D("0.03"), D("0.015"))


def test_sa108s_disposal_count_sits_in_the_return_table_with_its_figures() -> None:
    """SA108 asks for the number of disposals beside the proceeds, costs, gains and losses: HMRC counts a
    token's disposals of one day as one (CRYPTO22250)."""
    day = [Disposal(f"r{n}", "a", Asset(asset), D(1), TimestampMs(1_700_000_000_000 + n), date(2023, 11, day),
                    date(2023, 1, 2), D("100"), D("40"), Term.SHORT, "section-104", ())
           for n, (asset, day) in enumerate([("BTC", 14), ("BTC", 14), ("ETH", 14), ("BTC", 15)])]
    model = build_report_model(TaxResult(tuple(day), (), (), ()), sample_context(
        jurisdiction="uk", period_start=date(2023, 4, 6), period_end=date(2024, 4, 5), tax_year="2023-24"))
    assert model.summary.counts == (("Number of disposals (per token and day, as HMRC counts them)", 3),)
    html = render_document(model, "html")
    table = html[html.index('class="totals tax-summary"'):]
    table = table[:table.index("</table>")]
    assert "Number of disposals" in table and "<td class=\"num\">3</td>" in table and "Disposal proceeds" in table
    assert json.loads(render_json(model))["return_counts"] == [
        {"label": "Number of disposals (per token and day, as HMRC counts them)", "count": 3}]
