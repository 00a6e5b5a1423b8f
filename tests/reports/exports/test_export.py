"""taxsync export: Koinly universal CSV that re-imports into the same ledger, TurboTax universal CSV, and beancount
whose lots and gains are the tax engine's (loaded with beancount itself: no errors, the same gains)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from sqlalchemy.orm import Session

from taxsync.app import service
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.errors import UsageError
from taxsync.ledger.store import load_ledger
from tests.conftest import SAMPLE

EXPORTS = Path(__file__).parents[2] / "fixtures" / "exports"


def fill(ws: Workspace) -> None:
    """The bundled sample history (with a transfer between two accounts) and exchange exports."""
    service.import_files(ws, [SAMPLE / "coinbase.csv"], account="coinbase")
    service.import_files(ws, [SAMPLE / "ledger.csv"], account="ledger")
    service.import_files(ws, sorted((EXPORTS / "kucoin").glob("*.csv")), account="kucoin")
    service.import_files(ws, sorted((EXPORTS / "bybit").glob("*.csv")), account="bybit")


def ledger(ws: Workspace) -> list[tuple]:
    with Session(ws.engine) as session:
        transactions, _ = load_ledger(session)
    return sorted(
        (tx.account, tx.timestamp, tx.kind.value, tx.subkind,
         tuple(sorted((leg.asset, leg.amount, leg.role.value) for leg in tx.legs)),
         (tx.quote.amount, tx.quote.currency) if tx.quote else None, tx.description, tx.txhash)
        for tx in transactions
    )


def test_koinly_export_reimports_into_the_same_ledger(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    paths = service.export_ledger(workspace, fmt="koinly", out=tmp_path / "out" / "ledger.csv")
    assert sorted(path.name for path in paths) == [
        "ledger-bybit.csv", "ledger-coinbase.csv", "ledger-kucoin.csv", "ledger-ledger.csv"]
    again = init_workspace(tmp_path / "again", jurisdiction="us")
    for path in paths:
        service.import_files(again, [path], account=path.stem.removeprefix("ledger-"))
    assert ledger(again) == ledger(workspace)
    again.engine.dispose()


def test_koinly_export_keeps_kinds_of_interchange_formats(workspace: Workspace, tmp_path: Path) -> None:
    service.import_files(workspace, [EXPORTS / "bittytax" / "records.csv"], account="uk")
    service.import_files(workspace, sorted((EXPORTS / "cointracking").glob("*.csv")), account="ct")
    paths = service.export_ledger(workspace, fmt="koinly", out=tmp_path / "k.csv")
    again = init_workspace(tmp_path / "again", jurisdiction="us")
    for path in paths:
        service.import_files(again, [path], account=path.stem.removeprefix("k-"))

    def shape(rows: list[tuple]) -> list[tuple]:  # kind, legs and stated value; subkinds Koinly lacks may differ
        return [(account, ts, kind, legs, quote) for account, ts, kind, _, legs, quote, _, _ in rows]

    assert shape(ledger(again)) == shape(ledger(workspace))
    again.engine.dispose()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_turbotax_universal_rows(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    [path] = service.export_ledger(workspace, fmt="turbotax-universal", year="2024", out=tmp_path / "tt.csv")
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == ("Date,Type,Sent Asset,Sent Amount,Received Asset,Received Amount,Fee Asset,Fee Amount,"
                      "Market Value Currency,Market Value,Description,Transaction Hash,Transaction ID")
    table = rows(path)
    assert all(row["Date"].startswith("2024-") for row in table)
    sale = next(row for row in table if row["Transaction ID"] == "coinbase/coinbase.csv:11")
    assert (sale["Type"], sale["Sent Asset"], sale["Sent Amount"], sale["Received Amount"], sale["Fee Amount"],
            sale["Market Value"]) == ("Sale", "ETH", "2", "5000", "10", "5000.00")
    icp = next(row for row in table if row["Transaction ID"] in ("2200000000351556764", "bybit/uta-spot-orders.csv:3"))
    assert (icp["Type"], icp["Sent Asset"], icp["Received Asset"], icp["Fee Asset"]) == (
        "Convert", "USDT", "ICP", "ICP")
    sold = next(row for row in table if row["Transaction ID"] in ("2200000000355489633", "bybit/uta-spot-orders.csv:2"))
    assert (sold["Received Amount"], sold["Fee Amount"]) == ("49.973424", "0.04997342")  # 8 places at most
    assert not any(cell.startswith("-") for row in table for cell in row.values())  # TurboTax refuses negatives


def test_turbotax_transfer_is_one_row(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    [path] = service.export_ledger(workspace, fmt="turbotax-universal", out=tmp_path / "tt.csv")
    transfers = [row for row in rows(path) if row["Type"] == "Transfer"]
    assert [(row["Sent Asset"], row["Sent Amount"], row["Received Amount"]) for row in transfers] == [
        ("BTC", "0.3", "0.3"), ("BTC", "0.1", "0.1")]
    assert [row["Description"][:18] for row in transfers] == ["coinbase to ledger", "ledger to coinbase"]
    refs = [row["Transaction ID"] for row in rows(path)]
    assert "ledger/ledger.csv:2" not in refs and "ledger/ledger.csv:3" in refs  # deposits are on their transfer's row


def test_csv_exports_are_spreadsheet_safe(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
                   "Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
                   '2024-01-02 10:00,100,USD,0.002,BTC,,,,,,"=HYPERLINK(""http://x"")",@cmd\n', encoding="utf-8")
    service.import_files(workspace, [bad], account="x")
    for fmt in ("koinly", "turbotax-universal"):
        [path] = service.export_ledger(workspace, fmt=fmt, out=tmp_path / f"{fmt}.csv")
        cells = [cell for row in csv.reader(path.open(encoding="utf-8")) for cell in row]
        assert "'=HYPERLINK(\"http://x\")" in cells and "'@cmd" in cells
        assert not any(cell.startswith(("=", "@")) for cell in cells)


def gains_by_year(path: Path) -> dict[int, Decimal]:
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    totals: dict[int, Decimal] = {}
    for entry in entries:
        for posting in getattr(entry, "postings", ()):
            if posting.account.startswith("Income:Taxsync:Gains"):
                totals[entry.date.year] = totals.get(entry.date.year, Decimal(0)) - posting.units.number
    return totals


def test_beancount_books_taxsyncs_lots_and_gains(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    [path] = service.export_ledger(workspace, fmt="beancount", out=tmp_path / "all.beancount")
    text = path.read_text(encoding="utf-8")
    assert '0.5 BTC {{21010 USD, 2022-01-10, "coinbase/coinbase.csv:2"}}' in text
    assert 'ETH {"kucoin/trade-history-2021.csv:2"}' in text
    expected: dict[int, Decimal] = {}
    for disposal in service.tax_result(workspace, workspace.settings).disposals:
        expected[disposal.disposed.year] = expected.get(disposal.disposed.year, Decimal(0)) + disposal.gain
    found = gains_by_year(path)
    assert expected and found.keys() == expected.keys()
    for year, gain in expected.items():  # written to the nano-unit per transaction; equal to the cent
        assert abs(found[year] - gain) < Decimal("1e-7") and round(found[year], 2) == round(gain, 2)


def test_beancount_year_has_the_history_for_its_lots(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    [path] = service.export_ledger(workspace, fmt="beancount", year="2023", out=tmp_path / "2023.beancount")
    report = service.tax_result(workspace, workspace.settings)
    expected = sum((d.gain for d in report.disposals if d.disposed.year == 2023), Decimal(0))
    found = gains_by_year(path)
    assert abs(found[2023] - expected) < Decimal("1e-7") and max(found) == 2023


def test_beancount_needs_a_lot_method(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    with pytest.raises(UsageError, match="fifo"):
        service.export_ledger(workspace, fmt="beancount", method="acb", out=tmp_path / "x.beancount")
    assert not (tmp_path / "x.beancount").exists()


def test_export_cli(cli: Callable[..., object], workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace)
    result = cli("export", "--format", "beancount", "--year", "2024", "--out", tmp_path / "t.beancount",
                 "--home", workspace.home)
    assert "wrote" in result.output and (tmp_path / "t.beancount").exists()
    cli("export", "--format", "gnucash", "--home", workspace.home, code=2)


def test_export_of_a_range_of_days(cli: Callable[..., object], workspace: Workspace, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fill(workspace)
    monkeypatch.chdir(tmp_path)
    cli("export", "--format", "turbotax-universal", "--from", "2024-03-01", "--to", "2024-06-30", "--home",
        workspace.home)
    rows = (tmp_path / "taxsync-export-turbotax-universal-2024-03-01_2024-06-30.csv").read_text().splitlines()[1:]
    assert rows and all("2024-03-01" <= row[:10] <= "2024-06-30" for row in rows)  # Date is the first column
    whole = service.export_ledger(workspace, fmt="turbotax-universal", out=tmp_path / "all.csv")
    assert len(rows) < len(whole[0].read_text().splitlines()) - 1
    cli("export", "--format", "koinly", "--from", "2024-03-01", "--home", workspace.home, code=2)
    cli("export", "--format", "koinly", "--year", "2024", "--to", "2024-06-30", "--home", workspace.home, code=2)


def test_beancount_in_another_currency_with_fiat_at_its_value(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "de", jurisdiction="de")  # a transfer's fee leaves without a disposal here
    service.import_files(ws, [SAMPLE / "coinbase.csv"], account="coinbase")
    service.import_files(ws, [SAMPLE / "ledger.csv"], account="ledger")
    service.import_files(ws, sorted((EXPORTS / "cointracking").glob("*.csv")), account="ct")
    service.import_files(ws, [EXPORTS / "bittytax" / "records.csv"], account="bt")
    service.import_files(ws, sorted((EXPORTS / "kucoin").glob("*.csv")), account="ku")
    [path] = service.export_ledger(ws, fmt="beancount", out=tmp_path / "de.beancount")
    text = path.read_text(encoding="utf-8")
    assert "-1000 GBP @@ " in text and "EUR" in text and "Unvalued" not in text
    assert "Expenses:Taxsync:Fees" in text
    report = service.tax_result(ws, ws.settings)
    total = sum((d.gain for d in report.disposals), Decimal(0))
    assert abs(sum(gains_by_year(path).values()) - total) < Decimal("1e-7")
    ws.engine.dispose()


def test_beancount_per_wallet_moves_gifts_and_losses(workspace: Workspace, tmp_path: Path) -> None:
    """US basis per wallet from 2025: lots move with a transfer, a gift and a loss take lots out without a sale."""
    header = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
              "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
    (tmp_path / "a.csv").write_text("\n".join([
        header,
        "2024-03-01 10:00 UTC,30000,USD,1,BTC,15,USD,,,,buy,",
        "2024-09-01 10:00 UTC,20000,USD,0.5,BTC,,,,,,buy,",
        "2025-02-01 10:00 UTC,0.6,BTC,,,0.0002,BTC,,,,to b,0xabc",
        "2025-02-05 10:00 UTC,0.05,BTC,,,,,,,gift,present,",
        "2025-02-06 10:00 UTC,0.01,BTC,,,,,,,lost,,",
    ]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([
        header,
        "2025-02-01 10:30 UTC,,,0.6,BTC,,,,,,from a,0xabc",
        "2025-03-01 10:00 UTC,0.4,BTC,36000,USD,10,USD,,,,sell,",
    ]) + "\n")
    service.import_files(workspace, [tmp_path / "a.csv"], account="a")
    service.import_files(workspace, [tmp_path / "b.csv"], account="b")
    [path] = service.export_ledger(workspace, fmt="beancount", out=tmp_path / "w.beancount")
    text = path.read_text(encoding="utf-8")
    assert "Expenses:Taxsync:Gifts" in text and "Expenses:Taxsync:Lost" in text
    report = service.tax_result(workspace, workspace.settings)
    assert len(report.disposals) >= 2
    total = sum((d.gain for d in report.disposals), Decimal(0))
    assert abs(sum(gains_by_year(path).values()) - total) < Decimal("1e-7")


@pytest.mark.parametrize(("code", "name"), [("BTC", "BTC"), ("1INCH", "X1INCH"), ("X", "XX"), ("USDC.E", "USDC.E")])
def test_beancount_commodity_names(code: str, name: str) -> None:
    from reports.exports.beancount import commodity

    assert commodity(code) == name
