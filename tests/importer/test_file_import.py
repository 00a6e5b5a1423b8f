"""Importing files: idempotent, identical rows kept, and a bad file changes nothing and says where it is bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importer.files import FileFormat, read_file
from importer.files.koinly import KOINLY
from taxsync.app import service
from taxsync.app.workspace import Workspace
from taxsync.db import RawRecord, Transaction
from taxsync.errors import InputError
from tests.conftest import KOINLY_HEADER, SAMPLE, dump, write_koinly

GOOD = "2024-01-02 10:00:00 UTC,100,USD,0.002,BTC,1,USD,,,,Buy,"


def count(ws: Workspace, model: type) -> int:
    with Session(ws.engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_same_file_twice_adds_nothing(workspace: Workspace) -> None:
    first = service.import_files(workspace, [SAMPLE / "coinbase.csv"], account="coinbase")
    before = dump(workspace.home / "taxsync.db")
    again = service.import_files(workspace, [SAMPLE / "coinbase.csv"], account="coinbase")
    assert (first.new_records, again.new_records, again.transactions) == (21, 0, 21)
    assert [line for line in dump(workspace.home / "taxsync.db") if "raw_records" in line] == [
        line for line in before if "raw_records" in line]


def test_identical_rows_in_one_file_are_two_transactions(workspace: Workspace, tmp_path: Path) -> None:
    path = write_koinly(tmp_path / "fills.csv", GOOD, GOOD)
    assert service.import_files(workspace, [path], account="x").new_records == 2
    assert count(workspace, Transaction) == 2
    longer = write_koinly(tmp_path / "fills-later-export.csv", GOOD, GOOD,
                          "2024-01-03 10:00:00 UTC,0.001,BTC,60,USD,,,,,,Sell,")
    assert service.import_files(workspace, [longer], account="x").new_records == 1


def test_raw_records_keep_provenance(workspace: Workspace, tmp_path: Path) -> None:
    path = write_koinly(tmp_path / "p.csv", GOOD)
    service.import_files(workspace, [path], account="x")
    with Session(workspace.engine) as session:
        raw = session.scalars(select(RawRecord)).one()
    assert (raw.source, raw.origin, raw.locator) == ("koinly", str(path.resolve()), "2")
    assert '"Sent Amount": "100"' in raw.payload and raw.imported_at > 0


@pytest.mark.parametrize(
    ("content", "line", "column", "words"),
    [
        ("Time,Amount,Coin\n2024-01-01,1,BTC\n", 1, None, "unknown header"),
        (f"{KOINLY_HEADER}\n{GOOD}\n2024-13-45 10:00,1,BTC,,,,,,,,,\n", 3, "Date", "not a date"),
        (f"{KOINLY_HEADER}\n{GOOD}\n{GOOD}\n2024-01-05,1;5,BTC,,,,,,,,,\n", 4, "Sent Amount", "not a number"),
        (f"{KOINLY_HEADER}\n{GOOD}\n2024-01-05,1,BTC,,,,,,\n", 3, None, "expected 12 fields"),
        (f"{KOINLY_HEADER}\n2024-01-05,1,BTC,,,,,,,,,\n\n2024-01-06,1,,,,,,,,,,\n", 4, "Sent Currency", "currency"),
        ("", 1, None, "empty"),
    ],
)
def test_bad_file_names_file_line_column_and_changes_nothing(
    workspace: Workspace, tmp_path: Path, content: str, line: int, column: str | None, words: str
) -> None:
    service.import_files(workspace, [SAMPLE / "ledger.csv"], account="ledger")
    before = dump(workspace.home / "taxsync.db")
    good = write_koinly(tmp_path / "good.csv", GOOD)
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        service.import_files(workspace, [good, bad], account="x")
    assert (error.value.path, error.value.line, error.value.column) == (str(bad), line, column)
    assert words in str(error.value) and str(bad) in str(error.value)
    assert dump(workspace.home / "taxsync.db") == before


def test_not_utf8_names_the_line(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(f"{KOINLY_HEADER}\n{GOOD}\n".encode() + "2024-01-01,1,BTC,,,,,,,,Café,\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"line 3.*UTF-8"):
        service.import_files(workspace, [bad], account="x")
    assert count(workspace, RawRecord) == 0


def test_bom_and_crlf_are_read(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + KOINLY_HEADER + "\r\n" + GOOD + "\r\n").encode("utf-8"))
    assert service.import_files(workspace, [path], account="x").new_records == 1


def test_a_renamed_column_is_read_under_the_name_the_normalizer_knows(workspace: Workspace, tmp_path: Path) -> None:
    renamed = FileFormat("koinly", "Koinly (older header)", KOINLY.required, KOINLY.optional,
                         aliases=(("Date (UTC)", "Date"),))
    path = tmp_path / "older.csv"
    path.write_text((SAMPLE / "coinbase.csv").read_text().replace("Date,", "Date (UTC),", 1))
    read = read_file(path, {"koinly": renamed})
    assert read.format is renamed
    first = json.loads(read.rows[0].payload)
    assert "Date" in first and "Date (UTC)" not in first
    with pytest.raises(InputError, match="Date"):
        read_file(path, {"koinly": KOINLY})
