"""Edge cases of the tax engine, each computed by hand with the arithmetic next to it.

Same-second trades, dust and 18-decimal tokens, leap years, tax-year and day boundaries in local time, per-wallet
against universal tracking, fees paid in a third asset, income sold later, transfers, negative balances and
zero-cost disposals. Events are written in the ledger helpers of tests/tax/conftest.py; times are noon UTC
unless a time and zone are given.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from taxsync.problems import ProblemKind, Severity
from taxsync.tax.engine import compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import EventKind, Term
from tests.tax.conftest import (
    LotView,
    Match,
    at,
    buy,
    income,
    lots_held,
    matches,
    movement,
    rules,
    sell,
    totals,
    trade,
    transfer,
)

LOT_METHODS = ("fifo", "lifo", "hifo", "acb")
ALL_METHODS = (*LOT_METHODS, "uk-pooling")


def kinds(result) -> list[ProblemKind]:
    return [p.kind for p in result.problems]


# --- Same-second trades: the engine keeps the order it is given ------------------------------------------------

SAME_SECOND = at("2024-05-01 12:00:00")


@pytest.mark.parametrize("method", LOT_METHODS)
def test_same_second_buy_then_sell_is_matched(method: str) -> None:
    """Given buy (1 ETH, $3,000) then sell (1 ETH, $3,100) in one second: the sale takes the lot, gain $100."""
    result = compute([buy(SAME_SECOND, "1", "ETH", "3000"), sell(SAME_SECOND, "1", "ETH", "3100")],
                     rules(method=method))
    (row,) = result.disposals
    assert (row.cost, row.gain, row.no_basis) == (D("3000"), D("100"), D("0"))
    assert result.problems == () and result.holdings == ()


@pytest.mark.parametrize("method", LOT_METHODS)
def test_same_second_sell_then_buy_keeps_the_given_order(method: str) -> None:
    """Given sell then buy in one second: nothing is held when the sale is booked, so its 1 ETH has no basis
    (cost 0, gain = the whole $3,100, flagged) and the bought ETH stays held at $3,000."""
    result = compute([sell(SAME_SECOND, "1", "ETH", "3100"), buy(SAME_SECOND, "1", "ETH", "3000")],
                     rules(method=method))
    (row,) = result.disposals
    assert (row.cost, row.gain, row.no_basis) == (D("0"), D("3100"), D("1"))
    assert kinds(result) == [ProblemKind.MISSING_COST_BASIS]
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("1"), D("3000"))]


def test_same_second_order_does_not_matter_to_uk_same_day_matching() -> None:
    """HMRC count all of a day's acquisitions and disposals as one (CRYPTO22250): sell-then-buy in one second
    is matched same day, cost £3,000, gain £100, whatever the order within the day."""
    events = [sell(SAME_SECOND, "1", "ETH", "3100", cash="GBP"), buy(SAME_SECOND, "1", "ETH", "3000", cash="GBP")]
    for given in (events, events[::-1]):
        result = compute(given, rules("uk"))
        assert matches(result.disposals) == [Match("same-day", date(2024, 5, 1), D("1"), D("3000"))]
        assert result.problems == ()


@pytest.mark.parametrize(
    ("method", "first", "second", "cost"),
    [
        ("fifo", "100", "300", "100"),  # FIFO: the lot given first ($100)
        ("fifo", "300", "100", "300"),
        ("lifo", "100", "300", "300"),  # LIFO: the lot given last
        ("lifo", "300", "100", "100"),
        ("hifo", "100", "300", "300"),  # HIFO: the dearer lot whatever the order
        ("hifo", "300", "100", "300"),
    ],
)
def test_two_buys_in_one_second_are_ordered_as_given(method: str, first: str, second: str, cost: str) -> None:
    """Two 1-ETH buys at the same second for $first and $second; on 1 June sell 1 ETH for $200."""
    events = [buy(SAME_SECOND, "1", "ETH", first, ref="first"), buy(SAME_SECOND, "1", "ETH", second, ref="second"),
              sell("2024-06-01", "1", "ETH", "200")]
    (row,) = compute(events, rules(method=method)).disposals
    assert (row.cost, row.gain) == (D(cost), D("200") - D(cost))


# --- Dust and 18-decimal tokens --------------------------------------------------------------------------------

DUST = "0.000000000000000001"  # 1e-18, the smallest unit of an 18-decimal token


@pytest.mark.parametrize("method", ALL_METHODS)
def test_selling_dust(method: str) -> None:
    """1 BTC for $60,000; sell 1e-18 BTC for $6e-14: cost $60,000 x 1e-18 = $0.00000000000006, gain 0.
    Left: 0.999999999999999999 BTC costing $60,000 - $0.00000000000006 = $59,999.99999999999994."""
    result = compute([buy("2024-01-01", "1", "BTC", "60000"), sell("2024-02-01", DUST, "BTC", "0.00000000000006")],
                     rules(method=method))
    sold = totals(result.disposals)
    assert (sold.proceeds, sold.cost, sold.gain) == (D("0.00000000000006"), D("0.00000000000006"), D("0"))
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("0.999999999999999999"), D("59999.99999999999994"))]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_dust_left_over_is_still_held(method: str) -> None:
    """1 BTC for $60,000; sell 0.999999999999999999 BTC for $70,000: cost $60,000 x 0.999999999999999999
    = $59,999.99999999999994, gain $10,000.00000000000006. Left: 1e-18 BTC costing $0.00000000000006."""
    result = compute([buy("2024-01-01", "1", "BTC", "60000"),
                      sell("2024-02-01", "0.999999999999999999", "BTC", "70000")], rules(method=method))
    sold = totals(result.disposals)
    assert (sold.cost, sold.gain) == (D("59999.99999999999994"), D("10000.00000000000006"))
    assert [(h.amount, h.cost) for h in result.holdings] == [(D(DUST), D("0.00000000000006"))]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_dust_shortfall_is_flagged_in_plain_digits(method: str) -> None:
    """Hold 1 BTC, sell 1.000000000000000001: the last 1e-18 has no basis; the message says so without an
    exponent (1E-18 would mean nothing to a user)."""
    result = compute([buy("2024-01-01", "1", "BTC", "60000"),
                      sell("2024-02-01", "1.000000000000000001", "BTC", "70000")], rules(method=method))
    assert sum((r.no_basis for r in result.disposals), D(0)) == D(DUST)
    (problem,) = result.problems
    assert problem.kind is ProblemKind.MISSING_COST_BASIS and f"{DUST} BTC" in problem.message


@pytest.mark.parametrize("method", ALL_METHODS)
def test_eighteen_decimal_lot_split_adds_up_digit_for_digit(method: str) -> None:
    """Buy 1.000000000000000001 TOK for $10; sell 0.5 for $6, then the other 0.500000000000000001 for $6.
    First cost: $10 x 0.5 / 1.000000000000000001 = 4.999999999999999995000000000000000005 -> 18 places:
    $4.999999999999999995 (gain $1.000000000000000005). The rest keeps $10 - 4.999999999999999995
    = $5.000000000000000005 (gain $0.999999999999999995). Costs add up to exactly $10, gains to $2."""
    result = compute([buy("2024-01-01", "1.000000000000000001", "TOK", "10"), sell("2024-02-01", "0.5", "TOK", "6"),
                      sell("2024-03-01", "0.500000000000000001", "TOK", "6")], rules(method=method))
    assert [(r.cost, r.gain) for r in result.disposals] == [
        (D("4.999999999999999995"), D("1.000000000000000005")),
        (D("5.000000000000000005"), D("0.999999999999999995")),
    ]
    sold = totals(result.disposals)
    assert (sold.cost, sold.gain) == (D("10"), D("2")) and result.holdings == ()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_thirds_round_half_even_and_the_remainder_keeps_the_sum(method: str) -> None:
    """Buy 3 TOK for $1; sell 1 TOK on each of three days.
    1st: $1 x 1/3 = 0.333...; 18 places: $0.333333333333333333; left 2 TOK at $0.666666666666666667.
    2nd: $0.666666666666666667 x 1/2 = 0.3333333333333333335: exactly half way at the 18th place, rounded to
    the even digit: $0.333333333333333334; left 1 TOK at $0.333333333333333333.
    3rd: the whole rest, $0.333333333333333333. Sum: exactly $1."""
    result = compute([buy("2024-01-01", "3", "TOK", "1"), sell("2024-02-01", "1", "TOK", "1"),
                      sell("2024-02-02", "1", "TOK", "1"), sell("2024-02-03", "1", "TOK", "1")],
                     rules(method=method))
    assert [r.cost for r in result.disposals] == [
        D("0.333333333333333333"), D("0.333333333333333334"), D("0.333333333333333333")]
    assert totals(result.disposals).cost == D("1")


def test_proceeds_of_a_disposal_split_across_terms_add_up() -> None:
    """US FIFO: 1 TOK bought 1 Jan 2023 ($1), 2 TOK bought 1 Jun 2024 ($2); sell 3 TOK on 1 Jul 2024 for $10.
    Two rows: long term 1 TOK (proceeds $10 x 1/3 = $3.333333333333333333, gain $2.333333333333333333) and
    short term 2 TOK (the rest, $6.666666666666666667, gain $4.666666666666666667); together $10 and $7."""
    result = compute([buy("2023-01-01", "1", "TOK", "1"), buy("2024-06-01", "2", "TOK", "2"),
                      sell("2024-07-01", "3", "TOK", "10")], rules("us"))
    by_term = {r.term: (r.amount, r.proceeds, r.cost, r.gain) for r in result.disposals}
    assert by_term == {
        Term.LONG: (D("1"), D("3.333333333333333333"), D("1"), D("2.333333333333333333")),
        Term.SHORT: (D("2"), D("6.666666666666666667"), D("2"), D("4.666666666666666667")),
    }
    sold = totals(result.disposals)
    assert (sold.proceeds, sold.cost, sold.gain) == (D("10"), D("3"), D("7"))


def test_proceeds_split_at_a_rounding_tie_still_add_up() -> None:
    """1 TOK bought 2 Jan 2023, 1 TOK bought 1 Jun 2024 ($1 each); sell both on 1 Jul 2024 for $1.000000000000000003.
    Each term's half is $0.5000000000000000015: a tie at the 18th place, rounded to the even digit ...002 for
    both halves, which would make $1.000000000000000004. The last row takes the remainder instead:
    $0.500000000000000002 and $0.500000000000000001, exactly $1.000000000000000003 together."""
    result = compute([buy("2023-01-02", "1", "TOK", "1"), buy("2024-06-01", "1", "TOK", "1"),
                      sell("2024-07-01", "2", "TOK", "1.000000000000000003")], rules("us"))
    assert {r.term for r in result.disposals} == {Term.LONG, Term.SHORT}
    assert sorted(r.proceeds for r in result.disposals) == [D("0.500000000000000001"), D("0.500000000000000002")]
    assert totals(result.disposals).proceeds == D("1.000000000000000003")


# --- Leap years and the one-year / 12-month rules --------------------------------------------------------------

@pytest.mark.parametrize(
    ("jurisdiction", "bought", "sold", "term"),
    [
        # US: more than one year, counted from the day after acquisition in calendar months (Rev. Rul. 66-7).
        ("us", "2024-02-29", "2025-02-28", Term.SHORT),  # months from 1 Mar 2024: the 12th ends 28 Feb 2025
        ("us", "2024-02-29", "2025-03-01", Term.LONG),
        ("us", "2023-03-01", "2024-03-01", Term.SHORT),  # 366 days across 29 Feb, but exactly one year
        ("us", "2023-03-01", "2024-03-02", Term.LONG),
        # Bought 28 Feb 2023: months count from 1 Mar 2023, so 29 Feb 2024 ends the 12th month: exactly one
        # year, not more (Caspe v. United States, 694 F.2d 1116: bought 30 Nov, sold 31 May = six months).
        ("us", "2023-02-28", "2024-02-29", Term.SHORT),
        ("us", "2023-02-28", "2024-03-01", Term.LONG),
        # AU: at least 12 months, not counting the days of acquisition and disposal (ITAA 1997 s115-25).
        ("au", "2024-02-29", "2025-02-28", Term.SHORT),  # between: 1 Mar 2024 - 27 Feb 2025
        ("au", "2024-02-29", "2025-03-01", Term.LONG),  # between: 1 Mar 2024 - 28 Feb 2025 = 12 months
        # Between 28 Feb 2023 and 29 Feb 2024: 1 Mar 2023 - 28 Feb 2024, a day short of the 12 months ending
        # 29 Feb 2024.
        ("au", "2023-02-28", "2024-02-29", Term.SHORT),
        ("au", "2023-02-28", "2024-03-01", Term.LONG),
        # DE: §23 EStG with §§187(1), 188(2) BGB: a year from 28 Feb 2023 ends with 28 Feb 2024, so a sale on
        # 29 Feb 2024 is after it (tax-free); from 29 Feb 2024 it ends with 28 Feb 2025 (§188(3) BGB).
        ("de", "2023-02-28", "2024-02-29", Term.LONG),
        ("de", "2024-02-29", "2025-02-28", Term.SHORT),
        ("de", "2024-02-29", "2025-03-01", Term.LONG),
    ],
)
def test_leap_years_and_the_holding_term(jurisdiction: str, bought: str, sold: str, term: Term) -> None:
    (row,) = compute([buy(bought, "1", "BTC", "100"), sell(sold, "1", "BTC", "200")], rules(jurisdiction)).disposals
    assert (row.acquired, row.disposed, row.term) == (date.fromisoformat(bought), date.fromisoformat(sold), term)


def test_au_twelve_months_are_counted_in_sydney_days() -> None:
    """Bought 00:30 on 1 Jul 2023 in Sydney (30 Jun 14:30 UTC), sold 23:30 on 1 Jul 2024 in Sydney: local days
    1 Jul 2023 to 1 Jul 2024, nothing in between but 2 Jul 2023 - 30 Jun 2024, less than 12 months: no
    discount. (In UTC days it would be 30 Jun 2023 to 1 Jul 2024, and wrongly discounted.)"""
    result = compute([buy(at("2023-07-01 00:30", "Australia/Sydney"), "1", "BTC", "100", cash="AUD"),
                      sell(at("2024-07-01 23:30", "Australia/Sydney"), "1", "BTC", "200", cash="AUD")], rules("au"))
    (row,) = result.disposals
    assert (row.acquired, row.disposed, row.term) == (date(2023, 7, 1), date(2024, 7, 1), Term.SHORT)


# --- Tax-year boundaries in local time -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "local", "zone", "day", "tax_year"),
    [
        # 23:30 on 31 Dec 2024 in New York is 04:30 UTC on 1 Jan 2025: still US tax year 2024.
        ("us", "2024-12-31 23:30", "America/New_York", "2024-12-31", 2024),
        ("us", "2025-01-01 00:30", "America/New_York", "2025-01-01", 2025),
        # Sydney (UTC+10 in winter): 23:30 on 30 Jun 2024 is 13:30 UTC; 00:30 on 1 Jul is 14:30 UTC on 30 Jun.
        ("au", "2024-06-30 23:30", "Australia/Sydney", "2024-06-30", 2024),  # 2023-24, ending 30 Jun 2024
        ("au", "2024-07-01 00:30", "Australia/Sydney", "2024-07-01", 2025),  # 2024-25
        # London (BST): 23:30 on 5 Apr 2024 is 22:30 UTC; 00:30 on 6 Apr is 23:30 UTC on 5 Apr.
        ("uk", "2024-04-05 23:30", "Europe/London", "2024-04-05", 2024),  # 2023-24, ending 5 Apr 2024
        ("uk", "2024-04-06 00:30", "Europe/London", "2024-04-06", 2025),  # 2024-25
    ],
)
def test_tax_year_boundary_in_local_time(jurisdiction: str, local: str, zone: str, day: str, tax_year: int) -> None:
    j = JURISDICTIONS[jurisdiction]
    cash = j.currency
    events = [buy("2024-01-02", "1", "BTC", "100", cash=cash), sell(at(local, zone), "1", "BTC", "150", cash=cash)]
    (row,) = compute(events, rules(jurisdiction)).disposals
    assert row.disposed == date.fromisoformat(day)
    years = [year for year in (tax_year - 1, tax_year, tax_year + 1)
             if j.period(year)[0] <= row.disposed <= j.period(year)[1]]
    assert years == [tax_year]


def test_us_per_wallet_switch_happens_at_new_york_midnight() -> None:
    """Universal FIFO until 1 Jan 2025 New York time (Reg. 1.1012-1(j)): a buys 1 BTC for $10,000 (Jun), b buys
    1 BTC for $30,000 (Sep); at 23:30 on 31 Dec 2024 New York (04:30 UTC on 1 Jan) b sells 1 BTC for $40,000.
    Still 2024, still universal: FIFO takes a's June lot, cost $10,000, gain $30,000 (per wallet it would be
    b's own $30,000 lot). Left: the September lot, which at the switch is allocated to a, the only wallet
    holding units (a holds 1 BTC, b none)."""
    events = [buy("2024-06-01", "1", "BTC", "10000", account="a"), buy("2024-09-01", "1", "BTC", "30000", account="b"),
              sell(at("2024-12-31 23:30", "America/New_York"), "1", "BTC", "40000", account="b"),
              sell(at("2025-01-02 10:00", "America/New_York"), "1", "BTC", "50000", account="a")]
    result = compute(events, rules("us"))
    first, second = result.disposals
    assert (first.disposed, first.cost, first.gain, first.acquired) == (
        date(2024, 12, 31), D("10000"), D("30000"), date(2024, 6, 1))
    assert (second.account, second.cost, second.gain, second.acquired) == (
        "a", D("30000"), D("20000"), date(2024, 9, 1))
    assert result.problems == () and result.holdings == ()


# --- UK days across British Summer Time -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sold_utc", "bought_london", "day", "rule"),
    [
        ("2023-07-14 23:30", "2023-07-15 08:00", "2023-07-15", "same-day"),  # BST: 00:30 on 15 Jul in London
        ("2023-01-14 23:30", "2023-01-15 08:00", "2023-01-14", "bed-and-breakfast"),  # GMT: still 14 Jan
        ("2024-03-30 23:30", "2024-03-31 08:00", "2024-03-30", "bed-and-breakfast"),  # clocks go forward 01:00 UTC
        ("2024-03-31 23:30", "2024-04-01 08:00", "2024-04-01", "same-day"),  # first BST night
        ("2024-10-26 23:30", "2024-10-27 08:00", "2024-10-27", "same-day"),  # last BST night: 00:30 on 27 Oct
        ("2024-10-27 23:30", "2024-10-28 08:00", "2024-10-27", "bed-and-breakfast"),  # GMT again
    ],
)
def test_uk_days_are_london_days(sold_utc: str, bought_london: str, day: str, rule: str) -> None:
    """Pool 10 TOK / £100 (June 2022). Sell 5 TOK for £200 at ``sold_utc`` (UTC); buy 5 TOK for £150 at 08:00
    London the next morning. If the sale falls on the London day of the buy, it is matched same day; otherwise
    the buy is within its next 30 days (bed and breakfast). Either way cost £150, gain £50, pool 10 / £100."""
    result = compute([buy("2022-06-01", "10", "TOK", "100", cash="GBP"),
                      sell(at(sold_utc), "5", "TOK", "200", cash="GBP"),
                      buy(at(bought_london, "Europe/London"), "5", "TOK", "150", cash="GBP")], rules("uk"))
    (row,) = result.disposals
    assert (row.disposed, row.rule, row.cost, row.gain) == (date.fromisoformat(day), rule, D("150"), D("50"))
    assert matches(result.disposals) == [Match(rule, date.fromisoformat(bought_london[:10]), D("5"), D("150"))]
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("10"), D("100"))]


@pytest.mark.parametrize(
    ("sold", "bought", "rule", "cost"),
    [
        # Sold 31 Mar; the 30 days after it run to 30 Apr (CRYPTO22253: "1 May is day 31").
        ("2023-03-31 12:00", "2023-04-30 12:00", "bed-and-breakfast", "200"),
        ("2023-03-31 12:00", "2023-05-01 12:00", "section-104", "100"),
        # 23:30 UTC on 31 Mar 2023 is 00:30 on 1 Apr in London (BST): day 30 is then 1 May.
        ("2023-03-31 23:30", "2023-05-01 12:00", "bed-and-breakfast", "200"),
    ],
)
def test_uk_thirty_day_window_ends_on_day_thirty(sold: str, bought: str, rule: str, cost: str) -> None:
    """Pool 1,000 TOK / £1,000 (£1 each). Sell 100 TOK for £300 at ``sold`` (UTC), buy 100 TOK for £200 at
    ``bought``. Within the window the buy is matched (cost £200, gain £100); a day later the pool is (100 x £1
    = £100, gain £200) and the buy joins the pool: 1,000 / £1,100."""
    result = compute([buy("2022-06-01", "1000", "TOK", "1000", cash="GBP"),
                      sell(at(sold), "100", "TOK", "300", cash="GBP"),
                      buy(at(bought), "100", "TOK", "200", cash="GBP")], rules("uk"))
    (row,) = result.disposals
    assert (row.rule, row.cost, row.gain) == (rule, D(cost), D("300") - D(cost))
    pool_cost = "1000" if rule == "bed-and-breakfast" else "1100"
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("1000"), D(pool_cost))]


# --- Per wallet against universal ----------------------------------------------------------------------------

TWO_WALLETS = [buy("2024-01-10", "1", "BTC", "10000", account="a"),
               buy("2024-02-10", "1", "BTC", "20000", account="b"),
               sell("2024-03-10", "1", "BTC", "25000", account="b")]


@pytest.mark.parametrize(
    ("tracking", "cost", "after"),
    [
        # Universal: FIFO over both accounts takes a's January lot ($10,000): gain $15,000; left the February lot.
        ("universal", "10000", LotView("BTC", date(2024, 2, 10), D("1"), D("20000"), "all")),
        # Per wallet: b's own February lot ($20,000): gain $5,000; a keeps its January lot.
        ("per-wallet", "20000", LotView("BTC", date(2024, 1, 10), D("1"), D("10000"), "a")),
    ],
)
def test_per_wallet_against_universal(tracking: str, cost: str, after: LotView) -> None:
    r = rules(tracking=tracking)
    (row,) = compute(TWO_WALLETS, r).disposals
    assert (row.account, row.cost, row.gain) == ("b", D(cost), D("25000") - D(cost))
    assert lots_held(TWO_WALLETS, r) == [after]


def test_per_wallet_sale_from_an_empty_wallet_has_no_basis_even_if_another_wallet_holds() -> None:
    """a holds 1 BTC ($10,000); b sells 1 BTC for $25,000. Universal: a's lot, gain $15,000. Per wallet: b has no
    lot: cost 0, gain $25,000, flagged; a's lot stays."""
    events = [buy("2024-01-10", "1", "BTC", "10000", account="a"), sell("2024-03-10", "1", "BTC", "25000", account="b")]
    universal = compute(events, rules(tracking="universal"))
    wallets = compute(events, rules(tracking="per-wallet"))
    assert (universal.disposals[0].gain, universal.problems) == (D("15000"), ())
    assert (wallets.disposals[0].gain, wallets.disposals[0].no_basis) == (D("25000"), D("1"))
    assert kinds(wallets) == [ProblemKind.MISSING_COST_BASIS]
    assert [(h.account, h.amount, h.cost) for h in wallets.holdings] == [("a", D("1"), D("10000"))]


