"""Properties: whatever the history (buys, sales, swaps with fees, transfers between own accounts, income, gifts,
sales of units never acquired), the beancount export loads without an error and its gains are taxsync's, and the
Koinly export re-imports into the same ledger."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from beancount import loader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxsync.app import service
from taxsync.app.workspace import init_workspace
from tests.conftest import KOINLY_HEADER

ASSETS = ("BTC", "ETH")
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("2"), places=3)
prices = st.decimals(min_value=Decimal("10"), max_value=Decimal("50000"), places=2)
fees = st.one_of(st.just(Decimal(0)), st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.01"), places=4))
row = st.tuples(st.sampled_from(("buy", "sell", "swap", "move", "income", "gift")), st.sampled_from(ASSETS),
                amounts, prices, fees, st.sampled_from(("a", "b")))


def _lines(history: list[tuple], start: date) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {"a": [], "b": []}
    for day, (kind, asset, amount, price, fee, account) in enumerate(history):
        when = f"{start + timedelta(days=day)} 12:00 UTC"
        other = ASSETS[1 - ASSETS.index(asset)]
        fee_cells = f"{fee},{asset}" if fee else ","
        if kind == "buy":
            files[account].append(f"{when},{amount * price},USD,{amount},{asset},{fee_cells},,,,,")
        elif kind == "sell":
            files[account].append(f"{when},{amount},{asset},{amount * price},USD,{fee_cells},,,,,")
        elif kind == "swap":
            files[account].append(f"{when},{amount},{asset},{amount * 3},{other},{fee_cells},{amount * price},USD,"
                                  "swap,,")
        elif kind == "move":
            target = "b" if account == "a" else "a"
            files[account].append(f"{when},{amount},{asset},,,{fee_cells},,,,,0xmove{day}")
            files[target].append(f"{when.replace('12:00', '12:30')},,,{amount},{asset},,,,,,,0xmove{day}")
        elif kind == "income":
            files[account].append(f"{when},,,{amount},{asset},,,{amount * price},USD,staking,,")
        else:
            files[account].append(f"{when},{amount},{asset},,,,,,,gift,,")
    return files


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=14), st.sampled_from(("fifo", "lifo", "hifo")),
       st.sampled_from((date(2024, 3, 1), date(2024, 12, 25))))  # the second crosses into per-wallet basis (US 2025)
def test_beancount_export_of_any_history_loads_with_taxsyncs_gains(history: list[tuple], method: str,
                                                                   start: date) -> None:
    folder = Path(tempfile.mkdtemp(prefix="taxsync-bean-"))
    try:
        ws = init_workspace(folder / "ws", jurisdiction="us", method=method)
        for account, lines in _lines(history, start).items():
            if lines:
                path = folder / f"{account}.csv"
                path.write_text("\n".join([KOINLY_HEADER, *lines]) + "\n", encoding="utf-8")
                service.import_files(ws, [path], account=account)
        [out] = service.export_ledger(ws, fmt="beancount", out=folder / "x.beancount")
        entries, errors, _ = loader.load_file(str(out))
        assert errors == [], [str(error.message) for error in errors]
        found = -sum((posting.units.number for entry in entries for posting in getattr(entry, "postings", ())
                      if posting.account.startswith("Income:Taxsync:Gains")), Decimal(0))
        expected = sum((d.gain for d in service.tax_result(ws, ws.settings).disposals), Decimal(0))
        assert abs(found - expected) < Decimal("1e-7")
        ws.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=14))
def test_koinly_export_of_any_history_reimports_into_the_same_ledger(history: list[tuple]) -> None:
    from tests.reports.exports.test_export import ledger

    folder = Path(tempfile.mkdtemp(prefix="taxsync-koinly-"))
    try:
        ws = init_workspace(folder / "ws", jurisdiction="us")
        again = init_workspace(folder / "again", jurisdiction="us")
        accounts = []
        for account, lines in _lines(history, date(2024, 3, 1)).items():
            if lines:
                path = folder / f"{account}.csv"
                path.write_text("\n".join([KOINLY_HEADER, *lines]) + "\n", encoding="utf-8")
                service.import_files(ws, [path], account=account)
                accounts.append(account)
        paths = service.export_ledger(ws, fmt="koinly", out=folder / "out" / "k.csv")
        for path in paths:  # one account: the file is the one asked for; several: one per account, named after it
            service.import_files(again, [path], account=accounts[0] if len(paths) == 1 else path.stem[2:])
        assert ledger(again) == ledger(ws)
        ws.engine.dispose()
        again.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
