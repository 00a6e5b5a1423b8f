"""The PDF report: a valid document that prints the figures, and a renderer that never leaves its folder."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdf
import pytest

from reports import build_report_model
from reports.pdf_writer import ResourceRefused, make_url_fetcher, resolve_resource, write_pdf
from taxsync.ledger.integrity import IntegrityReport
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.resources import templates_dir
from taxsync.tax.records import TaxResult
from tests.reports.conftest import income, sample_context


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def test_pdf_is_a_letter_size_document_named_for_the_report(pdf_path: Path) -> None:
    assert pdf_path.name == "taxsync-us-2024-fifo.pdf"
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    reader = pypdf.PdfReader(pdf_path)
    assert len(reader.pages) >= 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # 8.5 x 11 in, in points


def test_first_page_has_the_period_and_the_totals(pdf_path: Path) -> None:
    first = page_texts(pdf_path)[0]
    for text in (
        "2024-01-01",
        "2024-12-31",
        "United States",
        "2024",
        "FIFO",
        "universal",
        "USD",
        "America/New_York",
        "household",
        "0.1.0",
        "37,700.14",
        "23,112.62",
        "14,587.52",
        "11,487.51",
        "3,100.01",
        "163.47",
        "Taxable income",
        "Schedule 1: other income",
        "Taxable income incomplete",
        "Holdings check",
        "not run",
    ):
        assert text in first, text


def test_summary_page_says_when_the_holdings_check_failed(result: TaxResult, tmp_path: Path) -> None:
    problem = Problem(ProblemKind.INTEGRITY, Severity.ERROR, "holdings check failed, BTC in all accounts", "all/BTC")
    failed = replace(result, problems=(*result.problems, problem))
    model = build_report_model(failed, sample_context(), IntegrityReport(5, 1, 0, (problem,)))
    texts = page_texts(write_pdf(model, tmp_path)[0])
    first = " ".join(texts[0].split())
    assert "Holdings check failed: 1 balance in the ledger differs from the cost-basis lots" in first
    assert "FAILED (1 of 5 balances differ from the lots, see Problems)" in first
    assert "holdings check failed, BTC in all accounts" in " ".join(" ".join(texts[1:]).split())


@pytest.mark.parametrize(("values", "taxable"), [(("200", "55.99"), "0.00"), (("200", "56"), "256.00")])
def test_german_summary_page_applies_the_256_euro_cliff_to_income(
    values: tuple[str, str], taxable: str, tmp_path: Path
) -> None:
    receipts = tuple(income(f"kraken/{i}", "ETH", "1", v, "staking", date(2024, 3, 1 + i), "kraken")
                     for i, v in enumerate(values))
    model = build_report_model(TaxResult((), receipts, (), ()), sample_context(
        jurisdiction="de", jurisdiction_name="Germany", currency="EUR", timezone="Europe/Berlin"))
    first = " ".join(page_texts(write_pdf(model, tmp_path)[0])[0].split())
    assert f"Taxable income {taxable}" in first
    assert "Anlage SO: income from other services (§22 Nr. 3 EStG)" in first
    assert "EUR 256 a year for §22 Nr. 3 income" in first


def test_every_page_has_the_running_header_and_page_numbers(pdf_path: Path) -> None:
    texts = page_texts(pdf_path)
    for number, text in enumerate(texts, start=1):
        assert "taxsync" in text and "United States" in text and "tax year 2024" in text
        assert f"Page {number} of {len(texts)}" in text


def test_gains_pages_have_both_parts_and_their_totals(pdf_path: Path) -> None:
    text = "\n".join(page_texts(pdf_path)[1:])
    for expected in (
        "Part I",
        "Part II",
        "31,600.01",
        "20,112.50",
        "11,487.51",
        "6,100.13",
        "3,000.12",
        "3,100.01",
        "VARIOUS",
        "UNKNOWN",
        "(12.50)",
        "01/10/2024",
        "03/15/2024",
        "<script>alert(1)</script>",
    ):  # hostile text is printed as text, never run
        assert expected in text, expected


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.css",
        "https://example.com/font.woff2",
        "file:///etc/passwd",
        "file://otherhost/report.css",
        "data:text/css,body{}",
        "ftp://example.com/x.css",
    ],
)
def test_url_fetcher_refuses_anything_outside_the_templates(url: str) -> None:
    fetcher = make_url_fetcher(templates_dir())
    with pytest.raises(ResourceRefused):
        fetcher(url)


def test_url_fetcher_refuses_escaping_the_templates_folder_by_dot_dot() -> None:
    root = templates_dir()
    with pytest.raises(ResourceRefused):
        resolve_resource((root / ".." / "pyproject.toml").as_uri(), root)


def test_url_fetcher_serves_a_template_file() -> None:
    root = templates_dir()
    response = make_url_fetcher(root)((root / "report.css").as_uri())
    try:
        assert b"@page" in response.read()
    finally:
        response.close()


def test_rendering_stops_when_a_document_asks_for_the_network() -> None:
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    root = templates_dir()
    document = HTML(
        string='<link rel="stylesheet" href="http://example.com/x.css"><p>x</p>',
        base_url=str(root),
        url_fetcher=make_url_fetcher(root),
    )
    with pytest.raises(FatalURLFetchingError):
        document.write_pdf()
