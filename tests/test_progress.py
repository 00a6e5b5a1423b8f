"""Progress of long commands: a bar on a terminal (stderr), plain throttled lines otherwise, nothing with
--quiet; the command's own output on stdout is the same in all three cases."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from taxsync.cli import common
from tests.conftest import SAMPLE

ROOT = Path(__file__).resolve().parent.parent


def taxsync(*args: object) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, with stdout and stderr apart (neither is a terminal here)."""
    return subprocess.run([sys.executable, "-m", "taxsync", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    assert taxsync("init", "--home", tmp_path / "ws").returncode == 0
    return tmp_path / "ws"


def test_without_a_terminal_progress_is_plain_lines_on_stderr(home: Path, tmp_path: Path) -> None:
    imported = taxsync("import-file", SAMPLE / "coinbase.csv", "--account", "coinbase", "--home", home)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("Imported 1 file(s) into 'coinbase'")
    stored = [line for line in imported.stderr.splitlines() if " records stored: " in line]
    assert stored and stored[-1].endswith(f"records stored: {stored[-1].split()[-1]} of {stored[-1].split()[-1]}")
    assert "loading the ledger: 0 of 3" in imported.stderr  # then holdings and problems are prepared

    report = taxsync("report", "--year", "2024", "--format", "csv,json", "--out", tmp_path / "r", "--home", home)
    assert report.returncode == 0, report.stderr
    said = report.stdout.splitlines()
    written = [line for line in said if line.startswith("wrote ")]
    assert said[0] == "US tax year 2024: 1 January 2024 to 31 December 2024" and said[1:-1] == written
    assert len(written) >= 2 and all(line.startswith(f"wrote {tmp_path / 'r'}") for line in written)
    assert written[-1].endswith("taxsync-us-2024-fifo.json")
    assert "writing csv: 0 of 2" in report.stderr  # the first line of each task is shown at once
    assert "loading the ledger" not in report.stderr  # the import kept 2024's figures ahead
    other_year = taxsync("report", "--year", "2023", "--format", "json", "--out", tmp_path / "r", "--home", home)
    assert "loading the ledger: 0 of 3" in other_year.stderr and "computing gains: 2 of 3" in other_year.stderr


def test_quiet_shows_no_progress(home: Path, tmp_path: Path) -> None:
    imported = taxsync("import-file", SAMPLE / "coinbase.csv", "--account", "coinbase", "--quiet", "--home", home)
    assert imported.returncode == 0 and imported.stderr == ""
    report = taxsync("report", "--year", "2024", "--format", "json", "--out", tmp_path / "r", "-q", "--home", home)
    assert report.returncode == 0 and report.stderr == "" and "wrote" in report.stdout


def test_on_a_terminal_progress_is_a_bar_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=screen, force_terminal=True, width=100))
    with common.progress_display() as progress:
        for done in range(0, 101, 25):
            progress("records stored", done, 100)
        progress("binance-main: trades", 42, None)
    shown = screen.getvalue()
    assert "records stored" in shown and "100/100" in shown
    assert "binance-main: trades" in shown
    assert "━" in shown  # the bar itself


def test_plain_lines_are_throttled_per_task_and_end_with_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=screen, force_terminal=False, width=200))
    with common.progress_display() as progress:
        for done in range(1, 1001):
            progress("records stored", done, 1000)
        progress("prices", 3, 7)
    lines = screen.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "records stored: 1 of 1,000", "prices: 3 of 7", "records stored: 1,000 of 1,000"]
