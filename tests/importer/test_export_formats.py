"""Golden tests: each exchange export in tests/fixtures/exports normalizes to exactly its .ledger file.

The samples follow the exchanges' documented layouts (one file per header variant); the .ledger files were
checked by hand: kinds, legs with their signs, amounts, UTC timestamps to the millisecond, exchange ids and
the problems each odd row gives. To see a difference: ``python -c "from tests.importer.golden import ..."``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.files import FORMATS, read_file
from importer.files.text import delimiters
from taxsync.app import service
from taxsync.app.workspace import Workspace
from taxsync.db import Account, LedgerProblem
from taxsync.db import Leg as LegRow
from taxsync.db import Transaction as TransactionRow
from taxsync.ledger.store import load_ledger
from tests.importer.golden import ledger_text

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"
SAMPLES = sorted(EXPORTS.glob("*.csv"))


@pytest.mark.parametrize("path", SAMPLES, ids=[path.name for path in SAMPLES])
def test_sample_normalizes_to_its_golden_ledger(path: Path) -> None:
    assert ledger_text(path) == path.with_suffix(".ledger").read_text()


@pytest.mark.parametrize(("name", "variant"), [(fmt.name, v) for fmt in FORMATS.values() for v in fmt.variants])
def test_every_documented_header_variant_is_detected_as_its_format(name: str, variant: str, tmp_path: Path) -> None:
    header = next(csv.reader(io.StringIO(variant), delimiter=delimiters(variant)[0]))
    assert [fmt.name for fmt in FORMATS.values() if fmt.matches(header)] == [name]
    path = tmp_path / "only-header.csv"
    path.write_text(variant + "\n")
    assert read_file(path, FORMATS).format.name == name


def test_every_format_has_a_sample_and_a_variant() -> None:
    samples = [*SAMPLES, *EXPORTS.glob("*/*.csv")]  # the one-row formats keep theirs in a folder per format
    formats = {read_file(path, FORMATS).format.name for path in samples}
    assert formats == set(FORMATS) - {"koinly"}  # Koinly's samples are the bundled data/sample files
    assert all(fmt.variants for fmt in FORMATS.values())


def test_kraken_ledger_and_trades_exports_carry_the_same_trade_ids() -> None:
    """The trades file's txid is the ledger's refid: the two exports of one account count once."""
    ledger_rows = read_file(EXPORTS / "kraken-ledgers.csv", FORMATS).rows
    ledger = {json.loads(row.payload)["rows"][0]["refid"] for row in ledger_rows}
    trades = {json.loads(row.payload)["txid"] for row in read_file(EXPORTS / "kraken-trades.csv", FORMATS).rows}
    assert {"TJKLXX-PGMUI-4NTLXU", "TOGXJQ-SPHIX-6PW5W6"} <= ledger & trades


def test_kraken_ledgers_and_trades_in_one_account_count_each_trade_once(workspace: Workspace) -> None:
    service.import_files(workspace, [EXPORTS / "kraken-ledgers.csv", EXPORTS / "kraken-trades.csv"])
    with Session(workspace.engine) as session:
        transactions, problems = load_ledger(session)
    trades = sorted((tx.exchange_id, tx.ref) for tx in transactions if tx.kind.value == "trade")
    assert trades == [("ELN3J7P-WSEKX-DHRZ4Z", "kraken/kraken-ledgers.csv:12"),
                      ("TCWJEG-FL4SZ-3FKGH6", "kraken/kraken-trades.csv:4"),  # only in the trades file
                      ("TJKLXX-PGMUI-4NTLXU", "kraken/kraken-ledgers.csv:4"),
                      ("TOGXJQ-SPHIX-6PW5W6", "kraken/kraken-ledgers.csv:6")]
    copies = sorted(p.source for p in problems if p.kind.value == "duplicate_suspicion")
    assert copies == ["kraken/kraken-trades.csv:2", "kraken/kraken-trades.csv:3"]


def test_one_import_or_two_give_the_same_ledger(workspace: Workspace) -> None:
    """A fresh account is built from the import itself, a filled one from its stored records: the same rows."""
    files = [EXPORTS / "binance-history.csv", EXPORTS / "binance-trades.csv"]
    service.import_files(workspace, files, account="together")
    for path in files:
        service.import_files(workspace, [path], account="apart")
    service.import_files(workspace, files, account="apart")  # again: nothing new

    def stored(account: str) -> list[tuple[object, ...]]:
        with Session(workspace.engine) as session:
            rows = session.execute(
                select(TransactionRow.ref, TransactionRow.timestamp, TransactionRow.kind, LegRow.position,
                       LegRow.asset, LegRow.amount, LegRow.role)
                .join(LegRow).join(Account, Account.id == TransactionRow.account_id).where(Account.name == account))
            problems = session.scalars(select(LedgerProblem.message).join(Account).where(Account.name == account))
            return sorted((ref.split("/", 1)[1], *rest) for ref, *rest in rows) + sorted(problems)

    assert stored("together") == stored("apart") and len(stored("together")) == 33  # 31 legs, 2 problems
