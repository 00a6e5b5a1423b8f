"""HTML rendering shared by the HTML and PDF writers: one Jinja2 environment, one template per section.

Everything printed comes from exchange data the user does not control (asset names, notes, account labels),
so autoescaping is always on and the CSS is our own static file. ``StrictUndefined`` turns a misspelt field
in a template into an error instead of an empty cell in a tax report. Number and date formats are filters
here, so the templates hold layout only.
"""

from __future__ import annotations

from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.charts import bar_chart, holdings_by_asset, monthly_gains
from reports.formatting import form_date, iso_date, money_display, plain, timestamp_text
from reports.model import ReportModel
from taxsync.resources import templates_dir
from taxsync.tax.records import Term
from taxsync.types import to_datetime

Medium = Literal["html", "pdf"]

# Paper follows local custom: Letter where the tax forms are printed on Letter, A4 elsewhere.
LETTER_JURISDICTIONS = frozenset({"us", "ca"})
PART_TITLES = {
    Term.SHORT: ("Part I", "Short-term"),
    Term.LONG: ("Part II", "Long-term"),
}


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
        chart_monthly_gains=lambda m: bar_chart(monthly_gains(m), "Gains and losses by month", m.context.currency),
        chart_holdings=lambda m: bar_chart(holdings_by_asset(m), "Holdings by asset at cost", m.context.currency),
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


def render_document(model: ReportModel, medium: Medium) -> str:
    """The whole report as one HTML document with its CSS inlined."""
    ctx = model.context
    template = environment(ctx.jurisdiction).get_template("report.html.j2")
    return template.render(
        m=model,
        ctx=ctx,
        medium=medium,
        page_size=page_size(ctx.jurisdiction),
        parts=[(PART_TITLES[part.term], part) for part in (model.short_term, model.long_term)],
    )


def _words(code: str) -> str:
    """``missing_cost_basis`` -> ``missing cost basis``."""
    return str(code).replace("_", " ")


def _sentence(text: str) -> str:
    """The first letter upper case, the rest as written (Jinja's ``capitalize`` would lower "Rev. Rul.")."""
    return text[:1].upper() + text[1:]
