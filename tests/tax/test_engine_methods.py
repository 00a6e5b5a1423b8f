"""The tax engine against the worked examples of reference/tax-rules.md and hand-computed cases.

Each case reads like a ledger an accountant can check: the events, then the expected disposals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from taxsync.assets import FIAT
from taxsync.problems import ProblemKind
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Event, EventKind, Term, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs, from_datetime

USD = Asset("USD")


def ts(day: str, hour: int = 12) -> TimestampMs:
    return from_datetime(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC))


def rules(method: str = "fifo", tracking: str = "universal", jurisdiction: str = "us") -> Rules:
    j = JURISDICTIONS[jurisdiction]
    return Rules(USD, method, ZoneInfo("UTC"), j.term, FIAT, tracking, j.crypto_fee_is_disposal)


def leg(asset: str, amount: str, role: Role, value: str | None) -> ValuedLeg:
    return ValuedLeg(Asset(asset), D(amount), role, None if value is None else D(value))


def buy(day: str, amount: str, asset: str, cost: str, fee: str = "0", account: str = "a") -> Event:
    legs = [leg("USD", f"-{cost}", Role.OUT, cost), leg(asset, amount, Role.IN, cost)]
    if D(fee):
        legs.append(leg("USD", f"-{fee}", Role.FEE, fee))
    return Event(f"buy {amount} {asset} {day}", account, ts(day), EventKind.TRADE, tuple(legs))


def sell(day: str, amount: str, asset: str, proceeds: str, fee: str = "0", account: str = "a") -> Event:
    legs = [leg(asset, f"-{amount}", Role.OUT, proceeds), leg("USD", proceeds, Role.IN, proceeds)]
    if D(fee):
        legs.append(leg("USD", f"-{fee}", Role.FEE, fee))
    return Event(f"sell {amount} {asset} {day}", account, ts(day), EventKind.TRADE, tuple(legs))


def swap(day: str, out: str, out_asset: str, into: str, in_asset: str, value: str,
         fee: tuple[str, str, str] | None = None) -> Event:
    legs = [leg(out_asset, f"-{out}", Role.OUT, value), leg(in_asset, into, Role.IN, value)]
    if fee:
        legs.append(leg(fee[1], f"-{fee[0]}", Role.FEE, fee[2]))
    return Event(f"swap {day}", "a", ts(day), EventKind.TRADE, tuple(legs))


def total_gain(events: list[Event], method: str = "fifo") -> D:
    return sum((d.gain for d in compute(events, rules(method)).disposals), D(0))


# reference/tax-rules.md, "Worked examples for FIFO / LIFO / HIFO"
TEN_AND_TEN = [buy("2024-01-01", "10", "XYZ", "100"), buy("2024-02-01", "10", "XYZ", "300"),
               sell("2024-03-01", "15", "XYZ", "600")]
THREE_BTC_LOTS = [buy("2020-01-01", "0.5", "BTC", "2100"), buy("2020-02-01", "0.5", "BTC", "2650"),
                  buy("2020-03-01", "0.5", "BTC", "4500"), sell("2020-04-01", "1", "BTC", "9500")]


@pytest.mark.parametrize(
    ("events", "method", "gain"),
    [
        (TEN_AND_TEN, "fifo", D("350")),  # basis 100 + 5 x 30 = 250
        (TEN_AND_TEN, "lifo", D("250")),  # basis 300 + 5 x 10 = 350
        (TEN_AND_TEN, "hifo", D("250")),
        (THREE_BTC_LOTS, "fifo", D("4750")),  # basis 2100 + 2650
        (THREE_BTC_LOTS, "lifo", D("2350")),  # basis 4500 + 2650
        (THREE_BTC_LOTS, "hifo", D("2350")),
    ],
)
def test_worked_examples(events: list[Event], method: str, gain: D) -> None:
    assert total_gain(events, method) == gain


def test_hifo_takes_highest_unit_cost_not_latest() -> None:
    events = [buy("2024-01-01", "1", "ETH", "3000"), buy("2024-02-01", "1", "ETH", "4000"),
              buy("2024-03-01", "1", "ETH", "2000"), sell("2024-04-01", "1", "ETH", "3500")]
    (disposal,) = compute(events, rules("hifo")).disposals
    assert (disposal.cost, disposal.acquired) == (D("4000"), date(2024, 2, 1))
    (lifo,) = compute(events, rules("lifo")).disposals
    assert (lifo.cost, lifo.acquired) == (D("2000"), date(2024, 3, 1))


def test_german_example_fifo_swap() -> None:
    """tax-rules.md, Germany: buy 60 STX for €120 and 40 for €60, swap 100 STX for USDT worth €500."""
    events = [buy("2024-01-01", "60", "STX", "120"), buy("2024-02-01", "40", "STX", "60"),
              swap("2024-03-01", "100", "STX", "500", "USDT", "500")]
    result = compute(events, rules(jurisdiction="de"))
    assert [(d.cost, d.gain) for d in result.disposals] == [(D("180"), D("320"))]
    assert [(h.asset, h.amount, h.cost) for h in result.holdings] == [("USDT", D("500"), D("500"))]


def test_fees_add_to_cost_and_reduce_proceeds() -> None:
    """Buy 1 BTC for $20,000 + $50 fee; sell it for $30,000 - $60 fee: basis 20,050, realized 29,940."""
    (d,) = compute([buy("2024-01-01", "1", "BTC", "20000", fee="50"),
                    sell("2024-06-01", "1", "BTC", "30000", fee="60")], rules()).disposals
    assert (d.proceeds, d.cost, d.gain) == (D("29940"), D("20050"), D("9890"))


def test_crypto_fee_on_a_swap_is_a_disposal_and_reduces_proceeds() -> None:
    """Swap 1 ETH (basis 2,000) for BTC worth $3,000 paying 0.01 ETH ($30) as fee (Reg. 1.1001-7)."""
    events = [buy("2024-01-01", "2", "ETH", "4000"),
              swap("2024-02-01", "1", "ETH", "0.05", "BTC", "3000", fee=("0.01", "ETH", "30"))]
    main, fee = compute(events, rules()).disposals
    assert (main.amount, main.proceeds, main.cost) == (D("1"), D("2970"), D("2000"))
    assert (fee.amount, fee.proceeds, fee.cost, fee.gain) == (D("0.01"), D("30"), D("20"), D("10"))


@pytest.mark.parametrize(
    ("bought", "sold", "term"),
    [
        ("2023-03-01", "2024-03-01", Term.SHORT),  # exactly one year is not more than one year
        ("2023-03-01", "2024-03-02", Term.LONG),
        ("2024-02-29", "2025-02-28", Term.SHORT),  # leap day: Rev. Rul. 66-7 counts calendar months
        ("2024-02-29", "2025-03-01", Term.LONG),
    ],
)
def test_us_holding_term(bought: str, sold: str, term: Term) -> None:
    (d,) = compute([buy(bought, "1", "BTC", "100"), sell(sold, "1", "BTC", "200")], rules()).disposals
    assert d.term is term


def test_disposal_straddling_terms_is_split_with_proceeds_shared_by_units() -> None:
    events = [buy("2022-01-01", "1", "BTC", "30000"), buy("2024-01-01", "3", "BTC", "120000"),
              sell("2024-06-01", "2", "BTC", "100000")]
    long, short = sorted(compute(events, rules()).disposals, key=lambda d: d.term)
    assert (long.term, long.amount, long.proceeds, long.cost, long.acquired) == (
        Term.LONG, D("1"), D("50000"), D("30000"), date(2022, 1, 1))
    assert (short.term, short.amount, short.proceeds, short.cost) == (Term.SHORT, D("1"), D("50000"), D("40000"))


def test_various_acquisition_dates_and_exact_thirds() -> None:
    events = [buy("2024-01-01", "1", "X", "10"), buy("2024-01-02", "2", "X", "10"),
              sell("2024-02-01", "3", "X", "10")]
    (d,) = compute(events, rules()).disposals
    assert d.acquired is None and d.cost == D("20") and d.gain == D("-10")


def test_selling_more_than_acquired_gets_zero_cost_and_a_problem() -> None:
    result = compute([buy("2024-01-01", "1", "SOL", "100"), sell("2024-02-01", "3", "SOL", "600")], rules())
    (d,) = result.disposals
    assert (d.cost, d.proceeds, d.no_basis, d.acquired) == (D("100"), D("600"), D("2"), None)
    assert [p.kind for p in result.problems] == [ProblemKind.MISSING_COST_BASIS]
    assert "2 SOL" in result.problems[0].message


def test_income_is_valued_at_receipt_and_becomes_the_lot_cost() -> None:
    staking = Event("reward", "a", ts("2024-01-05"), EventKind.INCOME,
                    (leg("ETH", "0.1", Role.IN, "250"),), subkind="staking")
    result = compute([staking, sell("2024-03-01", "0.1", "ETH", "300")], rules())
    (income,) = result.income
    assert (income.value, income.kind, income.received) == (D("250"), "staking", date(2024, 1, 5))
    assert [d.gain for d in result.disposals] == [D("50")]


def test_transfer_moves_nothing_but_its_fee_is_a_disposal() -> None:
    transfer = Event("move", "a", ts("2024-02-01"), EventKind.TRANSFER,
                     (leg("BTC", "-1", Role.OUT, None), leg("BTC", "1", Role.IN, None),
                      leg("BTC", "-0.001", Role.FEE, "50")), to_account="b")
    result = compute([buy("2024-01-01", "2", "BTC", "80000"), transfer], rules())
    (fee,) = result.disposals
    assert (fee.amount, fee.proceeds, fee.cost) == (D("0.001"), D("50"), D("40"))
    assert [(h.amount, h.cost, h.account) for h in result.holdings] == [(D("1.999"), D("79960"), "all")]


def test_per_wallet_transfer_moves_lots_with_their_cost_and_date() -> None:
    transfer = Event("move", "a", ts("2024-02-01"), EventKind.TRANSFER,
                     (leg("BTC", "-1", Role.OUT, None), leg("BTC", "1", Role.IN, None)), to_account="b")
    result = compute([buy("2024-01-01", "2", "BTC", "80000"), transfer,
                      sell("2025-03-01", "1", "BTC", "90000", account="b")], rules(tracking="per-wallet"))
    (d,) = result.disposals
    assert (d.cost, d.acquired, d.term, d.account) == (D("40000"), date(2024, 1, 1), Term.LONG, "b")
    assert [(h.account, h.amount) for h in result.holdings] == [("a", D("1"))]


def test_unmatched_deposit_is_zero_cost_and_unmatched_withdrawal_leaves_without_gain() -> None:
    deposit = Event("dep", "a", ts("2024-01-01"), EventKind.DEPOSIT, (leg("DOT", "10", Role.IN, None),))
    withdrawal = Event("wd", "a", ts("2024-02-01"), EventKind.WITHDRAWAL, (leg("DOT", "-4", Role.OUT, None),))
    result = compute([deposit, withdrawal], rules())
    assert result.disposals == ()
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("6"), D("0"))]
    assert [p.kind for p in result.problems] == [ProblemKind.UNMATCHED_DEPOSIT, ProblemKind.UNMATCHED_WITHDRAWAL]


def test_local_calendar_day_decides_the_date() -> None:
    """23:30 UTC on 31 Dec 2024 is 18:30 in New York: still 2024 there, but 1 Jan 2025 in Sydney."""
    late = from_datetime(datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
    event = Event("s", "a", TimestampMs(late), EventKind.TRADE,
                  (leg("BTC", "-1", Role.OUT, "10"), leg("USD", "10", Role.IN, "10")))
    for zone, day in (("America/New_York", date(2024, 12, 31)), ("Australia/Sydney", date(2025, 1, 1))):
        r = Rules(USD, "fifo", ZoneInfo(zone), JURISDICTIONS["us"].term, FIAT)
        assert compute([buy("2024-01-01", "1", "BTC", "5"), event], r).disposals[0].disposed == day


def test_amounts_stay_exact() -> None:
    events = [buy("2024-01-01", "0.1", "BTC", "0.3"), buy("2024-01-02", "0.2", "BTC", "0.6"),
              sell("2024-01-03", "0.3", "BTC", "1.2")]
    (d,) = compute(events, rules()).disposals
    assert d.cost == D("0.9") and d.gain == D("0.3")
