"""CSV reports: Form 8949 lines, income and holdings, in files a spreadsheet or tax program can import.

Four files per report: ``<base>-form8949.csv`` (columns in Form 8949 order, short-term rows first, then
long-term, money as the rows' rounded cents), ``<base>-income.csv``, ``<base>-holdings.csv`` and
``<base>-audit-trail.csv``: one row per disposal and lot it consumed, with exact amounts and costs so that a
disposal's rows add up to its amount and cost digit for digit; ``Disposal Line`` is the disposal's row in the
Form 8949 file (1 = the first row after the header). Numbers are
plain decimals with a dot and no grouping; every cell passes through ``reports.safe.neutralise`` so that no
text from an exchange can become a formula. UTF-8 without byte-order mark, CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from reports.files import base_name, write_atomic
from reports.formatting import cents_text, iso_date, month_first_date, plain
from reports.model import DisposalRow, ReportModel
from reports.safe import safe_row
from taxsync.tax.records import Term

FORM8949_HEADER = (
    "Description",
    "Date Acquired",
    "Date Sold",
    "Proceeds",
    "Cost Basis",
    "Code",
    "Adjustment",
    "Gain or Loss",
    "Term",
    "Account",
    "Reference",
)
INCOME_HEADER = ("Date", "Asset", "Amount", "Value", "Kind", "Account", "Reference")
HOLDINGS_HEADER = ("Asset", "Amount", "Cost", "Account")
AUDIT_TRAIL_HEADER = (
    "Disposal Line",
    "Disposal Reference",
    "Asset",
    "Date Disposed",
    "Lot Reference",
    "Date Acquired",
    "Amount",
    "Cost",
    "Account",
)
TERM_LABELS = {Term.SHORT: "Short-term", Term.LONG: "Long-term"}


def render_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV document of ``header`` and ``rows``, every cell neutralised, as UTF-8 bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    return buffer.getvalue().encode("utf-8")


def form8949_rows(model: ReportModel) -> list[list[str]]:
    """One line per disposal, Part I (short-term) first, then Part II (long-term)."""
    return [_form8949_row(row) for part in (model.short_term, model.long_term) for row in part.rows]


def income_rows(model: ReportModel) -> list[list[str]]:
    return [
        [
            iso_date(row.record.received),
            row.record.asset,
            plain(row.record.amount),
            "" if row.value is None else cents_text(row.value),
            row.record.kind,
            row.record.account,
            row.record.ref,
        ]
        for row in model.income
    ]


def holdings_rows(model: ReportModel) -> list[list[str]]:
    return [
        [row.record.asset, plain(row.record.amount), cents_text(row.cost), row.record.account] for row in model.holdings
    ]


def audit_trail_rows(model: ReportModel) -> list[list[str]]:
    """One line per disposal and lot consumed, disposals in Form 8949 order; an unknown acquisition has an empty
    lot reference and date."""
    disposals = [row for part in (model.short_term, model.long_term) for row in part.rows]
    return [
        [
            str(line),
            row.record.ref,
            row.record.asset,
            iso_date(row.record.disposed),
            lot.lot_ref,
            "" if lot.acquired_date is None else iso_date(lot.acquired_date),
            plain(lot.amount),
            plain(lot.cost),
            lot.account,
        ]
        for line, row in enumerate(disposals, start=1)
        for lot in row.lots
    ]


def write_csv(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write the Form 8949, income, holdings and audit-trail CSV files into ``out_dir``."""
    base = base_name(model.context)
    files = (
        (f"{base}-form8949.csv", FORM8949_HEADER, form8949_rows(model)),
        (f"{base}-income.csv", INCOME_HEADER, income_rows(model)),
        (f"{base}-holdings.csv", HOLDINGS_HEADER, holdings_rows(model)),
        (f"{base}-audit-trail.csv", AUDIT_TRAIL_HEADER, audit_trail_rows(model)),
    )
    return [write_atomic(out_dir / name, render_csv(header, rows)) for name, header, rows in files]


def _form8949_row(row: DisposalRow) -> list[str]:
    d = row.record
    acquired = month_first_date(d.acquired) if d.acquired is not None else row.acquired_text.upper()
    return [
        f"{plain(d.amount)} {d.asset}",
        acquired,
        month_first_date(d.disposed),
        cents_text(row.proceeds),
        cents_text(row.cost),
        d.adjustment_code,  # (f) code: the rule behind (g), e.g. a superficial loss denied in Canada
        cents_text(row.adjustment) if d.adjustment else "",  # (g) adjustment
        cents_text(row.gain),
        TERM_LABELS[d.term],
        d.account,
        d.ref,
    ]
