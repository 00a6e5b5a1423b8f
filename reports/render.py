"""HTML rendering shared by the HTML and PDF writers: one Jinja2 environment, one template per section.

Everything printed comes from exchange data the user does not control (asset names, notes, account labels),
so autoescaping is always on and the CSS is our own static file. ``StrictUndefined`` turns a misspelt field
in a template into an error instead of an empty cell in a tax report. Number and date formats are filters
here, so the templates hold layout only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.charts import bar_chart, holdings_by_asset, monthly_gains
from reports.formatting import form_date, iso_date, money_display, plain, timestamp_text
from reports.layouts import LAYOUTS, layout_for, part_title
from reports.model import FormPart, ReportModel
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.resources import templates_dir
from taxsync.types import to_datetime

Medium = Literal["html", "pdf"]

# Paper follows local custom: Letter where the tax forms are printed on Letter, A4 elsewhere.
LETTER_JURISDICTIONS = frozenset({"us", "ca"})

# Form 8949 lines per text block in the PDF and HTML (templates/_gains.html.j2): WeasyPrint's cost per line grows
# with the length of its block, and a block per line costs a box each; ten is about the fastest.
CHUNK_ROWS = 10
SOURCES_SHOWN = 3  # sources printed per group of problems; the JSON lists every problem
# Numbers, dates and times in a message: "no price for BTC on 2024-03-05" and "... on 2024-03-06" are one kind
# of finding. Asset names and other words stay, so each asset's findings form their own group.
_NUMBER = re.compile(r"[-+]?\d[\d.,:T/-]*Z?")


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """Problems of one severity and kind whose messages differ only in numbers, dates and times: the first
    message as the example, how many there are, and the first few sources to check."""

    severity: Severity
    kind: ProblemKind
    message: str
    count: int
    sources: tuple[str, ...]


def group_problems(problems: Iterable[Problem], shown: int = SOURCES_SHOWN) -> list[ProblemGroup]:
    """``problems`` grouped by severity, kind and message pattern, in the order each group first appears."""
    groups: dict[tuple[Severity, ProblemKind, str], list[Problem]] = {}
    for problem in problems:
        key = (problem.severity, problem.kind, _NUMBER.sub("#", problem.message))
        groups.setdefault(key, []).append(problem)
    return [
        ProblemGroup(first.severity, first.kind, first.message, len(members),
                     tuple(p.source for p in members[:shown]))
        for first, members in ((members[0], members) for members in groups.values())
    ]


def page_size(jurisdiction: str) -> str:
    """The CSS ``@page`` size keyword for the jurisdiction: ``letter`` or ``A4``."""
    return "letter" if jurisdiction in LETTER_JURISDICTIONS else "A4"


def environment(jurisdiction: str) -> Environment:
    """A Jinja2 environment over the bundled templates with taxsync's filters."""
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(  # inline SVG (reports/charts.py)
        chart_monthly_gains=lambda m: bar_chart(monthly_gains(m), "Gains and losses by month", m.context.currency,
                                                x_axis="Month of disposal", y_axis="Gain or (loss)"),
        chart_holdings=lambda m: bar_chart(holdings_by_asset(m), "Holdings by asset at cost", m.context.currency,
                                           x_axis="Asset", y_axis="Cost basis"),
    )
    env.filters.update(
        money=money_display,
        qty=plain,
        iso=iso_date,
        form_date=lambda day: form_date(day, jurisdiction),
        timestamp=timestamp_text,
        utc_minute=lambda ts: to_datetime(ts).strftime("%Y-%m-%d %H:%M"),
        words=_words,
        sentence=_sentence,
    )
    return env


def render_document(model: ReportModel, medium: Medium, *, detail: bool | None = None,
                    audit: bool | None = None) -> str:
    """The whole report as one HTML document with its CSS inlined. Without ``detail`` (default: the context's),
    the capital gains show only the totals of each part (the summary report, quick at any size); with ``audit``
    (default: the context's) the lot-matching section follows the gains."""
    ctx = model.context
    template = environment(ctx.jurisdiction).get_template("report.html.j2")
    return template.render(
        m=model,
        ctx=ctx,
        medium=medium,
        page_size=page_size(ctx.jurisdiction),
        layout=layout_for(ctx.jurisdiction),
        parts=gains_parts(model),
        detail=ctx.detail if detail is None else detail,
        audit=ctx.audit if audit is None else audit,
        chunk_rows=CHUNK_ROWS,
        problem_groups=group_problems(model.problems),
        income_totals=income_totals(model),
        price_series=price_series(model),
    )


@dataclass(frozen=True, slots=True)
class IncomeTotal:
    """The receipts of one asset and kind in the period (the summary report's income table)."""

    asset: str
    kind: str
    count: int
    amount: Decimal
    value: Decimal  # of the valued receipts, each rounded as its row in the full report
    unvalued: int


def income_totals(model: ReportModel) -> list[IncomeTotal]:
    """The period's income by asset and kind, in asset order."""
    sums: dict[tuple[str, str], list[Any]] = {}
    for row in model.income:
        key = (row.record.asset, row.record.kind)
        total = sums.setdefault(key, [0, Decimal(0), Decimal(0), 0])
        total[0] += 1
        total[1] += row.record.amount
        if row.value is None:
            total[3] += 1
        else:
            total[2] += row.value
    return [IncomeTotal(asset, kind, *total) for (asset, kind), total in sorted(sums.items())]


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """The prices of one pair, resolution and source used in the period (the summary report's appendix)."""

    base: str
    quote: str
    resolution: str
    source: str
    count: int
    first: int  # ms UTC
    last: int
    low: Decimal
    high: Decimal


def price_series(model: ReportModel) -> list[PriceSeries]:
    """The period's prices grouped by pair, resolution and source, in pair order."""
    groups: dict[tuple[str, str, str, str], list[Any]] = {}
    for p in model.prices:
        key = (p.base, p.quote, p.resolution, p.source)
        if (seen := groups.get(key)) is None:
            groups[key] = [1, p.timestamp, p.timestamp, p.price, p.price]
            continue
        seen[0] += 1
        seen[1], seen[2] = min(seen[1], p.timestamp), max(seen[2], p.timestamp)
        seen[3], seen[4] = min(seen[3], p.price), max(seen[4], p.price)
    return [PriceSeries(*key, *seen) for key, seen in sorted(groups.items())]


def gains_parts(model: ReportModel) -> list[tuple[str, FormPart]]:
    """The parts of the capital gains detail with their titles, in the jurisdiction's layout (a part the layout
    does not name is shown all the same, if it has rows, under its generic title)."""
    ctx = model.context
    named = layout_for(ctx.jurisdiction).parts
    return [
        (part_title(ctx.jurisdiction, part.term, ctx.period_end.year) if part.term in named
         else LAYOUTS["generic"].parts[part.term], part)
        for part in (model.short_term, model.long_term)
        if part.term in named or part.rows
    ]


def _words(code: str) -> str:
    """``missing_cost_basis`` -> ``missing cost basis``."""
    return str(code).replace("_", " ")


def _sentence(text: str) -> str:
    """The first letter upper case, the rest as written (Jinja's ``capitalize`` would lower "Rev. Rul.")."""
    return text[:1].upper() + text[1:]
