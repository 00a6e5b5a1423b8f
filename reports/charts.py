"""Charts for the report as inline SVG: gains and losses by month, and holdings by asset at the period's end.

Plain SVG text built here (no plotting library, nothing fetched): the HTML page stays one self-contained file
and WeasyPrint draws the same vectors into the PDF. Amounts stay ``Decimal``; only pixel positions are rounded,
to a tenth of a pixel. Every label goes through ``markupsafe.escape``, so an asset or account name cannot inject
markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from reports.formatting import money_display
from reports.model import ReportModel

WIDTH, HEIGHT = Decimal(640), Decimal(236)
LEFT, RIGHT, TOP, BOTTOM = Decimal(70), Decimal(10), Decimal(14), Decimal(44)
TENTH = Decimal("0.1")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_BARS = 12  # holdings chart: the largest by cost, the rest together


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal


def _px(value: Decimal) -> str:
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months, (year, month) = [], (start.year, start.month)
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_gains(model: ReportModel) -> list[Bar]:
    """Net gain or (loss) of the period's disposals per calendar month of disposal (display figures)."""
    ctx = model.context
    totals = dict.fromkeys(_months(ctx.period_start, ctx.period_end), Decimal(0))
    for row in model.disposals:
        key = (row.record.disposed.year, row.record.disposed.month)
        if key in totals:
            totals[key] += row.gain
    many_years = ctx.period_start.year != ctx.period_end.year
    return [Bar(f"{MONTHS[m - 1]}{' ' + str(y)[2:] if many_years else ''}", v) for (y, m), v in totals.items()]


def holdings_by_asset(model: ReportModel) -> list[Bar]:
    """Cost of what is held at the period's end per asset, largest first; beyond ``MAX_BARS``, the rest as one."""
    by_asset: dict[str, Decimal] = {}
    for row in model.holdings:
        by_asset[row.record.asset] = by_asset.get(row.record.asset, Decimal(0)) + row.cost
    ranked = sorted(by_asset.items(), key=lambda item: (-item[1], item[0]))
    bars = [Bar(asset, cost) for asset, cost in ranked[:MAX_BARS]]
    if len(ranked) > MAX_BARS:
        bars.append(Bar(f"{len(ranked) - MAX_BARS} others", sum((c for _, c in ranked[MAX_BARS:]), Decimal(0))))
    return bars


def bar_chart(bars: Sequence[Bar], title: str, currency: str, *, x_axis: str = "", y_axis: str = "") -> Markup:
    """A vertical bar chart: gains above the axis in one colour, losses below in another; the axes labelled
    ``x_axis`` (under the bars) and ``y_axis`` (with the currency, up the left side), the top, zero and bottom of
    the scale marked."""
    if not bars:
        return Markup("")
    top = max((b.value for b in bars), default=Decimal(0))
    bottom = min((b.value for b in bars), default=Decimal(0))
    top, bottom = max(top, Decimal(0)), min(bottom, Decimal(0))
    span = (top - bottom) or Decimal(1)
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    zero_y = TOP + plot_h * top / span
    slot = plot_w / len(bars)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{LEFT}" y1="{_px(zero_y)}" x2="{WIDTH - RIGHT}" y2="{_px(zero_y)}" stroke="#444" '
             'stroke-width="0.8"/>',
             f'<text x="{LEFT - 4}" y="{_px(TOP + 4)}" text-anchor="end" font-size="9">'
             f'{escape(money_display(top))}</text>']
    if bottom < 0:
        parts.append(f'<text x="{LEFT - 4}" y="{_px(HEIGHT - BOTTOM)}" text-anchor="end" font-size="9">'
                     f'{escape(money_display(bottom))}</text>')
    if bottom < 0 < top:
        parts.append(f'<text x="{LEFT - 4}" y="{_px(zero_y + 3)}" text-anchor="end" font-size="9">0</text>')
    middle = _px(TOP + plot_h / 2)
    parts.append(f'<text x="12" y="{middle}" font-size="9" text-anchor="middle" transform="rotate(-90 12 {middle})">'
                 f'{escape(f"{y_axis} ({currency})" if y_axis else currency)}</text>')
    if x_axis:
        parts.append(f'<text x="{_px(LEFT + plot_w / 2)}" y="{_px(HEIGHT - 6)}" text-anchor="middle" '
                     f'font-size="9">{escape(x_axis)}</text>')
    for index, bar in enumerate(bars):
        height = plot_h * abs(bar.value) / span
        x = LEFT + slot * index + slot * Decimal("0.15")
        y = zero_y - height if bar.value >= 0 else zero_y
        colour = "#2f6f4f" if bar.value >= 0 else "#a23b3b"
        parts.append(f'<rect x="{_px(x)}" y="{_px(y)}" width="{_px(slot * Decimal("0.7"))}" '
                     f'height="{_px(height)}" fill="{colour}"><title>{escape(bar.label)}: '
                     f'{escape(money_display(bar.value))} {escape(currency)}</title></rect>')
        parts.append(f'<text x="{_px(LEFT + slot * index + slot / 2)}" y="{_px(HEIGHT - BOTTOM + 12)}" '
                     f'text-anchor="middle" font-size="8">{escape(bar.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