def test_uk_pool_is_one_per_token_even_when_tracking_per_wallet() -> None:
    """HMRC pool each token across all of a person's wallets (CRYPTO22200), whatever the tracking setting: a buys
    1 TOK for £10, moves 0.4 TOK to b; b sells 0.4 TOK for £8: cost £10 x 0.4 = £4, gain £4; the pool keeps
    0.6 TOK / £6. (Until 31e95de the move took the 0.4 TOK out of the pool for good.)"""
    events = [buy("2024-01-01", "1", "TOK", "10", cash="GBP", account="a"),
              transfer("2024-02-01", "0.4", "TOK", "a", "b"),
              sell("2024-03-01", "0.4", "TOK", "8", cash="GBP", account="b")]
    result = compute(events, rules("uk", tracking="per-wallet"))
    assert [(r.rule, r.cost, r.gain) for r in result.disposals] == [("section-104", D("4"), D("4"))]
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("0.6"), D("6"))]
    assert result.problems == ()


# --- Fees paid in a third asset (US) ---------------------------------------------------------------------------

BNB_AND_BTC = [buy("2024-01-05", "1", "BNB", "300"), buy("2024-01-10", "1", "BTC", "40000")]


def test_bnb_fee_on_a_btc_sale_for_usdt() -> None:
    """Sell 0.5 BTC for 30,000 USDT ($30,000) on 1 Mar 2024, fee 0.01 BNB worth $6 (Reg. 1.1001-7(b)):
    BTC: proceeds $30,000 - $6 fee = $29,994; cost $40,000 x 0.5 = $20,000; gain $9,994.
    BNB: the 0.01 BNB are themselves disposed of at $6; cost $300 x 0.01 = $3; gain $3.
    Together $9,997 = $30,000 received - $20,000 - $3 of basis given up.
    Left: 0.99 BNB ($297), 0.5 BTC ($20,000), 30,000 USDT at their value ($30,000)."""
    events = [*BNB_AND_BTC, trade("2024-03-01", ("0.5", "BTC"), ("30000", "USDT"), "30000",
                                  fee=("0.01", "BNB", "6"), ref="btc-usdt")]
    result = compute(events, rules("us"))
    assert [(r.ref, r.asset, r.amount, r.proceeds, r.cost, r.gain) for r in result.disposals] == [
        ("btc-usdt", "BTC", D("0.5"), D("29994"), D("20000"), D("9994")),
        ("btc-usdt", "BNB", D("0.01"), D("6"), D("3"), D("3")),
    ]
    assert totals(result.disposals).gain == D("9997")
    assert lots_held(events, rules("us")) == [
        LotView("BNB", date(2024, 1, 5), D("0.99"), D("297")),
        LotView("BTC", date(2024, 1, 10), D("0.5"), D("20000")),
        LotView("USDT", date(2024, 3, 1), D("30000"), D("30000")),
    ]


