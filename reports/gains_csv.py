"""The capital-gains CSV of each jurisdiction: the form or computation it follows, its columns and its dates.

One file per report, named after the form (``<base>-<name>.csv``), one line per disposal (and holding term), in
the order of the PDF (short-term or within-one-year first), money as the rows' rounded cents (plain decimals
with a dot, the form a spreadsheet reads as a number), dates as the jurisdiction's forms write them:

- US ``form8949``: Form 8949's columns (a) to (h), dates MM/DD/YYYY.
- UK ``hmrc-computation``: the capital gains computation HMRC asks to attach to SA108 (CRYPTO22250 onward):
  date of disposal, token, quantity, disposal proceeds, allowable costs, gain or loss and the share-matching
  rule that gave the cost (same day, bed and breakfast with the acquisition date it matched, Section 104
  pool: TCGA 1992 s.105-106A, CRYPTO22251-22256), dates DD/MM/YYYY.
- DE ``anlage-so``: the lines of Anlage SO for private Veräußerungsgeschäfte (§23 Abs. 1 Nr. 2 EStG): Art des
  Wirtschaftsguts, Anschaffung, Veräußerung, Veräußerungspreis, Anschaffungskosten, Werbungskosten (the fees,
  already in the price and the costs here: taxsync deducts them there), Gewinn/Verlust and whether it was held
  within one year (taxable) or more (tax-free), dates DD.MM.YYYY.
- CA ``schedule3``: Schedule 3's columns for other properties: number of units, description, year of
  acquisition, proceeds of disposition, adjusted cost base, outlays and expenses (in the figures already),
  gain (or loss), and the superficial loss denied (ITA s.54), dates YYYY-MM-DD.
- AU ``cgt-schedule``: the CGT schedule: CGT asset, quantity, acquired, CGT event date, capital proceeds, cost
  base, capital gain or loss, and whether it was held at least 12 months (the discount method, ITAA 1997
  s115-A), dates DD/MM/YYYY.
- Any other jurisdiction ``disposals``: the Form 8949 columns with ISO dates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from typing import NamedTuple

from reports.formatting import day_first_date, display_cents, german_date, iso_date, month_first_date, plain
from reports.model import DisposalRow, ReportModel
from reports.safe import neutralise
from taxsync.tax.records import Term

Row = Callable[[DisposalRow], list[str]]


class GainsCsv(NamedTuple):
    name: str  # the file's suffix: the form it follows
    header: tuple[str, ...]
    rows: Callable[[ReportModel], Iterator[list[str]]]  # one line per disposal, short-term first


def _acquired(row: DisposalRow, write: Callable[[date], str]) -> str:
    acquired = row.record.acquired
    return write(acquired) if acquired is not None else row.acquired_text.upper()


TERMS = {Term.SHORT: "Short-term", Term.LONG: "Long-term"}
UK_RULES = {"same-day": "Same day", "bed-and-breakfast": "Bed and breakfast", "section-104": "Section 104"}
DE_HELD = {Term.SHORT: "innerhalb eines Jahres (steuerpflichtig)", Term.LONG: "mehr als ein Jahr (steuerfrei)"}
AU_HELD = {Term.SHORT: "No", Term.LONG: "Yes"}


def form8949_rows(model: ReportModel, write: Callable[[date], str] = month_first_date) -> Iterator[list[str]]:
    """Form 8949's lines, Part I (short-term) first, then Part II (long-term), made with as little work per row
    as possible (a year can have a million): cells taxsync writes itself cannot start a formula, so only text
    from the exchange is neutralised, and dates are formatted once per day."""
    text, day, cents = cache(neutralise), cache(write), display_cents  # few distinct values, many rows
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
            TERMS[d.term],
            text(d.account),
            neutralise(d.ref),
        ]
        for part in (model.short_term, model.long_term)
        for row in part.rows
        for d in (row.record,)
    )


def _each(line: Row) -> Callable[[ReportModel], Iterator[list[str]]]:
    """The rows of a layout that makes one line per disposal."""
    return lambda model: (line(row) for part in (model.short_term, model.long_term) for row in part.rows)


# Few distinct values over many rows: each date and each text from the exchange is formatted once.
_day_first, _german, _text = cache(day_first_date), cache(german_date), cache(neutralise)


def _uk(row: DisposalRow) -> list[str]:
    d = row.record
    matched = _day_first(d.acquired) if d.rule == "bed-and-breakfast" and d.acquired is not None else ""
    return [_day_first(d.disposed), _text(d.asset), plain(d.amount), display_cents(row.proceeds),
            display_cents(row.cost), display_cents(row.gain), UK_RULES.get(d.rule, d.rule), matched, _text(d.account),
            neutralise(d.ref)]


def _de(row: DisposalRow) -> list[str]:
    d = row.record
    return [neutralise(f"{plain(d.amount)} {d.asset}"), _acquired(row, _german), _german(d.disposed),
            display_cents(row.proceeds), display_cents(row.cost), "0.00", display_cents(row.gain), DE_HELD[d.term],
            _text(d.account), neutralise(d.ref)]


def _ca(row: DisposalRow) -> list[str]:
    d = row.record
    year = str(d.acquired.year) if d.acquired is not None else row.acquired_text.upper()
    return [plain(d.amount), _text(d.asset), year, display_cents(row.proceeds), display_cents(row.cost), "0.00",
            display_cents(row.gain), display_cents(row.adjustment) if d.adjustment else "", iso_date(d.disposed),
            _text(d.account), neutralise(d.ref)]


def _au(row: DisposalRow) -> list[str]:
    d = row.record
    return [_text(d.asset), plain(d.amount), _acquired(row, _day_first), _day_first(d.disposed),
            display_cents(row.proceeds), display_cents(row.cost), display_cents(row.gain), AU_HELD[d.term],
            _text(d.account), neutralise(d.ref)]


FORM8949_HEADER = ("Description", "Date Acquired", "Date Sold", "Proceeds", "Cost Basis", "Code", "Adjustment",
                   "Gain or Loss", "Term", "Account", "Reference")
GAINS_CSV: dict[str, GainsCsv] = {
    "us": GainsCsv("form8949", FORM8949_HEADER, form8949_rows),
    "uk": GainsCsv("hmrc-computation", (
        "Date of disposal", "Cryptoasset", "Quantity", "Disposal proceeds", "Allowable costs", "Gain or loss",
        "Matching rule", "Acquisition date matched", "Account", "Reference"), _each(_uk)),
    "de": GainsCsv("anlage-so", (
        "Art des Wirtschaftsguts", "Anschaffung", "Veräußerung", "Veräußerungspreis", "Anschaffungskosten",
        "Werbungskosten", "Gewinn/Verlust", "Haltedauer", "Konto", "Referenz"), _each(_de)),
    "ca": GainsCsv("schedule3", (
        "Number of units", "Description", "Year of acquisition", "Proceeds of disposition", "Adjusted cost base",
        "Outlays and expenses", "Gain (or loss)", "Superficial loss denied", "Date of disposition", "Account",
        "Reference"), _each(_ca)),
    "au": GainsCsv("cgt-schedule", (
        "CGT asset", "Quantity", "Date acquired", "Date of CGT event", "Capital proceeds", "Cost base",
        "Capital gain or (loss)", "Held 12 months or more", "Account", "Reference"), _each(_au)),
    "generic": GainsCsv("disposals", FORM8949_HEADER, lambda model: form8949_rows(model, iso_date)),
}


def gains_csv(jurisdiction: str) -> GainsCsv:
    return GAINS_CSV.get(jurisdiction, GAINS_CSV["generic"])


