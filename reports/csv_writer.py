"""CSV reports: Form 8949 lines, income and holdings, in files a spreadsheet or tax program can import.

Four files per report: ``<base>-form8949.csv`` (columns in Form 8949 order, short-term rows first, then
long-term, money as the rows' rounded cents), ``<base>-income.csv``, ``<base>-holdings.csv`` and
``<base>-audit-trail.csv``: one row per disposal and lot it consumed, with exact amounts and costs so that a
disposal's rows add up to its amount and cost digit for digit; ``Disposal Line`` is the disposal's row in the
Form 8949 file (1 = the first row after the header). Numbers are
plain decimals with a dot and no grouping; every cell passes through ``reports.safe.neutralise`` so that no
text from an exchange can become a formula. UTF-8 without byte-order mark, CRLF line ends (RFC 4180).

A year can have a million disposals, so the Form 8949 and audit-trail rows are made with as little work per
row as possible: cells taxsync writes itself (numbers, dates) cannot start a formula other than a plain
negative number, which ``neutralise`` leaves alone, so only cells of text from the exchange are neutralised;
dates are formatted once per day and the model's display figures, already rounded to cents, are not rounded
again. The output is the same as neutralising and formatting every cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import BinaryIO

from reports.files import atomic_file, base_name
from reports.formatting import cents_text, display_cents, iso_date, month_first_date, plain
from reports.model import ReportModel
from reports.safe import neutralise, safe_row
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
    buffer = io.BytesIO()
    _write_safe(buffer, header, (safe_row(row) for row in rows))
    return buffer.getvalue()


def form8949_rows(model: ReportModel) -> Iterator[list[str]]:
    """One line per disposal, Part I (short-term) first, then Part II (long-term); every cell neutralised."""
    text, day, cents = cache(neutralise), cache(month_first_date), display_cents  # few distinct values, many rows
    return (
        [
            neutralise(f"{plain(d.amount)} {d.asset}"),
            day(d.acquired) if d.acquired is not None else row.acquired_text.upper(),
            day(d.disposed),
            cents(row.proceeds),
            cents(row.cost),
            text(d.adjustment_code),  # (f) code: the rule behind (g), e.g. a superficial loss denied in Canada
            cents(row.adjustment) if d.adjustment else "",  # (g) adjustment
            cents(row.gain),
            TERM_LABELS[d.term],
            text(d.account),
            neutralise(d.ref),
        ]
        for part in (model.short_term, model.long_term)
        for row in part.rows
        for d in (row.record,)
    )


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


def audit_trail_rows(model: ReportModel) -> Iterator[list[str]]:
    """One line per disposal and lot consumed, disposals in Form 8949 order; an unknown acquisition has an empty
    lot reference and date."""
    disposals = (row for part in (model.short_term, model.long_term) for row in part.rows)
    text, day = cache(neutralise), cache(iso_date)
    return (
        [
            str(line),
            ref,
            asset,
            disposed,
            neutralise(lot.lot_ref),
            "" if lot.acquired_date is None else day(lot.acquired_date),
            plain(lot.amount),
            plain(lot.cost),
            text(lot.account),
        ]
        for line, row in enumerate(disposals, start=1)
        for ref, asset, disposed in ((neutralise(row.record.ref), text(row.record.asset), day(row.record.disposed)),)
        for lot in row.lots
    )


def write_csv(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write the Form 8949, income, holdings and audit-trail CSV files into ``out_dir``, row by row."""
    base = base_name(model.context)
    files = (
        ("form8949", FORM8949_HEADER, form8949_rows(model)),
        ("income", INCOME_HEADER, map(safe_row, income_rows(model))),
        ("holdings", HOLDINGS_HEADER, map(safe_row, holdings_rows(model))),
        ("audit-trail", AUDIT_TRAIL_HEADER, audit_trail_rows(model)),
    )
    written = []
    for suffix, header, rows in files:
        with atomic_file(out_dir / f"{base}-{suffix}.csv") as handle:
            _write_safe(handle, header, rows)
        written.append(out_dir / f"{base}-{suffix}.csv")
    return written


def _write_safe(handle: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a CSV document of ``header`` and ``rows``, whose cells are already neutralised, as UTF-8 to
    ``handle``, as the rows come (a buffered text layer over the binary file)."""
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(safe_row(header))
    writer.writerows(rows)
    text.flush()
    text.detach()  # the caller owns (and closes) the binary file
