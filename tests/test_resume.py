"""After a small import the pipeline values and books only the tax year it changed (``taxsync.app.resume``),
and finds what a cold run finds."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from taxsync.app import prepare as prepare_module
from taxsync.app import results
from taxsync.app.file_import import import_files
from taxsync.app.pipeline import Analysis
from taxsync.app.prepare import prepare
from taxsync.app.report import report_figures
from taxsync.app.resume import CHECKPOINTS
from taxsync.app.transfers import set_deposit_cost
from taxsync.app.views import _overview
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from taxsync.types import day_start
from tests.conftest import write_koinly
from tests.test_kept_results import nothing_kept

HISTORY = ("2023-02-01 10:00:00 UTC,1000,USD,0.05,BTC,,,1000,USD,,,",
           "2023-06-01 10:00:00 UTC,0.02,BTC,700,USD,,,700,USD,,,",
           "2023-07-01 10:00:00 UTC,,,1.5,ETH,,,,,,,",
           "2024-03-01 10:00:00 UTC,0.01,BTC,500,USD,,,500,USD,,,",
           "2024-04-01 10:00:00 UTC,,,0.001,BTC,,,60,USD,staking,,")


@pytest.fixture
def resumed(monkeypatch: pytest.MonkeyPatch) -> list[Analysis]:
    """The analyses ``prepare`` computes, to see where each started."""
    seen: list[Analysis] = []
    analyze = prepare_module.analyze

    def spy(*args: object, **kwargs: object) -> Analysis:
        analysis = analyze(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(analysis)
        return analysis

    monkeypatch.setattr(prepare_module, "analyze", spy)
    return seen


def _year(ws: Workspace, year: str) -> TaxPeriod:
    return TaxPeriod.tax_year_of(JURISDICTIONS[ws.settings.jurisdiction], ZoneInfo(ws.settings.timezone), year)


def _same_as_cold(ws: Workspace, year: str) -> None:
    kept = report_figures(ws, ws.settings, _year(ws, year)), _overview(ws)
    with nothing_kept():
        assert kept == (report_figures(ws, ws.settings, _year(ws, year)), _overview(ws))


def _import(ws: Workspace, path: Path, *rows: str) -> None:
    import_files(ws, [write_koinly(path, *rows)], account="wallet", fmt="koinly")
    prepare(ws)


def test_an_import_into_the_newest_year_resumes_at_its_start(tmp_path: Path, resumed: list[Analysis]) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us")
    _import(ws, tmp_path / "a.csv", *HISTORY)
    assert resumed[-1].since is None  # nothing kept yet: from the beginning
    assert list((ws.home / results.FOLDER / CHECKPOINTS).glob("*.pickle"))
    _import(ws, tmp_path / "b.csv", "2024-05-01 10:00:00 UTC,0.01,BTC,650,USD,,,650,USD,,,")
    assert resumed[-1].since == day_start(_year(ws, "2024").first, ZoneInfo(ws.settings.timezone))
    assert {d.disposed.year for d in resumed[-1].result.disposals} == {2024}
    _same_as_cold(ws, "2024")
    _same_as_cold(ws, "2023")


@pytest.mark.parametrize("change", ["older year", "cost given"])
def test_a_change_before_the_cut_starts_from_the_beginning(tmp_path: Path, resumed: list[Analysis],
                                                           change: str) -> None:
    ws = init_workspace(tmp_path / "ws", jurisdiction="us")
    _import(ws, tmp_path / "a.csv", *HISTORY)
    if change == "older year":
        _import(ws, tmp_path / "b.csv", "2023-09-01 10:00:00 UTC,0.01,BTC,300,USD,,,300,USD,,,")
    else:
        set_deposit_cost(ws, "wallet/a.csv:4", "2500.00")
        prepare(ws)
    assert resumed[-1].since is None
    _same_as_cold(ws, "2024")


def test_uk_pooling_resumes_and_matches_across_the_cut(tmp_path: Path, resumed: list[Analysis]) -> None:
    """UK booking only collects each day's acquisitions and disposals; matching them waits for the end, so a
    sale before the cut is still matched with a buy after it (bed and breakfast) when resuming."""
    ws = init_workspace(tmp_path / "ws", jurisdiction="uk")
    _import(ws, tmp_path / "a.csv", *HISTORY, "2024-04-03 10:00:00 UTC,0.01,BTC,400,USD,,,400,USD,,,")
    _import(ws, tmp_path / "b.csv", "2024-04-20 10:00:00 UTC,400,USD,0.01,BTC,,,400,USD,,,")
    # the first import's newest day was in 2023-24: its start is the latest cut with a checkpoint
    assert resumed[-1].since == day_start(_year(ws, "2023-24").first, ZoneInfo(ws.settings.timezone))
    assert "bed-and-breakfast" in {d.rule for d in resumed[-1].result.disposals}
    _same_as_cold(ws, "2024")
    _same_as_cold(ws, "2025")


def test_canada_keeps_no_checkpoint(tmp_path: Path, resumed: list[Analysis]) -> None:
    """Canada's superficial-loss rule looks 30 days ahead while it books a sale: no state at a year's start
    says what comes after it."""
    ws = init_workspace(tmp_path / "ws", jurisdiction="ca")
    _import(ws, tmp_path / "a.csv", *HISTORY)
    _import(ws, tmp_path / "b.csv", "2024-05-01 10:00:00 UTC,0.01,BTC,650,CAD,,,650,CAD,,,")
    assert resumed[-1].since is None
    assert not list((ws.home / results.FOLDER / CHECKPOINTS).glob("*.pickle"))
    _same_as_cold(ws, "2024")
