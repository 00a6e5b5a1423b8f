"""The whole path through the CLI: init -> import-file -> report, then the files on disk."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pypdf
import pytest
import typer

from taxsync.cli import app
from tests.conftest import KOINLY_HEADER, SAMPLE, dump, write_koinly


def imported(cli, home: Path) -> Path:
    cli("init", "--home", home, "--jurisdiction", "us", "--currency", "USD", "--method", "fifo")
    cli("import-file", SAMPLE / "coinbase.csv", "--account", "coinbase", "--home", home)
    cli("import-file", SAMPLE / "ledger.csv", "--account", "ledger", "--home", home)
    return home


def test_init_import_report(cli, home: Path, tmp_path: Path) -> None:
    imported(cli, home)
    out = tmp_path / "out"
    result = cli("report", "--year", "2024", "--format", "pdf,csv,json", "--out", out, "--home", home)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["taxsync-us-2024-fifo-audit-trail.csv", "taxsync-us-2024-fifo-form8949.csv",
                     "taxsync-us-2024-fifo-holdings.csv",
                     "taxsync-us-2024-fifo-income.csv", "taxsync-us-2024-fifo.json", "taxsync-us-2024-fifo.pdf"]
    assert "taxsync-us-2024-fifo.pdf" in result.output
    lines = result.output.splitlines()
    assert "US tax year 2024: 1 January 2024 to 31 December 2024" in lines
    assert lines[-1].endswith("in the data (listed under Problems in the report, and by `taxsync problems`)")

    report = json.loads((out / "taxsync-us-2024-fifo.json").read_text())
    assert (report["jurisdiction"], report["tax_year"], report["currency"], report["method"]) == (
        "us", "2024", "USD", "fifo")
    assert report["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    totals = {key: D(value) for key, value in report["totals"].items() if key in
              ("proceeds", "cost", "gain", "short_term_gain", "long_term_gain", "income")}
    assert totals == {"proceeds": D("31851.3"), "cost": D("19998.642"), "gain": D("11852.658"),
                      "short_term_gain": D("485"), "long_term_gain": D("11367.658"), "income": D("1023")}

    with (out / "taxsync-us-2024-fifo-form8949.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:8] == ["Description", "Date Acquired", "Date Sold", "Proceeds", "Cost Basis", "Code",
                           "Adjustment", "Gain or Loss"]
    assert rows[1][:5] == ["400 ADA", "UNKNOWN", "09/10/2024", "139.00", "0.00"]
    assert len(rows) == 1 + 7

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out / "taxsync-us-2024-fifo.pdf").pages)
    for figure in ("31,851.30", "19,998.64", "11,852.66", "1,023.00", "2024-01-01 to 2024-12-31"):
        assert figure in text, figure
    assert "missing cost" in text and "coinbase/coinbase.csv:17" in text


def test_report_says_which_period_and_warns_of_an_empty_one(cli, home: Path, tmp_path: Path) -> None:
    """A UK --year names the tax year it ends in: the command says which period that is in words; a period with
    no transactions is a warning (the files are still written)."""
    cli("init", "--home", home, "--jurisdiction", "uk")
    cli("import-file", write_koinly(tmp_path / "k.csv", "2023-05-02 10:00:00 UTC,100,GBP,0.01,BTC,,,100,GBP,,,"),
        "--account", "k", "--home", home)
    result = cli("report", "--year", "2024", "--format", "json", "--out", tmp_path / "o", "--home", home)
    assert "UK tax year 2023-24: 6 April 2023 to 5 April 2024" in result.output.splitlines()
    assert "no transactions in this period" not in result.output
    empty = cli("report", "--year", "2021", "--format", "json", "--out", tmp_path / "o", "--home", home)
    assert "UK tax year 2020-21: 6 April 2020 to 5 April 2021" in empty.output
    assert "warning: no transactions in this period" in empty.output
    assert "taxsync-uk-2020-21" in empty.output


def test_holdings_and_problems_json(cli, home: Path) -> None:
    imported(cli, home)
    holdings = json.loads(cli("holdings", "--at", "2024-12-31", "--json", "--home", home).stdout)
    assert {h["asset"]: (D(h["amount"]), D(h["cost"])) for h in holdings} == {
        "BTC": (D("0.2697"), D("5807.754")), "ETH": (D("5.028"), D("13954.7972")), "SOL": (D("5"), D("751"))}
    early = json.loads(cli("holdings", "--at", "2022-12-31", "--json", "--home", home).stdout)
    assert {h["asset"]: D(h["amount"]) for h in early} == {"BTC": D("0.75"), "ETH": D("6")}
    problems = json.loads(cli("problems", "--json", "--home", home).stdout)
    assert [(p["kind"], p["severity"]) for p in problems] == [("missing_cost_basis", "error")]
    assert problems[0]["source"].startswith("coinbase/coinbase.csv:")
    assert "Holdings" in cli("holdings", "--home", home).stdout


def test_bad_file_exits_non_zero_and_leaves_database_as_it_was(cli, home: Path, tmp_path: Path) -> None:
    imported(cli, home)
    before = dump(home / "taxsync.db")
    bad = write_koinly(tmp_path / "bad.csv", "2024-01-02 10:00:00 UTC,abc,USD,1,BTC,,,,,,,")
    result = cli("import-file", bad, "--account", "coinbase", "--home", home, code=4)
    assert f"{bad}, line 2, column 'Sent Amount'" in result.output
    assert dump(home / "taxsync.db") == before


def test_home_from_environment_and_from_parent_folder(cli, home: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAXSYNC_HOME", str(home))
    cli("init", "--jurisdiction", "de")
    assert 'jurisdiction = "de"' in (home / "taxsync.toml").read_text()
    monkeypatch.delenv("TAXSYNC_HOME")
    nested = home / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    cli("import-file", SAMPLE / "ledger.csv", "--account", "ledger")
    assert "unmatched_deposit" in {p["kind"] for p in json.loads(cli("problems", "--json").stdout)}


def test_no_workspace_is_a_configuration_error(cli, tmp_path: Path) -> None:
    result = cli("problems", "--home", tmp_path / "nowhere", code=3)
    assert "taxsync init" in result.output


def test_bad_options_are_usage_errors(cli, home: Path) -> None:
    imported(cli, home)
    assert "not a tax year" in cli("report", "--year", "twenty", "--home", home, code=2).output
    cli("report", "--year", "2024", "--format", "docx", "--home", home, code=2)
    assert "unknown method" in cli("report", "--year", "2024", "--method", "magic", "--home", home, code=3).output
    cli("init", "--home", home, code=2)  # an existing workspace is never overwritten


def test_every_command_has_help_with_an_example(cli) -> None:
    def walk(group, path):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                assert command.help, name
                yield from walk(command, [*path, name])
            else:
                yield [*path, name], command

    commands = list(walk(typer.main.get_group(app), []))
    assert {" ".join(p) for p, _ in commands} >= {"init", "import-file", "report", "import", "account add"}
    for path, command in commands:
        assert command.help and "Example: taxsync" in command.help, path
        assert cli(*path, "--help").exit_code == 0


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "taxsync", "--version"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.startswith("taxsync ")


@pytest.mark.parametrize("header", [KOINLY_HEADER])
def test_format_option_checks_the_header(cli, home: Path, tmp_path: Path, header: str) -> None:
    cli("init", "--home", home)
    wrong = write_koinly(tmp_path / "w.csv", "2024-01-01,1", header="Date,Amount")
    assert "not a Koinly universal CSV file" in cli("import-file", wrong, "--account", "x", "--format", "koinly",
                                                    "--home", home, code=4).output
    assert "not a CoinTracking trade list file" in cli("import-file", wrong, "--account", "x", "--format",
                                                        "cointracking", "--home", home, code=4).output
    cli("import-file", wrong, "--account", "x", "--format", "quickbooks", "--home", home, code=2)


def test_cli_reference_is_current() -> None:
    from taxsync.cli.reference import render_reference

    committed = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render_reference(), "run: python -m taxsync.cli.reference > docs/cli.md"


def test_pdf_summary_shows_the_return_figures(cli, home: Path, tmp_path: Path) -> None:
    imported(cli, home)
    cli("report", "--year", "2024", "--format", "pdf", "--out", tmp_path / "o", "--home", home)
    first = pypdf.PdfReader(tmp_path / "o" / "taxsync-us-2024-fifo.pdf").pages[0].extract_text()
    assert "Taxable gain" in first and "11,852.66" in first and "Schedule D long-term" in first


def test_per_wallet_tracking_from_the_command_line(cli, home: Path, tmp_path: Path) -> None:
    imported(cli, home)
    cli("report", "--year", "2024", "--tracking", "per-wallet", "--format", "json", "--out", tmp_path / "w",
        "--home", home)
    report = json.loads((tmp_path / "w" / "taxsync-us-2024-fifo.json").read_text())
    assert report["tracking"] == "per-wallet"
    assert {h["account"] for h in report["holdings"]} == {"coinbase", "ledger"}
    assert D(report["totals"]["proceeds"]) == D("31851.3")  # same sales, basis now from each wallet's own lots
    cli("report", "--year", "2024", "--tracking", "sideways", "--home", home, code=3)
