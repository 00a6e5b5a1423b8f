"""``taxsync holdings`` and ``taxsync problems``: what is held and what is wrong, from the pipeline."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from taxsync.app.pipeline import analyze, tax_result
from taxsync.app.workspace import Workspace
from taxsync.ledger.balances import balance_problems
from taxsync.problems import Problem
from taxsync.tax.records import Holding


def holdings(ws: Workspace, *, at: date | None = None) -> tuple[Holding, ...]:
    """What is held at the end of the local day ``at`` (or after everything), with its remaining cost."""
    return tax_result(ws, ws.settings, at).holdings


def problems(ws: Workspace) -> tuple[Problem, ...]:
    """Every data problem of the whole history, the exchanges' stored balances against the ledger included."""
    analysis = analyze(ws, ws.settings)
    with Session(ws.engine) as session:
        balance_differences = balance_problems(session, analysis.transactions)
    return (*analysis.result.problems, *balance_differences)
