"""What every normalizer shares: its signature, its result and the error for a field it cannot read.

Kept apart from the package's ``__init__`` (which lists the normalizers) so that the normalizer modules can
import these without importing the registry that imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from taxsync.ledger.records import Transaction
from taxsync.problems import Problem


class FieldError(ValueError):
    """A field that cannot be read: its column and, in a record of several rows, the row's index."""

    def __init__(self, column: str, message: str, *, row: int = 0):
        self.column, self.row = column, row
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Normalized:
    transaction: Transaction | None
    problems: tuple[Problem, ...] = ()


Normalizer = Callable[[Mapping[str, Any], str, str], Normalized]  # (row, account, ref)
