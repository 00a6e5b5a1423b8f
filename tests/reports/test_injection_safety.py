"""Hostile text from exchange files must stay text in every output: no spreadsheet formula, no markup, no
template code, no network fetch.

A tax result is built whose asset names, accounts, references, income kinds, problem messages and report
context carry payloads an exchange export (or someone who can put a note in one) might hold. The real report
model is built from it and rendered by every registered writer, and the outputs are checked against the rules
of ../shared/reference/formats.md and issue 6 item 5.
"""

from __future__ import annotations

import csv
import io
import re
import socket
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest

from reports import WRITERS, ReportModel, build_report_model, pdf_writer, write_report
from reports.pdf_writer import ResourceRefused, make_url_fetcher, render_pdf, resolve_resource
from reports.render import render_document
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.resources import templates_dir
from taxsync.tax.records import Holding, TaxResult, Term
from taxsync.types import Asset
from tests.reports.conftest import disposal, income, sample_context

PAYLOADS = (
    '=HYPERLINK("http://x")',
    "+SUM(A1)",
    "-1+1",
    "@cmd",
    "\t=1+1",
    "\r=1+1",
    "<script>alert(1)</script>",
    "<img src=http://x/a.png>",
    "{{ 7*7 }}",
    "{% if true %}pwned{% endif %}",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CSV_FORMATS = tuple(name for name in WRITERS if name not in ("json", "pdf", "html"))


def hostile_result() -> TaxResult:
    """Every payload as an asset, an account and a reference of a sale, an income and a holding, and in a
    problem's message and source."""
    disposals, incomes, holdings, problems = [], [], [], []
    for n, text in enumerate(PAYLOADS):
        term = Term.SHORT if n % 2 else Term.LONG
        acquired = date(2024, 1, 2) if n % 3 else None
        disposals.append(disposal(text, text, "1", date(2024, 3, 1 + n), acquired, "10", "12", term, account=text))
        incomes.append(income(text, text, "1", "5", text, date(2024, 4, 1 + n), text))
        holdings.append(Holding(asset=Asset(text), amount=Decimal(1), cost=Decimal(0), account=text))
        problems.append(Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING, f"label {text}", text))
        problems.append(Problem(ProblemKind.MISSING_COST_BASIS, Severity.ERROR, text, text))
    return TaxResult(disposals=tuple(disposals), income=tuple(incomes), holdings=tuple(holdings),
                     problems=tuple(problems))


@pytest.fixture(scope="module")
def hostile_model() -> ReportModel:
    ctx = sample_context(workspace=PAYLOADS[0], accounts=PAYLOADS, notes=PAYLOADS)
    return build_report_model(hostile_result(), ctx)


def csv_cells(path: Path) -> Iterator[str]:
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
        yield from row


@pytest.mark.parametrize("fmt", CSV_FORMATS)
def test_no_csv_cell_can_start_a_formula(fmt: str, hostile_model: ReportModel, tmp_path: Path) -> None:
    paths = WRITERS[fmt](hostile_model, tmp_path)
    assert paths and all(p.suffix == ".csv" for p in paths)
    cells = [cell for path in paths for cell in csv_cells(path)]
    dangerous = [c for c in cells if c.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(c)]
    assert dangerous == []
    # the payloads are kept, as text, not dropped
    text = "\n".join(cells)
    assert "'+SUM(A1)" in text or "+SUM(A1)" in text
    assert "<script>alert(1)</script>" in text


def test_every_csv_format_is_checked() -> None:
    assert {"csv", "form8949-boxes", "turbotax", "taxact"} <= set(CSV_FORMATS)


def test_losses_stay_numbers(hostile_model: ReportModel, tmp_path: Path) -> None:
    rows_path, _ = WRITERS["form8949-boxes"](hostile_model, tmp_path)
    gains = [row[9] for row in csv.reader(io.StringIO(rows_path.read_text(), newline=""))][1:]
    assert gains and set(gains) == {"-2.00"}


