"""``taxsync holdings`` and ``taxsync problems``: what is held and what is wrong, from the pipeline.

Both read one ``Overview`` of the whole history, computed once per revision of the data and kept
(``taxsync.app.results``): after an import the first of them computes it, the other reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from taxsync.app.results import kept, settings_key
from taxsync.app.workspace import Workspace

if TYPE_CHECKING:
    from taxsync.problems import Problem
    from taxsync.tax.records import Holding


@dataclass(frozen=True, slots=True)
class Overview:
    """The whole history's holdings and problems (the exchanges' stored balances against the ledger
    included)."""

    holdings: tuple[Holding, ...]
    problems: tuple[Problem, ...]


def overview(ws: Workspace) -> Overview:
    return kept(ws, ("overview", *settings_key(ws.settings)), lambda: _overview(ws))


def _overview(ws: Workspace) -> Overview:
    from sqlalchemy.orm import Session  # the pipeline is loaded only when nothing is kept

    from taxsync.app.pipeline import analyze
    from taxsync.ledger.balances import balance_problems

    analysis = analyze(ws, ws.settings)
    with Session(ws.engine) as session:
        balance_differences = balance_problems(session, analysis.transactions)
    return Overview(analysis.result.holdings, (*analysis.result.problems, *balance_differences))


def holdings(ws: Workspace, *, at: date | None = None) -> tuple[Holding, ...]:
    """What is held at the end of the local day ``at`` (or after everything), with its remaining cost."""
    if at is None:
        return overview(ws).holdings
    def compute() -> tuple[Holding, ...]:
        from taxsync.app.pipeline import tax_result

        return tax_result(ws, ws.settings, at).holdings

    return kept(ws, ("holdings", *settings_key(ws.settings), at.isoformat()), compute)


def problems(ws: Workspace) -> tuple[Problem, ...]:
    """Every data problem of the whole history, the exchanges' stored balances against the ledger included."""
    return overview(ws).problems
