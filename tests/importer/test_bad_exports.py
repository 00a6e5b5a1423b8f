"""Exports as they reach taxsync after spreadsheets and regional settings: read when certain, else refused
with the file, line, column and expected layout, and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importer.files import FORMATS, read_file
from taxsync.app import service
from taxsync.app.workspace import Workspace
from taxsync.db import RawRecord
from taxsync.errors import InputError
from taxsync.parsing import parse_timestamp
from tests.conftest import dump
from tests.importer.golden import ledger_text

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"
BINANCE = (EXPORTS / "binance-history.csv").read_text()
GOLDEN = (EXPORTS / "binance-history.ledger").read_text()


def write(tmp_path: Path, data: bytes | str, name: str = "binance-history.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as error:
        read_file(path, FORMATS)
    assert str(path) in str(error.value)
    return error.value


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_bom_are_read_exactly(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, BINANCE.replace("\n", "\r\n").encode(encoding))
    assert ledger_text(path) == GOLDEN


def test_a_windows_1252_file_is_refused_with_the_encoding_to_save_as(tmp_path: Path) -> None:
    lines = BINANCE.splitlines()
    lines[5] = lines[5] + "Café"
    error = refused(write(tmp_path, "\n".join(lines).encode("cp1252")))
    assert error.line == 6 and "Windows-1252" in str(error) and "UTF-8" in str(error)


def test_a_binary_file_is_refused_as_not_csv(tmp_path: Path) -> None:
    error = refused(write(tmp_path, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01\x02" * 20))
    assert error.line == 1 and "binary data" in str(error)


def test_semicolons_and_decimal_commas_are_read_when_the_file_shows_its_style(tmp_path: Path) -> None:
    european = "\n".join(line.replace(",", ";").replace(".", ",") for line in BINANCE.splitlines()) + "\n"
    assert ledger_text(write(tmp_path, european)) == GOLDEN


def test_thousands_commas_are_read_when_a_decimal_dot_shows_the_style(tmp_path: Path) -> None:
    grouped = BINANCE.replace("1500.00000000", '"1,500.00000000"').replace("-1428.9", "-1,428.9")
    assert ledger_text(write(tmp_path, grouped)) == GOLDEN


def test_a_number_that_reads_two_ways_is_refused_naming_line_and_column(tmp_path: Path) -> None:
    lines = ["User_ID;UTC_Time;Account;Operation;Coin;Change;Remark",
             "1;2024-01-03 09:15:02;Spot;Deposit;USDT;1500;",
             "1;2024-01-04 09:15:02;Spot;Deposit;USDT;1,500;"]
    error = refused(write(tmp_path, "\n".join(lines) + "\n"))
    assert (error.line, error.column) == (3, "Change")
    assert "two ways" in str(error) and "Binance transaction history" in str(error)


def test_two_number_styles_in_one_file_are_refused(tmp_path: Path) -> None:
    lines = ["User_ID;UTC_Time;Account;Operation;Coin;Change;Remark",
             "1;2024-01-03 09:15:02;Spot;Deposit;USDT;0,5;",
             "1;2024-01-04 09:15:02;Spot;Deposit;USDT;1,500.25;"]
    error = refused(write(tmp_path, "\n".join(lines) + "\n"))
    assert (error.line, error.column) == (3, "Change") and "line 2" in str(error)


def test_a_decimal_dot_in_a_file_of_decimal_commas_is_refused(tmp_path: Path) -> None:
    lines = ["User_ID;UTC_Time;Account;Operation;Coin;Change;Remark",
             "1;2024-01-03 09:15:02;Spot;Deposit;USDT;0.5;",
             "1;2024-01-04 09:15:02;Spot;Deposit;BTC;1.234.567,5;"]
    error = refused(write(tmp_path, "\n".join(lines) + "\n"))
    assert (error.line, error.column) == (3, "Change") and "'0.5'" in str(error) and "one style" in str(error)


@pytest.mark.parametrize("date", ["03/01/2024 09:15:02", "13/01/2024 09:15", "01.03.2024 09:15:02"])
def test_day_first_or_month_first_dates_are_refused_with_the_expected_layout(tmp_path: Path, date: str) -> None:
    error = refused(write(tmp_path, BINANCE.replace("2024-01-04 07:00:00", date)))
    assert (error.line, error.column) == (9, "UTC_Time")
    assert "ambiguous" in str(error) and "2024-03-01 14:25:00" in str(error)


def test_a_format_with_a_documented_day_first_layout_may_declare_it() -> None:
    assert parse_timestamp("03/01/2024 09:15:02", day_first=True) == parse_timestamp("2024-01-03 09:15:02")
    assert parse_timestamp("03/01/2024 09:15", day_first=False) == parse_timestamp("2024-03-01 09:15")
    with pytest.raises(ValueError, match="no such day"):
        parse_timestamp("31/02/2024", day_first=True)


def test_a_cut_last_line_is_named_as_truncation(tmp_path: Path) -> None:
    cut = BINANCE.rstrip("\n")[:-20]
    error = refused(write(tmp_path, cut))
    assert error.line == len(BINANCE.splitlines()) and "truncated" in str(error)


def test_a_file_cut_inside_quotes_is_named_as_truncation(tmp_path: Path) -> None:
    error = refused(write(tmp_path, BINANCE + '1,2024-03-22 06:00:00,Spot,Deposit,USDT,"5'))
    assert "truncated" in str(error)


@pytest.mark.parametrize(("row", "words"), [
    ("1,2024-03-22 06:00:00,Spot,Deposit,USDT,5,,extra", "extra columns"),
    ("1,2024-03-22 06:00:00,Spot,Deposit,USDT", "missing columns"),
])
def test_extra_or_missing_columns_in_a_row(tmp_path: Path, row: str, words: str) -> None:
    error = refused(write(tmp_path, BINANCE + row + "\n" + "1,2024-03-23 06:00:00,Spot,Deposit,USDT,5,\n"))
    assert error.line == len(BINANCE.splitlines()) + 1 and words in str(error) and "expected 7 fields" in str(error)


def test_a_header_without_a_required_column_lists_the_closest_formats(tmp_path: Path) -> None:
    error = refused(write(tmp_path, BINANCE.replace(",Change,", ",Amount,", 1)))
    assert error.line == 1 and "Closest known formats: Binance transaction history (lacks Change)" in str(error)


def test_a_forced_format_names_what_the_header_lacks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a Kraken ledgers file: the header lacks txid, refid"):
        read_file(write(tmp_path, BINANCE), FORMATS, "kraken-ledgers")


def test_one_bad_file_among_several_stores_nothing(workspace: Workspace, tmp_path: Path) -> None:
    service.import_files(workspace, [EXPORTS / "kraken-trades.csv"], account="kraken")
    before = dump(workspace.home / "taxsync.db")
    bad = write(tmp_path, BINANCE.replace("0.02330000", "0.0233O000"), "bad.csv")
    with pytest.raises(InputError) as error:
        service.import_files(workspace, [EXPORTS / "coinbase-history-2024.csv", bad])
    assert (error.value.line, error.value.column) == (4, "Change")
    assert dump(workspace.home / "taxsync.db") == before


def test_cli_refusal_exits_4_with_file_line_and_column(cli: object, home: Path, tmp_path: Path) -> None:
    cli("init", "--home", home)  # type: ignore[operator]
    bad = write(tmp_path, BINANCE.replace("2024-02-20 08:00:00", "20/02/2024 08:00"))
    result = cli("import-file", bad, "--home", home, code=4)  # type: ignore[operator]
    assert f"{bad}, line 16, column 'UTC_Time'" in " ".join(result.output.split())  # type: ignore[attr-defined]


def test_without_account_each_file_goes_to_its_exchange(workspace: Workspace) -> None:
    summary = service.import_files(workspace, [EXPORTS / "kraken-trades.csv", EXPORTS / "coinbase-history-2021.csv"])
    assert summary.accounts == ("coinbase", "kraken")
    with Session(workspace.engine) as session:
        assert session.scalar(select(func.count()).select_from(RawRecord)) == 7
