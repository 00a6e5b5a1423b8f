"""The same Binance history through the API (simulator -> ccxt -> import) and from its export counts once."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from importer.simulator.history import SimHistory
from taxsync.app import accounts, service
from taxsync.app.workspace import Workspace
from taxsync.assets import FIAT
from taxsync.ledger.records import Transaction
from taxsync.ledger.store import load_ledger
from taxsync.problems import Severity
from taxsync.types import TimestampMs, to_datetime
from tests.accounts.export_writer import binance_export, binance_trade_export


def loaded(ws: Workspace) -> tuple[list[Transaction], list]:
    with Session(ws.engine) as session:
        return load_ledger(session)


def sums(transactions: list[Transaction]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for tx in transactions:
        for leg in tx.legs:
            total[leg.asset] = total.get(leg.asset, Decimal(0)) + leg.amount
    return {asset: amount for asset, amount in total.items() if amount}


@pytest.mark.parametrize("into", ["binance-main", "binance-export"])
def test_api_and_export_of_one_history_count_once(binance_ws: Workspace, history: SimHistory, tmp_path: Path,
                                                  into: str) -> None:
    (result,) = accounts.import_accounts(binance_ws, retry_delay=0.01)
    assert result.ok, result.error
    api_only, _ = loaded(binance_ws)
    expected = {asset: amount for asset, amount in history.balances().items() if amount}
    assert sums(api_only) == expected
    held = held_amounts(binance_ws)
    assert held == {asset: amount for asset, amount in expected.items() if asset not in FIAT}
    summary = service.import_files(binance_ws, [binance_export(history, tmp_path / "binance.csv")], account=into)
    transactions, problems = loaded(binance_ws)
    assert sums(transactions) == expected  # not twice
    assert sorted(tx.ref for tx in transactions) == sorted(tx.ref for tx in api_only)
    copies = [p for p in problems if p.kind.value == "duplicate_suspicion" and p.severity is Severity.INFO]
    ambiguous = [p for p in problems if "do not make one trade" in p.message]  # two markets in one second
    assert len(copies) == summary.rows - len(ambiguous) > 2000  # every record of the export is a copy
    assert all(p.source.startswith(f"{into}/binance.csv:") for p in copies)
    assert held_amounts(binance_ws) == held  # the tax engine's holdings: each event once


def held_amounts(ws: Workspace) -> dict[str, Decimal]:
    """What the tax engine says is held per asset, from every account (the report's holdings)."""
    total: dict[str, Decimal] = {}
    for holding in service.holdings(ws):
        total[holding.asset] = total.get(holding.asset, Decimal(0)) + holding.amount
    return {asset: amount for asset, amount in total.items() if amount}


def test_the_spot_trade_history_beside_the_api_counts_once(binance_ws: Workspace, history: SimHistory,
                                                            tmp_path: Path) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    api_only, _ = loaded(binance_ws)
    summary = service.import_files(binance_ws, [binance_trade_export(history, tmp_path / "trades.csv")],
                                   account="binance-trades")
    transactions, problems = loaded(binance_ws)
    assert summary.rows == len(history.trades)
    assert sorted(tx.ref for tx in transactions) == sorted(tx.ref for tx in api_only)
    assert sum(p.severity is Severity.INFO for p in problems) == len(history.trades)


def test_a_near_copy_is_suspected_not_merged(binance_ws: Workspace, history: SimHistory, tmp_path: Path,
                                             cli: object) -> None:
    accounts.import_accounts(binance_ws, retry_delay=0.01)
    first = sorted(history.trades, key=lambda t: t.time)[0]
    market = history.market(first.symbol)
    assert market is not None
    base_asset = market.base if first.is_buyer else market.quote
    qty = first.qty if first.is_buyer else first.quote_qty
    other = market.quote if first.is_buyer else market.base
    when = first.time + 20_000  # 20 s later, and another price: not certainly the same trade
    stamp = to_datetime(TimestampMs(when)).strftime("%Y-%m-%d %H:%M:%S")
    path = tmp_path / "one.csv"
    path.write_text("User_ID,UTC_Time,Account,Operation,Coin,Change,Remark\n"
                    f"1,{stamp},Spot,Transaction Buy,{base_asset},{qty},\n"
                    f"1,{stamp},Spot,Transaction Spend,{other},-123.45,\n")
    service.import_files(binance_ws, [path], account="binance-main")
    transactions, problems = loaded(binance_ws)
    assert [t.ref for t in transactions if "one.csv" in t.ref] == ["binance-main/one.csv:2"]  # kept
    suspects = [p for p in problems if p.severity is Severity.WARNING and p.kind.value == "duplicate_suspicion"]
    assert [p.source for p in suspects] == ["binance-main/one.csv:2"]
    output = cli("problems", "--json", "--home", binance_ws.home).output  # type: ignore[operator]
    assert "binance-main/one.csv:2" in output and "may be the same as" in output
    listed = json.loads(cli("problems", "--json", "--severity", "warning", "--kind",  # type: ignore[operator]
                            "duplicate_suspicion", "--home", binance_ws.home).output)
    assert [(p["severity"], p["source"]) for p in listed] == [("warning", "binance-main/one.csv:2")]
    everything = json.loads(cli("problems", "--json", "--home", binance_ws.home).output)  # type: ignore[operator]
    assert {p["severity"] for p in everything} > {"warning"} and len(everything) > len(listed)
    errors = json.loads(cli("problems", "--json", "--severity", "error", "--home", binance_ws.home).output)  # type: ignore[operator]
    assert errors == [p for p in everything if p["severity"] == "error"]
