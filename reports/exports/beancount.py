"""The ledger as a beancount file whose lots and gains are taxsync's, so plain-text accounting can check them.

Every acquisition is a lot at the cost the tax engine gave it, ``+0.5 BTC {{30010.00 USD, 2024-01-02,
"acct/file.csv:7"}}`` (the label is the acquiring row's reference); every disposal reduces exactly the lots the
engine matched, by their labels, and books its gain or loss to ``Income:Taxsync:Gains:Short-Term`` or
``...:Long-Term``. So ``bean-check`` books the same lots, and the sum of those income postings is taxsync's total
gain. Income is booked to ``Income:Taxsync:<Kind>`` at its value; units with no known acquisition come from
``Equity:Taxsync:No-Acquisition`` at zero cost.

Holdings are one account per asset (``Assets:Crypto:BTC``, cash ``Assets:Cash:USD``): a move between own accounts
keeps its lots, so it posts only its fee. What leaves without a sale (a gift, a loss, a withdrawal to a wallet
that is not imported, a fee that is no disposal) goes at its cost to the account of its kind (``KIND_ACCOUNTS``),
which also takes what a transaction leaves over in the tax currency: nothing for a valued trade, a fiat payment's
amount for a spend, an unvalued side's value for ``Equity:Taxsync:Unvalued``. Fiat in another currency carries its
value in the tax currency (``-1000 EUR @@ 1083.50 USD``). Only lot methods (fifo, lifo, hifo) can be written as
lots; average cost and UK pooling have none. With ``--year`` the file holds everything up to the year's end (a lot
needs its acquisition); the year's gains are the gain postings dated in it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from reports.exports.data import LedgerExport
from reports.files import write_atomic
from taxsync.errors import UsageError
from taxsync.tax.engine import LotEntry
from taxsync.tax.records import Disposal, Event, EventKind, Income, LotMatch, Term
from taxsync.types import Role, decimal_text, local_date

LOT_METHODS = ("fifo", "lifo", "hifo")
KIND_ACCOUNTS: dict[EventKind, str] = {
    EventKind.TRADE: "Equity:Taxsync:Unvalued",
    EventKind.SPEND: "Expenses:Taxsync:Spending",
    EventKind.INCOME: "Income:Taxsync:Other",
    EventKind.DEPOSIT: "Equity:Taxsync:External",
    EventKind.WITHDRAWAL: "Equity:Taxsync:External",
    EventKind.GIFT_IN: "Equity:Taxsync:Gifts-Received",
    EventKind.GIFT_OUT: "Expenses:Taxsync:Gifts",
    EventKind.LOSS: "Expenses:Taxsync:Lost",
    EventKind.TRANSFER: "Expenses:Taxsync:Fees",
    EventKind.INTERNAL: "Expenses:Taxsync:Fees",
}
GAINS = {Term.SHORT: "Income:Taxsync:Gains:Short-Term", Term.LONG: "Income:Taxsync:Gains:Long-Term"}
NO_ACQUISITION = "Equity:Taxsync:No-Acquisition"
_COMMODITY = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")
ZERO = Decimal(0)
# Money in the tax currency is written to the nano-unit (far below a cent). A transaction's figures, each rounded,
# may leave a nano-unit over; beancount's tolerance is one nano-unit for such figures (``tolerance_multiplier``
# 1, and the default where no figure shows a precision), and anything more goes to the kind's account.
NANO = Decimal("1e-9")
ROUNDING = NANO  # the tolerance: what rounding the figures of a transaction to the nano-unit leaves over


def _money(value: Decimal) -> Decimal:
    return value.quantize(NANO)


def commodity(code: str) -> str:
    """A beancount commodity for an asset code (``1INCH`` becomes ``X1INCH``; one letter ``X`` becomes ``XX``)."""
    name = re.sub(r"[^A-Z0-9'._-]", "-", code.upper())
    if _COMMODITY.fullmatch(name):
        return name
    fixed = ("X" + name if not name[:1].isalpha() else name)[:23]
    return fixed if _COMMODITY.fullmatch(fixed) else (fixed + "X")[:24]


def _component(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", name)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


class _Writer:
    def __init__(self, data: LedgerExport):
        self.data = data
        self.cur = commodity(data.currency)
        self.accounts: set[str] = set()
        self.lines: list[str] = []
        self.lots: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}  # (asset, label) -> units, cost written

    def holding(self, asset: str) -> str:
        kind = "Cash" if asset in self.data.fiat else "Crypto"
        account = f"Assets:{kind}:{_component(commodity(asset))}"
        self.accounts.add(account)
        return account

    def account(self, name: str) -> str:
        self.accounts.add(name)
        return name

    def transaction(self, event: Event, added: list[LotEntry], removed: list[LotEntry], disposals: list[Disposal],
                    income: list[Income]) -> None:
        postings: list[str] = []
        weight = ZERO
        money = self.cur
        for leg in event.legs:
            if leg.asset not in self.data.fiat or (event.kind is EventKind.TRANSFER and leg.role is not Role.FEE):
                continue
            if leg.asset == self.data.currency:
                postings.append(f"{self.holding(leg.asset)}  {decimal_text(leg.amount)} {money}")
                weight += leg.amount
            else:
                value = _money(abs(leg.value)) if leg.value is not None else ZERO
                note = "" if leg.value is not None else "  ; not valued: no tax event"
                postings.append(f"{self.holding(leg.asset)}  {decimal_text(leg.amount)} {commodity(leg.asset)} "
                                f"@@ {decimal_text(value)} {money}{note}")
                weight += value if leg.amount > 0 else -value
        # A lot taken in the transaction that made it (a fee paid from what a trade just brought in) is booked as
        # the smaller lot it leaves: beancount cannot reduce a lot in the posting list that creates it.
        new: dict[tuple[str, str], list] = {}
        for entry in added:
            for lot in entry.lots:
                new[(entry.asset, lot.ref)] = [lot.amount, lot.cost, lot.acquired_date]
                weight += lot.cost
        for entry in removed:
            for match in entry.lots:
                written, cost = self._reduce(entry.asset, match, new)
                postings += written
                weight -= cost
        gains: dict[Term, Decimal] = defaultdict(Decimal)
        for disposal in disposals:
            for match in disposal.matches:
                written, cost = self._reduce(disposal.asset, match, new)
                postings += written
                weight -= cost
            gains[disposal.term] += disposal.gain
        for (asset, ref), (amount, cost, acquired) in new.items():
            weight -= cost
            if amount:
                cost = _money(cost)
                self.lots[(asset, ref)] = (amount, cost)
                weight += cost
                postings.append(f"{self.holding(asset)}  {decimal_text(amount)} {commodity(asset)} "
                                f"{{{{{decimal_text(cost)} {money}, {acquired}, {_quoted(ref)}}}}}")
        for term, gain in sorted(gains.items()):
            gain = _money(gain)
            postings.append(f"{self.account(GAINS[term])}  {decimal_text(-gain)} {money}")
            weight -= gain
        for item in income:
            if item.value is not None:
                value = _money(item.value)
                postings.append(f"{self.account('Income:Taxsync:' + _component(item.kind.title()))}  "
                                f"{decimal_text(-value)} {money}")
                weight -= value
        if abs(weight := _money(weight)) > ROUNDING:  # more than rounding each figure to the nano-unit leaves
            postings.append(f"{self.account(KIND_ACCOUNTS[event.kind])}  {decimal_text(-weight)} {money}")
        if not postings:
            return
        day = local_date(event.timestamp, self.data.zone)
        self.lines.append(f"{day} * {_quoted(event.kind.value)} {_quoted(event.subkind or event.account)}")
        self.lines.append(f"  ref: {_quoted(event.ref)}")
        self.lines.append(f"  account: {_quoted(event.account)}")
        self.lines += [f"  {posting}" for posting in postings]
        self.lines.append("")

    def _reduce(self, asset: str, match: LotMatch, new: dict[tuple[str, str], list]) -> tuple[list[str], Decimal]:
        """The postings that take ``match`` out and their weight as beancount reckons it: the units at the unit
        cost of the lot as written (the lot's cost over its units)."""
        if (asset, match.lot_ref) in new:  # taken from the lot this transaction made: it is written smaller
            lot = new[(asset, match.lot_ref)]
            lot[0] -= match.amount
            lot[1] -= match.cost
            return [], match.cost
        if not match.lot_ref:  # units with no known acquisition: from an equity account at zero cost
            return [f"{self.account(NO_ACQUISITION)}  {decimal_text(-match.amount)} {commodity(asset)} "
                    f"{{0 {self.cur}}}"], ZERO
        units, cost = self.lots.get((asset, match.lot_ref), (match.amount, match.cost))
        return [f"{self.holding(asset)}  {decimal_text(-match.amount)} {commodity(asset)} "
                f"{{{_quoted(match.lot_ref)}}}"], match.amount * cost / units


def _by_ref(items: Iterable, key: str = "ref") -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for item in items:
        grouped[getattr(item, key)].append(item)
    return grouped


def render_beancount(data: LedgerExport) -> str:
    if data.method not in LOT_METHODS:
        raise UsageError(f"the beancount export writes lots, which the {data.method} method does not keep: run it "
                         f"with --method {' or '.join(LOT_METHODS)}")
    writer = _Writer(data)
    added = _by_ref(entry for entry in data.journal if entry.added)
    removed = _by_ref(entry for entry in data.journal if not entry.added)
    disposals, income = _by_ref(data.result.disposals), _by_ref(data.result.income)
    events = sorted(data.events, key=lambda event: event.timestamp)
    for event in events:
        writer.transaction(event, added.get(event.ref, []), removed.get(event.ref, []),
                           disposals.pop(event.ref, []), income.pop(event.ref, []))
        added.pop(event.ref, None)
        removed.pop(event.ref, None)
    first = local_date(events[0].timestamp, data.zone) if events else None
    header = [
        "; taxsync ledger export: lots at the cost basis taxsync's tax engine gave them, disposals reducing the",
        f"; lots it matched ({data.method}), gains and losses as income postings. Money in {data.currency}.",
        f'option "operating_currency" {_quoted(writer.cur)}',
        'option "booking_method" "STRICT"',
        'option "tolerance_multiplier" "1"',
        f'option "inferred_tolerance_default" "{writer.cur}:{decimal_text(ROUNDING)}"',
        "",
    ]
    opens = [f"{first or '1970-01-01'} open {account}" for account in sorted(writer.accounts)]
    return "\n".join([*header, *opens, "", *writer.lines]) + "\n"


def write_beancount(data: LedgerExport, out: Path) -> list[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    return [write_atomic(out, render_beancount(data).encode("utf-8"))]