def test_bnb_fee_on_a_btc_purchase_with_usdt() -> None:
    """Buy 0.5 BTC with 20,000 USDT ($20,000, bought at $1 each) paying 0.01 BNB ($6). In an exchange of digital
    assets the fee goes to the asset given up (Reg. 1.1001-7(b)(2)(ii)(B)), not to the basis of the one received
    (Reg. 1.1012-1(h)(2)(ii)(B)): USDT proceeds $20,000 - $6 = $19,994, cost $20,000, loss $6; BNB gain $3 as
    above; the BTC lot costs $20,000."""
    events = [*BNB_AND_BTC, buy("2024-02-01", "20000", "USDT", "20000"),
              trade("2024-03-01", ("20000", "USDT"), ("0.5", "BTC"), "20000", fee=("0.01", "BNB", "6"))]
    result = compute(events, rules("us"))
    assert [(r.asset, r.proceeds, r.cost, r.gain) for r in result.disposals] == [
        ("USDT", D("19994"), D("20000"), D("-6")), ("BNB", D("6"), D("3"), D("3"))]
    assert LotView("BTC", date(2024, 3, 1), D("0.5"), D("20000")) in lots_held(events, rules("us"))


# --- Income lots, sold later -----------------------------------------------------------------------------------


def test_income_lot_sold_later_keeps_its_value_as_cost_and_its_date() -> None:
    """Staking reward 0.1 ETH worth $250 on 5 Jan 2023 (income, and the lot's cost: $2,500/ETH).
    5 Jan 2024: sell 0.04 ETH for $130: cost $100, gain $30, short term (exactly one year).
    6 Jan 2024: sell 0.06 ETH for $200: cost the rest, $150, gain $50, long term."""
    result = compute([income("2023-01-05", "0.1", "ETH", "250"), sell("2024-01-05", "0.04", "ETH", "130"),
                      sell("2024-01-06", "0.06", "ETH", "200")], rules("us"))
    (reward,) = result.income
    assert (reward.asset, reward.amount, reward.value, reward.kind, reward.received) == (
        "ETH", D("0.1"), D("250"), "staking", date(2023, 1, 5))
    assert [(r.acquired, r.cost, r.gain, r.term) for r in result.disposals] == [
        (date(2023, 1, 5), D("100"), D("30"), Term.SHORT), (date(2023, 1, 5), D("150"), D("50"), Term.LONG)]
    assert result.holdings == () and result.problems == ()


