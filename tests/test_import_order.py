"""Importing the same files in any order, or twice, gives the same tax result.

Through the service API on real SQLite workspaces: two accounts (an exchange with two yearly exports, and a
wallet), imported in different orders, in one call or several, some files twice. Each workspace must then
give the same disposals, income, holdings and problems under every method and tracking, and the same report
files (apart from the moment they were generated).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from taxsync.app import service
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.problems import ProblemKind
from taxsync.tax.engine import METHODS
from taxsync.tax.records import TaxResult
from tests.conftest import write_koinly

# Koinly universal CSV: Date, Sent Amount/Currency, Received Amount/Currency, Fee Amount/Currency,
# Net Worth Amount/Currency, Label, Description, TxHash.
EXCHANGE_2023 = (
    "2023-01-10 15:00:00 UTC,20000,USD,1,BTC,10,USD,,,,Buy BTC,",
    "2023-02-01 09:00:00 UTC,3000,USD,2,ETH,3,USD,,,,Buy ETH,",
    "2023-03-15 12:00:00 UTC,1,ETH,0.05,BTC,0.001,ETH,1700,USD,swap,Convert ETH to BTC,",
    "2023-06-30 00:00:00 UTC,,,0.02,ETH,,,38,USD,staking,ETH staking reward,",
    "2023-08-01 10:00:00 UTC,0.3,BTC,,,0.0002,BTC,8700,USD,,Send BTC to wallet,0xabc1",
)
EXCHANGE_LATER = (
    "2024-02-01 10:00:00 UTC,0.2,BTC,9000,USD,15,USD,,,,Sell BTC,",
    "2024-03-01 09:00:00 UTC,,,0.1,BTC,,,,,,Receive BTC from wallet,",
    "2024-05-01 10:00:00 UTC,0.5,ETH,1500,USD,,,,,,Sell ETH,",
    "2024-07-01 10:00:00 UTC,,,100,ADA,,,,,,Deposit ADA,",
    "2024-09-10 10:00:00 UTC,100,ADA,35,USD,,,,,,Sell ADA,",
    "2024-10-01 10:00:00 UTC,,,0.01,ETH,,,25,USD,staking,ETH staking reward,",
    "2025-01-15 10:00:00 UTC,0.5,ETH,1700,USD,,,,,,Sell ETH,",
)
WALLET = (
    "2023-08-01 10:20:00 UTC,,,0.3,BTC,,,,,,Receive BTC from exchange,0xabc1",
    "2024-02-29 23:00:00 UTC,0.1,BTC,,,0.0001,BTC,6000,USD,,Send BTC to exchange,",
    "2024-04-01 12:00:00 UTC,,,5,DOT,,,30,USD,airdrop,DOT airdrop,",
    "2024-06-01 12:00:00 UTC,1,DOT,,,,,,,mystery,Unknown label,",
)

# Each order is a list of imports: (account, files imported in one call).
ORDERS = {
    "by-year": [("exchange", ["exchange-2023"]), ("exchange", ["exchange-later"]), ("wallet", ["wallet"])],
    "reversed": [("wallet", ["wallet"]), ("exchange", ["exchange-later"]), ("exchange", ["exchange-2023"])],
    "one-call": [("exchange", ["exchange-later", "exchange-2023"]), ("wallet", ["wallet"])],
    "twice": [("exchange", ["exchange-2023"]), ("wallet", ["wallet"]), ("exchange", ["exchange-later"]),
              ("wallet", ["wallet"]), ("exchange", ["exchange-2023", "exchange-later"])],
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "exports"
    folder.mkdir()
    return {name: write_koinly(folder / f"{name}.csv", *rows)
            for name, rows in (("exchange-2023", EXCHANGE_2023), ("exchange-later", EXCHANGE_LATER),
                               ("wallet", WALLET))}


def imported(tmp_path: Path, name: str, files: dict[str, Path], order: list[tuple[str, list[str]]]) -> Workspace:
    ws = init_workspace(tmp_path / name, jurisdiction="us", name="books")  # reports show the name
    for account, names in order:
        service.import_files(ws, [files[n] for n in names], account=account)
    return ws


def results(ws: Workspace) -> dict[str, TaxResult]:
    """The whole history under every method, universally and per wallet (US: switching on 1 Jan 2025)."""
    return {f"{method}/{tracking}": service.tax_result(ws, replace(ws.settings, method=method, tracking=tracking))
            for method in METHODS for tracking in ("universal", "per-wallet")}


def report_files(ws: Workspace, out: Path) -> dict[str, str]:
    """The 2024 report as CSV and JSON, without the moment it was generated."""
    written = service.build_report(ws, year="2024", formats=("csv", "json"), out=out).paths
    texts = {}
    for path in written:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            report = json.loads(text)
            report.pop("generated_at")
            text = json.dumps(report, sort_keys=True)
        texts[path.name] = text
    return texts


@pytest.fixture
def workspaces(tmp_path: Path, files: dict[str, Path]):
    made = {name: imported(tmp_path, name, files, order) for name, order in ORDERS.items()}
    yield made
    for ws in made.values():
        ws.engine.dispose()


def test_the_history_is_not_trivial(workspaces: dict[str, Workspace]) -> None:
    """The files exercise what import order could disturb: a transfer matched by hash and one by amount and
    time, a swap with a crypto fee, income, an unmatched deposit, an unknown label, and the US switch."""
    result = service.tax_result(workspaces["by-year"], workspaces["by-year"].settings)
    assert len(result.disposals) >= 8
    assert sorted(i.kind for i in result.income) == ["airdrop", "staking", "staking"]
    kinds = {p.kind for p in result.problems}
    assert {ProblemKind.UNMATCHED_DEPOSIT, ProblemKind.UNKNOWN_LABEL, ProblemKind.UNMATCHED_WITHDRAWAL} <= kinds
    assert ProblemKind.UNMATCHED_WITHDRAWAL not in {p.kind for p in result.problems if "BTC" in p.message}


@pytest.mark.parametrize("order", [name for name in ORDERS if name != "by-year"])
def test_import_order_does_not_change_the_result(workspaces: dict[str, Workspace], order: str) -> None:
    expected, got = results(workspaces["by-year"]), results(workspaces[order])
    for key in expected:
        assert got[key].disposals == expected[key].disposals, key
        assert got[key].income == expected[key].income, key
        assert got[key].holdings == expected[key].holdings, key
        assert got[key].problems == expected[key].problems, key


@pytest.mark.parametrize("order", [name for name in ORDERS if name != "by-year"])
def test_import_order_does_not_change_the_report(workspaces: dict[str, Workspace], order: str,
                                                 tmp_path: Path) -> None:
    expected = report_files(workspaces["by-year"], tmp_path / "out-by-year")
    assert report_files(workspaces[order], tmp_path / f"out-{order}") == expected


@pytest.mark.parametrize(
    ("a_account", "b_account"), [("a", "b"), ("x", "x")], ids=["two-accounts", "one-account-two-files"])
def test_same_second_transactions_do_not_follow_import_order(tmp_path: Path, a_account: str, b_account: str) -> None:
    """Two buys of 1 ETH at the same second, for $2,000 (file a) and $3,000 (file b); b also sells 1 ETH on
    1 March for $3,500. Whatever the import order, the sale must match the same lot (and leave the other)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    a = write_koinly(folder / "a.csv", "2024-01-02 10:00:00 UTC,2000,USD,1,ETH,,,,,,Buy,")
    b = write_koinly(folder / "b.csv", "2024-01-02 10:00:00 UTC,3000,USD,1,ETH,,,,,,Buy,",
                     "2024-03-01 10:00:00 UTC,1,ETH,3500,USD,,,,,,Sell,")
    outcomes = set()
    for index, order in enumerate(([(a_account, a), (b_account, b)], [(b_account, b), (a_account, a)],
                                   [(a_account, a), (b_account, b), (a_account, a)])):
        ws = init_workspace(tmp_path / f"ws{index}", jurisdiction="us")
        for account, path in order:
            service.import_files(ws, [path], account=account)
        result = service.tax_result(ws, ws.settings)
        outcomes.add((tuple((d.ref, d.cost) for d in result.disposals),
                      tuple((h.amount, h.cost) for h in result.holdings)))
        ws.engine.dispose()
    assert len(outcomes) == 1, outcomes
