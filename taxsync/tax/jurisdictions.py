"""Jurisdictions as data: tax-year periods, local calendar, default method and the holding-term rule.

``--year N`` is the tax year that ends in N (US 2024 = calendar 2024; UK 2025 = 6 Apr 2024 to 5 Apr 2025;
AU 2025 = 1 Jul 2024 to 30 Jun 2025); ``N-1-NN`` spellings such as ``2024-25`` work too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from taxsync.tax.records import Term

ONE_DAY = timedelta(days=1)


def held_more_than_one_year(acquired: date, disposed: date) -> Term:
    """Long term when disposed of on or after the first anniversary of the day after the acquisition.

    US: IRC §1222(3), "held for more than 1 year"; the holding period starts the day after acquisition, includes
    the day of disposal and is counted in calendar months (Rev. Rul. 66-7; Caspe v. United States, 694 F.2d
    1116): units bought on 1 Mar 2023 are long term when sold on 2 Mar 2024. Units bought on 28 Feb 2023 start
    their holding on 1 Mar 2023 and turn long on 1 Mar 2024 (29 Feb 2024 completes exactly one year); a start on
    29 Feb has no anniversary, so it turns long on 1 Mar. AU: ITAA 1997 s115-25, "at least 12 months" not
    counting the days of acquisition and disposal, which comes to the same test.
    """
    start = acquired + ONE_DAY
    years = disposed.year - start.year
    if years != 1:
        return Term.LONG if years > 1 else Term.SHORT
    # The anniversary of the start falls in the disposal's year: compare month and day (29 Feb -> 1 Mar).
    anniversary = (3, 1) if (start.month, start.day) == (2, 29) else (start.month, start.day)
    return Term.LONG if (disposed.month, disposed.day) >= anniversary else Term.SHORT


def held_beyond_one_year_bgb(acquired: date, disposed: date) -> Term:
    """DE: tax-free when sold after the one-year period of §23 Abs. 1 Nr. 2 EStG ("nicht mehr als ein Jahr" is
    taxable), reckoned by §§187(1), 188(2) BGB: the period ends with the day whose date matches the acquisition
    day a year later, and (§188(3)) with 28 Feb when that day is 29 Feb. So units bought on 28 Feb 2023 are
    tax-free when sold on 29 Feb 2024, and units bought on 29 Feb 2024 when sold on 1 Mar 2025."""
    years = disposed.year - acquired.year
    if years != 1:
        return Term.LONG if years > 1 else Term.SHORT
    anniversary = (2, 28) if (acquired.month, acquired.day) == (2, 29) else (acquired.month, acquired.day)
    return Term.LONG if (disposed.month, disposed.day) > anniversary else Term.SHORT


def no_holding_term(_acquired: date, _disposed: date) -> Term:
    """UK and Canada tax gains the same whatever the holding period."""
    return Term.SHORT


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str
    name: str
    currency: str
    method: str
    timezone: str
    year_start: tuple[int, int]  # (month, day) on which a tax year begins
    term: Callable[[date, date], Term]
    term_rule: str
    crypto_fee_is_disposal: bool = True
    tracking: str = "universal"  # default basis tracking for new workspaces
    per_wallet_from: date | None = None  # universal tracking switches to per wallet on this local day
    transfer_fee: str = "disposal"  # a key of TRANSFER_FEES
    superficial_loss: bool = False  # Canada, ITA s.54
    gift_received: str = "carry-over"  # a key of GIFTS_RECEIVED
    gift_dual_basis: bool = False  # a carried-over gift's basis for a loss is its lower value when given (US)

    @property
    def calendar_year(self) -> bool:
        return self.year_start == (1, 1)

    def period(self, year: int) -> tuple[date, date]:
        """First and last local day of the tax year ending in ``year``."""
        month, day = self.year_start
        if self.calendar_year:
            return date(year, 1, 1), date(year, 12, 31)
        start = date(year - 1, month, day)
        return start, date(year, month, day) - timedelta(days=1)

    def year_label(self, year: int) -> str:
        return str(year) if self.calendar_year else f"{year - 1}-{year % 100:02d}"

    def parse_year(self, text: str) -> int:
        """The year a tax year ends in, from ``2024`` or (for split years) ``2023-24`` / ``2023-2024``."""
        text = text.strip()
        if re.fullmatch(r"\d{4}", text):
            return int(text)
        match = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", text)
        if not match or self.calendar_year:
            raise ValueError(f"'{text}' is not a tax year for {self.name}: use a year such as 2024")
        first, second = int(match[1]), match[2]
        end = int(second) if len(second) == 4 else (first + 1) // 100 * 100 + int(second)
        if end != first + 1:
            raise ValueError(f"'{text}' is not a tax year: the second year must follow the first")
        return end


# The network fee of a move between one's own accounts, paid in the moved crypto (reference/tax-rules.md,
# "Every jurisdiction"): what it is, for the methodology. True = the fee units are disposed of at their value.
TRANSFER_FEES: dict[str, tuple[bool, str]] = {
    # US: spending crypto on a fee is a disposal of it (Reg. 1.1001-7(b)). UK: using tokens to pay is a
    # disposal (CRYPTO22100). CA: paying in crypto is a barter disposition (CRA, guide to crypto-assets).
    # AU: the ATO treats crypto spent on a network fee as a CGT event.
    "disposal": (True, "the network fee of a transfer between your own accounts, paid in crypto, is a disposal "
                       "of the fee units at their value (a small gain or loss)"),
    # DE: a transfer between own wallets is no sale (kein Veräußerungsgeschäft), and the BMF letter of 6 March
    # 2025 does not treat its fee as one; the fee is a private cost that is not deductible.
    "not-deductible": (False, "the network fee of a transfer between your own accounts is neither a disposal nor "
                              "deductible: the fee units leave with their cost"),
}

# What a gift received costs the one who receives it: (acquired at market value?, the rule in one sentence).
GIFTS_RECEIVED: dict[str, tuple[bool, str]] = {
    # US: the donor's adjusted basis carries over (IRC §1015(a); for a loss, the lower of it and the value when
    # given: Treas. Reg. 1.1015-1(a), Jurisdiction.gift_dual_basis), and with it the donor's holding period (IRC
    # §1223(2)). DE: an unentgeltlicher Erwerb takes over the donor's acquisition, its day included (§23 Abs. 1
    # Satz 3 EStG).
    "carry-over": (False, "a gift received keeps the donor's cost and acquisition day (US IRC §1015 and §1223(2), "
                          "DE §23 Abs. 1 Satz 3 EStG): give them with `taxsync transfers cost --acquired`, else "
                          "zero cost is used, the holding period counts from receipt, and the gift is listed under "
                          "Problems"),
    # UK: acquired otherwise than by a bargain at arm's length, so at market value (TCGA 1992 s.17(1)(a)).
    # CA: a gift is acquired at its fair market value (ITA s.69(1)(c)). AU: the market value substitution rule
    # (ITAA 1997 s112-20) for an asset acquired for no payment.
    "market-value": (True, "a gift received is acquired at its market value when received (UK TCGA 1992 s.17, "
                           "CA ITA s.69(1)(c), AU ITAA 1997 s112-20)"),
}

ONE_YEAR = "long term when held more than one year (sold after the anniversary of the purchase date)"
NO_TERM = "no distinction by holding period"

JURISDICTIONS: dict[str, Jurisdiction] = {
    j.code: j
    for j in (
        # From 2025 basis is tracked per wallet or account (Reg. 1.1012-1(j)); earlier years may be universal.
        Jurisdiction("us", "United States", "USD", "fifo", "America/New_York", (1, 1), held_more_than_one_year,
                     f"{ONE_YEAR}, IRC §1222", per_wallet_from=date(2025, 1, 1), gift_dual_basis=True),
        Jurisdiction("uk", "United Kingdom", "GBP", "uk-pooling", "Europe/London", (4, 6), no_holding_term, NO_TERM,
                     gift_received="market-value"),
        # FIFO per wallet ("Depot"), BMF letter of 6 March 2025 on cryptoassets.
        Jurisdiction("de", "Germany", "EUR", "fifo", "Europe/Berlin", (1, 1), held_beyond_one_year_bgb,
                     "tax-free when held more than one year, §23 Abs. 1 Nr. 2 EStG", tracking="per-wallet",
                     transfer_fee="not-deductible"),
        Jurisdiction("ca", "Canada", "CAD", "acb", "America/Toronto", (1, 1), no_holding_term, NO_TERM,
                     superficial_loss=True, gift_received="market-value"),
        Jurisdiction("au", "Australia", "AUD", "fifo", "Australia/Sydney", (7, 1), held_more_than_one_year,
                     "discount when held at least 12 months, ITAA 1997 s115-25", gift_received="market-value"),
        Jurisdiction("generic", "Generic (calendar year, UTC)", "USD", "fifo", "UTC", (1, 1),
                     held_more_than_one_year, ONE_YEAR),
    )
}
