"""CSV files for US tax software: Form 8949 by box, TurboTax's gains CSV and TaxAct's 1099-B import.

Form 8949 sorts every sale into a box by what the taxpayer got from the broker. Up to tax year 2024 the boxes
are A-F (A/D: a 1099-B showing basis reported to the IRS, B/E: a 1099-B without it, C/F: no 1099-B); from tax
year 2025 digital assets have their own boxes G-L (G/J: a 1099-DA showing basis reported, H/K: a 1099-DA without
it, I/L: no 1099-DA). taxsync reads exchange histories, not the statements brokers sent, so it cannot know what a
broker reported: every row goes to the "no statement" box, C (short) / F (long) up to 2024 and I / L from 2025.
A taxpayer who did receive a 1099-B or 1099-DA must move those sales to the matching box; the README says so.
The tax year is the calendar year the report's period ends in.

Files, all under the report's base name (``taxsync-us-2024-fifo``):

- ``form8949-boxes``: ``<base>-form8949-boxes.csv``, one row per disposal with its box, Part I rows first;
  ``<base>-form8949-box-totals.csv``, the totals per box (sums of the printed rows, as the form adds them).
- ``turbotax``: ``<base>-turbotax.csv``, the gains CSV TurboTax Online takes from crypto tax tools:
  ``Currency Name,Purchase Date,Cost Basis,Date Sold,Proceeds``.
- ``taxact``: ``<base>-taxact-1.csv``, ``-2.csv``, ...: TaxAct's 1099-B CSV import (its column names), at most
  2,000 rows per file, TaxAct's limit.

Dates are ``MM/DD/YYYY``; lots bought on several days, or with no known acquisition, are ``VARIOUS`` (the word
Form 8949 and both programs accept; the unknown ones are also listed as problems in the report). Money is two
decimals with a dot, no grouping. Every cell passes through ``reports.safe`` (via ``render_csv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reports.csv_writer import render_csv
from reports.files import base_name, write_atomic
from reports.formatting import cents_text, decimal_sum, month_first_date, plain
from reports.model import DisposalRow, ReportModel
from taxsync.tax.records import Term

DIGITAL_ASSET_BOXES_FROM = 2025  # first tax year with Form 1099-DA and Form 8949 boxes G-L

# (first year, term) -> box when no statement was received; the statement boxes are listed for the docs and tests.
NO_STATEMENT_BOX = {
    (False, Term.SHORT): "C",
    (False, Term.LONG): "F",
    (True, Term.SHORT): "I",
    (True, Term.LONG): "L",
}
BOX_MEANINGS = {
    "A": "short-term, 1099-B with basis reported to the IRS",
    "B": "short-term, 1099-B without basis reported",
    "C": "short-term, no 1099-B",
    "D": "long-term, 1099-B with basis reported to the IRS",
    "E": "long-term, 1099-B without basis reported",
    "F": "long-term, no 1099-B",
    "G": "short-term digital assets, 1099-DA with basis reported to the IRS",
    "H": "short-term digital assets, 1099-DA without basis reported",
    "I": "short-term digital assets, no 1099-DA",
    "J": "long-term digital assets, 1099-DA with basis reported to the IRS",
    "K": "long-term digital assets, 1099-DA without basis reported",
    "L": "long-term digital assets, no 1099-DA",
}
PARTS = {Term.SHORT: "Part I", Term.LONG: "Part II"}
TERM_WORDS = {Term.SHORT: "Short", Term.LONG: "Long"}
VARIOUS = "VARIOUS"

BOXES_HEADER = (
    "Box", "Part", "Description", "Date Acquired", "Date Sold", "Proceeds", "Cost Basis", "Code", "Adjustment",
    "Gain or Loss", "Account", "Reference",
)
BOX_TOTALS_HEADER = ("Box", "Part", "Meaning", "Rows", "Proceeds", "Cost Basis", "Adjustment", "Gain or Loss")
TURBOTAX_HEADER = ("Currency Name", "Purchase Date", "Cost Basis", "Date Sold", "Proceeds")
TAXACT_HEADER = (
    "Description", "Date Acquired", "Date Sold", "Sales Proceeds", "Cost or Other Basis", "Adjustment Code",
    "Adjustment Amount", "Reporting Category", "Long/Short",
)
TAXACT_MAX_ROWS = 2000  # TaxAct imports at most 2,000 transactions per file


def form8949_box(term: Term, tax_year: int) -> str:
    """The Form 8949 box of a crypto sale with no broker statement: C/F up to 2024, I/L (digital assets) from 2025."""
    return NO_STATEMENT_BOX[(tax_year >= DIGITAL_ASSET_BOXES_FROM, term)]


def box_rows(model: ReportModel) -> list[list[str]]:
    """One line per disposal, Part I first, with its box in the first column."""
    year = model.context.period_end.year
    return [
        [form8949_box(d.record.term, year), PARTS[d.record.term], *_form_columns(d), d.record.account, d.record.ref]
        for d in _disposals(model)
    ]


def box_total_rows(model: ReportModel) -> list[list[str]]:
    """Per box that has rows: count and the sums of the rounded rows, in box order."""
    year = model.context.period_end.year
    groups: dict[str, list[DisposalRow]] = {}
    for row in _disposals(model):
        groups.setdefault(form8949_box(row.record.term, year), []).append(row)
    return [
        [
            box,
            PARTS[rows[0].record.term],
            BOX_MEANINGS[box],
            str(len(rows)),
            cents_text(decimal_sum([r.proceeds for r in rows])),
            cents_text(decimal_sum([r.cost for r in rows])),
            cents_text(decimal_sum([r.adjustment for r in rows])),
            cents_text(decimal_sum([r.gain for r in rows])),
        ]
        for box, rows in sorted(groups.items())
    ]


def turbotax_rows(model: ReportModel) -> list[list[str]]:
    return [
        [d.record.asset, _acquired(d), cents_text(d.cost), month_first_date(d.record.disposed), cents_text(d.proceeds)]
        for d in _disposals(model)
    ]


def taxact_rows(model: ReportModel) -> list[list[str]]:
    year = model.context.period_end.year
    return [
        [
            _description(d),
            _acquired(d),
            month_first_date(d.record.disposed),
            cents_text(d.proceeds),
            cents_text(d.cost),
            d.record.adjustment_code,
            cents_text(d.adjustment) if d.record.adjustment else "",
            form8949_box(d.record.term, year),
            TERM_WORDS[d.record.term],
        ]
        for d in _disposals(model)
    ]


def chunks(rows: Sequence[list[str]], size: int) -> list[Sequence[list[str]]]:
    """``rows`` in consecutive pieces of at most ``size``; one empty piece when there are no rows."""
    return [rows[i:i + size] for i in range(0, len(rows), size)] or [rows[:0]]


def write_form8949_boxes(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write ``<base>-form8949-boxes.csv`` and ``<base>-form8949-box-totals.csv``."""
    base = base_name(model.context)
    return [
        write_atomic(out_dir / f"{base}-form8949-boxes.csv", render_csv(BOXES_HEADER, box_rows(model))),
        write_atomic(out_dir / f"{base}-form8949-box-totals.csv", render_csv(BOX_TOTALS_HEADER, box_total_rows(model))),
    ]


