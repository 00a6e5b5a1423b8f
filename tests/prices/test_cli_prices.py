"""``taxsync prices import`` and ``taxsync prices list`` against a real workspace."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxsync.app.workspace import open_workspace
from taxsync.cli.common import out
from taxsync.db import Price
from taxsync.prices.records import PricePoint
from taxsync.prices.store import load_book, save_prices

MARCH_1 = 1_709_251_200_000  # 2024-03-01 00:00:00 UTC
PRICES = ("date,base,quote,price,source\n"
          "2024-03-01,XYZ,USD,0.0123,CoinGecko daily close\n"
          "2024-03-02,XYZ,USD,0.0125,\n"
          "2024-03-01T14:30:00Z,BTC,USD,61000.5,OTC desk\n")


def count(home: Path) -> int:
    with Session(open_workspace(home).engine) as session:
        return session.scalar(select(func.count()).select_from(Price)) or 0


def test_import_then_list(cli, home: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(out, "width", 200)  # no wrapping of the table's cells
    cli("init", "--home", home)
    prices = tmp_path / "my-prices.csv"
    prices.write_text(PRICES, encoding="utf-8")
    result = cli("prices", "import", prices, "--home", home)
    assert "Imported 3 price(s) from my-prices.csv: 3 new, 0 changed, 0 unchanged, 0 removed" in result.output
    assert "3 new" not in cli("prices", "import", prices, "--home", home).output  # again: nothing new
    with Session(open_workspace(home).engine) as session:
        save_prices(session, [PricePoint("BTC", "USD", MARCH_1 + 60_000 * m, "1m", D(61000 + m), "binance 1m close")
                              for m in range(3)], 1)
        session.commit()
        book = load_book(session)
    assert book.lookup("XYZ", "USD", MARCH_1 + 86_399_999).source == (  # type: ignore[union-attr]
        "user file my-prices.csv:2 (CoinGecko daily close)")

    listed = json.loads(cli("prices", "list", "--json", "--home", home).output)
    assert listed == [
        {"base": "BTC", "quote": "USD", "resolution": "exact", "source": "user file my-prices.csv", "count": 1,
         "first": "2024-03-01T14:30:00.000Z", "last": "2024-03-01T14:30:00.000Z"},
        {"base": "BTC", "quote": "USD", "resolution": "1m", "source": "binance 1m close", "count": 3,
         "first": "2024-03-01T00:00:00.000Z", "last": "2024-03-01T00:02:00.000Z"},
        {"base": "XYZ", "quote": "USD", "resolution": "1d", "source": "user file my-prices.csv", "count": 2,
         "first": "2024-03-01T00:00:00.000Z", "last": "2024-03-02T00:00:00.000Z"},
    ]
    assert [row["base"] for row in json.loads(cli("prices", "list", "--asset", "xyz", "--json", "--home",
                                                  home).output)] == ["XYZ"]
    table = cli("prices", "list", "--home", home).output
    assert "6 cached price(s)" in table and "binance 1m close" in table
    assert "2024-03-01 00:02" in table and "2024-03-01 14:30:00" in table and "2024-03-02 " in table
    assert "No prices cached for DOGE" in cli("prices", "list", "--asset", "doge", "--home", home).output


def test_a_bad_file_exits_4_naming_file_line_and_column_and_stores_nothing(cli, home: Path, tmp_path: Path) -> None:
    cli("init", "--home", home)
    bad = tmp_path / "bad.csv"
    bad.write_text(PRICES + "2024-03-03,XYZ,USD,-0.01,oops\n", encoding="utf-8")
    result = cli("prices", "import", bad, "--home", home, code=4)
    assert "bad.csv, line 5, column 'price'" in result.output and "is negative" in result.output
    assert count(home) == 0
    bad.write_text("when,base,quote,price\n2024-03-01,XYZ,USD,1\n", encoding="utf-8")
    assert "unknown column 'when'" in cli("prices", "import", bad, "--home", home, code=4).output
    assert count(home) == 0


def test_without_a_workspace_it_says_how_to_make_one(cli, tmp_path: Path) -> None:
    result = cli("prices", "list", "--home", tmp_path / "nowhere", code=3)
    assert "taxsync init" in result.output
