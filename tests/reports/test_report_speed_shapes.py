"""The shapes that make big reports quick still say everything: Form 8949 as lines of text in small blocks,
the summary PDF, grouped problems, and the CSV and JSON written without per-cell detours.

Timings are not asserted here; they are in bench/report_speed.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pypdf
import pytest

from reports import ReportModel, build_report_model, json_writer
from reports.csv_writer import AUDIT_TRAIL_HEADER, FORM8949_HEADER, audit_trail_rows, form8949_rows, render_csv
from reports.formatting import cents_text
from reports.formatting import display_cents as _cents
from reports.json_writer import _disposal, render_json
from reports.model import DisposalRow
from reports.pdf_writer import write_pdf
from reports.render import group_problems, render_document
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import TaxResult, Term
from tests.reports.conftest import disposal, sample_context, sample_result

ROWS = 2_500


def many_disposals(count: int) -> TaxResult:
    """``count`` disposals over 2024, every third long-term, each with its own reference and figures."""
    start = date(2024, 1, 1)
    disposals = tuple(
        disposal(f"binance-main/{i}", "BTC", f"0.{i:04d}1", start + timedelta(days=i % 366),
                 start - timedelta(days=400 if i % 3 == 0 else 20), f"{1000 + i}.005", f"{900 + i}.004",
                 Term.LONG if i % 3 == 0 else Term.SHORT)
        for i in range(count)
    )
    return TaxResult(disposals=disposals, income=(), holdings=(), problems=())


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_the_full_pdf_of_2500_disposals_lists_every_line_and_the_totals(tmp_path: Path) -> None:
    model = build_report_model(many_disposals(ROWS), sample_context())
    text = pdf_text(write_pdf(model, tmp_path)[0])
    refs = {word for word in text.split() if word.startswith("binance-main/")}
    assert refs == {f"binance-main/{i}" for i in range(ROWS)}
    short, long = model.short_term, model.long_term
    assert len(short.rows) + len(long.rows) == ROWS
    for part, name in ((short, "Part I"), (long, "Part II")):
        assert f"Totals, {name}" in text
        assert f"{len(part.rows)} lines" in text
        for figure in (part.totals.proceeds, part.totals.cost, part.totals.gain):
            assert f"{figure:,.2f}" in text


def test_the_summary_pdf_has_the_totals_but_not_the_lines(tmp_path: Path) -> None:
    model = build_report_model(many_disposals(300), sample_context())
    text = pdf_text(write_pdf(model, tmp_path, detail=False)[0])
    assert "binance-main/1" not in text
    assert "This is the summary report" in " ".join(text.split())
    assert f"{model.short_term.totals.proceeds:,.2f}" in text and f"{model.long_term.totals.gain:,.2f}" in text
    assert "Totals, Part I" in text and "Totals, Part II" in text


def test_form8949_lines_keep_columns_and_never_cut_a_long_description(model: ReportModel) -> None:
    html = render_document(model, "html")
    assert "0.5 BTC               01/10/2024 03/15/2024      30,000.01      20,000.00" in html
    long_asset = "A" * 60
    wide = build_report_model(TaxResult(
        disposals=(disposal("kraken/1", long_asset, "1", date(2024, 5, 1), date(2024, 1, 2), "10", "4", Term.SHORT,
                            account="kraken"),), income=(), holdings=(), problems=()), sample_context())
    html = render_document(wide, "html")
    assert f"1 {long_asset}\n" + " " * 22 + "01/02/2024 05/01/2024" in html  # its own line, then the columns


def test_problems_are_grouped_by_kind_and_pattern_with_counts_and_first_sources(
    make_model: Callable[..., ReportModel], tmp_path: Path,
) -> None:
    problems = (
        *(Problem(ProblemKind.MISSING_PRICE, Severity.WARNING, f"no price for BTC on 2024-03-{day:02d} 12:00",
                  f"kraken/{day}") for day in range(1, 29)),
        Problem(ProblemKind.MISSING_PRICE, Severity.WARNING, "no price for ETH on 2024-03-01 12:00", "kraken/99"),
        Problem(ProblemKind.UNMATCHED_DEPOSIT, Severity.ERROR, "deposit of 3 SHIB not matched", "ledger/1"),
    )
    groups = group_problems(problems)
    assert [(g.kind, g.count, g.sources) for g in groups] == [
        (ProblemKind.MISSING_PRICE, 28, ("kraken/1", "kraken/2", "kraken/3")),
        (ProblemKind.MISSING_PRICE, 1, ("kraken/99",)),
        (ProblemKind.UNMATCHED_DEPOSIT, 1, ("ledger/1",)),
    ]
    assert groups[0].message == "no price for BTC on 2024-03-01 12:00"

    result = sample_result()
    model = make_model(TaxResult(result.disposals, result.income, result.holdings, problems))
    html = render_document(model, "html")
    assert "and 27 more like it" in html and "kraken/1, kraken/2, kraken/3 &hellip;" in html
    assert "kraken/4<" not in html and "kraken/28" not in html
    assert len(json.loads(render_json(model))["problems"]) == len(model.problems) > len(problems)  # every one


def test_csv_rows_come_out_neutralised_as_if_every_cell_had_been(model: ReportModel) -> None:
    for header, rows in ((FORM8949_HEADER, form8949_rows(model)), (AUDIT_TRAIL_HEADER, audit_trail_rows(model))):
        text = render_csv(header, rows).decode()
        assert render_csv(header, rows) == render_csv(header, [list(row) for row in rows])
        assert ",=" not in text and ",-cmd" not in text and ",'-cmd" in text


def test_json_disposal_lines_hold_the_same_values_as_the_dicts(model: ReportModel) -> None:
    document = json.loads(render_json(model))
    assert document["disposals"] == [_disposal(row) for row in model.disposals]
    text = render_json(model)
    assert text.count('\n    {"asset": ') == len(model.disposals)  # one line each


def test_json_without_disposals_is_still_the_indented_document(make_model: Callable[..., ReportModel]) -> None:
    text = render_json(make_model(TaxResult((), (), (), ())))
    assert '\n  "disposals": [],\n' in text and json.loads(text)["disposals"] == []


def test_cents_of_display_figures_are_cents_text_without_rounding_twice(model: ReportModel) -> None:
    for value in (D("0.00"), D("-0.00"), D("12.50"), D("-12.5"), D("3"), D("2.675"), D("-2.675"), D("1E+2")):
        assert _cents(value) == cents_text(value), value
    row: DisposalRow = model.disposals[0]
    assert _cents(row.proceeds) == f"{row.proceeds:f}"  # the model's figures are written as they are


def test_report_summary_option_writes_the_summary_pdf_and_full_json(cli, home: Path, tmp_path: Path) -> None:
    from tests.test_cli_end_to_end import imported

    imported(cli, home)
    out = tmp_path / "out"
    cli("report", "--year", "2024", "--format", "pdf,json", "--summary", "--out", out, "--home", home)
    cli("report", "--year", "2024", "--format", "pdf", "--out", tmp_path / "full", "--home", home)
    text = " ".join(pdf_text(out / "taxsync-us-2024-fifo.pdf").split())
    full = " ".join(pdf_text(tmp_path / "full" / "taxsync-us-2024-fifo.pdf").split())
    document = json.loads((out / "taxsync-us-2024-fifo.json").read_text(encoding="utf-8"))
    assert "This is the summary report" in text and "Totals, Part I" in text
    lines = [f"{row['ref']}" for row in document["disposals"]]
    assert lines and all(ref in full for ref in lines)
    assert sum(text.count(ref) for ref in lines) < sum(full.count(ref) for ref in lines)  # no Form 8949 lines


def test_json_written_in_blocks_is_one_document(model: ReportModel, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    whole = render_json(model)
    for block in (1, 7, len(model.disposals) - 1, len(model.disposals), len(model.disposals) + 1):
        monkeypatch.setattr(json_writer, "BLOCK", block)
        assert render_json(model) == whole
    (path,) = json_writer.write_json(model, tmp_path)
    assert path.read_text(encoding="utf-8") == whole
