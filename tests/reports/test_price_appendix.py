"""The appendix of prices used: in the model (the period's only), the JSON report and the PDF."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from pypdf import PdfReader

from reports import build_report_model
from reports.json_writer import render_json
from reports.pdf_writer import write_pdf
from taxsync.prices.records import PricePoint
from tests.reports.conftest import sample_context, sample_result

IN_2024 = 1_714_557_600_000  # 2024-05-01 10:00 UTC
IN_2022 = 1_651_399_200_000  # 2022-05-01 10:00 UTC
PRICES = (
    PricePoint("ETH", "USD", IN_2024, "1m", D("3012.45"), "binance 1m close ETH/USDT"),
    PricePoint("EUR", "USD", IN_2024 - IN_2024 % 86_400_000, "1d", D("1.0701"), "ECB reference rate of 2024-05-01"),
    PricePoint("BTC", "USD", IN_2022, "1h", D("38000"), "kraken 1h close BTC/USD"),
)


def test_the_appendix_lists_the_period_s_prices_with_their_source(tmp_path: Path) -> None:
    model = build_report_model(sample_result(), sample_context(), prices=PRICES)
    assert [p.base for p in model.prices] == ["EUR", "ETH"]  # by time; 2022 is outside the period
    document = json.loads(render_json(model))
    assert document["prices"][1] == {"base": "ETH", "quote": "USD", "at": "2024-05-01T10:00:00.000Z",
                                     "resolution": "1m", "price": "3012.45", "source": "binance 1m close ETH/USDT"}
    (pdf,) = write_pdf(model, tmp_path)
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Appendix: prices used" in text
    assert "ECB reference rate of 2024-05-01" in text and "3012.45" in text


def test_without_market_prices_the_appendix_says_so(tmp_path: Path) -> None:
    model = build_report_model(sample_result(), sample_context())
    assert json.loads(render_json(model))["prices"] == []
    (pdf,) = write_pdf(model, tmp_path)
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "no market price or exchange rate was needed" in " ".join(text.split())
