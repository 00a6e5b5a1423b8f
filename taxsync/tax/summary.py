"""What each jurisdiction makes of a year's disposals and income: the taxable figures and the rules applied.

One pure function per jurisdiction for gains and one for income, joined in ``SUMMARIES``; every report writer
shows the same result. Figures are exact; the rules are named so an accountant can check them
(reference/tax-rules.md). Income without a known value cannot be added: it is left out of the taxable income
and counted in ``income_unvalued``, and the rules say the figure is understated, never a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext

from taxsync.tax.records import Disposal, Income, Term
from taxsync.types import decimal_text

ZERO = Decimal(0)
HALF = Decimal("0.5")
DE_INCOME_FREIGRENZE = Decimal(256)  # §22 Nr. 3 Satz 2 EStG


@dataclass(frozen=True, slots=True)
class Summary:
    """The taxable gain and income of a year, the rules applied and the figures that go on the return."""

    taxable_gain: Decimal
    rules: dict[str, str]
    lines: tuple[tuple[str, Decimal], ...] = field(default=())  # figures that go on the return
    taxable_income: Decimal = ZERO
    income_unvalued: int = 0  # receipts without a value, left out of the income figures
    counts: tuple[tuple[str, int], ...] = ()  # numbers that go on the return beside its figures (SA108's count)


@dataclass(frozen=True, slots=True)
class IncomeSummary:
    """What a jurisdiction makes of the year's valued income (``total``)."""

    taxable: Decimal
    rules: dict[str, str]
    lines: tuple[tuple[str, Decimal], ...]
    notes: dict[str, str] = field(default_factory=dict)  # rules that apply only to this year's figures


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
    }, tuple(lines), counts=(("Number of disposals (per token and day, as HMRC counts them)",
                              len({(d.asset, d.disposed) for d in disposals})),))


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
    loss to carry. Superficial losses (s.54) are already denied in each disposal's gain (its adjustment)."""
    net = _net(disposals)
    denied = sum((d.adjustment for d in disposals), ZERO)
    return Summary(net * HALF, {
        "inclusion_rate": "50% (ITA s.38)", "cost_method": "average cost (ACB)",
        "superficial_loss": "losses denied when the property is bought back within 30 days and still held "
                            f"(ITA s.54, s.40(2)(g)(i)); CAD {denied} denied this year, added to the ACB of the "
                            "units held (s.53(1)(f))",
    }, (("Schedule 3: net capital gain or (loss)", net), ("Superficial losses denied", denied),
        ("Taxable capital gain (50%)", net * HALF)))


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


# --- income ------------------------------------------------------------------------------------------------


def _us_income(total: Decimal, unvalued: int, period_end: date) -> IncomeSummary:
    """Ordinary income at fair market value when received, which is also the units' basis."""
    return IncomeSummary(total, {
        "income": "ordinary income at fair market value when received: staking rewards (Rev. Rul. 2023-14), "
                  "airdrops after a hard fork (Rev. Rul. 2019-24), mining and other rewards (Notice 2014-21); "
                  "other income on Schedule 1 unless received in a trade or business (Schedule C)",
    }, (("Schedule 1: other income (digital assets received as ordinary income)", total),))


def _uk_income(total: Decimal, unvalued: int, period_end: date) -> IncomeSummary:
    """Miscellaneous income (ITTOIA 2005 s.687) at its sterling value when received."""
    return IncomeSummary(total, {
        "income": "staking and non-trading mining rewards are miscellaneous income at their sterling value when "
                  "received (CRYPTO21200, CRYPTO21150), on the SA100 as other taxable income; airdrops given "
                  "for nothing in return are not income (CRYPTO21250): review the airdrops listed",
        "income_allowance": "the GBP 1,000 trading and miscellaneous income allowance (ITTOIA 2005 Part 6A) is "
                            "not deducted here",
    }, (("SA100: other taxable income (miscellaneous income from cryptoassets)", total),))


