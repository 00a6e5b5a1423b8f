"""``taxsync holdings`` and ``taxsync problems``: what is held and what is wrong, from the pipeline.

Both read one ``Overview`` of the whole history, computed once per revision of the data and kept
(``taxsync.app.results``): an import computes it ahead (``taxsync.app.prepare``); after any other change the
first of them computes it and the other reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from taxsync.app.results import kept, settings_key
from taxsync.app.workspace import Workspace
from taxsync.progress import Progress, silent

if TYPE_CHECKING:
    from taxsync.app.pipeline import Analysis
    from taxsync.problems import Problem
    from taxsync.tax.records import Holding


@dataclass(frozen=True, slots=True)
class Overview:
    """The whole history's holdings and problems (the exchanges' stored balances against the ledger
    included)."""

    holdings: tuple[Holding, ...]
    problems: tuple[Problem, ...]


def overview(ws: Workspace, progress: Progress = silent) -> Overview:
    """The whole history's holdings and problems, kept per revision of the data (an import keeps them ahead,
    ``taxsync.app.prepare``)."""
    return kept(ws, overview_key(ws), lambda: _overview(ws, progress))


def overview_key(ws: Workspace) -> tuple[str, ...]:
    return ("overview", *settings_key(ws.settings))


def _overview(ws: Workspace, progress: Progress = silent) -> Overview:
    from taxsync.app.pipeline import ANYWHERE, analyze  # the pipeline is loaded only when nothing is kept

    return overview_from(ws, analyze(ws, ws.settings, progress=progress, resume_before=ANYWHERE))


def overview_from(ws: Workspace, analysis: Analysis) -> Overview:
    """The overview from the pipeline's ``analysis`` of the whole history."""
    from sqlalchemy.orm import Session

    from taxsync.ledger.balances import balance_problems

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
