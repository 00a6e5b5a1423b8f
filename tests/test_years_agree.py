"""A year's report agrees with a report of that year and the next: rules that look past a year's end (UK
matching's 30 days, CRYPTO22256; Canada's superficial loss, ITA s.54) see the same days in both.

Hypothesis writes histories crowded around the boundary between two tax years (buys, sells, swaps, income,
moves between two wallets, valued in the tax currency), imports them, and asks the pipeline for year N, year
N+1 and one period covering both, under every jurisdiction and method and either tracking: year N's rows are
the same in its own report and in the two-year one (so are N+1's), and N+1 opens with what N closed with.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxsync.app.file_import import import_files
from taxsync.app.pipeline import analyze
from taxsync.app.report import figures_from
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.tax.engine import METHODS
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from taxsync.tax.records import Holding
from taxsync.types import Asset, local_date
from tests.conftest import write_koinly

_files = itertools.count()
row = st.tuples(
    st.sampled_from(["buy", "buy", "sell", "sell", "swap", "reward", "move"]),
    st.sampled_from(["BTC", "ETH"]),
    st.one_of(st.integers(-45, 45), st.integers(-300, 300)),  # days from the boundary: most close to it
    st.integers(0, 23),  # hour
    st.integers(1, 3000),  # units in thousandths
    st.integers(100, 500_000),  # value in cents of the tax currency
    st.sampled_from(["a", "b"]),
)


def _line(kind: str, asset: str, day: date, hour: int, amount: int, cents: int, currency: str) -> str:
    when = f"{day.isoformat()} {hour:02d}:30:00 UTC"
    units, value, other = f"{amount / 1000:.3f}", f"{cents / 100:.2f}", "ETH" if asset == "BTC" else "BTC"
    return {
        "buy": f"{when},{value},{currency},{units},{asset},,,{value},{currency},,,",
        "sell": f"{when},{units},{asset},{value},{currency},,,{value},{currency},,,",
        "swap": f"{when},{units},{asset},{units},{other},0.001,{asset},{value},{currency},,,",
        "reward": f"{when},,,{units},{asset},,,{value},{currency},staking,,",
        "out": f"{when},{units},{asset},,,,,,,,,",
        "in": f"{when},,,{units},{asset},,,,,,,",
    }[kind]


def _import(ws: Workspace, folder: Path, rows: list[tuple], boundary: date) -> None:  # type: ignore[type-arg]
    currency = ws.settings.currency
    lines: dict[str, list[str]] = {"a": [], "b": []}
    for kind, asset, offset, hour, amount, cents, wallet in rows:
        day = boundary + timedelta(days=offset)
        if kind == "move":  # out of one wallet, into the other an hour later: matched as a transfer
            other = "b" if wallet == "a" else "a"
            lines[wallet].append(_line("out", asset, day, min(hour, 22), amount, cents, currency))
            lines[other].append(_line("in", asset, day, min(hour, 22) + 1, amount, cents, currency))
        else:
            lines[wallet].append(_line(kind, asset, day, hour, amount, cents, currency))
    for wallet, found in lines.items():
        if found:
            import_files(ws, [write_koinly(folder / f"{wallet}{next(_files)}.csv", *found)], account=wallet,
                         fmt="koinly")


CASES = [(code, method) for code in JURISDICTIONS for method in METHODS]


@pytest.mark.parametrize(("code", "method"), CASES)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=6, max_size=30), tracking=st.sampled_from(["universal", "per-wallet"]))
def test_a_year_agrees_with_the_two_years_it_begins(tmp_path_factory: pytest.TempPathFactory, code: str,
                                                    method: str, rows: list, tracking: str) -> None:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp(f"{code}-{method}")
    ws = init_workspace(folder / "ws", jurisdiction=code)
    ws = replace(ws, settings=replace(ws.settings, method=method, tracking=tracking))
    jurisdiction, zone = JURISDICTIONS[code], ZoneInfo(ws.settings.timezone)
    first = TaxPeriod.tax_year_of(jurisdiction, zone, "2024")
    second = TaxPeriod.tax_year_containing(jurisdiction, zone, local_date(first.end_ms, zone))
    both = TaxPeriod.parse(jurisdiction, zone, start=first.first.isoformat(), end=second.last.isoformat())
    assert both is not None
    _import(ws, folder, rows, second.first)

    def figures(period: TaxPeriod):  # type: ignore[no-untyped-def]
        return figures_from(ws, ws.settings, period, analyze(ws, ws.settings, period, opening=True))

    one, two, whole = figures(first), figures(second), figures(both)
    assert one.result.disposals == tuple(d for d in whole.result.disposals if first.covers_day(d.disposed))
    assert two.result.disposals == tuple(d for d in whole.result.disposals if second.covers_day(d.disposed))
    assert one.result.income == tuple(i for i in whole.result.income if first.covers_day(i.received))
    assert two.opening == one.result.holdings
    assert whole.opening == one.opening and whole.result.holdings == two.result.holdings


def test_a_uk_sale_before_the_year_end_is_matched_with_the_buys_after_it(tmp_path: Path) -> None:
    """A disposal on 3 April 2023 and buys of the token on 29 and 30 April 2023: the 2022-23 report matches the
    sale with those buys (bed and breakfast, TCGA 1992 s.106A, CRYPTO22256), as BittyTax does, and the
    Section 104 pool keeps the bought units' cost; 2023-24 opens with that pool."""
    ws = init_workspace(tmp_path / "ws", jurisdiction="uk")
    import_files(ws, [write_koinly(tmp_path / "k.csv",
                                   "2022-06-01 10:00:00 UTC,20000,GBP,1,BTC,,,20000,GBP,,,",
                                   "2023-04-03 10:00:00 UTC,0.5,BTC,12000,GBP,,,12000,GBP,,,",
                                   "2023-04-29 10:00:00 UTC,5000,GBP,0.2,BTC,,,5000,GBP,,,",
                                   "2023-04-30 10:00:00 UTC,7000,GBP,0.3,BTC,,,7000,GBP,,,")],
                 account="wallet", fmt="koinly")
    zone = ZoneInfo(ws.settings.timezone)
    year, next_year = (TaxPeriod.tax_year_of(JURISDICTIONS["uk"], zone, label) for label in ("2022-23", "2023-24"))
    closing = figures_from(ws, ws.settings, year, analyze(ws, ws.settings, year, opening=True))
    rows = [(d.rule, d.acquired, d.amount, d.proceeds, d.cost) for d in closing.result.disposals]
    assert rows == [("bed-and-breakfast", date(2023, 4, 29), D("0.2"), D("4800"), D("5000")),
                    ("bed-and-breakfast", date(2023, 4, 30), D("0.3"), D("7200"), D("7000"))]
    assert closing.result.holdings == (Holding(Asset("BTC"), D("1"), D("20000"), "all"),)
    assert closing.integrity.differences == 0  # the pool holds the sold units until the buys come
    opening = figures_from(ws, ws.settings, next_year, analyze(ws, ws.settings, next_year, opening=True))
    assert opening.opening == closing.result.holdings and opening.result.disposals == ()
