"""The report's SVG charts: one bar per month of the period, losses below the axis, holdings largest first,
labels escaped."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

from pypdf import PdfReader

from reports import build_report_model
from reports.charts import Bar, bar_chart, holdings_by_asset, monthly_gains
from reports.html_writer import write_html
from reports.pdf_writer import write_pdf
from taxsync.tax.records import Holding
from tests.reports.conftest import sample_context, sample_result


def test_monthly_gains_has_every_month_of_the_period_with_its_net_gain() -> None:
    model = build_report_model(sample_result(), sample_context())
    bars = monthly_gains(model)
    assert [b.label for b in bars] == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"]
    assert sum((b.value for b in bars), D(0)) == model.form_totals.gain  # the rows' display gains, all of them


def test_a_split_tax_year_labels_months_with_their_year() -> None:
    from datetime import date

    model = build_report_model(sample_result(), sample_context(period_start=date(2024, 4, 6),
                                                               period_end=date(2025, 4, 5)))
    labels = [b.label for b in monthly_gains(model)]
    assert labels[0] == "Apr 24" and labels[-1] == "Apr 25" and len(labels) == 13


def test_holdings_are_ranked_by_cost_and_the_tail_is_grouped() -> None:
    result = sample_result()
    many = tuple(Holding(f"T{i:02d}", D(1), D(i), "all") for i in range(1, 16))  # type: ignore[arg-type]
    model = build_report_model(replace(result, holdings=many), sample_context())
    bars = holdings_by_asset(model)
    assert [b.label for b in bars[:3]] == ["T15", "T14", "T13"] and bars[-1] == Bar("3 others", D("6.00"))


def test_losses_go_below_the_axis_and_labels_are_escaped() -> None:
    svg = str(bar_chart([Bar("<b>gain</b>", D(100)), Bar("loss", D(-50))], "t<i>", "USD"))
    assert "<b>" not in svg and "&lt;b&gt;gain&lt;/b&gt;" in svg and "t&lt;i&gt;" in svg
    assert 'fill="#2f6f4f"' in svg and 'fill="#a23b3b"' in svg and "(50.00)" in svg


def test_the_charts_are_inline_in_the_html_and_drawn_in_the_pdf(tmp_path: Path) -> None:
    model = build_report_model(sample_result(), sample_context())
    (html,) = write_html(model, tmp_path)
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") >= 2 and "Gains and losses by month of disposal" in page
    (pdf,) = write_pdf(model, tmp_path)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert "Gains and losses by month of disposal (USD)" in text and "Holdings by asset at" in text


def test_the_axes_are_labelled() -> None:
    svg = str(bar_chart([Bar("Jan", D(100)), Bar("Feb", D(-50))], "t", "GBP", x_axis="Month of disposal",
                        y_axis="Gain or (loss)"))
    assert ">Month of disposal</text>" in svg and ">Gain or (loss) (GBP)</text>" in svg
    assert ">0</text>" in svg  # zero marked between a gain and a loss