def test_html_escapes_markup_and_runs_no_template_code(hostile_model: ReportModel) -> None:
    html = render_document(hostile_model, "html")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "&lt;img src=http://x/a.png&gt;" in html
    assert "{{ 7*7 }}" in html and "{% if true %}pwned{% endif %}" in html  # printed, not run
    assert "pwned" not in html.replace("{% if true %}pwned{% endif %}", "")
    tags = TagCollector()
    tags.feed(html)
    assert not {"script", "img", "iframe", "object", "embed"} & {tag for tag, _ in tags.found}
    links = [value for _, attrs in tags.found for name, value in attrs if name in ("src", "href") and value]
    assert [link for link in links if not link.startswith("#")] == []  # self-contained: no external link


class TagCollector(HTMLParser):
    """The tags and attributes of a document, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every connection or name lookup tried while the test runs; each one fails."""
    attempts: list[object] = []

    def refuse_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network refused by test")

    def refuse_lookup(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("name lookup refused by test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    return attempts


def test_pdf_of_hostile_data_fetches_nothing(
    hostile_model: ReportModel, tmp_path: Path, network_attempts: list[object]
) -> None:
    paths = write_report(hostile_model, tmp_path, "pdf,html")
    assert {p.suffix for p in paths} == {".pdf", ".html"}
    assert paths[0].read_bytes().startswith(b"%PDF")
    assert network_attempts == []
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(paths[0]).pages)
    for printed in ("<script>alert(1)</script>", "<img src=http://x/a.png>", "{{ 7*7 }}", '=HYPERLINK("http://x")'):
        assert printed in text  # shown as the text it is, not run


def test_html_charts_label_hostile_assets_as_text(hostile_model: ReportModel) -> None:
    html = render_document(hostile_model, "html")
    assert "<svg" in html and "<script" not in html


@pytest.mark.parametrize(
    "planted",
    [
        '<img src="http://x/a.png">',
        '<img src="https://x/a.png">',
        '<link rel="stylesheet" href="http://x/a.css">',
        '<style>@import url("http://x/b.css");</style>',
        '<div style="background: url(http://x/c.png)">x</div>',
        '<img src="file:///etc/passwd">',
        '<img src="../../../../etc/hostname">',
    ],
)
def test_pdf_refuses_a_planted_external_resource(
    planted: str, hostile_model: ReportModel, monkeypatch: pytest.MonkeyPatch, network_attempts: list[object]
) -> None:
    """Markup that got into the document anyway (a template bug) still cannot reach the network or other files:
    the URL fetcher refuses and the rendering stops with taxsync's own error (WeasyPrint's FatalURLFetchingError,
    a BaseException, is turned back into it)."""
    html = render_document(hostile_model, "pdf").replace("</body>", f"{planted}</body>")
    monkeypatch.setattr(pdf_writer, "render_document", lambda model, medium, **kwargs: html)
    with pytest.raises(ResourceRefused) as caught:  # our error (the CLI prints it), not WeasyPrint's BaseException
        render_pdf(hostile_model)
    assert _refused(caught.value)
    assert network_attempts == []


def _refused(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, ResourceRefused):
            return True
        error = error.__cause__ or error.__context__
    return False


@pytest.mark.parametrize(
    "url",
    [
        "http://x/a.png",
        "https://x/a.png",
        "ftp://x/a.png",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "file://evil.example/share/report.css",
        "//x/a.png",
    ],
)
def test_url_fetcher_refuses_anything_but_bundled_files(url: str) -> None:
    with pytest.raises(ResourceRefused):
        resolve_resource(url, templates_dir())


def test_url_fetcher_refuses_escaping_the_templates_folder() -> None:
    outside = (templates_dir() / ".." / "__init__.py").resolve()
    with pytest.raises(ResourceRefused):
        resolve_resource(outside.as_uri(), templates_dir())
    with pytest.raises(ResourceRefused):
        resolve_resource((templates_dir() / "report.css").as_uri().replace("report.css", "../report.css"),
                         templates_dir())


def test_url_fetcher_serves_the_bundled_css(network_attempts: list[object]) -> None:
    css = templates_dir() / "report.css"
    assert resolve_resource(css.as_uri(), templates_dir()) == css.resolve()
    assert make_url_fetcher(templates_dir()) is not None
    assert network_attempts == []
