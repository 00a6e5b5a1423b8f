"""JSON, CSV and HTML output of the sample report: shape, values, names, and hostile text made harmless."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from reports import WRITERS, ReportModel, build_report_model, write_report
from reports.csv_writer import AUDIT_TRAIL_HEADER, FORM8949_HEADER
from reports.formatting import round_cents
from reports.html_writer import write_html
from reports.json_writer import render_json
from reports.safe import neutralise
from taxsync.app import service
from taxsync.ledger.integrity import IntegrityReport
from taxsync.tax.records import LotMatch, TaxResult, Term
from tests.conftest import SAMPLE
from tests.reports.conftest import disposal as make_disposal
from tests.reports.conftest import sample_context

FORMULA = '=HYPERLINK("http://x")'
SCRIPT = "<script>alert(1)</script>"


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- JSON -------------------------------------------------------------------------------------------


def test_json_has_the_documented_shape(model: ReportModel) -> None:
    doc = json.loads(render_json(model))
    for key in (
        "jurisdiction",
        "tax_year",
        "period",
        "currency",
        "method",
        "totals",
        "disposals",
        "income",
        "holdings",
        "problems",
    ):
        assert key in doc
    assert doc["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert set(doc["totals"]) >= {"proceeds", "cost", "gain", "short_term_gain", "long_term_gain", "income"}
    assert set(doc["disposals"][0]) >= {
        "asset",
        "amount",
        "acquired",
        "disposed",
        "proceeds",
        "cost",
        "gain",
        "term",
        "rule",
        "account",
    }
    assert set(doc["income"][0]) >= {"date", "asset", "amount", "value", "kind", "account"}
    assert set(doc["holdings"][0]) == {"asset", "amount", "cost", "account"}
    assert set(doc["problems"][0]) == {"kind", "severity", "message", "source"}


def test_json_amounts_are_exact_decimal_strings_without_exponent(model: ReportModel) -> None:
    doc = json.loads(render_json(model))
    assert (doc["jurisdiction"], doc["tax_year"], doc["currency"], doc["method"]) == ("us", "2024", "USD", "fifo")
    assert doc["totals"] == {
        "proceeds": "37700.13",
        "cost": "23112.62",
        "gain": "14587.51",
        "short_term_gain": "11487.501",
        "long_term_gain": "3100.009",
        "income": "163.465",
        "income_unvalued": 1,
        "taxable_gain": "14587.52",  # US: short + long net, no exemption; from the rows as printed
        "taxable_income": "163.47",  # US: all valued income of the period is ordinary income
        "taxable_gain_exact": "14587.51",
        "taxable_income_exact": "163.465",
    }
    assert doc["rules"]["jurisdiction"] == "us" and "IRC §1222" in doc["rules"]["holding_period"]
    assert [line["amount"] for line in doc["return_lines"]] == [
        str(model.short_term.totals.gain), str(model.long_term.totals.gain), "163.47"]
    assert [line["amount_exact"] for line in doc["return_lines"]] == ["11487.501", "3100.009", "163.465"]
    assert "Rev. Rul. 2023-14" in doc["rules"]["income"] and doc["rules"]["income_unvalued"].startswith("1 receipt")
    assert doc["integrity"] is None  # not run for a hand-built result
    btc, various, unknown, eth, shib = doc["disposals"]
    assert (
        btc.items()
        >= {
            "asset": "BTC",
            "amount": "0.5",
            "acquired": "2024-01-10",
            "disposed": "2024-03-15",
            "proceeds": "30000.005",
            "cost": "20000.004",
            "gain": "10000.001",
            "term": "short",
            "rule": "fifo",
            "account": "binance-main",
            "ref": "binance-main/2",
        }.items()
    )
    assert various["acquired"] == "various" and various["gain"] == "-12.5"
    assert unknown["acquired"] == "unknown" and unknown["no_basis"] == "10"
    assert eth["term"] == "long" and eth["acquired"] == "2022-05-01"
    assert shib["amount"] == "0.00000001" and shib["proceeds"] == "100"  # given as 1E-8 and 1E+2
    assert [i["value"] for i in doc["income"]] == ["123.456", None, "40.004", "0.005"]
    assert doc["holdings"][2] == {"asset": "@SUM(A1)", "amount": "1000", "cost": "10.001", "account": "-cmd"}
    assert doc["problems"][0] == {
        "kind": "missing_cost_basis",
        "severity": "error",
        "message": FORMULA,
        "source": "coinbase/7",
    }
    assert doc["problem_counts"] == {"error": 3, "warning": 1, "info": 1}  # one for the unvalued income
    assert "E+" not in render_json(model) and "E-" not in render_json(model)


def test_json_disposals_list_the_lots_they_consumed_adding_up_to_amount_and_cost(model: ReportModel) -> None:
    doc = json.loads(render_json(model))
    for row in doc["disposals"]:
        assert row["lots"], row["ref"]
        assert sum(D(lot["amount"]) for lot in row["lots"]) == D(row["amount"])
        assert sum(D(lot["cost"]) for lot in row["lots"]) == D(row["cost"])
    btc = doc["disposals"][0]
    assert btc["lots"] == [{"lot_ref": "binance-main/2-lot", "acquired": "2024-01-10T12:00:00.000Z",
                            "acquired_date": "2024-01-10", "amount": "0.5", "cost": "20000.004",
                            "account": "binance-main", "unknown_cost": "0"}]
    unknown = doc["disposals"][2]
    assert unknown["lots"] == [{"lot_ref": "", "acquired": None, "acquired_date": None, "amount": "10",
                                "cost": "0", "account": "-cmd", "unknown_cost": "0"}]


def test_json_integrity_when_the_check_ran(result: TaxResult) -> None:
    model = build_report_model(result, sample_context(), IntegrityReport(checked=4, differences=1, explained=2))
    assert json.loads(render_json(model))["integrity"] == {
        "checked": 4, "differences": 1, "explained": 2, "passed": False}


def test_every_json_amount_parses_back_to_the_exact_decimal(model: ReportModel) -> None:
    doc = json.loads(render_json(model))
    for row, disposal in zip(doc["disposals"], model.disposals, strict=True):
        assert D(row["proceeds"]) == disposal.record.proceeds
        assert D(row["cost"]) == disposal.record.cost
        assert D(row["amount"]) == disposal.record.amount


# --- CSV --------------------------------------------------------------------------------------------


def test_form8949_csv_columns_and_rows(model: ReportModel, tmp_path: Path) -> None:
    paths = WRITERS["csv"](model, tmp_path)
    assert [p.name for p in paths] == [
        "taxsync-us-2024-fifo-form8949.csv",
        "taxsync-us-2024-fifo-income.csv",
        "taxsync-us-2024-fifo-holdings.csv",
        "taxsync-us-2024-fifo-audit-trail.csv",
    ]
    header, *rows = read_csv(paths[0])
    assert header == list(FORM8949_HEADER)
    assert header[:8] == [
        "Description",
        "Date Acquired",
        "Date Sold",
        "Proceeds",
        "Cost Basis",
        "Code",
        "Adjustment",
        "Gain or Loss",
    ]
    assert rows[0] == [
        "0.5 BTC",
        "01/10/2024",
        "03/15/2024",
        "30000.01",
        "20000.00",
        "",
        "",
        "10000.01",
        "Short-term",
        "binance-main",
        "binance-main/2",
    ]
    assert rows[1][:8] == [f"100 {FORMULA}", "VARIOUS", "04/02/2024", "100.00", "112.50", "", "", "-12.50"]
    assert rows[2][1] == "UNKNOWN" and rows[2][9] == "'-cmd"
    assert rows[4][0] == "0.00000001 SHIB"
    assert [r[8] for r in rows] == ["Short-term"] * 3 + ["Long-term"] * 2
    # every Part adds up from the printed rows
    for term, expected in (("Short-term", "11487.51"), ("Long-term", "3100.01")):
        assert sum(D(r[7]) for r in rows if r[8] == term) == D(expected)
    raw = paths[0].read_bytes()
    assert raw.count(b"\r\n") == len(rows) + 1 and b"\n" not in raw.replace(b"\r\n", b"")


def test_audit_trail_csv_has_a_row_per_disposal_and_lot_adding_back_to_the_disposal(
    model: ReportModel, tmp_path: Path
) -> None:
    form_path, _, _, audit_path = WRITERS["csv"](model, tmp_path)
    header, *rows = read_csv(audit_path)
    assert header == list(AUDIT_TRAIL_HEADER) == [
        "Disposal Line", "Disposal Reference", "Asset", "Date Disposed", "Lot Reference", "Date Acquired", "Amount",
        "Cost", "Account"]
    assert rows[0] == ["1", "binance-main/2", "BTC", "2024-03-15", "binance-main/2-lot", "2024-01-10", "0.5",
                       "20000.004", "binance-main"]
    assert rows[2] == ["3", "coinbase/7", SCRIPT, "2024-12-31", "", "", "10", "0", "'-cmd"]  # unknown, neutralised
    assert rows[1][2] == "'" + FORMULA
    _, *form_rows = read_csv(form_path)
    for line, form_row in enumerate(form_rows, start=1):  # each Form 8949 line adds up from its lots
        lots = [r for r in rows if r[0] == str(line)]
        assert lots and {r[1] for r in lots} == {form_row[10]}
        assert sum(D(r[6]) for r in lots) == D(form_row[0].split(" ")[0])
        assert round_cents(sum((D(r[7]) for r in lots), D(0))) == D(form_row[4])
    for row in model.disposals:  # and exactly, against the model
        line = str(model.disposals.index(row) + 1)
        assert sum(D(r[7]) for r in rows if r[0] == line) == row.record.cost
        assert sum(D(r[6]) for r in rows if r[0] == line) == row.record.amount


def test_audit_trail_splits_a_disposal_over_several_lots(make_model: Callable[..., ReportModel],
                                                         result: TaxResult, tmp_path: Path) -> None:
    split = make_disposal("binance-main/3", FORMULA, "100", date(2024, 4, 2), None, "100.00", "112.50", Term.SHORT,
                          matches=(LotMatch("kraken/1", None, date(2023, 1, 2), D("60"), D("70.25"), "kraken"),
                                   LotMatch("kraken/5", None, date(2023, 8, 9), D("40"), D("42.25"), "kraken")))
    model = make_model(replace(result, disposals=tuple(split if d.ref == split.ref else d for d in result.disposals)))
    rows = [r for r in read_csv(WRITERS["csv"](model, tmp_path)[3])[1:] if r[1] == "binance-main/3"]
    assert [(r[0], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("2", "kraken/1", "2023-01-02", "60", "70.25"), ("2", "kraken/5", "2023-08-09", "40", "42.25")]
    assert sum(D(r[7]) for r in rows) == D("112.50")


def test_income_and_holdings_csv(model: ReportModel, tmp_path: Path) -> None:
    _, income_path, holdings_path, _ = WRITERS["csv"](model, tmp_path)
    header, *rows = read_csv(income_path)
    assert header == ["Date", "Asset", "Amount", "Value", "Kind", "Account", "Reference"]
    assert rows[0] == ["2024-02-01", "ETH", "0.01", "123.46", "staking", "kraken", "kraken/20"]
    assert rows[1] == ["2024-05-05", "'+1", "5", "", "airdrop", "'@SUM(A1)", "binance-main/21"]
    assert rows[3][:4] == ["2024-10-01", f"'{FORMULA}", "7", "0.01"]
    header, *rows = read_csv(holdings_path)
    assert header == ["Asset", "Amount", "Cost", "Account"]
    assert rows == [
        ["BTC", "1.25", "25000.51", "all"],
        [SCRIPT, "3", "0.00", "all"],
        ["'@SUM(A1)", "1000", "10.00", "'-cmd"],
    ]


def test_no_csv_cell_can_start_a_formula(model: ReportModel, tmp_path: Path) -> None:
    for path in WRITERS["csv"](model, tmp_path):
        for row in read_csv(path):
            for cell in row:
                if cell[:1] in ("=", "+", "@", "\t", "\r"):
                    pytest.fail(f"{path.name}: formula-like cell {cell!r}")
                if cell.startswith("-"):
                    D(cell)  # only plain negative numbers may start with a minus


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd", "'-cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.50", "-12.50"),
        ("-3", "-3"),
        ("-1+2", "'-1+2"),
        ("12.50", "12.50"),
        ("BTC", "BTC"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe


# --- HTML -------------------------------------------------------------------------------------------


def test_html_is_self_contained_and_escapes_hostile_text(model: ReportModel, tmp_path: Path) -> None:
    (path,) = write_html(model, tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&#34;http://x&#34;)" in html or "=HYPERLINK(&quot;http://x&quot;)" in html
    assert "<link" not in html and "http://" not in html.replace("http://x", "")  # nothing fetched
    assert "<style>" in html and "table-header-group" in html  # CSS inlined
    for text in (
        "2024-01-01",
        "2024-12-31",
        "United States",
        "37,700.14",
        "14,587.52",
        "(12.50)",
        "163.47",
        "America/New_York",
        "0.1.0",
        "household",
        "various".upper(),
        "UNKNOWN",
        "not valued",
        "Taxable income",
        "163.47",
        "Rev. Rul. 2023-14",
        "Taxable income incomplete",
        "Holdings check",
        "not run",
        "disposals[].lots",
    ):
        assert text in html, text


def test_html_says_so_when_sections_are_empty(make_model: Callable[..., ReportModel], tmp_path: Path) -> None:
    from taxsync.tax.records import TaxResult

    (path,) = write_html(make_model(TaxResult((), (), (), ())), tmp_path)
    html = path.read_text(encoding="utf-8")
    for text in (
        "No disposals in this period.",
        "No income in this period.",
        "No holdings at the end of this period.",
        "No problems found.",
    ):
        assert text in html


# --- write_report -----------------------------------------------------------------------------------


def test_write_report_names_files_and_creates_the_folder(model: ReportModel, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    paths = write_report(model, out, ["json", "csv", "html", "json"])
    assert [p.name for p in paths] == [
        "taxsync-us-2024-fifo.json",
        "taxsync-us-2024-fifo-form8949.csv",
        "taxsync-us-2024-fifo-income.csv",
        "taxsync-us-2024-fifo-holdings.csv",
        "taxsync-us-2024-fifo-audit-trail.csv",
        "taxsync-us-2024-fifo.html",
    ]
    assert sorted(os.listdir(out)) == sorted(p.name for p in paths)  # no temporary files left behind


def test_write_report_names_tax_years_that_span_two_years(
    make_model: Callable[..., ReportModel], tmp_path: Path
) -> None:
    model = make_model(jurisdiction="uk", tax_year="2024-25", method="pooling")
    (path,) = write_report(model, tmp_path, ["json"])
    assert path.name == "taxsync-uk-2024-25-pooling.json"


def test_write_report_refuses_unknown_formats_before_writing(model: ReportModel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'docx'.*json, csv, pdf, html"):
        write_report(model, tmp_path / "out", ["json", "docx"])
    assert not (tmp_path / "out").exists()


def test_a_failed_write_leaves_the_previous_file_untouched(
    model: ReportModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (path,) = write_report(model, tmp_path, ["json"])
    before = path.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("reports.files.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_report(model, tmp_path, ["json"])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


def test_write_report_accepts_a_comma_separated_string(model: ReportModel, tmp_path: Path) -> None:
    paths = write_report(model, tmp_path, "json, html")
    assert [p.suffix for p in paths] == [".json", ".html"]


def test_registry_has_the_formats() -> None:
    assert set(WRITERS) == {"json", "csv", "pdf", "html", "form8949-boxes", "turbotax", "taxact"}


# --- a real workspace: the audit trail adds up ------------------------------------------------------------


@pytest.mark.parametrize(("jurisdiction", "year"), [("us", "2024"), ("uk", "2024-25"), ("ca", "2024")])
def test_workspace_audit_trail_adds_up_to_every_disposal_in_json_and_csv(
    workspace, jurisdiction: str, year: str, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    service.import_files(workspace, [SAMPLE / "coinbase.csv"], account="coinbase")
    service.import_files(workspace, [SAMPLE / "ledger.csv"], account="ledger")
    paths = {p.name.rsplit("-", 1)[-1]: p for p in service.build_report(
        workspace, year=year, jurisdiction=jurisdiction, formats=("json", "csv"), out=tmp_path).paths}
    disposals = json.loads(next(p for n, p in paths.items() if n.endswith(".json")).read_text())["disposals"]
    assert disposals
    _, *audit = read_csv(paths["trail.csv"])
    for line, row in enumerate(disposals, start=1):
        assert sum(D(lot["amount"]) for lot in row["lots"]) == D(row["amount"]), row
        assert sum(D(lot["cost"]) for lot in row["lots"]) == D(row["cost"]), row
        lots = [r for r in audit if r[0] == str(line)]
        assert [(r[1], r[4], D(r[6]), D(r[7])) for r in lots] == [
            (row["ref"], lot["lot_ref"], D(lot["amount"]), D(lot["cost"])) for lot in row["lots"]]
