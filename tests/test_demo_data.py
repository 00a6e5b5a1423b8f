"""The bundled sample history, computed by hand (US, FIFO, universal tracking, 2024).

Lots before 2024 (cost includes USD fees):
  BTC A 0.5 @ 42,020 (2022-01-10): 0.0002 paid as transfer fee 2023-05-05, 0.2 sold 2023-08-01 -> 0.2998 left
  BTC B 0.25 @ 20,820 (2022-06-20);  BTC C 0.07 for 1,650 (2023-02-14, from 1 ETH)
  ETH E1 4 @ 2,801.40 (2022-03-15): 1 swapped + 0.002 fee on 2023-02-14 -> 2.998 left;  ETH E2 2 for 3,103
2024 disposals:
  01-20  2 ETH from E1           proceeds 5,000 - 10 = 4,990      cost 5,602.80   long   -612.80
  04-02  0.1 BTC from A (swap)   proceeds 6,800 - 2.50 = 6,797.50 cost 4,202      long  2,595.50
  06-28  0.15 BTC from A         proceeds 9,150 - 20 = 9,130      cost 6,303      long  2,827
  09-10  400 ADA, no purchase    proceeds 140 - 1 = 139           cost 0          short   139   (a problem)
  11-15  5 SOL of 10 @ 150.20    proceeds 1,100 - 3 = 1,097       cost 751        short   346
  12-05  0.0001 BTC network fee  proceeds 0.0001 x 98,000 = 9.80  cost 4.202      long    5.598
  12-20  0.1 BTC: 0.0497 A + 0.0503 B   proceeds 9,700 - 12 = 9,688   cost 2,088.394 + 1,047.246   long 6,552.36
Staking income 2024: 245 + 270 + 208 + 300 = 1,023.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from taxsync.app import service
from taxsync.app.workspace import Workspace
from taxsync.tax.records import Term
from tests.conftest import SAMPLE


def test_sample_history_2024(workspace: Workspace) -> None:
    service.import_files(workspace, [SAMPLE / "coinbase.csv"], account="coinbase")
    service.import_files(workspace, [SAMPLE / "ledger.csv"], account="ledger")
    result = service.tax_result(workspace, workspace.settings, through=date(2024, 12, 31))
    rows = [(d.disposed.isoformat(), d.asset, d.amount, d.proceeds, d.cost, d.term)
            for d in result.disposals if d.disposed.year == 2024]
    assert rows == [
        ("2024-01-20", "ETH", D("2"), D("4990"), D("5602.8"), Term.LONG),
        ("2024-04-02", "BTC", D("0.1"), D("6797.5"), D("4202"), Term.LONG),
        ("2024-06-28", "BTC", D("0.15"), D("9130"), D("6303"), Term.LONG),
        ("2024-09-10", "ADA", D("400"), D("139"), D("0"), Term.SHORT),
        ("2024-11-15", "SOL", D("5"), D("1097"), D("751"), Term.SHORT),
        ("2024-12-05", "BTC", D("0.0001"), D("9.8"), D("4.202"), Term.LONG),
        ("2024-12-20", "BTC", D("0.1"), D("9688"), D("3135.64"), Term.LONG),
    ]
    assert [d.acquired for d in result.disposals if d.disposed == date(2024, 12, 20)] == [None]  # "various"
    assert sum((i.value or D(0) for i in result.income if i.received.year == 2024), D(0)) == D("1023")
    assert [p.kind.value for p in result.problems] == ["missing_cost_basis"]


def test_the_demo_is_the_same_on_any_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` runs the simulator with a fixed last day (--end) and writes the report with
    SOURCE_DATE_EPOCH: the history and the report's date are the same whatever day it runs."""
    import time

    from importer.simulator.__main__ import _day
    from importer.simulator.history import generate_history
    from taxsync.app.report import generated_at

    end = _day("2025-06-30")
    today = generate_history(seed=2024, trades=60, traded=3, markets=20, end_ms=end)
    later = time.time() + 400 * 86_400
    monkeypatch.setattr(time, "time", lambda: later)
    assert generate_history(seed=2024, trades=60, traded=3, markets=20, end_ms=end) == today
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1751328000")
    assert generated_at().isoformat() == "2025-07-01T00:00:00+00:00"
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "--end 2025-06-30" in makefile and "SOURCE_DATE_EPOCH=$(DEMO_EPOCH)" in makefile
