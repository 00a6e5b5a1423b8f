"""A large file's records are checked by forked workers while the importer stores them: the database must end up
exactly as a check in one process leaves it, a bad line must still be named and leave nothing stored, and a
worker's own failure must surface. Blocks are made tiny here so that small files take the parallel path."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import importer.files.checking as checking
from importer.files import FORMATS, open_file
from importer.files.checking import Checker
from taxsync.app import service
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.errors import InputError
from taxsync.ledger.sources import NORMALIZERS
from tests.conftest import dump, write_koinly

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"


def koinly_rows(first_day: int, days: int) -> list[str]:
    """Trades, deposits, withdrawals, income with an unknown label (a problem) and repeated identical rows."""
    rows = []
    for day in range(first_day, first_day + days):
        when = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d} 10:00:00 UTC"
        rows += [f"{when},100,USD,0.00{day % 9 + 1},BTC,1,USD,,,,Buy,",
                 f"{when},,,{day % 5 + 1},SOL,,,,,staking,,",
                 f"{when},,,{day % 5 + 1},SOL,,,,,mystery label,,",
                 f"{when},0.001,BTC,,,0.0001,BTC,,,,,0x{day:064x}"]
    return [*rows, rows[0], rows[1]]  # the last two repeat earlier rows exactly: two more records, keys #2


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Blocks of 7 records, workers for any file, two of them; yields the worker counts each import used."""
    monkeypatch.setattr(checking, "BLOCK", 7)
    monkeypatch.setattr(checking, "PARALLEL_FROM", 1)
    monkeypatch.setattr(checking, "worker_count", lambda: 2)
    monkeypatch.setattr(checking, "can_fork", lambda: True)  # whatever threads earlier tests may have left
    used: list[int] = []
    enter = Checker.__enter__

    def counting(self: Checker) -> Checker:
        used.append(self.workers)
        return enter(self)

    monkeypatch.setattr(Checker, "__enter__", counting)
    yield used


def contents(ws: Workspace) -> dict[str, list[Any]]:
    """Everything an import writes, but the times it ran."""
    with sqlite3.connect(ws.home / "taxsync.db") as db:
        return {
            "accounts": db.execute("SELECT id, name, kind, exchange FROM accounts ORDER BY id").fetchall(),
            "raw": db.execute("SELECT id, account_id, source, stream, origin, locator, external_id, payload "
                              "FROM raw_records ORDER BY id").fetchall(),
            **{table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
               for table in ("transactions", "legs", "ledger_problems")},
        }


def import_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, used: list[int],
                     batches: list[tuple[list[Path], str | None]]) -> tuple[dict[str, list[Any]], ...]:
    """The same batches imported into two new workspaces, checked in this process and by workers."""
    results = []
    for name, parallel in (("serial", False), ("parallel", True)):
        monkeypatch.setattr(checking, "PARALLEL_FROM", 1 if parallel else 10**9)
        ws = init_workspace(tmp_path / name, jurisdiction="us")
        for paths, account in batches:
            service.import_files(ws, paths, account=account)
        results.append(contents(ws))
        ws.engine.dispose()
    assert used and all(workers == 0 for workers in used[:len(batches)]) and all(used[len(batches):])
    return tuple(results)


def test_workers_store_exactly_what_one_process_does(tiny_blocks: list[int], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    koinly = write_koinly(tmp_path / "k.csv", *koinly_rows(0, 12))
    serial, parallel = import_both_ways(tmp_path, monkeypatch, tiny_blocks, [
        ([koinly, EXPORTS / "binance-history.csv", EXPORTS / "kraken-ledgers.csv"], None)])
    assert serial == parallel
    keys = [external_id for _, _, _, _, _, _, external_id, _ in parallel["raw"]]
    assert sum(key.endswith("#2") for key in keys) == 2  # repeats counted across blocks
    assert len(parallel["transactions"]) > 60 and parallel["ledger_problems"]


def test_overlapping_files_and_an_account_with_records_in_one_batch(tiny_blocks: list[int], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Two exports of one new account that overlap (their common records once), and a file into an account that
    already holds records (rebuilt), in the same batch as a new one."""
    early = write_koinly(tmp_path / "early.csv", *koinly_rows(0, 8))
    late = write_koinly(tmp_path / "late.csv", *koinly_rows(4, 8))
    more = write_koinly(tmp_path / "more.csv", *koinly_rows(20, 3))
    serial, parallel = import_both_ways(tmp_path, monkeypatch, tiny_blocks, [
        ([more], "old"), ([early, late], "new"), ([more, late], None)])
    assert serial == parallel
    new = [row for row in parallel["raw"] if row[1] == 2]
    assert len(new) == 4 * 12 + 2 + 2  # days 0-11 once; each file's two repeated rows (#2 keys) its own


def test_a_bad_line_in_a_later_block_is_named_and_nothing_is_stored(tiny_blocks: list[int], tmp_path: Path,
                                                                     workspace: Workspace) -> None:
    service.import_files(workspace, [write_koinly(tmp_path / "before.csv", *koinly_rows(0, 2))], account="x")
    before = dump(workspace.home / "taxsync.db")
    rows = koinly_rows(0, 12)
    rows[43] = rows[43].replace("0.001,BTC", "0.0O1,BTC")  # a letter O for a zero: line 45, the 7th block
    with pytest.raises(InputError) as caught:
        service.import_files(workspace, [write_koinly(tmp_path / "good.csv", *koinly_rows(30, 3)),
                                         write_koinly(tmp_path / "bad.csv", *rows)], account="x")
    assert (Path(caught.value.path).name, caught.value.line, caught.value.column) == ("bad.csv", 45, "Sent Amount")
    assert dump(workspace.home / "taxsync.db") == before
    assert tiny_blocks[-1] == 2


def test_a_worker_failure_is_raised_with_its_traceback(tiny_blocks: list[int], tmp_path: Path,
                                                       workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    normalize = NORMALIZERS["koinly"]

    def broken(row: Any, account: str, ref: str) -> Any:
        if ref.endswith(":30"):
            raise ZeroDivisionError("a bug in a normalizer")
        return normalize(row, account, ref)

    monkeypatch.setitem(NORMALIZERS, "koinly", broken)  # the forked workers inherit it
    before = dump(workspace.home / "taxsync.db")
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug in a normalizer"):
        service.import_files(workspace, [write_koinly(tmp_path / "k.csv", *koinly_rows(0, 12))], account="x")
    assert dump(workspace.home / "taxsync.db") == before


def test_blocks_come_in_file_order_and_workers_stop(tiny_blocks: list[int], tmp_path: Path) -> None:
    files = [open_file(write_koinly(tmp_path / f"{n}.csv", *koinly_rows(n * 10, 5)), FORMATS) for n in range(3)]
    with Checker(files) as checker:
        lines = [(n, row.line) for n, rows in checker for row in rows]
        processes = list(checker.processes)
    assert lines == [(n, line) for n in range(3) for line in range(2, 2 + 22)]
    assert len(processes) == 2 and not any(process.is_alive() for process in processes)


def test_forking_waits_for_a_process_without_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork copies only the calling thread: while another runs (it may hold a lock the copy would wait on
    forever), the records are checked in this process."""
    assert checking.can_fork() == (threading.active_count() == 1 and sys.platform.startswith("linux"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not checking.can_fork()
    finally:
        stop.set()
        other.join()
