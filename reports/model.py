"""The report model: one view of a tax result for one tax year, which every writer renders.

The engine returns everything it computed (disposals, income, holdings and problems); a report is about one
period. ``build_report_model`` selects the rows that fall inside the period, orders them the way a tax form
lists them, and computes two kinds of figures once, so that the PDF, HTML, CSV and JSON can never disagree:

- exact totals, straight ``Decimal`` sums of the engine's values (the JSON carries these);
- display figures, rounded half-up to cents per row, with every printed total the sum of the printed rows.
  A gain on a row is its rounded proceeds minus its rounded cost, so each line and each Form 8949 part
  adds up on paper. The difference to the exact totals is at most a cent per row, and the report says so.

Each disposal row carries the lots it consumed (``DisposalRow.lots``, the engine's matches): the audit trail
from a line of the form back to the acquisitions behind its cost. The jurisdiction's summary covers the year's
gains and income; the holdings check (``taxsync.ledger.integrity``), when the caller ran it, travels with the model.

All dataclasses here are plain frozen records; ``build_report_model`` is the only place that computes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from reports.formatting import EXACT, decimal_sum, round_cents
from taxsync.ledger.integrity import IntegrityReport
from taxsync.perf import collector_paused
from taxsync.prices.records import PricePoint
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Disposal, Holding, Income, LotMatch, TaxResult, Term
from taxsync.tax.summary import SUMMARIES, Summary

# Errors first: the first thing a reader must see is what could make the figures wrong.
SEVERITY_ORDER: tuple[Severity, ...] = (Severity.ERROR, Severity.WARNING, Severity.INFO)

NO_ADJUSTMENT = Decimal("0.00")  # the display figure of a zero adjustment
ACQUIRED_VARIOUS = "various"  # lots acquired on several days
ACQUIRED_UNKNOWN = "unknown"  # no known acquisition at all: zero cost basis, flagged as a problem


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Who and what the report is for; supplied by the caller, printed on the first page."""

    workspace: str
    jurisdiction: str  # code, e.g. "us"
    jurisdiction_name: str  # "United States"
    tax_year: str  # "2024" or "2024-25"
    period_start: date  # inclusive, local calendar date
    period_end: date  # inclusive, local calendar date
    currency: str
    method: str
    tracking: str  # "universal" or per-account
    timezone: str
    accounts: tuple[str, ...]
    generated_at: datetime
    version: str
    notes: tuple[str, ...] = ()  # methodology sentences (fee treatment and the like)
    sources: tuple[str, ...] = ()  # where the data came from, one line per account (exchange API, files)
    detail: bool = True  # PDF and HTML list every disposal (False: the summary report, totals only)
    audit: bool = False  # PDF and HTML add the lot-matching audit trail


class DisposalRow(NamedTuple):
    """A disposal with its display figures: proceeds, cost and adjustment rounded to cents, gain = proceeds - cost
    + adjustment, as Form 8949 column (h) is (d) - (e) + (g).

    ``exact_gain`` is the unrounded proceeds minus cost plus adjustment (a superficial loss denied in Canada).
    ``acquired_text`` is empty when ``record.acquired`` is a date, else ``"various"`` or ``"unknown"``.
    ``lots`` are the parts of lots the disposal consumed, whose
    amounts and costs add up to the disposal's (a part with an empty ``lot_ref`` had no known acquisition).
    A named tuple rather than a dataclass: a year can have a million of them, and it is built several times faster.
    """

    record: Disposal
    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    exact_gain: Decimal
    acquired_text: str
    lots: tuple[LotMatch, ...] = ()
    adjustment: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class IncomeRow:
    """An income receipt with its value rounded to cents (None when no price was known)."""

    record: Income
    value: Decimal | None


@dataclass(frozen=True, slots=True)
class HoldingRow:
    """A holding at period end with its remaining cost rounded to cents."""

    record: Holding
    cost: Decimal


@dataclass(frozen=True, slots=True)
class ColumnTotals:
    """Sums of the rounded rows of a table: what a reader adding up the printed column gets."""

    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    adjustment: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class FormPart:
    """One part of Form 8949: the disposals of one holding term and their column totals."""

    term: Term
    rows: tuple[DisposalRow, ...]
    totals: ColumnTotals


@dataclass(frozen=True, slots=True)
class Totals:
    """Exact totals of the period, unrounded. ``income`` counts valued receipts only."""

    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    short_term_gain: Decimal
    long_term_gain: Decimal
    income: Decimal
    income_unvalued: int  # receipts whose value is unknown and therefore not in ``income``


