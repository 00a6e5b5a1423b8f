"""The JSON report: the same model for software, with exact figures.

Amounts are strings holding exact decimals in plain notation (``"0.00000001"``, never ``1E-8`` and never a
JSON number, which most parsers turn into a binary float). Dates are ISO ``YYYY-MM-DD``; moments are UTC ISO
8601 to the millisecond (``2024-01-10T12:00:00.000Z``). The key names are a contract with the programs that
read this file: add keys, never rename or remove one.

The document is indented by two spaces, except that each disposal is one line of its own, written straight
from its fields (``_disposal_line``, the same keys and values as ``_disposal``): Python's JSON encoder is
several times slower when it indents, and a year can have a million disposals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from reports.files import atomic_file, base_name
from reports.formatting import cents_text, display_cents, iso_date, plain, utc_ms_text
from reports.model import ColumnTotals, DisposalRow, HoldingRow, ReportModel
from taxsync.ledger.integrity import IntegrityReport
from taxsync.tax.records import LotMatch
from taxsync.types import TimestampMs

BLOCK = 10_000  # disposal lines joined and written at a time


def render_json(model: ReportModel) -> str:
    """The report as a JSON document (UTF-8 text, two-space indent, trailing newline)."""
    return "".join(json_pieces(model))


def json_pieces(model: ReportModel) -> Iterator[str]:
    """The JSON document in pieces, to write as they come: the disposals in blocks of ``BLOCK`` lines."""
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
            **({"taxable_gain_exact": plain(model.exact_summary.taxable_gain),
                "taxable_income_exact": plain(model.exact_summary.taxable_income)} if model.exact_summary else {}),
        },
        "form_totals": {
            "short_term": _columns(model.short_term.totals),
            "long_term": _columns(model.long_term.totals),
            "all": _columns(model.form_totals),
        },
        "disposals": [],  # written below, one line each
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
        "return_lines": _return_lines(model),
        "return_counts": [{"label": label, "count": count} for label, count in model.summary.counts],
        "integrity": _integrity(model.integrity),
        "prices": [
            {"base": p.base, "quote": p.quote, "at": utc_ms_text(TimestampMs(p.timestamp)),
             "resolution": p.resolution, "price": plain(p.price), "source": p.source}
            for p in model.prices
        ],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if not model.disposals:
        yield text + "\n"
        return
    # The only key at two spaces of indent named "disposals" is the top-level one; keys inside strings are escaped.
    head, tail = text.split('\n  "disposals": [],', 1)
    yield f'{head}\n  "disposals": [\n    '
    # A year has 366 days, a few assets, accounts and rules, and may have a million disposals.
    day, quoted, rows = cache(iso_date), cache(encode_basestring), model.disposals
    for start in range(0, len(rows), BLOCK):
        lines = ",\n    ".join([_disposal_line(row, day, quoted) for row in rows[start:start + BLOCK]])
        yield lines if start + BLOCK >= len(rows) else lines + ",\n    "
    yield f"\n  ],{tail}\n"


def write_json(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write ``<base>.json`` into ``out_dir``."""
    path = out_dir / f"{base_name(model.context)}.json"
    with atomic_file(path) as handle:
        for piece in json_pieces(model):
            handle.write(piece.encode("utf-8"))
    return [path]


def _holding(row: HoldingRow) -> dict[str, Any]:
    return {"asset": row.record.asset, "amount": plain(row.record.amount), "cost": plain(row.record.cost),
            "account": row.record.account}


def _disposal(row: DisposalRow) -> dict[str, Any]:
    d = row.record
    cents = display_cents
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
            "proceeds": cents(row.proceeds),
            "cost": cents(row.cost),
            "gain": cents(row.gain),
            "adjustment": cents(row.adjustment),
        },
    }


def _disposal_line(row: DisposalRow, day: Callable[[date], str], text: Callable[[str], str]) -> str:
    """``_disposal(row)`` as one line of JSON text, written directly: text fields go through the JSON string
    encoder (``text`` for those with few distinct values, remembered), figures and dates (digits, dot, minus)
    are quoted as they are. A disposal of one whole lot shares its amount and cost text with the lot."""
    d, q, cents = row.record, encode_basestring, display_cents
    acquired = f'"{day(d.acquired)}"' if d.acquired is not None else q(row.acquired_text)
    amount, cost = plain(d.amount), plain(d.cost)
    lots = row.lots
    if len(lots) == 1 and lots[0].amount == d.amount and lots[0].cost == d.cost:
        lot_lines = _lot_line(lots[0], day, text, amount, cost)
    else:
        lot_lines = ", ".join([_lot_line(lot, day, text, plain(lot.amount), plain(lot.cost)) for lot in lots])
    return (
        f'{{"asset": {text(d.asset)}, "amount": "{amount}", "acquired": {acquired}, '
        f'"disposed": "{day(d.disposed)}", "proceeds": "{plain(d.proceeds)}", "cost": "{cost}", '
        f'"gain": "{plain(row.exact_gain)}", "adjustment": "{plain(d.adjustment)}", '
        f'"adjustment_code": {text(d.adjustment_code)}, "term": {text(d.term)}, "rule": {text(d.rule)}, '
        f'"account": {text(d.account)}, "ref": {q(d.ref)}, "no_basis": "{plain(d.no_basis)}", '
        f'"lots": [{lot_lines}], '
        f'"display": {{"proceeds": "{cents(row.proceeds)}", "cost": "{cents(row.cost)}", '
        f'"gain": "{cents(row.gain)}", "adjustment": "{cents(row.adjustment)}"}}}}'
    )


def _lot_line(lot: LotMatch, day: Callable[[date], str], text: Callable[[str], str], amount: str, cost: str) -> str:
    acquired = "null" if lot.acquired is None else f'"{utc_ms_text(lot.acquired)}"'
    acquired_date = "null" if lot.acquired_date is None else f'"{day(lot.acquired_date)}"'
    return (
        f'{{"lot_ref": {encode_basestring(lot.lot_ref)}, "acquired": {acquired}, "acquired_date": {acquired_date}, '
        f'"amount": "{amount}", "cost": "{cost}", "account": {text(lot.account)}, '
        f'"unknown_cost": "{plain(lot.unknown)}"}}'
    )


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


def _return_lines(model: ReportModel) -> list[dict[str, str]]:
    """The figures for the return: from the printed rows (``amount``), with the exact figure beside each."""
    exact = dict(model.exact_summary.lines) if model.exact_summary else {}
    return [{"label": label, "amount": plain(amount), **({"amount_exact": plain(exact[label])} if label in exact
                                                          else {})}
            for label, amount in model.summary.lines]