def write_turbotax(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write ``<base>-turbotax.csv``."""
    path = out_dir / f"{base_name(model.context)}-turbotax.csv"
    return [write_atomic(path, render_csv(TURBOTAX_HEADER, turbotax_rows(model)))]


def write_taxact(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write ``<base>-taxact-1.csv``, ``-2.csv``, ... of at most ``TAXACT_MAX_ROWS`` rows each."""
    base = base_name(model.context)
    return [
        write_atomic(out_dir / f"{base}-taxact-{number}.csv", render_csv(TAXACT_HEADER, piece))
        for number, piece in enumerate(chunks(taxact_rows(model), TAXACT_MAX_ROWS), start=1)
    ]


def _disposals(model: ReportModel) -> tuple[DisposalRow, ...]:
    return (*model.short_term.rows, *model.long_term.rows)


def _description(row: DisposalRow) -> str:
    return f"{plain(row.record.amount)} {row.record.asset}"


def _acquired(row: DisposalRow) -> str:
    return VARIOUS if row.record.acquired is None else month_first_date(row.record.acquired)


def _form_columns(row: DisposalRow) -> list[str]:
    """Form 8949 columns (a)-(h)."""
    d = row.record
    return [
        _description(row),
        _acquired(row),
        month_first_date(d.disposed),
        cents_text(row.proceeds),
        cents_text(row.cost),
        d.adjustment_code,
        cents_text(row.adjustment) if d.adjustment else "",
        cents_text(row.gain),
    ]
