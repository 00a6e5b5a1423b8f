"""Prices through the whole pipeline: a swap with no value of its own is valued from the price cache (here a
price file the user imported), and the report's appendix lists the price used."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from typer.testing import CliRunner

from taxsync.app import service
from taxsync.app.workspace import init_workspace
from taxsync.cli import app
from tests.conftest import write_koinly

ROWS = (
    "2024-02-01 10:00:00 UTC,3000,USD,1,ETH,,,,,,buy ETH,",
    "2024-05-01 10:00:00 UTC,1,ETH,0.05,BTC,,,,,,swap ETH for BTC (no value in the file),",
)


def test_a_swap_is_valued_from_an_imported_price_and_listed_in_the_appendix(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us", currency="USD")
    service.import_files(ws, [write_koinly(tmp_path / "history.csv", *ROWS)], account="wallet")
    before = service.tax_result(ws, ws.settings)
    assert any(p.kind == "missing_price" and "ETH/USDT" in p.message for p in before.problems)

    prices = tmp_path / "prices.csv"
    prices.write_text("date,base,quote,price\n2024-05-01,ETH,USD,3150.25\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["prices", "import", str(prices), "--home", str(ws.home)])
    assert result.exit_code == 0, result.output

    (path,) = service.build_report(ws, year="2024", formats=("json",), out=tmp_path / "out").paths
    report = json.loads(path.read_text())
    (sale,) = report["disposals"]
    assert (sale["asset"], D(sale["proceeds"]), D(sale["cost"]), D(sale["gain"])) == ("ETH", D("3150.25"),
                                                                                      D("3000"), D("150.25"))
    assert [(p["base"], p["quote"], p["price"], p["source"]) for p in report["prices"]] == [
        ("ETH", "USD", "3150.25", "user file prices.csv:2")]
    assert not [p for p in report["problems"] if p["kind"] == "missing_price"]


def test_a_report_makes_no_network_request(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Reports run offline from the cache: with every connection refused, the report is still written."""
    import socket

    ws = init_workspace(tmp_path / "ws", jurisdiction="us", currency="USD")
    service.import_files(ws, [write_koinly(tmp_path / "history.csv", *ROWS)], account="wallet")
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network use refused in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    paths = service.build_report(ws, year="2024", formats=("json", "pdf"), out=tmp_path / "out").paths
    assert [p.suffix for p in paths] == [".json", ".pdf"] and attempts == []


def test_the_report_names_its_data_sources(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us", currency="USD")
    service.import_files(ws, [write_koinly(tmp_path / "history.csv", *ROWS)], account="wallet")
    (path,) = service.build_report(ws, year="2024", formats=("json",), out=tmp_path / "out").paths
    assert json.loads(path.read_text())["sources"] == ["wallet: file history.csv"]


def test_the_report_shows_holdings_at_the_start_and_the_end(tmp_path: Path) -> None:
    """1 ETH bought in 2023 and swapped for BTC in 2024: held at the start of 2024 (ETH, cost 3,000), and at its
    end the BTC the swap brought in."""
    ws = init_workspace(tmp_path / "ws", jurisdiction="us", currency="USD")
    rows = ("2023-06-01 10:00:00 UTC,3000,USD,1,ETH,,,,,,buy ETH,",
            "2024-05-01 10:00:00 UTC,1,ETH,0.05,BTC,,,3150,USD,,swap,")
    service.import_files(ws, [write_koinly(tmp_path / "history.csv", *rows)], account="wallet")
    (path,) = service.build_report(ws, year="2024", formats=("json",), out=tmp_path / "out").paths
    report = json.loads(path.read_text())
    assert [(h["asset"], h["amount"], h["cost"]) for h in report["opening_holdings"]] == [("ETH", "1", "3000")]
    assert [(h["asset"], h["amount"], h["cost"]) for h in report["holdings"]] == [("BTC", "0.05", "3150")]