# --- Transfers: lots keep their cost and date ------------------------------------------------------------------


@pytest.mark.parametrize(("tracking", "account"), [("per-wallet", "b"), ("universal", "all")])
def test_transfer_keeps_cost_and_date_and_its_fee_is_a_disposal(tracking: str, account: str) -> None:
    """a buys 1.001 BTC for $20,020 ($20,000/BTC) on 10 Jan 2023; on 1 Jun 2024 a sends 1 BTC to b paying
    0.001 BTC ($60) network fee on top; b sells 0.5 BTC for $30,000 on 1 Jul 2024.
    Fee: 0.001 BTC of the January lot, cost $20, proceeds $60, gain $40, long term (held since 10 Jan 2023).
    Sale: 0.5 BTC still dated 10 Jan 2023 at $20,000/BTC: cost $10,000, gain $20,000, long term.
    Left: 0.5 BTC, 10 Jan 2023, $10,000 (in b when tracking per wallet)."""
    events = [buy("2023-01-10", "1.001", "BTC", "20020", account="a"),
              transfer("2024-06-01", "1", "BTC", "a", "b", fee=("0.001", "BTC", "60"), ref="move"),
              sell("2024-07-01", "0.5", "BTC", "30000", account="b", ref="sale")]
    r = rules(tracking=tracking)
    result = compute(events, r)
    assert [(x.ref, x.account, x.amount, x.acquired, x.proceeds, x.cost, x.gain, x.term) for x in result.disposals] == [
        ("move", "a", D("0.001"), date(2023, 1, 10), D("60"), D("20"), D("40"), Term.LONG),
        ("sale", "b", D("0.5"), date(2023, 1, 10), D("30000"), D("10000"), D("20000"), Term.LONG),
    ]
    assert result.problems == ()
    assert lots_held(events, r) == [LotView("BTC", date(2023, 1, 10), D("0.5"), D("10000"), account)]


