"""Column types that keep money exact on every backend.

SQLite has no decimal type (its NUMERIC affinity rounds through binary floats), so decimals are stored as
text in plain fixed-point notation and read back as ``Decimal``: nothing is ever rounded by storage.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from taxsync.types import decimal_text


class DecimalText(TypeDecorator[Decimal]):
    """A ``Decimal`` stored exactly as text."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalText takes Decimal, not {type(value).__name__}")
        return decimal_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)
