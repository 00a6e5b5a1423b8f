"""What each jurisdiction makes of a year's disposals: the taxable gain and the rules applied to reach it.

One pure function per jurisdiction, registered in ``SUMMARIES``; every report writer shows the same result.
Figures are exact; the rules are named so an accountant can check them (reference/tax-rules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from taxsync.tax.records import Disposal, Term

ZERO = Decimal(0)
HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Summary:
    taxable_gain: Decimal
    rules: dict[str, str]
    lines: tuple[tuple[str, Decimal], ...] = field(default=())  # figures that go on the return


def _net(disposals: Sequence[Disposal], term: Term | None = None) -> Decimal:
    return sum((d.gain for d in disposals if term is None or d.term is term), ZERO)


def _us(disposals: Sequence[Disposal], period_end: date) -> Summary:
    """Schedule D nets short- and long-term results; the $3,000 limit on deducting a net loss against other
    income (IRC §1211(b)) is applied on the return, not here. Wash sales (§1091) do not reach crypto."""
    short, long = _net(disposals, Term.SHORT), _net(disposals, Term.LONG)
    return Summary(short + long, {
        "holding_period": "long term when held more than one year (IRC §1222)",
        "loss_limit": "a net capital loss offsets at most $3,000 of other income a year (IRC §1211(b)); the rest "
                      "carries forward",
        "wash_sale": "not applied: §1091 covers stock and securities, not crypto held as property",
    }, (("Schedule D short-term net gain or (loss)", short), ("Schedule D long-term net gain or (loss)", long)))


def _uk(disposals: Sequence[Disposal], period_end: date) -> Summary:
    """Net gains less the annual exempt amount (TCGA 1992 s.1K): £12,300 to 2022/23, £6,000 in 2023/24, £3,000
    from 2024/25. 2024/25 gains are split at 30 October 2024, when the CGT rates changed (18/24% from then)."""
    year = period_end.year  # the year the tax year ends in
    exempt = Decimal(12_300) if year <= 2023 else Decimal(6_000) if year == 2024 else Decimal(3_000)
    gains = sum((d.gain for d in disposals if d.gain > 0), ZERO)
    losses = -sum((d.gain for d in disposals if d.gain < 0), ZERO)
    net = gains - losses
    lines = [("Disposal proceeds", sum((d.proceeds for d in disposals), ZERO)),
             ("Allowable costs", sum((d.cost for d in disposals), ZERO)),
             ("Gains in the year, before losses", gains), ("Losses in the year", losses),
             ("Annual exempt amount", exempt)]
    if year == 2025:
        split = date(2024, 10, 30)
        lines += [("Net gain before 30 October 2024", _net([d for d in disposals if d.disposed < split])),
                  ("Net gain on or after 30 October 2024", _net([d for d in disposals if d.disposed >= split]))]
    return Summary(max(net - exempt, ZERO), {
        "matching": "same day, then the next 30 days, then the Section 104 pool (CRYPTO22200 onward)",
        "annual_exempt_amount": f"GBP {exempt}",
        "rate_change": "CGT rates changed on 30 October 2024; 2024/25 gains are split at that date",
        "disposals": f"{len({(d.asset, d.disposed) for d in disposals})} (per token and day, as HMRC counts them)",
    }, tuple(lines))


def _de(disposals: Sequence[Disposal], period_end: date) -> Summary:
    """§23 EStG: private sales within one year are taxable, after it tax-free; the Freigrenze (§23 Abs. 3
    Satz 5) is a cliff: a total below €600 (to 2023) or €1,000 (from 2024) is not taxed at all."""
    limit = Decimal(600) if period_end.year <= 2023 else Decimal(1_000)
    within_year = _net(disposals, Term.SHORT)
    taxable = ZERO if ZERO <= within_year < limit else within_year
    return Summary(taxable, {
        "holding_period": "tax-free when held more than one year (§23 Abs. 1 Nr. 2 EStG)",
        "freigrenze": f"EUR {limit} (a total below it is not taxed; at or above it all of it is)",
    }, (("Anlage SO: private sales within one year, gain or (loss)", within_year),
        ("Anlage SO: tax-free sales held more than one year", _net(disposals, Term.LONG))))


def _ca(disposals: Sequence[Disposal], period_end: date) -> Summary:
    """Schedule 3: half of the net capital gain is taxable (ITA s.38(a)); a net loss becomes half an allowable
    loss to carry. Superficial losses (s.54) are not yet adjusted here."""
    net = _net(disposals)
    return Summary(net * HALF, {"inclusion_rate": "50% (ITA s.38)", "cost_method": "average cost (ACB)"},
                   (("Schedule 3: net capital gain or (loss)", net), ("Taxable capital gain (50%)", net * HALF)))


def _au(disposals: Sequence[Disposal], period_end: date) -> Summary:
    """Net capital gain (ITA 1997 s102-5): capital losses first reduce gains not eligible for the discount, then
    discountable gains, which are then halved (s115-A: assets held at least 12 months)."""
    losses = -sum((d.gain for d in disposals if d.gain < 0), ZERO)
    short = sum((d.gain for d in disposals if d.gain > 0 and d.term is Term.SHORT), ZERO)
    long = sum((d.gain for d in disposals if d.gain > 0 and d.term is Term.LONG), ZERO)
    used_on_short = min(losses, short)
    long_after = max(long - (losses - used_on_short), ZERO)
    net = (short - used_on_short) + long_after * HALF
    carried = max(losses - short - long, ZERO)
    return Summary(net, {"discount": "50% on gains of assets held at least 12 months, after losses (s115-A)",
                         "losses_carried_forward": f"{carried}"},
                   (("Total current year capital gains", short + long), ("Capital losses applied", losses - carried),
                    ("Net capital gain", net)))


def _generic(disposals: Sequence[Disposal], period_end: date) -> Summary:
    return Summary(_net(disposals), {"note": "no jurisdiction rules applied: taxable gain = net gain"})


SUMMARIES: dict[str, Callable[[Sequence[Disposal], date], Summary]] = {
    "us": _us, "uk": _uk, "de": _de, "ca": _ca, "au": _au, "generic": _generic,
}