# --- Negative balances -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (EventKind.WITHDRAWAL, [ProblemKind.UNMATCHED_WITHDRAWAL, ProblemKind.NEGATIVE_BALANCE]),
        (EventKind.GIFT_OUT, [ProblemKind.NEGATIVE_BALANCE]),
        (EventKind.LOSS, [ProblemKind.NEGATIVE_BALANCE]),
    ],
)
def test_units_leaving_beyond_the_balance_are_a_negative_balance(
        method: str, kind: EventKind, expected: list[ProblemKind]) -> None:
    """Hold 1 TOK, 3 TOK leave without a sale: 2 TOK were never acquired. An error names the 2 TOK; nothing is
    held afterwards and nothing is disposed of."""
    result = compute([buy("2024-01-01", "1", "TOK", "10"), movement(kind, "2024-02-01", "3", "TOK")],
                     rules(method=method))
    assert kinds(result) == expected
    negative = next(p for p in result.problems if p.kind is ProblemKind.NEGATIVE_BALANCE)
    assert negative.severity is Severity.ERROR and "2 TOK" in negative.message
    assert result.disposals == () and result.holdings == ()


def test_per_wallet_transfer_beyond_the_balance() -> None:
    """Per wallet: a holds 1 TOK ($100) and sends 3 TOK to b: 2 TOK are missing (an error); b receives the one
    lot that exists (1 TOK, $100, 1 Jan). b then sells 3 TOK for $300: cost $100, 2 TOK without basis, gain $200."""
    events = [buy("2024-01-01", "1", "TOK", "100", account="a"), transfer("2024-02-01", "3", "TOK", "a", "b"),
              sell("2024-03-01", "3", "TOK", "300", account="b")]
    r = rules(tracking="per-wallet")
    assert lots_held(events[:2], r) == [LotView("TOK", date(2024, 1, 1), D("1"), D("100"), "b")]
    result = compute(events, r)
    (row,) = result.disposals
    assert (row.cost, row.no_basis, row.gain) == (D("100"), D("2"), D("200"))
    assert kinds(result) == [ProblemKind.NEGATIVE_BALANCE, ProblemKind.MISSING_COST_BASIS]


