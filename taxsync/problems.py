"""Problems: data-quality findings collected by every stage instead of raised.

A problem names what is wrong, how bad it is and the source record it points at, so the report can tell the
user exactly which row to fix. Exceptions are kept for bugs and broken invariants.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from taxsync.types import pickled_by_fields


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ProblemKind(StrEnum):
    MISSING_COST_BASIS = "missing_cost_basis"
    MISSING_PRICE = "missing_price"
    NEGATIVE_BALANCE = "negative_balance"
    UNMATCHED_WITHDRAWAL = "unmatched_withdrawal"
    UNMATCHED_DEPOSIT = "unmatched_deposit"
    UNKNOWN_LABEL = "unknown_label"
    UNSUPPORTED = "unsupported"
    DUPLICATE_SUSPICION = "duplicate_suspicion"
    INTEGRITY = "integrity"  # the holdings check: lots and ledger balances disagree (taxsync.ledger.integrity)
    IGNORED_MANUAL_ENTRY = "ignored_manual_entry"  # a transfer link or deposit cost that no longer fits the ledger
    BALANCE_DIFFERENCE = "balance_difference"  # an exchange holds other amounts than the ledger adds up to
    MISSING_ACQUISITION_DAY = "missing_acquisition_day"  # a gift's cost given without the donor's day


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    severity: Severity
    message: str
    source: str
