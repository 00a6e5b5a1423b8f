"""Long tables (thousands of problems) are printed as plain aligned text: quick, and one line a row in a file."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from taxsync.cli import common
from taxsync.cli.common import plain_table

ROWS = [["warning", "unmatched_deposit", "deposit of 1.5 BTC on 2024-01-02 matches no withdrawal", "w/a.csv:2"],
        ["error", "missing_price", "no price for XYZ", "w/a.csv:3"]]


def test_without_a_width_each_row_is_one_line_in_aligned_columns() -> None:
    text = plain_table("2 problem(s)", ["Severity", "Kind", "Message", "Source"], ROWS, set(), None)
    lines = text.splitlines()
    assert lines[0] == "2 problem(s)" and len(lines) == 5
    assert lines[1].split() == ["Severity", "Kind", "Message", "Source"]
    starts = [line.index("w/a.csv") for line in lines[3:]]
    assert starts[0] == starts[1] == lines[1].index("Source")  # the columns line up


def test_on_a_screen_the_widest_column_wraps_at_spaces() -> None:
    text = plain_table("t", ["Severity", "Kind", "Message", "Source"], ROWS, set(), 70)
    lines = text.splitlines()
    assert all(len(line) <= 70 for line in lines)
    start, stop = lines[1].index("Message"), lines[1].index("Source")
    first_row = [lines[3]] + [line for line in lines[4:] if line.startswith(" ")]  # with its continuation lines
    assert len(first_row) > 1
    assert " ".join(line[start:stop].strip() for line in first_row) == ROWS[0][2]  # broken at spaces only


def test_print_rows_uses_rich_for_short_tables_and_plain_text_for_long(monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(common, "out", Console(file=screen, width=100))
    common.print_rows("short", ["A", "B"], [["1", "2"]], {"B"})
    assert "┃" in screen.getvalue() or "│" in screen.getvalue()
    monkeypatch.setattr(common, "RICH_ROWS", 1)
    common.print_rows("long", ["A", "B"], [["1", "2"], ["3", "4"]], {"B"})
    assert capsys.readouterr().out.splitlines() == ["long", "A  B", "-  -", "1  2", "3  4"]