# --- Zero-cost disposals are flagged ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_sale_with_no_acquisition_has_zero_cost_and_is_flagged(method: str) -> None:
    """Sell 2 SOL for $300 that were never acquired: cost 0, all $300 is gain, the sale itself is flagged."""
    result = compute([sell("2024-02-01", "2", "SOL", "300", ref="sale")], rules(method=method))
    (row,) = result.disposals
    assert (row.amount, row.no_basis, row.cost, row.gain, row.acquired) == (D("2"), D("2"), D("0"), D("300"), None)
    (problem,) = result.problems
    assert (problem.kind, problem.severity, problem.source) == (ProblemKind.MISSING_COST_BASIS, Severity.ERROR, "sale")
    assert "2 SOL" in problem.message


def test_gift_received_has_zero_cost_and_is_flagged() -> None:
    """A gift of 1 ETH: the donor's basis carries over (IRC §1015) and is unknown: zero cost, flagged at receipt;
    sold for $3,000: gain $3,000. (Whether the sale is flagged again is not fixed here.)"""
    result = compute([movement(EventKind.GIFT_IN, "2024-01-01", "1", "ETH", ref="gift"),
                      sell("2024-02-01", "1", "ETH", "3000")], rules("us"))
    assert [(r.cost, r.gain) for r in result.disposals] == [(D("0"), D("3000"))]
    assert (ProblemKind.MISSING_COST_BASIS, "gift") in [(p.kind, p.source) for p in result.problems]


