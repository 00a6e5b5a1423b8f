"""The JSON report: the same model for software, with exact figures.

Amounts are strings holding exact decimals in plain notation (``"0.00000001"``, never ``1E-8`` and never a
JSON number, which most parsers turn into a binary float). Dates are ISO ``YYYY-MM-DD``; moments are UTC ISO
8601 to the millisecond (``2024-01-10T12:00:00.000Z``). The key names are a contract with the programs that
read this file: add keys, never rename or remove one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.files import base_name, write_atomic
from reports.formatting import cents_text, iso_date, plain, utc_ms_text
from reports.model import ColumnTotals, DisposalRow, HoldingRow, ReportModel
from taxsync.integrity import IntegrityReport
from taxsync.tax.records import LotMatch
from taxsync.types import TimestampMs


def render_json(model: ReportModel) -> str:
    """The report as a JSON document (UTF-8 text, two-space indent, trailing newline)."""
    ctx = model.context
    totals = model.totals
    document: dict[str, Any] = {
        "jurisdiction": ctx.jurisdiction,
        "jurisdiction_name": ctx.jurisdiction_name,
        "tax_year": ctx.tax_year,
        "period": {"start": iso_date(ctx.period_start), "end": iso_date(ctx.period_end)},
        "currency": ctx.currency,
        "method": ctx.method,
        "tracking": ctx.tracking,
        "timezone": ctx.timezone,
        "workspace": ctx.workspace,
        "accounts": list(ctx.accounts),
        "sources": list(ctx.sources),
        "generated_at": ctx.generated_at.isoformat(),
        "version": ctx.version,
        "notes": list(ctx.notes),
        "totals": {
            "proceeds": plain(totals.proceeds),
            "cost": plain(totals.cost),
            "gain": plain(totals.gain),
            "short_term_gain": plain(totals.short_term_gain),
            "long_term_gain": plain(totals.long_term_gain),
            "income": plain(totals.income),
            "income_unvalued": totals.income_unvalued,
            "taxable_gain": plain(model.summary.taxable_gain),
            "taxable_income": plain(model.summary.taxable_income),
        },
        "form_totals": {
            "short_term": _columns(model.short_term.totals),
            "long_term": _columns(model.long_term.totals),
            "all": _columns(model.form_totals),
        },
        "disposals": [_disposal(row) for row in model.disposals],
        "income": [
            {
                "date": iso_date(row.record.received),
                "asset": row.record.asset,
                "amount": plain(row.record.amount),
                "value": None if row.record.value is None else plain(row.record.value),
                "kind": row.record.kind,
                "account": row.record.account,
                "ref": row.record.ref,
            }
            for row in model.income
        ],
        "holdings": [_holding(row) for row in model.holdings],
        "opening_holdings": [_holding(row) for row in model.opening],
        "problems": [
            {"kind": str(p.kind), "severity": str(p.severity), "message": p.message, "source": p.source}
            for p in model.problems
        ],
        "problem_counts": {str(severity): count for severity, count in model.problem_counts},
        "rules": {"jurisdiction": ctx.jurisdiction, "method": ctx.method, "tracking": ctx.tracking,
                  "timezone": ctx.timezone, **model.summary.rules},
        "return_lines": [{"label": label, "amount": plain(amount)} for label, amount in model.summary.lines],
        "integrity": _integrity(model.integrity),
        "prices": [
            {"base": p.base, "quote": p.quote, "at": utc_ms_text(TimestampMs(p.timestamp)),
             "resolution": p.resolution, "price": plain(p.price), "source": p.source}
            for p in model.prices
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_json(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write ``<base>.json`` into ``out_dir``."""
    path = out_dir / f"{base_name(model.context)}.json"
    return [write_atomic(path, render_json(model).encode("utf-8"))]


def _holding(row: HoldingRow) -> dict[str, Any]:
    return {"asset": row.record.asset, "amount": plain(row.record.amount), "cost": plain(row.record.cost),
            "account": row.record.account}


def _disposal(row: DisposalRow) -> dict[str, Any]:
    d = row.record
    return {
        "asset": d.asset,
        "amount": plain(d.amount),
        "acquired": iso_date(d.acquired) if d.acquired is not None else row.acquired_text,
        "disposed": iso_date(d.disposed),
        "proceeds": plain(d.proceeds),
        "cost": plain(d.cost),
        "gain": plain(row.exact_gain),
        "adjustment": plain(d.adjustment),
        "adjustment_code": d.adjustment_code,
        "term": str(d.term),
        "rule": d.rule,
        "account": d.account,
        "ref": d.ref,
        "no_basis": plain(d.no_basis),
        "lots": [_lot(lot) for lot in row.lots],
        "display": {
            "proceeds": cents_text(row.proceeds),
            "cost": cents_text(row.cost),
            "gain": cents_text(row.gain),
            "adjustment": cents_text(row.adjustment),
        },
    }


def _lot(lot: LotMatch) -> dict[str, Any]:
    """One part of a lot consumed by a disposal: the audit trail back to the acquisition."""
    return {
        "lot_ref": lot.lot_ref,
        "acquired": None if lot.acquired is None else utc_ms_text(lot.acquired),
        "acquired_date": None if lot.acquired_date is None else iso_date(lot.acquired_date),
        "amount": plain(lot.amount),
        "cost": plain(lot.cost),
        "account": lot.account,
        "unknown_cost": plain(lot.unknown),
    }


def _integrity(report: IntegrityReport | None) -> dict[str, Any] | None:
    """The holdings check: balances compared, unexplained differences, explained ones; null when not run."""
    if report is None:
        return None
    return {"checked": report.checked, "differences": report.differences, "explained": report.explained,
            "passed": report.passed}


def _columns(totals: ColumnTotals) -> dict[str, str]:
    """Display totals (sums of rows rounded to cents), with two decimals."""
    return {
        "proceeds": cents_text(totals.proceeds),
        "cost": cents_text(totals.cost),
        "gain": cents_text(totals.gain),
    }
