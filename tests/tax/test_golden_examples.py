"""Every worked example of reference/tax-rules.md as one ledger table.

Each case reads like a booking test an accountant can check line by line:

* ``history``: the events that build the lots before the disposal, and ``before``, the lots they leave;
* ``disposal``: the disposal itself (for HMRC's examples, every event of the day or of the 30-day window);
* ``rows``: the report rows it produces: units, proceeds, allowable cost and the lots matched, in order;
* ``gains``: the headline figure(s) as the source states them, per disposal date;
* ``after``: the lots (or the pool) left.

Lots are (asset, acquired, units, remaining cost, account); pools (UK Section 104, Canadian ACB) have no date.
Every figure is exact: HMRC round to whole pounds in the manual, we show the pence (tax-rules.md says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from typing import NamedTuple

import pytest

from taxsync.tax.engine import Rules, compute
from taxsync.tax.records import Disposal, Event
from tests.tax.conftest import LotView, Match, at, buy, lots_held, matches, rules, sell, trade


class Row(NamedTuple):
    units: D
    proceeds: D
    cost: D
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class Golden:
    source: str
    rules: Rules
    history: tuple[Event, ...]
    before: tuple[LotView, ...]
    disposal: tuple[Event, ...]
    rows: tuple[Row, ...]
    gains: dict[date, D]
    after: tuple[LotView, ...]


def d(text: str) -> date:
    return date.fromisoformat(text)


def lot(asset: str, acquired: str | None, units: str, cost: str, account: str = "all") -> LotView:
    return LotView(asset, d(acquired) if acquired else None, D(units), D(cost), account)


def m(rule: str, acquired: str | None, units: str, cost: str) -> Match:
    return Match(rule, d(acquired) if acquired else None, D(units), D(cost))


def row(units: str, proceeds: str, cost: str, *pieces: Match) -> Row:
    return Row(D(units), D(proceeds), D(cost), pieces)


US_FIFO_SOURCE = "tax-rules.md, Worked examples for FIFO / LIFO / HIFO"
# Buy 10 for $100 ($10 each), buy 10 for $300 ($30 each), sell 15 for $600.
TEN_AND_TEN = (buy("2024-01-01", "10", "XYZ", "100"), buy("2024-02-01", "10", "XYZ", "300"))
TEN_AND_TEN_BEFORE = (lot("XYZ", "2024-01-01", "10", "100"), lot("XYZ", "2024-02-01", "10", "300"))
SELL_15 = (sell("2024-03-01", "15", "XYZ", "600"),)
# Buy 0.5 BTC for $2,100, 0.5 for $2,650, 0.5 for $4,500; sell 1 BTC for $9,500.
THREE_HALVES = (buy("2020-01-01", "0.5", "BTC", "2100"), buy("2020-02-01", "0.5", "BTC", "2650"),
                buy("2020-03-01", "0.5", "BTC", "4500"))
THREE_HALVES_BEFORE = (lot("BTC", "2020-01-01", "0.5", "2100"), lot("BTC", "2020-02-01", "0.5", "2650"),
                       lot("BTC", "2020-03-01", "0.5", "4500"))
SELL_1_BTC = (sell("2020-04-01", "1", "BTC", "9500"),)

UK = rules("uk")


def gbp_buy(when: str, units: str, pounds: str) -> Event:
    return buy(at(when, "Europe/London"), units, "TOK", pounds, cash="GBP")


def gbp_sell(when: str, units: str, pounds: str) -> Event:
    return sell(at(when, "Europe/London"), units, "TOK", pounds, cash="GBP")


def cad_deal(when: str, out: tuple[str, str], into: tuple[str, str], value: str) -> Event:
    """A trade in Canadian dollars with a $10 fee, as in the CRA-style example."""
    return trade(when, out, into, value, fee=("10", "CAD", "10"))


CA_BUY_100 = cad_deal("2024-01-01", ("5000", "CAD"), ("100", "TOK"), "5000")
CA_SELL_50 = cad_deal("2024-02-01", ("50", "TOK"), ("6000", "CAD"), "6000")
CA_BUY_50 = cad_deal("2024-03-01", ("6500", "CAD"), ("50", "TOK"), "6500")
CA_SELL_40 = cad_deal("2024-05-01", ("40", "TOK"), ("3600", "CAD"), "3600")

STX = (buy("2024-01-01", "60", "STX", "120", cash="EUR"), buy("2024-02-01", "40", "STX", "60", cash="EUR"))
STX_BEFORE = (lot("STX", "2024-01-01", "60", "120", "a"), lot("STX", "2024-02-01", "40", "60", "a"))

CASES = {
    # FIFO: 10 x $10 = $100 from January, 5 x $30 = $150 from February: basis $250, gain $600 - $250 = $350.
    # Left: 5 of February's lot, $300 - $150 = $150.
    "us-10+10-fifo": Golden(
        US_FIFO_SOURCE, rules("us", "fifo"), TEN_AND_TEN, TEN_AND_TEN_BEFORE, SELL_15,
        (row("15", "600", "250", m("fifo", "2024-01-01", "10", "100"), m("fifo", "2024-02-01", "5", "150")),),
        {d("2024-03-01"): D("350")}, (lot("XYZ", "2024-02-01", "5", "150"),)),
    # LIFO: February's 10 ($300) first, then 5 x $10 = $50: basis $350, gain $250. Left: 5 of January, $50.
    "us-10+10-lifo": Golden(
        US_FIFO_SOURCE, rules("us", "lifo"), TEN_AND_TEN, TEN_AND_TEN_BEFORE, SELL_15,
        (row("15", "600", "350", m("lifo", "2024-02-01", "10", "300"), m("lifo", "2024-01-01", "5", "50")),),
        {d("2024-03-01"): D("250")}, (lot("XYZ", "2024-01-01", "5", "50"),)),
    # HIFO: $30 units before $10 units, the same lots as LIFO here: basis $350, gain $250.
    "us-10+10-hifo": Golden(
        US_FIFO_SOURCE, rules("us", "hifo"), TEN_AND_TEN, TEN_AND_TEN_BEFORE, SELL_15,
        (row("15", "600", "350", m("hifo", "2024-02-01", "10", "300"), m("hifo", "2024-01-01", "5", "50")),),
        {d("2024-03-01"): D("250")}, (lot("XYZ", "2024-01-01", "5", "50"),)),
    # FIFO: January $2,100 + February $2,650 = $4,750; gain $9,500 - $4,750 = $4,750. Left: March's half.
    "us-btc-fifo": Golden(
        US_FIFO_SOURCE, rules("us", "fifo"), THREE_HALVES, THREE_HALVES_BEFORE, SELL_1_BTC,
        (row("1", "9500", "4750", m("fifo", "2020-01-01", "0.5", "2100"), m("fifo", "2020-02-01", "0.5", "2650")),),
        {d("2020-04-01"): D("4750")}, (lot("BTC", "2020-03-01", "0.5", "4500"),)),
    # LIFO: March $4,500 + February $2,650 = $7,150; gain $9,500 - $7,150 = $2,350. Left: January's half.
    "us-btc-lifo": Golden(
        US_FIFO_SOURCE, rules("us", "lifo"), THREE_HALVES, THREE_HALVES_BEFORE, SELL_1_BTC,
        (row("1", "9500", "7150", m("lifo", "2020-03-01", "0.5", "4500"), m("lifo", "2020-02-01", "0.5", "2650")),),
        {d("2020-04-01"): D("2350")}, (lot("BTC", "2020-01-01", "0.5", "2100"),)),
    # HIFO: $9,000/BTC (March), then $5,300/BTC (February) before $4,200/BTC (January): the same $7,150.
    "us-btc-hifo": Golden(
        US_FIFO_SOURCE, rules("us", "hifo"), THREE_HALVES, THREE_HALVES_BEFORE, SELL_1_BTC,
        (row("1", "9500", "7150", m("hifo", "2020-03-01", "0.5", "4500"), m("hifo", "2020-02-01", "0.5", "2650")),),
        {d("2020-04-01"): D("2350")}, (lot("BTC", "2020-01-01", "0.5", "2100"),)),
    # Pool 100 tokens / £1,000, plus 50 for £125,000: 150 / £126,000. Selling 50 takes 50/150 of the cost:
    # £126,000 x 50 / 150 = £42,000; gain £300,000 - £42,000 = £258,000. Pool after: 100 / £84,000.
    "CRYPTO22251": Golden(
        "HMRC Cryptoassets Manual CRYPTO22251 (tax-rules.md)", UK,
        (gbp_buy("2022-06-01", "100", "1000"), gbp_buy("2023-06-01", "50", "125000")),
        (lot("TOK", None, "150", "126000"),),
        (gbp_sell("2023-09-01", "50", "300000"),),
        (row("50", "300000", "42000", m("section-104", None, "50", "42000")),),
        {d("2023-09-01"): D("258000")}, (lot("TOK", None, "100", "84000"),)),
    # One day: sell 1,000 for £800 and 500 for £600 = one disposal of 1,500 for £1,400; buy 1,600 for £1,000.
    # Same day: 1,500 of the 1,600 at £1,000 x 1,500 / 1,600 = £937.50; gain £1,400 - £937.50 = £462.50
    # (HMRC: £462). The other 100 (£1,000 - £937.50 = £62.50) join the pool: 5,100 / £562.50.
    "CRYPTO22252": Golden(
        "HMRC Cryptoassets Manual CRYPTO22252 (tax-rules.md)", UK,
        (gbp_buy("2022-01-01", "5000", "500"),),
        (lot("TOK", None, "5000", "500"),),
        (gbp_sell("2023-05-02 09:00", "1000", "800"), gbp_buy("2023-05-02 10:00", "1600", "1000"),
         gbp_sell("2023-05-02 11:00", "500", "600")),
        (row("1500", "1400", "937.5", m("same-day", "2023-05-02", "1500", "937.5")),),
        {d("2023-05-02"): D("462.5")}, (lot("TOK", None, "5100", "562.5"),)),
    # 31 Mar: 1,000 for £400 matched in the next 30 days (to 30 Apr): 700 of 21 Apr (£175) and 300 of 28 Apr's
    # 500 (£100 x 300/500 = £60); proceeds shared by units: £400 x 700/1,000 = £280, the rest £120.
    # Gain £400 - £235 = £165. 1 May is day 31: outside the window.
    # 20 Apr: 500 for £150 matched with the other 200 of 28 Apr (£100 - £60 = £40) and 300 of 1 May's 500
    # (£150 x 300/500 = £90); proceeds £150 x 200/500 = £60, the rest £90. Gain £150 - £130 = £20.
    # The pool is untouched by both; 1 May's other 200 (£60) join it: 2,200 / £1,060.
    "CRYPTO22253": Golden(
        "HMRC Cryptoassets Manual CRYPTO22253 (tax-rules.md)", UK,
        (gbp_buy("2022-06-01", "2000", "1000"),),
        (lot("TOK", None, "2000", "1000"),),
        (gbp_sell("2023-03-31", "1000", "400"), gbp_sell("2023-04-20", "500", "150"),
         gbp_buy("2023-04-21", "700", "175"), gbp_buy("2023-04-28", "500", "100"),
         gbp_buy("2023-05-01", "500", "150")),
        (row("700", "280", "175", m("bed-and-breakfast", "2023-04-21", "700", "175")),
         row("300", "120", "60", m("bed-and-breakfast", "2023-04-28", "300", "60")),
         row("200", "60", "40", m("bed-and-breakfast", "2023-04-28", "200", "40")),
         row("300", "90", "90", m("bed-and-breakfast", "2023-05-01", "300", "90"))),
        {d("2023-03-31"): D("165"), d("2023-04-20"): D("20")}, (lot("TOK", None, "2200", "1060"),)),
    # 31 Jan: disposals 5,000 + 2,000 = 7,000 for £500 + £142 = £642; acquisitions 4,000 + 1,000 + 1,000 + 500
    # = 6,500 for £320 + £75 + £70 + £35 = £500. Same day: 6,500 for £500; the other 500 from the pool at
    # £1,000 x 500/8,000 = £62.50. Proceeds by units: £642 x 6,500/7,000 = £596.142857142857142857 (rounded at the
    # 18th decimal), the pool row the rest, £45.857142857142857143. Gain £642 - £562.50 = £79.50 (HMRC: £79).
    # Pool after: 7,500 / £937.50.
    "CRYPTO22254": Golden(
        "HMRC Cryptoassets Manual CRYPTO22254 (tax-rules.md)", UK,
        (gbp_buy("2023-01-01", "8000", "1000"),),
        (lot("TOK", None, "8000", "1000"),),
        (gbp_sell("2024-01-31 09:00", "5000", "500"), gbp_buy("2024-01-31 10:00", "4000", "320"),
         gbp_buy("2024-01-31 10:30", "1000", "75"), gbp_buy("2024-01-31 11:00", "1000", "70"),
         gbp_sell("2024-01-31 12:00", "2000", "142"), gbp_buy("2024-01-31 13:00", "500", "35")),
        (row("6500", "596.142857142857142857", "500", m("same-day", "2024-01-31", "6500", "500")),
         row("500", "45.857142857142857143", "62.5", m("section-104", None, "500", "62.5"))),
        {d("2024-01-31"): D("79.5")}, (lot("TOK", None, "7500", "937.5"),)),
    # FIFO per wallet (DE default): 60 STX at €2 = €120, then 40 at €1.50 = €60: cost €180; USDT worth €500
    # received: gain €500 - €180 = €320. Left: the 500 USDT at their value, €500 (a new holding period).
    "de-stx-swap": Golden(
        "tax-rules.md, Germany: FIFO example (buy 60 STX for €120, 40 for €60; swap 100 for USDT worth €500)",
        rules("de"), STX, STX_BEFORE,
        (trade("2024-03-01", ("100", "STX"), ("500", "USDT"), "500"),),
        (row("100", "500", "180", m("fifo", "2024-01-01", "60", "120"), m("fifo", "2024-02-01", "40", "60")),),
        {d("2024-03-01"): D("320")}, (lot("USDT", "2024-03-01", "500", "500", "a"),)),
    # The same ledger with the fee paid in STX ("a fee is a disposal too"; the source gives no fee, so these
    # figures are ours): swap 90 STX for USDT worth €450 and pay 10 STX (€50) as fee.
    # Swap: 60 Jan (€120) + 30 of Feb's 40 (€60 x 30/40 = €45) = €165; proceeds €450 - €50 fee = €400; gain €235.
    # Fee: the last 10 of Feb (€15) disposed of at €50: gain €35. Together €270 = €450 - €180.
    "de-stx-swap-fee": Golden(
        "tax-rules.md, Germany: FIFO example, with a fee in STX (figures computed here)",
        rules("de"), STX, STX_BEFORE,
        (trade("2024-03-01", ("90", "STX"), ("450", "USDT"), "450", fee=("10", "STX", "50")),),
        (row("90", "400", "165", m("fifo", "2024-01-01", "60", "120"), m("fifo", "2024-02-01", "30", "45")),
         row("10", "50", "15", m("fifo", "2024-02-01", "10", "15"))),
        {d("2024-03-01"): D("270")}, (lot("USDT", "2024-03-01", "450", "450", "a"),)),
    # ACB: 100 at $50 = $5,000 + $10 fee = $5,010. Sell 50 at $120 = $6,000 - $10 fee = $5,990;
    # ACB of 50 = $5,010 x 50/100 = $2,505; gain $5,990 - $2,505 = $3,485. Pool after: 50 / $2,505.
    "ca-acb-gain": Golden(
        "tax-rules.md, Canada: ACB with fees (first sale)", rules("ca"),
        (CA_BUY_100,), (lot("TOK", None, "100", "5010"),),
        (CA_SELL_50,),
        (row("50", "5990", "2505", m("acb", "2024-01-01", "50", "2505")),),
        {d("2024-02-01"): D("3485")}, (lot("TOK", None, "50", "2505"),)),
    # Buy 50 at $130 = $6,500 + $10 = $6,510: pool 100 / $9,015 ($90.15 each). Sell 40 at $90 = $3,600 - $10
    # = $3,590; ACB $9,015 x 40/100 = $3,606; loss $3,590 - $3,606 = -$16. Pool after: 60 / $5,409.
    # (The sale is 61 days after the purchase of 1 March: outside the superficial-loss window, ITA s.54.)
    "ca-acb-loss": Golden(
        "tax-rules.md, Canada: ACB with fees (second sale, the $16 loss)", rules("ca"),
        (CA_BUY_100, CA_SELL_50, CA_BUY_50), (lot("TOK", None, "100", "9015"),),
        (CA_SELL_40,),
        (row("40", "3590", "3606", m("acb", "2024-01-01", "40", "3606")),),
        {d("2024-05-01"): D("-16")}, (lot("TOK", None, "60", "5409"),)),
}

CASE_PARAMS = [pytest.param(case, id=name) for name, case in CASES.items()]


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_lots_before(case: Golden) -> None:
    assert lots_held(case.history, case.rules) == list(case.before), case.source


def disposal_rows(case: Golden) -> list[Disposal]:
    """The report rows made by the case's disposal (not by sales in its history)."""
    result = compute([*case.history, *case.disposal], case.rules)
    assert result.problems == ()
    refs = {event.ref for event in case.disposal}
    return [r for r in result.disposals if r.ref in refs]


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_disposal_rows_and_matched_lots(case: Golden) -> None:
    got = [Row(r.amount, r.proceeds, r.cost, tuple(matches([r]))) for r in disposal_rows(case)]
    assert got == list(case.rows), case.source
    assert all(r.gain == r.proceeds - r.cost for r in disposal_rows(case))


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_headline_gain_as_the_source_states_it(case: Golden) -> None:
    gains: dict[date, D] = {}
    for r in disposal_rows(case):
        gains[r.disposed] = gains.get(r.disposed, D(0)) + r.gain
    assert gains == case.gains, case.source


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_lots_after(case: Golden) -> None:
    assert lots_held([*case.history, *case.disposal], case.rules) == list(case.after), case.source


def test_every_worked_example_of_the_reference_is_in_the_table() -> None:
    """The reference names these examples; a new one there should get a row here."""
    sources = " ".join(case.source for case in CASES.values())
    for name in ("CRYPTO22251", "CRYPTO22252", "CRYPTO22253", "CRYPTO22254", "Germany", "Canada",
                 "FIFO / LIFO / HIFO"):
        assert name in sources, name
    methods = {case.rules.method for case in CASES.values() if case.source == US_FIFO_SOURCE}
    assert methods == {"fifo", "lifo", "hifo"}