@pytest.mark.parametrize(("jurisdiction", "held_from", "term"), [
    ("us", date(2023, 1, 10), Term.LONG),  # the donor's holding period carries over with the cost (IRC s.1223(2))
    ("au", date(2024, 1, 1), Term.SHORT),  # acquired at market value when received: held from then
])
def test_a_gift_is_held_from_the_donors_day_only_where_the_donors_cost_carries_over(
        jurisdiction: str, held_from: date, term: Term) -> None:
    """A gift of 1 ETH the donor bought on 2023-01-10 for $1,500, received on 2024-01-01 (worth $2,000 then) and
    sold on 2024-03-01 for $3,000."""
    gift = replace(movement(EventKind.GIFT_IN, "2024-01-01", "1", "ETH", ref="gift"), basis=D("1500"),
                   acquired=at("2023-01-10"))
    gift = replace(gift, legs=(gift.legs[0]._replace(value=D("2000")),))
    result = compute([gift, sell("2024-03-01", "1", "ETH", "3000")], rules(jurisdiction))
    (row,) = result.disposals
    assert (row.acquired, row.term) == (held_from, term)


@pytest.mark.parametrize("method", ["fifo", "hifo", "uk-pooling"])
def test_a_deposit_acquired_long_before_it_arrived(method: str) -> None:
    """1 BTC bought on 2024-02-01 for $40,000; 1 BTC bought elsewhere on 2021-06-01 for $30,000 and deposited on
    2024-03-01; 1 BTC sold on 2024-04-01 for $60,000. FIFO sells the oldest, the deposited one (gain $30,000,
    long-term); HIFO the dearest, February's. UK pooling has no holding term: the pool averages $35,000."""
    deposit = replace(movement(EventKind.DEPOSIT, "2024-03-01", "1", "BTC", ref="deposit"), basis=D("30000"),
                      acquired=at("2021-06-01"))
    result = compute([buy("2024-02-01", "1", "BTC", "40000"), deposit, sell("2024-04-01", "1", "BTC", "60000")],
                     rules("us" if method != "uk-pooling" else "uk", method))
    (row,) = result.disposals
    expected = {"fifo": (D("30000"), date(2021, 6, 1)), "hifo": (D("40000"), date(2024, 2, 1)),
                "uk-pooling": (D("35000"), None)}[method]
    assert (row.cost, row.acquired if method != "uk-pooling" else None) == expected
    if method == "fifo":
        assert row.term is Term.LONG


