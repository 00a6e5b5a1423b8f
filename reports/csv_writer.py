"""CSV reports: Form 8949 lines, income and holdings, in files a spreadsheet or tax program can import.

Four files per report: the capital gains in the jurisdiction's form (``reports.gains_csv``: US
``<base>-form8949.csv`` in Form 8949 order, UK ``-hmrc-computation.csv``, DE ``-anlage-so.csv``, CA
``-schedule3.csv``, AU ``-cgt-schedule.csv``; short-term rows first, money as the rows' rounded cents),
``<base>-income.csv``, ``<base>-holdings.csv`` and
``<base>-audit-trail.csv``: one row per disposal and lot it consumed, with exact amounts and costs so that a
disposal's rows add up to its amount and cost digit for digit; ``Disposal Line`` is the disposal's row in the
gains file (1 = the first row after the header). Numbers are
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
from reports.formatting import cents_text, iso_date, plain
from reports.gains_csv import FORM8949_HEADER, form8949_rows, gains_csv
from reports.model import ReportModel
from reports.safe import neutralise, safe_row

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


def render_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV document of ``header`` and ``rows``, every cell neutralised, as UTF-8 bytes."""
    buffer = io.BytesIO()
    _write_safe(buffer, header, (safe_row(row) for row in rows))
    return buffer.getvalue()


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
    """Write the capital gains (in the jurisdiction's form, ``reports.gains_csv``), income, holdings and
    audit-trail CSV files into ``out_dir``, row by row."""
    base = base_name(model.context)
    gains = gains_csv(model.context.jurisdiction)
    files = (
        (gains.name, gains.header, gains.rows(model)),
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


__all__ = ["AUDIT_TRAIL_HEADER", "FORM8949_HEADER", "HOLDINGS_HEADER", "INCOME_HEADER", "audit_trail_rows",
           "form8949_rows", "holdings_rows", "income_rows", "render_csv", "write_csv"]
