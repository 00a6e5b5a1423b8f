"""Each country's capital gains CSV: named after its form, in its columns and with its dates."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from reports import build_report_model
from reports.csv_writer import write_csv
from reports.render import render_document
from taxsync.tax.records import Disposal, LotMatch, TaxResult, Term
from taxsync.types import Asset, TimestampMs
from tests.reports.conftest import sample_context

SALES = (
    Disposal("k/a.csv:3", "wallet", Asset("BTC"), D("0.2"), TimestampMs(1_680_516_000_000), date(2023, 4, 3),
             date(2023, 4, 29), D("4800"), D("5000"), Term.SHORT, "bed-and-breakfast",
             (LotMatch("k/a.csv:4", TimestampMs(1_682_762_400_000), date(2023, 4, 29), D("0.2"), D("5000"),
                       "wallet"),)),
    Disposal("k/a.csv:5", "wallet", Asset("ETH"), D("1.5"), TimestampMs(1_680_600_000_000), date(2023, 4, 4),
             date(2021, 2, 1), D("2500.5"), D("1000.25"), Term.LONG, "fifo",
             (LotMatch("k/a.csv:1", TimestampMs(1_612_137_600_000), date(2021, 2, 1), D("1.5"), D("1000.25"),
                       "wallet"),)),
)
PERIOD = {"period_start": date(2022, 4, 6), "period_end": date(2023, 4, 5), "tax_year": "2022-23"}


def _written(tmp_path: Path, code: str) -> tuple[str, list[list[str]]]:
    model = build_report_model(TaxResult(SALES, (), (), ()), sample_context(jurisdiction=code, **PERIOD))
    (gains,) = [p for p in write_csv(model, tmp_path) if not p.name.endswith(("-income.csv", "-holdings.csv",
                                                                                "-audit-trail.csv"))]
    with gains.open(newline="", encoding="utf-8") as handle:
        return gains.name, list(csv.reader(handle))


@pytest.mark.parametrize(("code", "suffix", "first"), [
    ("us", "form8949.csv", ["0.2 BTC", "04/29/2023", "04/03/2023", "4800.00", "5000.00", "", "", "-200.00",
                            "Short-term", "wallet", "k/a.csv:3"]),
    ("uk", "hmrc-computation.csv", ["03/04/2023", "BTC", "0.2", "4800.00", "5000.00", "-200.00", "Bed and breakfast",
                                    "29/04/2023", "wallet", "k/a.csv:3"]),
    ("de", "anlage-so.csv", ["0.2 BTC", "29.04.2023", "03.04.2023", "4800.00", "5000.00", "0.00", "-200.00",
                             "innerhalb eines Jahres (steuerpflichtig)", "wallet", "k/a.csv:3"]),
    ("ca", "schedule3.csv", ["0.2", "BTC", "2023", "4800.00", "5000.00", "0.00", "-200.00", "", "2023-04-03",
                             "wallet", "k/a.csv:3"]),
    ("au", "cgt-schedule.csv", ["BTC", "0.2", "29/04/2023", "03/04/2023", "4800.00", "5000.00", "-200.00", "No",
                                "wallet", "k/a.csv:3"]),
    ("generic", "disposals.csv", ["0.2 BTC", "2023-04-29", "2023-04-03", "4800.00", "5000.00", "", "", "-200.00",
                                  "Short-term", "wallet", "k/a.csv:3"]),
])
def test_each_country_has_its_own_gains_file(tmp_path: Path, code: str, suffix: str, first: list[str]) -> None:
    name, rows = _written(tmp_path, code)
    assert name.endswith(f"-{suffix}") and "form8949" not in name.replace(suffix, "")
    assert len(rows) == 1 + len(SALES) and len(rows[0]) == len(first)
    assert rows[1] == first


@pytest.mark.parametrize(("code", "sold", "acquired"), [("us", "04/03/2023", "04/29/2023"),
                                                        ("uk", "03/04/2023", "29/04/2023"),
                                                        ("au", "03/04/2023", "29/04/2023"),
                                                        ("de", "03.04.2023", "29.04.2023"),
                                                        ("ca", "2023-04-03", "2023-04-29")])
def test_the_gains_tables_write_dates_as_the_countrys_forms_do(code: str, sold: str, acquired: str) -> None:
    model = build_report_model(TaxResult(SALES, (), (), ()), sample_context(jurisdiction=code, **PERIOD))
    html = render_document(model, "html")
    gains = html[html.index('id="gains"'):]
    assert sold in gains and acquired in gains
