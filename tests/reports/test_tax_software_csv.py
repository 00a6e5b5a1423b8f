"""The CSV files for US tax software: Form 8949 by box, TurboTax's gains CSV, TaxAct's 1099-B import.

Golden files of the shared sample year (tests/reports/conftest.py): three short-term sales (one a loss, two with
lots of unknown or several dates) and two long-term ones. Figures by hand: BTC 30000.005 -> 30000.01 proceeds,
20000.004 -> 20000.00 cost; ETH 6000.125 -> 6000.13, 3000.115 -> 3000.12.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from reports import WRITERS, write_report
from reports.model import ReportModel
from reports.tax_software import TAXACT_HEADER, TAXACT_MAX_ROWS, form8949_box, taxact_rows
from taxsync.cli.reports import _formats
from taxsync.tax.records import TaxResult, Term
from tests.reports.conftest import disposal

CRLF = "\r\n"


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.mark.parametrize(
    ("year", "term", "box"),
    [
        (2023, Term.SHORT, "C"),
        (2024, Term.SHORT, "C"),
        (2024, Term.LONG, "F"),
        (2025, Term.SHORT, "I"),
        (2025, Term.LONG, "L"),
        (2031, Term.LONG, "L"),
    ],
)
def test_box_is_the_no_statement_box_of_the_year(year: int, term: Term, box: str) -> None:
    assert form8949_box(term, year) == box


def test_form8949_boxes_golden(model: ReportModel, tmp_path: Path) -> None:
    rows_path, totals_path = WRITERS["form8949-boxes"](model, tmp_path)
    assert rows_path.name == "taxsync-us-2024-fifo-form8949-boxes.csv"
    assert totals_path.name == "taxsync-us-2024-fifo-form8949-box-totals.csv"
    assert rows_path.read_bytes().decode("utf-8") == CRLF.join([
        "Box,Part,Description,Date Acquired,Date Sold,Proceeds,Cost Basis,Code,Adjustment,Gain or Loss,Account,"
        "Reference",
        "C,Part I,0.5 BTC,01/10/2024,03/15/2024,30000.01,20000.00,,,10000.01,binance-main,binance-main/2",
        'C,Part I,"100 =HYPERLINK(""http://x"")",VARIOUS,04/02/2024,100.00,112.50,,,-12.50,binance-main,'
        "binance-main/3",
        "C,Part I,10 <script>alert(1)</script>,VARIOUS,12/31/2024,1500.00,0.00,,,1500.00,'-cmd,coinbase/7",
        "F,Part II,2 ETH,05/01/2022,06/01/2024,6000.13,3000.12,,,3000.01,kraken,kraken/9",
        "F,Part II,0.00000001 SHIB,01/02/2020,07/04/2024,100.00,0.00,,,100.00,kraken,kraken/11",
        "",
    ])
    assert read_rows(totals_path) == [
        ["Box", "Part", "Meaning", "Rows", "Proceeds", "Cost Basis", "Adjustment", "Gain or Loss"],
        ["C", "Part I", "short-term, no 1099-B", "3", "31600.01", "20112.50", "0.00", "11487.51"],
        ["F", "Part II", "long-term, no 1099-B", "2", "6100.13", "3000.12", "0.00", "3100.01"],
    ]


def test_box_totals_are_the_form_parts_totals(model: ReportModel, tmp_path: Path) -> None:
    _, totals_path = WRITERS["form8949-boxes"](model, tmp_path)
    by_box = {row[0]: row for row in read_rows(totals_path)[1:]}
    for box, part in (("C", model.short_term), ("F", model.long_term)):
        assert by_box[box][4:] == [
            format(part.totals.proceeds, "f"), format(part.totals.cost, "f"),
            format(part.totals.adjustment, "f"), format(part.totals.gain, "f"),
        ]


def test_digital_asset_boxes_from_2025(make_model, tmp_path: Path) -> None:
    model = make_model(tax_year="2025", period_start=date(2025, 1, 1), period_end=date(2025, 12, 31))
    rows_path, totals_path = WRITERS["form8949-boxes"](model, tmp_path)
    assert [row[:3] for row in read_rows(rows_path)[1:]] == [["L", "Part II", "1 BTC"]]
    assert read_rows(totals_path)[1] == ["L", "Part II", "long-term digital assets, no 1099-DA", "1", "1.00",
                                         "1.00", "0.00", "0.00"]
    (taxact,) = WRITERS["taxact"](model, tmp_path)
    assert read_rows(taxact)[1][-2:] == ["L", "Long"]


def test_turbotax_golden(model: ReportModel, tmp_path: Path) -> None:
    (path,) = WRITERS["turbotax"](model, tmp_path)
    assert path.name == "taxsync-us-2024-fifo-turbotax.csv"
    assert path.read_bytes().decode("utf-8") == CRLF.join([
        "Currency Name,Purchase Date,Cost Basis,Date Sold,Proceeds",
        "BTC,01/10/2024,20000.00,03/15/2024,30000.01",
        '"\'=HYPERLINK(""http://x"")",VARIOUS,112.50,04/02/2024,100.00',
        "<script>alert(1)</script>,VARIOUS,0.00,12/31/2024,1500.00",
        "ETH,05/01/2022,3000.12,06/01/2024,6000.13",
        "SHIB,01/02/2020,0.00,07/04/2024,100.00",
        "",
    ])


def test_taxact_golden(model: ReportModel, tmp_path: Path) -> None:
    (path,) = WRITERS["taxact"](model, tmp_path)
    assert path.name == "taxsync-us-2024-fifo-taxact-1.csv"
    assert read_rows(path) == [
        list(TAXACT_HEADER),
        ["0.5 BTC", "01/10/2024", "03/15/2024", "30000.01", "20000.00", "", "", "C", "Short"],
        ['100 =HYPERLINK("http://x")', "VARIOUS", "04/02/2024", "100.00", "112.50", "", "", "C", "Short"],
        ["10 <script>alert(1)</script>", "VARIOUS", "12/31/2024", "1500.00", "0.00", "", "", "C", "Short"],
        ["2 ETH", "05/01/2022", "06/01/2024", "6000.13", "3000.12", "", "", "F", "Long"],
        ["0.00000001 SHIB", "01/02/2020", "07/04/2024", "100.00", "0.00", "", "", "F", "Long"],
    ]


def _many_sales(count: int) -> TaxResult:
    sales = tuple(
        disposal(f"x/{n}", "BTC", "0.001", date(2024, 1 + n % 12, 1 + n % 28), date(2023, 1, 2), "10", "5",
                 Term.LONG if n % 3 else Term.SHORT)
        for n in range(count)
    )
    return TaxResult(disposals=sales, income=(), holdings=(), problems=())


def test_taxact_files_hold_at_most_2000_rows_each(make_model, tmp_path: Path) -> None:
    model = make_model(result=_many_sales(2 * TAXACT_MAX_ROWS + 1))
    paths = WRITERS["taxact"](model, tmp_path)
    assert [p.name for p in paths] == [f"taxsync-us-2024-fifo-taxact-{n}.csv" for n in (1, 2, 3)]
    pieces = [read_rows(p) for p in paths]
    assert all(piece[0] == list(TAXACT_HEADER) for piece in pieces)
    assert [len(piece) - 1 for piece in pieces] == [2000, 2000, 1]
    assert [row for piece in pieces for row in piece[1:]] == taxact_rows(model)


def test_taxact_exactly_2000_rows_is_one_file(make_model, tmp_path: Path) -> None:
    paths = WRITERS["taxact"](make_model(result=_many_sales(TAXACT_MAX_ROWS)), tmp_path)
    assert [p.name for p in paths] == ["taxsync-us-2024-fifo-taxact-1.csv"]


def test_no_sales_still_writes_headers(make_model, tmp_path: Path) -> None:
    model = make_model(result=TaxResult(disposals=(), income=(), holdings=(), problems=()))
    (taxact,) = WRITERS["taxact"](model, tmp_path)
    rows_path, totals_path = WRITERS["form8949-boxes"](model, tmp_path)
    assert read_rows(taxact) == [list(TAXACT_HEADER)]
    assert len(read_rows(rows_path)) == len(read_rows(totals_path)) == 1


def test_report_and_cli_accept_the_new_formats(model: ReportModel, tmp_path: Path) -> None:
    assert _formats("pdf,TurboTax, taxact,form8949-boxes") == ["pdf", "turbotax", "taxact", "form8949-boxes"]
    written = write_report(model, tmp_path, "turbotax,taxact,form8949-boxes")
    assert sorted(p.name for p in written) == [
        "taxsync-us-2024-fifo-form8949-box-totals.csv",
        "taxsync-us-2024-fifo-form8949-boxes.csv",
        "taxsync-us-2024-fifo-taxact-1.csv",
        "taxsync-us-2024-fifo-turbotax.csv",
    ]
