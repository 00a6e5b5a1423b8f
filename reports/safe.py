"""Spreadsheet safety: keep CSV cells from being run as formulas when someone opens the file.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some programs, a leading
tab or carriage return) as a formula, so an asset name or a note like ``=HYPERLINK("http://x")`` that came
from an exchange export could run in the accountant's spreadsheet. Such a cell gets a leading ``'``, which
spreadsheets read as "this is text". Plain numbers as taxsync writes them (``-12.50``) are left alone so that
losses stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")  # first characters that make a cell a formula
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def neutralise(cell: str) -> str:
    """``cell`` as it is, or with a ``'`` prefix when a spreadsheet could read it as a formula."""
    if cell[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def safe_row(cells: Iterable[str]) -> list[str]:
    """Every cell of a CSV row, neutralised."""
    return [neutralise(cell) for cell in cells]
