"""Golden tests of the exchange and interchange formats: each sample file under tests/fixtures/exports/<format>/
(written from the layouts the exchanges and tools document) is detected by its header and gives exactly the
transactions in that folder's expected.txt: kind, legs with signed amounts and roles, time in UTC milliseconds,
stated value, exchange id and the problems found."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from importer.files import FORMATS, read_file
from taxsync.app import service
from taxsync.app.workspace import Workspace
from taxsync.errors import InputError
from taxsync.ledger.records import Transaction
from taxsync.ledger.sources import NORMALIZERS, Normalized
from taxsync.types import decimal_text

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"
GOLDEN = ("kucoin", "bybit", "okx", "cointracking", "bittytax")


def render(ref: str, result: Normalized) -> str:
    tx: Transaction | None = result.transaction
    assert tx is not None
    kind = f"{tx.kind.value}/{tx.subkind}" if tx.subkind else tx.kind.value
    legs = ", ".join(f"{leg.asset} {decimal_text(leg.amount)} {leg.role.value}" for leg in tx.legs)
    quote = f"{decimal_text(tx.quote.amount)} {tx.quote.currency}" if tx.quote else "-"
    problems = ", ".join(p.kind.value for p in result.problems) or "-"
    return f"{ref} {tx.timestamp} {kind} | {legs} | {quote} | {tx.exchange_id or '-'} | {problems}"


def normalized(folder: str) -> list[str]:
    lines = []
    for path in sorted((EXPORTS / folder).glob("*.csv")):
        read = read_file(path, FORMATS)
        assert read.format.name.startswith(folder), f"{path.name} detected as {read.format.name}"
        for row in read.rows:
            result = NORMALIZERS[read.format.name](json.loads(row.payload), "acct", f"{path.name}:{row.line}")
            if result.transaction is not None:
                lines.append(render(f"{path.name}:{row.line}", result))
    return lines


@pytest.mark.parametrize("folder", GOLDEN)
def test_sample_files_give_the_expected_transactions(folder: str) -> None:
    expected = [line for line in (EXPORTS / folder / "expected.txt").read_text().splitlines()
                if line and not line.startswith("#")]
    assert normalized(folder) == expected


@pytest.mark.parametrize("folder", GOLDEN)
def test_each_sample_is_detected_and_imports(workspace: Workspace, folder: str) -> None:
    paths = sorted((EXPORTS / folder).glob("*.csv"))
    summary = service.import_files(workspace, paths, account=f"{folder}-main")
    expected = [line for line in (EXPORTS / folder / "expected.txt").read_text().splitlines()
                if line and not line.startswith("#")]
    assert summary.transactions == len(expected)


def test_a_header_matching_no_format_names_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "kucoin-renamed.csv"
    text = (EXPORTS / "kucoin" / "spot-orders.csv").read_text().replace("Filled Volume,", "Deal Funds,", 1)
    path.write_text(text)
    with pytest.raises(InputError) as error:
        read_file(path, FORMATS)
    message = str(error.value)
    assert "Closest known formats: KuCoin spot orders or trade history (lacks Filled Volume)" in message
    assert error.value.line == 1


def test_cointracking_repeated_currency_columns_are_told_apart_by_position(tmp_path: Path) -> None:
    read = read_file(EXPORTS / "cointracking" / "trade-list.csv", FORMATS)
    trade = json.loads(read.rows[1].payload)
    assert (trade["Buy Currency"], trade["Sell Currency"], trade["Fee Currency"]) == ("BTC", "EUR", "EUR")
    assert "Cur." not in trade


@pytest.mark.parametrize(
    ("folder", "name", "old", "new", "line", "column"),
    [
        ("kucoin", "spot-orders.csv", "0.05,2125,2125", "0.05,2 125,2125", 2, "Filled Volume"),
        ("kucoin", "spot-orders.csv", ",ETH-BTC,SELL,", ",ETH-BTC,SHORT,", 3, "Side"),
        ("kucoin", "spot-orders.csv", "2024-02-20 12:01:11.750", "20/02/2024 12:01", 5, "Filled Time(UTC)"),
        ("bybit", "uta-spot-orders.csv", "ICPUSDT,LIMIT", "ICPXYZ,LIMIT", 3, "Spot Pairs"),
        ("bybit", "pre-uta-spot.csv", "2.247180000000000000 NEIRO", "2;24718 NEIRO", 3, "Fees"),
        ("cointracking", "trade-list.csv", '"0.42000000","DOT"', '"0.42000000",""', 6, "Cur. (column 3)"),
        ("kucoin", "trade-history-2021.csv", "0.25,975,0.975", "0.25,975,x", 3, "fee"),
        ("cointracking", "trade-list.csv", '"Spend","-","","0.00150000"', '"Spend","1","BTC","0.00150000"', 9, "Buy"),
        ("cointracking", "trade-list.csv", "31.02.2024", "31.02.2024", None, None),
        ("okx", "deposit-withdrawal-history.csv", "Withdrawal,200", "Transfer,200", 4, "Type"),
        ("bittytax", "records.csv", "2023-12-01T10:00:00 UTC", "2023-12-01T10:00:00 CET", 5, "Timestamp"),
        ("bittytax", "records.csv", "Trade,0.04,BTC,,1000,GBP", "Trade,0.04,BTC,,,", 3, "Sell Quantity"),
    ],
)
def test_a_bad_field_names_file_line_and_column(tmp_path: Path, folder: str, name: str, old: str, new: str,
                                                 line: int | None, column: str | None) -> None:
    source = (EXPORTS / folder / name).read_text()
    if line is None:  # a day that does not exist
        source = source.replace("15.02.2024", "31.02.2024")
        line, column = 14, "Date"
    assert old in source or line == 14
    path = tmp_path / name
    path.write_text(source.replace(old, new, 1))
    with pytest.raises(InputError) as error:
        read_file(path, FORMATS)
    assert (error.value.line, error.value.column) == (line, column), str(error.value)


def test_kucoin_movements_keep_their_hash_and_book_only_what_succeeded(tmp_path: Path) -> None:
    read = read_file(EXPORTS / "kucoin" / "withdrawals.csv", FORMATS)
    tx = NORMALIZERS[read.format.name](json.loads(read.rows[0].payload), "k", "withdrawals.csv:2").transaction
    assert tx is not None and tx.txhash.startswith("b6f6991d") and "bc1qar0s" in tx.description
    path = tmp_path / "deposits.csv"
    path.write_text((EXPORTS / "kucoin" / "deposits.csv").read_text().replace("FAILURE", "ON HOLD"))
    with pytest.raises(InputError, match="ON HOLD") as error:
        read_file(path, FORMATS)
    assert (error.value.line, error.value.column) == (3, "Status")


def test_okx_balance_that_cannot_be_the_amount_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "okx.csv"
    path.write_text((EXPORTS / "okx" / "deposit-withdrawal-history.csv").read_text().replace("0,1500.5,USDT",
                                                                                          "0,1400.5,USDT"))
    read = read_file(path, FORMATS)
    result = NORMALIZERS[read.format.name](json.loads(read.rows[0].payload), "o", "okx.csv:2")
    assert result.transaction is not None and result.transaction.legs[0].amount == Decimal("1500.5")
    assert [p.kind.value for p in result.problems] == ["integrity"]
