"""Canada's superficial-loss rule, transfer fees per jurisdiction and a deposit's cost given by the user.

Each case is a small ledger in CAD (average cost, Toronto days) or USD/EUR, with the expected rows worked by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from taxsync.assets import FIAT
from taxsync.problems import ProblemKind
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS, TRANSFER_FEES
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs, from_datetime

TORONTO = ZoneInfo("America/Toronto")
ADJUSTED = "superficial loss (ITA s.54)"


def at(day: str, hour: int = 12, zone: ZoneInfo = TORONTO) -> TimestampMs:
    return from_datetime(datetime.fromisoformat(day).replace(hour=hour, tzinfo=zone))


def canada(method: str = "acb") -> Rules:
    ca = JURISDICTIONS["ca"]
    return Rules(Asset("CAD"), method, TORONTO, ca.term, FIAT, superficial_loss=ca.superficial_loss)


def trade(day: str, out: tuple[str, str], into: tuple[str, str], value: str, hour: int = 12) -> Event:
    legs = (ValuedLeg(Asset(out[1]), -D(out[0]), Role.OUT, D(value)),
            ValuedLeg(Asset(into[1]), D(into[0]), Role.IN, D(value)))
    return Event(f"{day} {out[1]}->{into[1]}", "a", at(day, hour), EventKind.TRADE, legs)


def buy(day: str, units: str, cad: str, hour: int = 12) -> Event:
    return trade(day, (cad, "CAD"), (units, "BTC"), cad, hour)


def sell(day: str, units: str, cad: str, hour: int = 12) -> Event:
    return trade(day, (units, "BTC"), (cad, "CAD"), cad, hour)


def rows(events: list[Event], rules: Rules | None = None) -> list[tuple[D, D, D, D, str]]:
    result = compute(events, rules or canada())
    return [(d.proceeds, d.cost, d.adjustment, d.gain, d.adjustment_code) for d in result.disposals]


def held(events: list[Event], rules: Rules | None = None) -> list[tuple[D, D]]:
    return [(h.amount, h.cost) for h in compute(events, rules or canada()).holdings]


def test_loss_bought_back_within_30_days_is_denied_and_joins_the_new_units() -> None:
    """Buy 100 for $1,000; sell them for $800 on 1 Mar (loss $200); buy 100 back for $900 on 15 Mar and hold them
    past 31 Mar: the whole $200 is denied (gain 0) and added to the ACB of the new units: $900 + $200 = $1,100.
    Selling those for $1,200 in June gains $100 — over both sales $2,000 - $1,900, as without the rule."""
    events = [buy("2024-01-01", "100", "1000"), sell("2024-03-01", "100", "800"), buy("2024-03-15", "100", "900")]
    assert rows(events) == [(D(800), D(1000), D(200), D(0), ADJUSTED)]
    assert held(events) == [(D(100), D(1100))]
    later = [*events, sell("2024-06-01", "100", "1200")]
    assert [r[3] for r in rows(later)] == [D(0), D(100)]


def test_fewer_units_bought_back_deny_a_part_of_the_loss() -> None:
    """Sell 100 at a $200 loss, buy back 40 and still hold them at the end of the period: denied
    $200 x min(100, 40, 40) / 100 = $80, so the loss claimed is $120; the 40 units cost $360 + $80 = $440."""
    events = [buy("2024-01-01", "100", "1000"), sell("2024-03-01", "100", "800"), buy("2024-03-10", "40", "360")]
    assert rows(events) == [(D(800), D(1000), D(80), D(-120), ADJUSTED)]
    assert held(events) == [(D(40), D(440))]


def test_units_sold_again_before_the_period_ends_are_not_substituted_property() -> None:
    """Buy back 50 on 10 Mar but sell them on 20 Mar: nothing is held on 31 Mar, so no loss is denied.
    Second sale: 50 units costing $450 sold for $475, gain $25."""
    events = [buy("2024-01-01", "100", "1000"), sell("2024-03-01", "100", "800"), buy("2024-03-10", "50", "450"),
              sell("2024-03-20", "50", "475")]
    assert rows(events) == [(D(800), D(1000), D(0), D(-200), ""), (D(475), D(450), D(0), D(25), "")]


def test_units_bought_in_the_30_days_before_count_too() -> None:
    """Hold 100 costing $1,000; buy 50 for $350 on 15 Feb (ACB 150 / $1,350, $9 each); sell 100 for $800 on 1 Mar:
    cost $900, loss $100. Bought in the window: 50, held at its end: 50, so $100 x 50 / 100 = $50 is denied and
    added to the 50 units left: $450 + $50 = $500."""
    events = [buy("2024-01-01", "100", "1000"), buy("2024-02-15", "50", "350"), sell("2024-03-01", "100", "800")]
    assert rows(events) == [(D(800), D(900), D(50), D(-50), ADJUSTED)]
    assert held(events) == [(D(50), D(500))]


@pytest.mark.parametrize(("day", "denied"), [("2024-03-31", D(200)), ("2024-04-01", D(0))])
def test_the_period_ends_30_local_days_after_the_sale(day: str, denied: D) -> None:
    """A sale on 1 Mar: a purchase on 31 Mar (day 30) is in the period, one on 1 Apr (day 31) is not. The
    purchase at 23:30 Toronto time on 31 Mar is already 1 Apr in UTC and still counts."""
    events = [buy("2024-01-01", "100", "1000"), sell("2024-03-01", "100", "800"), buy(day, "100", "900", hour=23)]
    assert rows(events)[0][2] == denied


def test_gains_are_never_adjusted() -> None:
    events = [buy("2024-01-01", "100", "1000"), sell("2024-03-01", "100", "1500"), buy("2024-03-10", "100", "900")]
    assert rows(events) == [(D(1500), D(1000), D(0), D(500), "")]


def test_other_jurisdictions_do_not_deny_losses() -> None:
    us = JURISDICTIONS["us"]
    rules = Rules(Asset("USD"), "fifo", ZoneInfo("America/New_York"), us.term, FIAT)
    events = [buy("2024-01-01", "100", "1000"), sell("2024-03-01", "100", "800"), buy("2024-03-15", "100", "900")]
    assert [(r[2], r[3]) for r in rows(events, rules)] == [(D(0), D(-200))]


def transfer(day: str, units: str, fee: str, fee_value: str, zone: ZoneInfo) -> Event:
    legs = (ValuedLeg(Asset("ETH"), D(units), Role.IN, None), ValuedLeg(Asset("ETH"), -D(fee), Role.FEE, D(fee_value)))
    return Event("move", "exchange", at(day, zone=zone), EventKind.TRANSFER, legs, to_account="wallet")


@pytest.mark.parametrize(("code", "fee_rows", "held_after"), [
    # US: 0.01 ETH of a lot costing $20 per ETH (cost $0.20) spent on the fee worth $30: a $29.80 gain.
    ("us", [(D("0.01"), D("30"), D("0.20"))], (D("0.99"), D("19.80"))),
    # DE: the fee units leave with their cost; no sale, nothing deductible.
    ("de", [], (D("0.99"), D("19.80"))),
])
def test_the_network_fee_of_a_transfer_follows_the_jurisdiction(code: str, fee_rows: list, held_after: tuple) -> None:
    """Buy 1 ETH for 20; move it to an own wallet paying 0.01 ETH (worth 30) to the network."""
    j = JURISDICTIONS[code]
    zone = ZoneInfo(j.timezone)
    rules = Rules(Asset(j.currency), "fifo", zone, j.term, FIAT,
                  transfer_fee_is_disposal=TRANSFER_FEES[j.transfer_fee][0])
    purchase = (ValuedLeg(Asset(j.currency), D(-20), Role.OUT, D(20)), ValuedLeg(Asset("ETH"), D(1), Role.IN, D(20)))
    events = [Event("buy", "exchange", at("2024-01-01", zone=zone), EventKind.TRADE, purchase),
              transfer("2024-06-01", "0.99", "0.01", "30", zone)]
    result = compute(events, rules)
    assert [(d.amount, d.proceeds, d.cost) for d in result.disposals] == fee_rows
    assert [(h.amount, h.cost) for h in result.holdings] == [held_after]
    assert result.problems == ()


def deposit(basis: str | None) -> Event:
    return Event("in", "wallet", at("2024-01-05"), EventKind.DEPOSIT,
                 (ValuedLeg(Asset("BTC"), D("0.5"), Role.IN, D(15000)),), basis=None if basis is None else D(basis))


def test_a_deposit_with_a_cost_given_by_the_user_carries_it() -> None:
    """0.5 BTC arrive from outside; the user says they cost 12,000: held at 12,000, sold for 15,000 = gain 3,000,
    and no problem, since the cost is known."""
    events = [deposit("12000"), sell("2024-02-01", "0.5", "15000")]
    result = compute(events, canada("fifo"))
    assert [(d.cost, d.gain) for d in result.disposals] == [(D(12000), D(3000))]
    assert result.problems == ()


def test_a_deposit_without_a_cost_is_zero_and_its_sale_is_flagged() -> None:
    events = [deposit(None), sell("2024-02-01", "0.5", "15000")]
    result = compute(events, canada("fifo"))
    assert [(d.cost, d.gain) for d in result.disposals] == [(D(0), D(15000))]
    assert [m.unknown for m in result.disposals[0].matches] == [D("0.5")]
    assert [p.kind for p in result.problems] == [ProblemKind.UNMATCHED_DEPOSIT, ProblemKind.MISSING_COST_BASIS]


def test_uk_pooling_keeps_one_pool_per_token_even_when_per_wallet_is_asked() -> None:
    """HMRC pools a token across all wallets (CRYPTO22200): a move between wallets changes nothing, per-wallet
    tracking or not. Buy 10 for £100, move them, sell 10 for £150 the next week: gain £50 from the pool."""
    uk = JURISDICTIONS["uk"]
    zone = ZoneInfo(uk.timezone)
    rules = Rules(Asset("GBP"), "uk-pooling", zone, uk.term, FIAT, tracking="per-wallet")
    bought = (ValuedLeg(Asset("GBP"), D(-100), Role.OUT, D(100)), ValuedLeg(Asset("ETH"), D(10), Role.IN, D(100)))
    sold = (ValuedLeg(Asset("ETH"), D(-10), Role.OUT, D(150)), ValuedLeg(Asset("GBP"), D(150), Role.IN, D(150)))
    moved = (ValuedLeg(Asset("ETH"), D(10), Role.IN, None),)
    events = [Event("buy", "exchange", at("2024-05-01", zone=zone), EventKind.TRADE, bought),
              Event("move", "exchange", at("2024-05-02", zone=zone), EventKind.TRANSFER, moved, to_account="wallet"),
              Event("sell", "wallet", at("2024-05-09", zone=zone), EventKind.TRADE, sold)]
    result = compute(events, rules)
    assert [(d.rule, d.cost, d.gain) for d in result.disposals] == [("section-104", D(100), D(50))]
    assert result.problems == ()


def test_an_average_pool_reports_its_unknown_cost_units_once() -> None:
    """0.5 BTC of unknown cost join 0.5 bought for 20,000 (ACB 1 BTC / 20,000); three sales of 0.2 each carry a
    share of the zero-cost units. One problem says so, not one per sale; each match still shows its share."""
    events = [buy("2024-01-01", "0.5", "20000"), deposit(None), sell("2024-02-01", "0.2", "9000"),
              sell("2024-03-01", "0.2", "9000"), sell("2024-04-01", "0.2", "9000")]
    result = compute(events, canada())
    assert [m.unknown for d in result.disposals for m in d.matches] == [D("0.1"), D("0.1"), D("0.1")]
    assert [p.kind for p in result.problems] == [ProblemKind.UNMATCHED_DEPOSIT, ProblemKind.MISSING_COST_BASIS]
    assert "every later sale is understated" in result.problems[1].message


def test_opening_holdings_carry_a_loss_denied_by_a_buy_back_after_the_year_began() -> None:
    """Hold 20 BTC bought for $20,000; sell 10 for $5,000 on 20 Dec 2023 (loss $5,000) and buy 10 back for $6,000
    on 5 Jan 2024, held past 19 Jan: the loss is denied. The year 2024 opens with 10 BTC whose ACB already carries
    the denied $5,000 in the one run (what the 2024 sales will use); booking 2023 on its own could not know it."""
    events = [buy("2023-06-01", "20", "20000"), sell("2023-12-20", "10", "5000"), buy("2024-01-05", "10", "6000")]
    start = at("2024-01-01", 0)
    result = compute(events, canada(), opening_at=start)
    assert [(h.amount, h.cost) for h in result.opening] == [(D(10), D(15000))]
    assert held([e for e in events if e.timestamp < start]) == [(D(10), D(10000))]
    assert [(h.amount, h.cost) for h in result.holdings] == [(D(20), D(21000))]
