"""Price files: a date prices the whole UTC day, a time with a zone prices its moment; a bad line refuses the
whole file with its file, line and column; importing a file again replaces what it gave before."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app.workspace import Workspace
from taxsync.db import Price
from taxsync.errors import ExitCode, InputError
from taxsync.prices.records import PricePoint
from taxsync.prices.store import load_book
from taxsync.prices.user_file import import_price_file, read_price_file

MARCH_1 = 1_709_251_200_000  # 2024-03-01 00:00:00 UTC


def write(folder: Path, *lines: str, name: str = "prices.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dates_price_a_day_and_times_a_moment(tmp_path: Path) -> None:
    path = write(tmp_path, "date,base,quote,price,source",
                 "2024-03-01,xyz,USD,0.0123,CoinGecko daily close",
                 "",
                 "2024-03-01T14:30:00Z,XYZ,USD,0.0131,",
                 "2024-03-01T15:30:00.250+01:00,BTC,EUR,56000.10,  OTC   desk ",
                 "2024-03-02,XYZ,USD,0,worthless")
    assert read_price_file(path) == (
        PricePoint("XYZ", "USD", MARCH_1, "1d", D("0.0123"), "user file prices.csv:2 (CoinGecko daily close)"),
        PricePoint("XYZ", "USD", MARCH_1 + 52_200_000, "exact", D("0.0131"), "user file prices.csv:4"),
        PricePoint("BTC", "EUR", MARCH_1 + 52_200_250, "exact", D("56000.10"), "user file prices.csv:5 (OTC desk)"),
        PricePoint("XYZ", "USD", MARCH_1 + 86_400_000, "1d", D("0"), "user file prices.csv:6 (worthless)"),
    )


def test_columns_in_any_order_and_case_the_source_column_optional(tmp_path: Path) -> None:
    path = write(tmp_path, " Price ,Quote,BASE,Date", "61234.5,USD,BTC,2024-03-01")
    assert read_price_file(path) == (PricePoint("BTC", "USD", MARCH_1, "1d", D("61234.5"),
                                                "user file prices.csv:2"),)


@pytest.mark.parametrize(("lines", "where", "says"), [
    ((), "line 1", "the file is empty"),
    (("date,base,quote,price",), "line 2", "no prices in the file"),
    (("date,base,quote,price,comment", "2024-03-01,BTC,USD,1,x"), "line 1, column 'comment'", "unknown column"),
    (("date,base,price", "2024-03-01,BTC,1"), "line 1", "the header lacks quote"),
    (("date,base,quote,price,", "2024-03-01,BTC,USD,1,"), "line 1", "a column without a name"),
    (("date,base,quote,price,price", "2024-03-01,BTC,USD,1,2"), "line 1, column 'price'", "appears twice"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,1", "2024-02-30,BTC,USD,1"), "line 3, column 'date'",
     "no such day"),
    (("date,base,quote,price", "01/03/2024,BTC,USD,1"), "line 2, column 'date'", "is not a date such as"),
    (("date,base,quote,price", "2024-03-01T12:00:00,BTC,USD,1"), "line 2, column 'date'", "add Z for UTC"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,1,234.5"), "line 2", "expected 4 fields"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,1.234,5"), "line 2", "expected 4 fields"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,\"61,234.50\""), "line 2, column 'price'", "is not a number"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,abc"), "line 2, column 'price'", "is not a number"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,"), "line 2, column 'price'", "is not a number"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,NaN"), "line 2, column 'price'", "is not a number"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,-5"), "line 2, column 'price'", "is negative"),
    (("date,base,quote,price", "2024-03-01,,USD,1"), "line 2, column 'base'", "is not an asset code"),
    (("date,base,quote,price", "2024-03-01,BTC,US D,1"), "line 2, column 'quote'", "is not an asset code"),
    (("date,base,quote,price", "2024-03-01,BTC,btc,1"), "line 2, column 'quote'", "is always 1"),
    (("date,base,quote,price", "2024-03-01,BTC,USD,1", "2024-03-02,BTC,USD,2", "2024-03-01,btc,USD,3"),
     "line 4, column 'date'", "the first is on line 2"),
    (("date,base,quote,price,source", "2024-03-01,BTC,USD,1," + "x" * 90), "line 2, column 'source'",
     "characters too long"),
])
def test_bad_input_is_refused_whole_naming_file_line_and_column(tmp_path: Path, lines: tuple[str, ...],
                                                                where: str, says: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_price_file(path)
    assert str(caught.value).startswith(f"{path}, {where}: "), str(caught.value)
    assert says in str(caught.value)
    assert caught.value.exit_code is ExitCode.INPUT


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,base,quote,price,source\n2024-03-01,BTC,EUR,1,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.csv, line 2: not UTF-8"):
        read_price_file(latin)
    with pytest.raises(InputError, match="cannot read the file"):
        read_price_file(tmp_path / "missing.csv")


def stored_prices(workspace: Workspace) -> list[tuple[str, str, int, str, D, str]]:
    with Session(workspace.engine) as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(Price.base, Price.quote, Price.timestamp, Price.resolution, Price.price, Price.source)
            .order_by(Price.base, Price.timestamp))]


def imported(workspace: Workspace, path: Path):
    with Session(workspace.engine) as session, session.begin():
        return import_price_file(session, path, now=42)


def test_importing_again_replaces_what_the_file_gave_before(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "date,base,quote,price", "2024-03-01,XYZ,USD,1", "2024-03-02,XYZ,USD,2",
                 "2024-03-03,XYZ,USD,3")
    first = imported(workspace, path)
    assert (first.prices, first.added, first.changed, first.removed, first.unchanged) == (3, 3, 0, 0, 0)
    again = imported(workspace, path)
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 3)
    before = stored_prices(workspace)
    # corrected: a line inserted at the top, the 2nd's price changed, the 3rd dropped, a 4th added
    write(tmp_path, "date,base,quote,price", "2024-02-29,XYZ,USD,0.5", "2024-03-01,XYZ,USD,1.00",
          "2024-03-02,XYZ,USD,2.5")
    corrected = imported(workspace, path)
    assert (corrected.added, corrected.changed, corrected.removed, corrected.unchanged) == (1, 1, 1, 1)
    after = stored_prices(workspace)
    assert before[0][4] == 1 and [(row[2], row[4], row[5]) for row in after] == [
        (MARCH_1 - 86_400_000, D("0.5"), "user file prices.csv:2"),
        (MARCH_1, D("1"), "user file prices.csv:3"),  # the same price, now cited from its new line
        (MARCH_1 + 86_400_000, D("2.5"), "user file prices.csv:4"),
    ]
    with Session(workspace.engine) as session:
        assert load_book(session).lookup("XYZ", "USD", MARCH_1 + 2 * 86_400_000) is None


def test_another_file_and_other_sources_are_left_alone(workspace: Workspace, tmp_path: Path) -> None:
    imported(workspace, write(tmp_path, "date,base,quote,price", "2024-03-01,XYZ,USD,1", name="a.csv"))
    imported(workspace, write(tmp_path, "date,base,quote,price", "2024-03-01,XYZ,USD,2", name="a_csv"))
    imported(workspace, write(tmp_path, "date,base,quote,price", "2024-03-02,XYZ,USD,3", name="a.csv"))
    assert [(row[4], row[5]) for row in stored_prices(workspace)] == [
        (D("2"), "user file a_csv:2"), (D("3"), "user file a.csv:2")]


def test_a_bad_file_stores_nothing_and_keeps_the_earlier_import(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "date,base,quote,price", "2024-03-01,XYZ,USD,1")
    imported(workspace, path)
    write(tmp_path, "date,base,quote,price", "2024-03-01,XYZ,USD,2", "2024-03-02,XYZ,USD,-2")
    with pytest.raises(InputError, match="line 3, column 'price'"):
        imported(workspace, path)
    assert [(row[4], row[5]) for row in stored_prices(workspace)] == [(D("1"), "user file prices.csv:2")]