def _de_income(total: Decimal, unvalued: int, period_end: date) -> IncomeSummary:
    """§22 Nr. 3 EStG (staking, lending: BMF letter of 6 March 2025); the €256 Freigrenze is a cliff: a year's
    total below it is not taxed at all, at or above it all of it is (§22 Nr. 3 Satz 2 EStG)."""
    taxable = ZERO if total < DE_INCOME_FREIGRENZE else total
    unsettled = ({"freigrenze_income_open": f"the valued income is below EUR {DE_INCOME_FREIGRENZE}, but {unvalued} "
                  "receipt(s) without a value may take the year over it: value them before filing"}
                 if unvalued and taxable == ZERO else {})
    return IncomeSummary(taxable, {
        "income": "staking, lending and similar rewards are income from other services (§22 Nr. 3 EStG) at "
                  "their euro value when received",
        "freigrenze_income": f"EUR {DE_INCOME_FREIGRENZE} a year for §22 Nr. 3 income (a total below it is not "
                             "taxed; at or above it all of it is); other §22 Nr. 3 income of the year counts "
                             "towards the same limit",
    }, (("Anlage SO: income from other services (§22 Nr. 3 EStG)", total),
        ("Anlage SO: taxable after the EUR 256 Freigrenze", taxable)), unsettled)


def _ca_income(total: Decimal, unvalued: int, period_end: date) -> IncomeSummary:
    """Income from property or a business is included in full (ITA s.3, s.9), unlike capital gains."""
    return IncomeSummary(total, {
        "income": "staking, mining and other rewards are income when received, fully included (ITA s.3 and "
                  "s.9): T1 line 13000 other income, or Form T2125 if they are business income",
    }, (("T1 line 13000: other income", total),))


def _au_income(total: Decimal, unvalued: int, period_end: date) -> IncomeSummary:
    """Ordinary income (ITAA 1997 s6-5) at its market value in AUD when received."""
    return IncomeSummary(total, {
        "income": "staking rewards and similar receipts are ordinary income at their market value in AUD when "
                  "received (ITAA 1997 s6-5); that value is the cost base of the units",
    }, (("Other income: crypto rewards (ordinary income)", total),))


def _generic_income(total: Decimal, unvalued: int, period_end: date) -> IncomeSummary:
    return IncomeSummary(total, {"income": "no jurisdiction rules applied: taxable income = valued income"},
                         (("Income", total),))


GainRule = Callable[[Sequence[Disposal], date], Summary]
IncomeRule = Callable[[Decimal, int, date], IncomeSummary]
SummaryRule = Callable[[Sequence[Disposal], Sequence[Income], date], Summary]


def _summary(gains: GainRule, income: IncomeRule) -> SummaryRule:
    """A jurisdiction's summary: its gains rule and its income rule over the year's valued income."""

    def summarize(disposals: Sequence[Disposal], receipts: Sequence[Income], period_end: date) -> Summary:
        gain = gains(disposals, period_end)
        with localcontext() as context:
            context.prec = 50  # exact for any sum of amounts an exchange reports
            total = sum((i.value for i in receipts if i.value is not None), ZERO)
        unvalued = sum(1 for i in receipts if i.value is None)
        part = income(total, unvalued, period_end)
        rules = {**gain.rules, **part.rules, **part.notes}
        if unvalued:
            rules["income_unvalued"] = (
                f"{unvalued} receipt{'s' if unvalued != 1 else ''} without a known value "
                f"{'are' if unvalued != 1 else 'is'} not included in the income of {decimal_text(total)}: the "
                "income figures are too low until they are valued (see Problems)")
        return Summary(gain.taxable_gain, rules, (*gain.lines, *part.lines), part.taxable, unvalued, gain.counts)

    return summarize


SUMMARIES: dict[str, SummaryRule] = {
    "us": _summary(_us, _us_income), "uk": _summary(_uk, _uk_income), "de": _summary(_de, _de_income),
    "ca": _summary(_ca, _ca_income), "au": _summary(_au, _au_income), "generic": _summary(_generic, _generic_income),
}
