"""How each jurisdiction's capital-gains detail reads: the form it follows, its parts and its column headings.

The PDF and HTML print one fixed-width line per disposal in eight columns, (a) to (h) of Form 8949; other
countries' forms and computations ask for the same facts under their own names, so a layout only renames the
columns, names the parts and says what column (f) holds:

- US: Form 8949, Part I (short-term) and Part II (long-term), each in its "no statement" box (C/F up to 2024,
  I/L for digital assets from 2025; see reports/tax_software.py); (f) is the adjustment code.
- UK: the capital gains computation HMRC asks to attach to SA108 (CRYPTO22250 onward): one list of disposals,
  (f) the share-matching rule that gave the cost: same day, the following 30 days (bed and breakfast) or the
  Section 104 pool (TCGA 1992 s.105-106A).
- DE: Anlage SO, "private Veräußerungsgeschäfte" (§23 Abs. 1 Nr. 2 EStG): sales within one year (taxable)
  apart from sales after more than one year (tax-free, listed for completeness).
- CA: Schedule 3 (T1), proceeds of disposition and adjusted cost base; (f) "SL" marks a superficial loss
  denied (ITA s.54) whose amount is in (g).
- AU: CGT schedule: capital proceeds and cost base, gains on assets held at least 12 months apart (discount
  method, ITAA 1997 s115-A).
A jurisdiction without its own layout gets the generic one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from reports.tax_software import BOX_MEANINGS, form8949_box
from taxsync.tax.records import Disposal, Term


class GainsLayout(NamedTuple):
    form: str  # the form or schedule the detail follows, in the section title
    lead: str  # one sentence before the lines
    columns: tuple[tuple[str, str], ...]  # eight headings (a)-(h), two lines each
    parts: Mapping[Term, str]  # the parts shown, in order; a term not named here is shown under the first part
    column_f: Callable[[Disposal], str]  # what column (f) holds for a disposal


UK_RULES = {"same-day": "SD", "bed-and-breakfast": "BB", "section-104": "S104"}


def _adjustment_code(disposal: Disposal) -> str:
    return disposal.adjustment_code


def _uk_rule(disposal: Disposal) -> str:
    return UK_RULES.get(disposal.rule, disposal.rule)


_US_COLUMNS = (("(a) Description", "    of property"), ("(b) Date", "acquired"), ("(c) Date", "sold"),
               ("(d) Proceeds", ""), ("(e) Cost or", "other basis"), ("(f)", ""), ("(g) Amount", "of adjust."),
               ("(h) Gain or", "(loss)"))

LAYOUTS: dict[str, GainsLayout] = {
    "us": GainsLayout(
        "Form 8949",
        "Disposals in the period in the layout of Form 8949, one line per disposal and holding term.",
        _US_COLUMNS,
        {Term.SHORT: "Part I: Short-term", Term.LONG: "Part II: Long-term"},
        _adjustment_code,
    ),
    "uk": GainsLayout(
        "SA108 computation",
        "Disposals in the tax year as the capital gains computation for SA108 lists them: per token and day, "
        "with the rule that matched the cost (SD same day, BB the following 30 days, S104 the Section 104 pool).",
        (("Asset and", "quantity"), ("Acquired", ""), ("Disposed", ""), ("Disposal", "proceeds"),
         ("Allowable", "costs"), ("Rule", ""), ("", ""), ("Gain or", "(loss)")),
        {Term.SHORT: "Disposals"},
        _uk_rule,
    ),
    "de": GainsLayout(
        "Anlage SO",
        "Private sales (private Veräußerungsgeschäfte, §23 Abs. 1 Nr. 2 EStG) in the year: sales within one year "
        "of acquisition are taxable, sales after more than one year are tax-free and listed for completeness.",
        (("Wirtschaftsgut", "(asset)"), ("Erworben", "(acquired)"), ("Veräußert", "(sold)"),
         ("Veräußerungs-", "preis"), ("Anschaffungs-", "kosten"), ("", ""), ("", ""),
         ("Gewinn oder", "(Verlust)")),
        {Term.SHORT: "Within one year (taxable)", Term.LONG: "After more than one year (tax-free)"},
        _adjustment_code,
    ),
    "ca": GainsLayout(
        "Schedule 3",
        "Dispositions in the year as Schedule 3 lists them, at the adjusted cost base (average cost of identical "
        "properties); SL marks a superficial loss denied (ITA s.54), its amount in (g).",
        (("Description", ""), ("Acquired", ""), ("Disposed", ""), ("Proceeds of", "disposition"),
         ("Adjusted", "cost base"), ("Code", ""), ("Denied", "loss"), ("Gain or", "(loss)")),
        {Term.SHORT: "Dispositions"},
        _adjustment_code,
    ),
    "au": GainsLayout(
        "CGT schedule",
        "CGT events in the income year: capital proceeds less cost base, assets held at least 12 months apart "
        "(their gains qualify for the 50% discount after losses, ITAA 1997 s115-A).",
        (("CGT asset", ""), ("Acquired", ""), ("Disposed", ""), ("Capital", "proceeds"), ("Cost base", ""),
         ("", ""), ("", ""), ("Capital gain", "or (loss)")),
        {Term.SHORT: "Held less than 12 months", Term.LONG: "Held 12 months or more (discount method)"},
        _adjustment_code,
    ),
    "generic": GainsLayout(
        "Disposals",
        "Disposals in the period, one line per disposal and holding term.",
        _US_COLUMNS,
        {Term.SHORT: "Short-term", Term.LONG: "Long-term"},
        _adjustment_code,
    ),
}


def layout_for(jurisdiction: str) -> GainsLayout:
    return LAYOUTS.get(jurisdiction, LAYOUTS["generic"])


def part_title(jurisdiction: str, term: Term, tax_year: int) -> str:
    """The heading of one part; for the US with its Form 8949 box (taxsync cannot know of broker statements)."""
    title = layout_for(jurisdiction).parts[term]
    if jurisdiction != "us":
        return title
    box = form8949_box(term, tax_year)
    return f"{title}, box {box} ({BOX_MEANINGS[box].split(', ', 1)[1]})"
