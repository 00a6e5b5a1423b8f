"""``taxsync export``: the ledger after transfer matching, written for another tool (``reports.exports``)."""

from __future__ import annotations

from pathlib import Path

from reports.exports import EXPORTERS, SUFFIXES, LedgerExport
from taxsync.app.pipeline import analyze, period_of, rules_for, settings_for
from taxsync.app.workspace import Workspace
from taxsync.assets import FIAT
from taxsync.errors import UsageError
from taxsync.tax.jurisdictions import JURISDICTIONS


def export_ledger(ws: Workspace, *, fmt: str, year: str | None = None, start: str | None = None,
                  end: str | None = None, out: Path | None = None, method: str | None = None) -> list[Path]:
    """Write the ledger after transfer matching for another tool (``reports.exports.EXPORTERS``), the whole
    history, one tax year's (``year``) or the local days ``start`` to ``end``; returns the files written. A
    period's export values and books what happened up to its end, as the report does."""
    if fmt not in EXPORTERS:
        raise UsageError(f"unknown export format '{fmt}': choose {', '.join(EXPORTERS)}")
    settings = settings_for(ws, None, method)
    rules = rules_for(settings, JURISDICTIONS[settings.jurisdiction])
    period = period_of(settings, year=year, start=start, end=end)
    analysis = analyze(ws, settings, period, journal=True)
    start, end = (period.start_ms, period.end_ms) if period is not None else (None, None)
    data = LedgerExport(tuple(analysis.transactions), tuple(analysis.transfers), analysis.events, analysis.result,
                        analysis.journal, settings.currency, FIAT, settings.method, rules.zone, start, end)
    name = f"taxsync-export-{fmt}{'-' + period.slug if period is not None else ''}"
    return EXPORTERS[fmt](data, out or Path(name + SUFFIXES[fmt]))
