"""Each jurisdiction's report, rendered through the CLI from imported trades, reads in its own form's terms.

One history for all: 2 BTC bought on 1 Mar 2023 for 40,000; 0.5 BTC sold on 15 Aug 2024 for 30,000 (cost 10,000,
held more than a year); 1 ETH bought the same day for 2,000 and sold on 20 Nov 2024 for 3,000 (held three months).
All in the tax currency, so no price is needed: gains 20,000 (long) and 1,000 (short), 21,000 in all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pypdf
import pytest

from tests.conftest import write_koinly

CASES = {
    # jurisdiction: (currency, --year, expected phrases in the PDF text, whitespace collapsed)
    "us": ("USD", "2024", (
        "Capital gains and losses: Form 8949", "Part I: Short-term, box C (no 1099-B)",
        "Part II: Long-term, box F (no 1099-B)",
        "(e) Cost or", "Schedule D long-term net gain or (loss) 20,000.00",
        "Schedule D short-term net gain or (loss) 1,000.00")),
    "uk": ("GBP", "2024-25", (
        "Capital gains and losses: SA108 computation", "Disposal proceeds", "Allowable costs", "S104",
        "Annual exempt amount 3,000.00", "Net gain before 30 October 2024 20,000.00",
        "Net gain on or after 30 October 2024 1,000.00", "Taxable gain 18,000.00")),
    "de": ("EUR", "2024", (
        "Capital gains and losses: Anlage SO", "Within one year (taxable)", "After more than one year (tax-free)",
        "Wirtschaftsgut", "Anschaffungs-", "Anlage SO: private sales within one year, gain or (loss) 1,000.00",
        "Anlage SO: tax-free sales held more than one year 20,000.00", "Taxable gain 1,000.00")),
    "ca": ("CAD", "2024", (
        "Capital gains and losses: Schedule 3", "Dispositions", "Adjusted", "cost base",
        "Schedule 3: net capital gain or (loss) 21,000.00", "Taxable capital gain (50%) 10,500.00")),
    "au": ("AUD", "2025", (
        "Capital gains and losses: CGT schedule", "Held less than 12 months",
        "Held 12 months or more (discount method)",
        "Capital", "proceeds", "Net capital gain 11,000.00")),
}


def history(path: Path, currency: str) -> Path:
    return write_koinly(
        path,
        f"2023-03-01 10:00:00 UTC,40000,{currency},2,BTC,,,,,,Buy,",
        f"2024-08-15 10:00:00 UTC,0.5,BTC,30000,{currency},,,,,,Sell,",
        f"2024-08-15 11:00:00 UTC,2000,{currency},1,ETH,,,,,,Buy,",
        f"2024-11-20 10:00:00 UTC,1,ETH,3000,{currency},,,,,,Sell,",
    )


def workspace(cli, tmp_path: Path, jurisdiction: str = "us", currency: str = "USD") -> Path:
    """A workspace of ``jurisdiction`` with the history imported into the account "broker"."""
    home = tmp_path / "ws"
    cli("init", "--home", home, "--jurisdiction", jurisdiction, "--currency", currency)
    cli("import-file", history(tmp_path / "trades.csv", currency), "--account", "broker", "--home", home)
    return home


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(path).pages).split())


@pytest.mark.parametrize("jurisdiction", list(CASES))
def test_each_jurisdiction_pdf_reads_in_its_forms_terms(cli, tmp_path: Path, jurisdiction: str) -> None:
    currency, year, phrases = CASES[jurisdiction]
    home, out = workspace(cli, tmp_path, jurisdiction, currency), tmp_path / "out"
    cli("report", "--year", year, "--format", "pdf,json", "--out", out, "--home", home)
    (pdf,) = out.glob("*.pdf")
    text = pdf_text(pdf)
    for phrase in phrases:
        assert phrase in text, phrase
    document = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert document["totals"]["gain"] == "21000"
    assert "broker/trades.csv:3" in text and "broker/trades.csv:5" in text  # every line names its source


def test_audit_section_lists_the_lots_behind_each_disposal_only_when_asked(cli, tmp_path: Path) -> None:
    home = workspace(cli, tmp_path)
    cli("report", "--year", "2024", "--format", "pdf,html", "--audit", "--out", tmp_path / "audit", "--home", home)
    cli("report", "--year", "2024", "--format", "pdf", "--out", tmp_path / "plain", "--home", home)
    text = pdf_text(tmp_path / "audit" / "taxsync-us-2024-fifo.pdf")
    assert "Audit trail: lot matching" in text
    # The BTC sale used half a unit of the lot bought on 1 Mar 2023 at 10,000.00; the ETH sale the lot of 15 Aug.
    assert "0.5 acquired 2023-03-01 10:00 UTC cost 10,000.00 broker · broker/trades.csv:2" in text
    assert "1 acquired 2024-08-15 11:00 UTC cost 2,000.00 broker · broker/trades.csv:4" in text
    html = (tmp_path / "audit" / "taxsync-us-2024-fifo.html").read_text(encoding="utf-8")
    assert 'id="audit"' in html and "broker/trades.csv:2" in html
    assert "Audit trail: lot matching" not in pdf_text(tmp_path / "plain" / "taxsync-us-2024-fifo.pdf")


def test_summary_html_has_the_totals_but_not_the_lines(cli, tmp_path: Path) -> None:
    home = workspace(cli, tmp_path)
    cli("report", "--year", "2024", "--format", "html", "--summary", "--out", tmp_path / "s", "--home", home)
    cli("report", "--year", "2024", "--format", "html", "--out", tmp_path / "f", "--home", home)
    summary = (tmp_path / "s" / "taxsync-us-2024-fifo.html").read_text(encoding="utf-8")
    full = (tmp_path / "f" / "taxsync-us-2024-fifo.html").read_text(encoding="utf-8")
    assert "This is the summary report" in summary and "20,000.00" in summary
    assert "broker/trades.csv:3" in full and "broker/trades.csv:3" not in summary
