"""Figures kept ahead: after an import, what the next commands will ask is computed once and kept.

``holdings`` and ``problems`` show the whole history; a report shows one tax year up to its end. For the tax
year of the newest transaction both are the same pipeline run (no transaction lies after that year's end), so
``prepare`` runs the pipeline once, for that year with its opening holdings, and keeps the overview and that
year's report figures (``taxsync.app.results``). An import, the nightly job and ``taxsync prices sync`` call it
when they are done, so the commands that follow read instead of computing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxsync.app.pipeline import ANYWHERE, analyze
from taxsync.app.report import figures_from, report_key
from taxsync.app.results import is_kept, keep, keeping, revision
from taxsync.app.views import overview, overview_from, overview_key
from taxsync.app.workspace import Workspace
from taxsync.db import Transaction
from taxsync.progress import Progress, silent
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from taxsync.types import TimestampMs, local_date


def newest_tax_year(ws: Workspace) -> TaxPeriod | None:
    """The tax year of the newest transaction (None for an empty ledger)."""
    with Session(ws.engine) as session:
        newest = session.scalar(select(func.max(Transaction.timestamp)))
    if newest is None:
        return None
    jurisdiction, zone = JURISDICTIONS[ws.settings.jurisdiction], ZoneInfo(ws.settings.timezone)
    return TaxPeriod.tax_year_containing(jurisdiction, zone, local_date(TimestampMs(newest), zone))


def prepare(ws: Workspace, progress: Progress = silent) -> None:
    """Compute and keep the overview and the newest tax year's report figures, unless they are kept (or
    nothing is kept, ``TAXSYNC_NO_CACHE``)."""
    if not keeping():
        return
    period = newest_tax_year(ws)
    if period is None:
        overview(ws, progress)
        return
    keys = (overview_key(ws), report_key(ws.settings, period))
    if all(is_kept(ws, key) for key in keys):
        return
    at = revision(ws)
    analysis = analyze(ws, ws.settings, period, opening=True, progress=progress, resume_before=ANYWHERE)
    keep(ws, at, {keys[0]: overview_from(ws, analysis), keys[1]: figures_from(ws, ws.settings, period, analysis)})
