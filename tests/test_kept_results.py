"""Results kept between commands always equal a cold recomputation.

Hypothesis plays a user's season: imports of small files into a few accounts, costs given for deposits, an
account removed, figures kept ahead (``prepare``, one pipeline run for the overview and the newest year's
report), questions asked under several methods; after every step each kept answer (holdings at a
day, the overview behind `holdings` and `problems`, a year's report figures) must equal the same question
computed afresh with nothing kept. The kept side resumes from the checkpoints at tax years' starts where the
history before them did not change (``taxsync.app.resume``); the fresh side reads and resumes nothing.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app import accounts, results, views
from taxsync.app.file_import import import_files
from taxsync.app.pipeline import tax_result
from taxsync.app.prepare import prepare
from taxsync.app.report import kept_report_figures, report_figures
from taxsync.app.transfers import set_deposit_cost
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.db import Transaction
from taxsync.errors import TaxsyncError
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from tests.conftest import write_koinly

ASSETS = ("BTC", "ETH", "SOL")
_files = itertools.count()

row = st.tuples(
    st.sampled_from(["buy", "sell", "deposit", "withdrawal", "reward"]),
    st.sampled_from(ASSETS),
    st.integers(1, 400),  # day of 2023-2024
    st.integers(1, 5000),  # amount in thousandths
    st.integers(100, 90_000),  # value in USD
)
step = st.one_of(
    st.tuples(st.just("import"), st.sampled_from(["wallet", "exchange", "cold"]), st.lists(row, min_size=1,
                                                                                          max_size=6)),
    st.tuples(st.just("cost"), st.integers(0, 10), st.integers(1, 50_000)),
    st.tuples(st.just("remove"), st.sampled_from(["wallet", "exchange", "cold"])),
    st.tuples(st.just("prepare")),  # what an import, the nightly job and prices sync do when they are done
)
question = st.tuples(st.sampled_from(["fifo", "hifo", "lifo", "uk-pooling", "acb"]),  # UK pooling resumes too
                     st.sampled_from([None, date(2023, 6, 30), date(2024, 12, 31)]), st.sampled_from(["2023", "2024"]))


def _line(kind: str, asset: str, day: int, amount: int, usd: int) -> str:
    when = f"{date.fromordinal(date(2023, 1, 1).toordinal() + day).isoformat()} 12:00:00 UTC"
    units, value = f"{amount / 1000:.3f}", f"{usd / 100:.2f}"
    return {
        "buy": f"{when},{value},USD,{units},{asset},,,{value},USD,,,",
        "sell": f"{when},{units},{asset},{value},USD,,,{value},USD,,,",
        "deposit": f"{when},,,{units},{asset},,,,,,,",
        "withdrawal": f"{when},{units},{asset},,,,,,,,,",
        "reward": f"{when},,,{units},{asset},,,{value},USD,staking,,",
    }[kind]


def _apply(ws: Workspace, folder: Path, action: tuple) -> None:  # type: ignore[type-arg]
    event(action[0])
    if action[0] == "import":
        path = write_koinly(folder / f"f{next(_files)}.csv", *(_line(*r) for r in action[2]))
        import_files(ws, [path], account=action[1], fmt="koinly")
    elif action[0] == "cost":
        with Session(ws.engine) as session:
            deposits = list(session.scalars(select(Transaction.ref).where(Transaction.kind == "deposit")
                                            .order_by(Transaction.id)))
        if deposits:
            set_deposit_cost(ws, deposits[action[1] % len(deposits)], f"{action[2]}.00")
    elif action[0] == "prepare":
        prepare(ws)
    else:
        try:
            accounts.remove_account(ws, action[1])
        except Exception:  # an account not there: nothing to remove
            return


@contextmanager
def nothing_kept() -> Iterator[None]:
    """Compute afresh: no kept result is read and no checkpoint resumed from."""
    before = os.environ.get("TAXSYNC_NO_CACHE")
    os.environ["TAXSYNC_NO_CACHE"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["TAXSYNC_NO_CACHE"]
        else:
            os.environ["TAXSYNC_NO_CACHE"] = before


def _check(ws: Workspace, method: str, at: date | None, year: str) -> None:
    settings_ = replace(ws.settings, method=method)
    ws_m = replace(ws, settings=settings_)
    period = TaxPeriod.tax_year_of(JURISDICTIONS["us"], ZoneInfo(settings_.timezone), year)
    kept = views.holdings(ws_m, at=at), views.overview(ws_m), kept_report_figures(ws_m, settings_, period)
    with nothing_kept():
        cold = (tax_result(ws_m, settings_, at).holdings if at else views._overview(ws_m).holdings,
                views._overview(ws_m), report_figures(ws_m, settings_, period))
    assert kept == cold


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(step, st.lists(question, min_size=1, max_size=2)), min_size=1, max_size=4))
def test_kept_results_equal_a_cold_recomputation(tmp_path_factory: pytest.TempPathFactory,
                                                 steps: list) -> None:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("season")
    ws = init_workspace(folder / "ws", jurisdiction="us")
    for action, questions in steps:
        _apply(ws, folder, action)
        for method, at, year in questions:
            _check(ws, method, at, year)
            _check(ws, method, at, year)  # the second time it is read back


def test_a_change_moves_the_revision_and_a_read_does_not(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us")
    start = results.revision(ws)
    views.holdings(ws)
    assert results.revision(ws) == start  # reading computes and keeps, it changes no data
    path = write_koinly(tmp_path / "a.csv", _line("buy", "BTC", 10, 1000, 5000))
    import_files(ws, [path], account="wallet")
    assert results.revision(ws) > start
    before = results.revision(ws)
    bad = write_koinly(tmp_path / "b.csv", _line("buy", "ETH", 11, 1000, 5000), "not a date,1,BTC,,,,,,,,,")
    with pytest.raises(TaxsyncError, match=r"b\.csv.* line 3"):
        import_files(ws, [bad], account="wallet")  # rolled back whole, its revision with it
    assert results.revision(ws) == before


def test_kept_results_are_read_back_not_computed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us")
    import_files(ws, [write_koinly(tmp_path / "a.csv", _line("buy", "BTC", 10, 1000, 5000))], account="wallet")
    first = views.holdings(ws)
    calls = []
    monkeypatch.setattr(views, "_overview", lambda ws, progress: calls.append(ws) or views.Overview((), ()))
    assert views.holdings(ws) == first and calls == []
    assert list((ws.home / results.FOLDER).glob("*.pickle"))
    monkeypatch.setenv("TAXSYNC_NO_CACHE", "1")
    assert views.holdings(ws) == () and len(calls) == 1


def test_what_an_older_revision_kept_is_dropped(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us")
    import_files(ws, [write_koinly(tmp_path / "a.csv", _line("buy", "BTC", 10, 1000, 5000))], account="wallet")
    views.holdings(ws)
    first = {p.name for p in (ws.home / results.FOLDER).glob("*.pickle")}
    import_files(ws, [write_koinly(tmp_path / "b.csv", _line("buy", "ETH", 11, 1000, 5000))], account="wallet")
    views.holdings(ws)
    now = {p.name for p in (ws.home / results.FOLDER).glob("*.pickle")}
    assert first and now and not first & now  # only the current revision's results stay


def test_report_files_in_the_reports_folder_are_not_code() -> None:
    """`make demo` writes its report into the checkout's reports/ folder: that must not look like new code."""
    before = results.code_fingerprint.__wrapped__()
    written = Path(results.__file__).resolve().parents[2] / "reports" / "taxsync-fingerprint-test.csv"
    try:
        written.write_text("Date,Amount\n")
        assert results.code_fingerprint.__wrapped__() == before
    finally:
        written.unlink(missing_ok=True)