@dataclass(frozen=True, slots=True)
class ReportModel:
    """Everything a writer needs, already selected, ordered and summed."""

    context: ReportContext
    disposals: tuple[DisposalRow, ...]  # short-term first, then by time of disposal and asset
    income: tuple[IncomeRow, ...]  # by time of receipt
    holdings: tuple[HoldingRow, ...]  # as computed at period end
    problems: tuple[Problem, ...]  # all of them, errors first
    totals: Totals  # exact
    short_term: FormPart  # Part I, display figures
    long_term: FormPart  # Part II, display figures
    form_totals: ColumnTotals  # Part I + Part II, display figures
    income_total: Decimal  # sum of the rounded valued income rows
    holdings_cost_total: Decimal  # sum of the rounded holding costs
    problem_counts: tuple[tuple[Severity, int], ...]  # every severity, in SEVERITY_ORDER
    summary: Summary  # the jurisdiction's taxable gain and income and the rules applied, from the printed rows
    integrity: IntegrityReport | None = None  # the holdings check, when the caller ran it
    prices: tuple[PricePoint, ...] = ()  # market prices and rates used for the period's values (the appendix)
    opening: tuple[HoldingRow, ...] = ()  # holdings at the start of the period, as computed then
    opening_cost_total: Decimal = Decimal(0)  # sum of their rounded costs
    exact_summary: Summary | None = None  # the same from the exact, unrounded figures


def build_report_model(
    result: TaxResult, ctx: ReportContext, integrity: IntegrityReport | None = None,
    prices: Iterable[PricePoint] = (), opening: Iterable[Holding] = (),
) -> ReportModel:
    """Select the period's rows of ``result``, order them and compute exact and display totals.

    ``integrity`` is the outcome of the holdings check; its problems are expected among ``result.problems``.
    ``prices`` are the market prices and rates valuation used; those of the period (by UTC day, a day of margin
    on either side for local days) make the price appendix. ``opening`` are the holdings when the period began."""
    with collector_paused():  # a million rows of acyclic records
        return _build(result, ctx, integrity, prices, opening)


def _build(
    result: TaxResult, ctx: ReportContext, integrity: IntegrityReport | None, prices: Iterable[PricePoint],
    opening: Iterable[Holding],
) -> ReportModel:
    start, end = ctx.period_start, ctx.period_end
    disposals = sorted(
        (d for d in result.disposals if start <= d.disposed <= end),
        key=lambda d: (d.term != Term.SHORT, d.disposed_at, d.asset, d.ref),
    )
    income = sorted(
        (i for i in result.income if start <= i.received <= end),
        key=lambda i: (i.received_at, i.asset, i.ref),
    )
    rows = tuple(_disposal_row(d) for d in disposals)
    short_term = _form_part(Term.SHORT, rows)
    long_term = _form_part(Term.LONG, rows)
    income_rows = tuple(IncomeRow(record=i, value=None if i.value is None else round_cents(i.value)) for i in income)
    holding_rows = tuple(HoldingRow(record=h, cost=round_cents(h.cost)) for h in result.holdings)
    rule = SUMMARIES.get(ctx.jurisdiction, SUMMARIES["generic"])
    # The return lines come from the rows as printed (one rounding rule everywhere): each line is the total of
    # its table; the exact figures are kept beside them (``exact_summary``, in the JSON).
    shown = [row.record._replace(proceeds=row.proceeds, cost=row.cost, adjustment=row.adjustment) for row in rows]
    summary = rule(shown, [replace(r.record, value=r.value) for r in income_rows], ctx.period_end)
    exact_summary = rule(disposals, income, ctx.period_end)
    problems = (*result.problems, *_income_gap(summary, income))
    return ReportModel(
        context=ctx,
        disposals=rows,
        income=income_rows,
        holdings=holding_rows,
        problems=tuple(sorted(problems, key=lambda p: SEVERITY_ORDER.index(p.severity))),
        totals=_exact_totals(disposals, income),
        short_term=short_term,
        long_term=long_term,
        form_totals=_add_columns((short_term.totals, long_term.totals)),
        income_total=decimal_sum([r.value for r in income_rows if r.value is not None]),
        holdings_cost_total=decimal_sum([r.cost for r in holding_rows]),
        problem_counts=tuple(
            (severity, sum(1 for p in problems if p.severity == severity)) for severity in SEVERITY_ORDER
        ),
        summary=summary,
        exact_summary=exact_summary,
        integrity=integrity,
        prices=_period_prices(prices, ctx),
        opening=(opening_rows := tuple(HoldingRow(record=h, cost=round_cents(h.cost)) for h in opening)),
        opening_cost_total=decimal_sum([r.cost for r in opening_rows]),
    )


