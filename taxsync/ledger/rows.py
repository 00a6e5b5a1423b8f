"""A normalized record as the plain rows the ledger tables store: text and integers only.

A file's records are normalized where they are read and checked, in worker processes for a large file
(``importer.files.checking``); these rows travel back to the process that stores them ten times more cheaply than
the typed ``Transaction`` would (a named tuple of decimals and enums pickles slowly), and writing them needs no
further conversion. The ids and the ref (where the record is) are added when they are written
(``taxsync.ledger.store``).
"""

from __future__ import annotations

from typing import Any

from taxsync.ledger.records import TxKind
from taxsync.ledger.sources import Normalized
from taxsync.types import Role, decimal_text

# timestamp, kind, subkind, label, description, txhash, exchange id, quote amount, quote currency
TxRow = tuple[Any, ...]
LegRow = tuple[int, str, str, str]  # position, asset, amount, role
ProblemRow = tuple[str, str, str]  # kind, severity, message
LedgerRows = tuple[TxRow | None, tuple[LegRow, ...], tuple[ProblemRow, ...]]

_VALUE: dict[TxKind | Role, str] = {member: member.value for member in (*TxKind, *Role)}  # cheaper than .value


def ledger_rows(normalized: Normalized) -> LedgerRows:
    """The transaction (None when the record makes none), its legs and the problems found, as stored."""
    problems = tuple((p.kind.value, p.severity.value, p.message) for p in normalized.problems or ())
    tx = normalized.transaction
    if tx is None:
        return None, (), problems
    quote = tx.quote
    return (
        (tx.timestamp, _VALUE[tx.kind], tx.subkind, tx.label, tx.description, tx.txhash, tx.exchange_id,
         decimal_text(quote.amount) if quote else None, quote.currency if quote else None),
        tuple([(i, leg.asset, decimal_text(leg.amount), _VALUE[leg.role]) for i, leg in enumerate(tx.legs)]),
        problems,
    )