def test_sale_of_units_from_an_unmatched_deposit_is_flagged() -> None:
    """Deposit 1 TOK from nowhere we know (zero cost); sell it for $90: cost 0, gain $90. tax-rules.md ("Every
    jurisdiction"): each such disposal is flagged, so the sale itself has an error, besides the deposit's warning."""
    result = compute([movement(EventKind.DEPOSIT, "2024-01-01", "1", "TOK", ref="deposit"),
                      sell("2024-02-01", "1", "TOK", "90", ref="sale")], rules("us"))
    assert [(r.cost, r.gain) for r in result.disposals] == [(D("0"), D("90"))]
    assert [(p.kind, p.source) for p in result.problems] == [
        (ProblemKind.UNMATCHED_DEPOSIT, "deposit"), (ProblemKind.MISSING_COST_BASIS, "sale")]


def test_probe_helper_sees_partly_used_lots() -> None:
    """The lots_held helper itself: FIFO over 3 lots after selling 1.5 units leaves half of the second lot."""
    events = [buy("2024-01-01", "1", "X", "10"), buy("2024-01-02", "1", "X", "20"), buy("2024-01-03", "1", "X", "40"),
              sell("2024-01-04", "1.5", "X", "0")]
    assert lots_held(events, rules()) == [LotView("X", date(2024, 1, 2), D("0.5"), D("10")),
                                          LotView("X", date(2024, 1, 3), D("1"), D("40"))]


def test_a_fee_larger_than_the_sale_never_makes_negative_proceeds() -> None:
    """Dust sold for nothing with a 0.02 USD fee: the row's proceeds are 0.00, the fee beyond them is a cost of the
    sale, so the loss is the fee plus the dust's cost, as before (a negative proceeds row is no Form 8949 line)."""
    result = compute([buy("2024-01-02", "1", "BTC", "100"),
                      sell("2024-03-02", "0.00000001", "BTC", "0", fee=("0.02", "USD", "0.02"))], rules("us"))
    (row,) = result.disposals
    assert (row.proceeds, row.cost, row.gain) == (D("0"), D("0.020001"), D("-0.020001"))


def test_a_trade_whose_only_content_is_a_fee_is_a_fee() -> None:
    """A trade of nothing for nothing (CoinTracking writes such rows for a fee alone) that paid 0.0001 BTC: the
    fee units are disposed of at their value (Reg. 1.1001-7(b)(1)(i)), and no row for the empty legs."""
    result = compute([buy("2024-01-02", "1", "BTC", "100"),
                      trade("2024-03-02", ("0", "USD"), ("0", "ETH"), "0", fee=("0.0001", "BTC", "0.01"))],
                     rules("us"))
    (row,) = result.disposals
    assert (row.asset, row.amount, row.proceeds, row.cost) == ("BTC", D("0.0001"), D("0.01"), D("0.01"))
    assert result.problems == ()