def _period_prices(prices: Iterable[PricePoint], ctx: ReportContext) -> tuple[PricePoint, ...]:
    first = ctx.period_start - timedelta(days=1)
    last = ctx.period_end + timedelta(days=1)
    return tuple(sorted(
        (p for p in prices if first <= datetime.fromtimestamp(p.timestamp // 1000, UTC).date() <= last),
        key=lambda p: (p.timestamp, p.base, p.quote, p.resolution, p.source)))


def _income_gap(summary: Summary, income: Iterable[Income]) -> tuple[Problem, ...]:
    """One problem for the figure on the return when receipts of the period have no value (each receipt has
    its own missing-price problem; this one says what it does to the taxable income)."""
    if not summary.income_unvalued:
        return ()
    first = next(i for i in income if i.value is None)
    count = summary.income_unvalued
    return (Problem(
        ProblemKind.MISSING_PRICE, Severity.ERROR,
        f"{count} income receipt{'s' if count != 1 else ''} of the period {'have' if count != 1 else 'has'} no "
        f"known value and {'are' if count != 1 else 'is'} left out of the taxable income, which is too low "
        f"until {'they are' if count != 1 else 'it is'} valued: add the value (Net Worth) in the source rows and "
        "report again",
        first.ref),)


def acquired_text(disposal: Disposal) -> str:
    """Empty when the acquisition date is known; otherwise why it is not one date."""
    if disposal.acquired is not None:
        return ""
    if disposal.amount > 0 and disposal.no_basis >= disposal.amount:
        return ACQUIRED_UNKNOWN
    return ACQUIRED_VARIOUS


def _disposal_row(disposal: Disposal) -> DisposalRow:
    add, subtract = EXACT.add, EXACT.subtract  # exact: 50 digits, no context switch per row
    proceeds = round_cents(disposal.proceeds)
    cost = round_cents(disposal.cost)
    if disposal.adjustment:  # rare (a superficial loss denied in Canada)
        adjustment = round_cents(disposal.adjustment)
        gain = add(subtract(proceeds, cost), adjustment)
        exact_gain = add(subtract(disposal.proceeds, disposal.cost), disposal.adjustment)
    else:
        adjustment, gain = NO_ADJUSTMENT, subtract(proceeds, cost)
        exact_gain = subtract(disposal.proceeds, disposal.cost)
    return DisposalRow(
        disposal,
        proceeds,
        cost,
        gain,
        exact_gain,
        "" if disposal.acquired is not None else acquired_text(disposal),
        _lots(disposal),
        adjustment,
    )


def _lots(disposal: Disposal) -> tuple[LotMatch, ...]:
    """The disposal's matches, completed so that they add up to it: units with no known acquisition that have
    no match of their own (UK Section 104 rows list only the pool's part) get one, at zero cost."""
    matches = disposal.matches
    if len(matches) == 1 and matches[0].amount == disposal.amount:  # the common case, decided without a sum
        return tuple(matches)
    matched = decimal_sum([m.amount for m in matches])
    unmatched = disposal.amount - matched
    if 0 < unmatched <= disposal.no_basis:
        return (*disposal.matches, LotMatch("", None, None, unmatched, Decimal(0), disposal.account))
    return tuple(disposal.matches)


def _form_part(term: Term, rows: Iterable[DisposalRow]) -> FormPart:
    selected = tuple(r for r in rows if r.record.term == term)
    totals = ColumnTotals(
        proceeds=decimal_sum([r.proceeds for r in selected]),
        cost=decimal_sum([r.cost for r in selected]),
        gain=decimal_sum([r.gain for r in selected]),
        adjustment=decimal_sum([r.adjustment for r in selected]),
    )
    return FormPart(term=term, rows=selected, totals=totals)


def _add_columns(parts: Iterable[ColumnTotals]) -> ColumnTotals:
    parts = tuple(parts)
    return ColumnTotals(
        proceeds=decimal_sum([p.proceeds for p in parts]),
        cost=decimal_sum([p.cost for p in parts]),
        gain=decimal_sum([p.gain for p in parts]),
        adjustment=decimal_sum([p.adjustment for p in parts]),
    )


def _exact_totals(disposals: list[Disposal], income: list[Income]) -> Totals:
    proceeds = decimal_sum([d.proceeds for d in disposals])
    cost = decimal_sum([d.cost for d in disposals])
    adjustment = decimal_sum([d.adjustment for d in disposals])
    return Totals(
        proceeds=proceeds,
        cost=cost,
        gain=decimal_sum([proceeds, cost.copy_negate(), adjustment]),
        short_term_gain=_gain_sum(d for d in disposals if d.term == Term.SHORT),
        long_term_gain=_gain_sum(d for d in disposals if d.term == Term.LONG),
        income=decimal_sum([i.value for i in income if i.value is not None]),
        income_unvalued=sum(1 for i in income if i.value is None),
    )


def _gain_sum(disposals: Iterable[Disposal]) -> Decimal:
    """Exact sum of proceeds minus cost plus adjustment (not ``Disposal.gain``, which rounds at the default
    precision)."""
    return decimal_sum([v for d in disposals for v in (d.proceeds, d.cost.copy_negate(), d.adjustment)])
