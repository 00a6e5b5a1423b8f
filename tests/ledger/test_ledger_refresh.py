"""A stored ledger is derived data: each account's is marked with its newest raw record and the release that
derived it, and a ledger whose mark no longer fits (an upgrade whose normalizers read rows otherwise) is
derived again before it is read, once, with no import needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import taxsync.ledger.store as store
from taxsync.app import pipeline, service
from taxsync.app.workspace import Workspace
from taxsync.db import SyncState
from taxsync.db import Transaction as TransactionRow
from taxsync.errors import BusyError
from taxsync.ledger.sources import NORMALIZERS
from tests.conftest import write_koinly

ROWS = ("2024-01-02 10:00:00 UTC,100,USD,0.002,BTC,1,USD,,,,Buy,",
        "2024-03-02 10:00:00 UTC,0.001,BTC,60,USD,,,,,,Sell,")


def descriptions(ws: Workspace) -> list[str]:
    with Session(ws.engine) as session:
        return list(session.scalars(select(TransactionRow.description).order_by(TransactionRow.id)))


def marks(ws: Workspace) -> list[str | None]:
    with Session(ws.engine) as session:
        return list(session.scalars(select(SyncState.cursor).where(SyncState.stream == store.LEDGER_MARK)))


@pytest.fixture
def imported(workspace: Workspace, tmp_path: Path) -> Workspace:
    service.import_files(workspace, [write_koinly(tmp_path / "k.csv", *ROWS)], account="k")
    return workspace


@pytest.fixture
def reads_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Koinly normalizer that writes its descriptions in capitals: what a fixed normalizer looks like."""
    normalize = NORMALIZERS["koinly"]

    def upper(row: Any, account: str, ref: str) -> Any:
        result = normalize(row, account, ref)
        tx = result.transaction
        return type(result)(tx._replace(description=tx.description.upper()), result.problems)

    monkeypatch.setitem(NORMALIZERS, "koinly", upper)


def test_an_import_marks_the_ledger_it_wrote(imported: Workspace) -> None:
    assert marks(imported) == [f"2@{store.LEDGER_VERSION}"]
    with Session(imported.engine) as session:
        assert store.stale_ledgers(session) == []


def test_a_read_keeps_a_current_ledger(imported: Workspace, reads_otherwise: None) -> None:
    service.holdings(imported)
    assert descriptions(imported) == ["Buy", "Sell"]  # the same release derived it: not read again


def test_another_release_derives_the_ledger_again_before_it_is_read(
        imported: Workspace, reads_otherwise: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "LEDGER_VERSION", "99.0")  # the upgrade
    service.holdings(imported)
    assert descriptions(imported) == ["BUY", "SELL"]
    assert marks(imported) == ["2@99.0"]
    with Session(imported.engine) as session:
        assert store.stale_ledgers(session) == []


def test_while_an_import_holds_the_workspace_the_stored_ledger_is_read(
        imported: Workspace, reads_otherwise: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "LEDGER_VERSION", "99.0")

    @contextmanager
    def busy(*_: object, **__: object) -> Iterator[None]:
        raise BusyError("another taxsync run holds the workspace")
        yield

    monkeypatch.setattr(pipeline, "workspace_lock", busy)
    assert [h.asset for h in service.holdings(imported)] == ["BTC"]
    assert descriptions(imported) == ["Buy", "Sell"]  # that run rebuilds what it adds to


def test_importing_a_file_again_keeps_a_current_ledger(imported: Workspace, reads_otherwise: None, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing new: the ledger this release derived stays as it is (not derived again). After an upgrade the same
    import derives it again; one new row does too."""
    path = tmp_path / "k.csv"
    again = service.import_files(imported, [path], account="k")
    assert (again.new_records, again.transactions, descriptions(imported)) == (0, 2, ["Buy", "Sell"])
    monkeypatch.setattr(store, "LEDGER_VERSION", "99.0")
    assert service.import_files(imported, [path], account="k").transactions == 2
    assert (descriptions(imported), marks(imported)) == (["BUY", "SELL"], ["2@99.0"])
    later = write_koinly(tmp_path / "k2.csv", *ROWS, ROWS[0].replace("01-02", "01-03"))
    more = service.import_files(imported, [later], account="k")
    assert (more.new_records, more.transactions, descriptions(imported)) == (1, 3, ["BUY", "SELL", "BUY"])
    with Session(imported.engine) as session:
        assert store.stale_ledgers(session) == []


def test_new_records_add_their_rows_and_leave_the_stored_ones(imported: Workspace, reads_otherwise: None,
                                                              tmp_path: Path) -> None:
    """A ledger this release derived gains the rows of the records stored since, and the stored rows are not
    read again (the normalizer that now reads otherwise shows which rows were derived when)."""
    later = write_koinly(tmp_path / "k2.csv", ROWS[0].replace("01-02", "01-03"))
    assert service.import_files(imported, [later], account="k").transactions == 3
    assert (descriptions(imported), marks(imported)) == (["Buy", "Sell", "BUY"], [f"3@{store.LEDGER_VERSION}"])


def test_a_ledger_grown_import_by_import_equals_one_derived_whole(workspace: Workspace, tmp_path: Path) -> None:
    """Files imported one by one into an account (rows of the same moment, a row two files share) read back
    exactly as the same account derived again from all its records at once."""
    files = [write_koinly(tmp_path / "a.csv", *ROWS),
             write_koinly(tmp_path / "b.csv", ROWS[1], ROWS[0].replace("01-02", "01-05"),
                          ROWS[1].replace("0.001,BTC,60", "0.0005,BTC,31")),
             write_koinly(tmp_path / "c.csv", ROWS[0].replace("01-02", "02-01"))]
    for path in files:
        service.import_files(workspace, [path], account="k")
    with Session(workspace.engine) as session:
        grown = store.load_ledger(session)
        store.rebuild_ledger(session, [session.scalar(select(TransactionRow.account_id).limit(1))])
        assert store.load_ledger(session) == grown
    assert len(grown[0]) == 5
