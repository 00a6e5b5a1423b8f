"""UK share matching against HMRC's worked examples, and Canada's average cost (ACB) against the CRA-style
example in reference/tax-rules.md. Amounts in the tax currency; each case reads like the manual's text."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from taxsync.assets import FIAT
from taxsync.problems import ProblemKind
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, from_datetime

GBP = Asset("GBP")


def at(day: str, hour: int = 12, minute: int = 0) -> int:
    return from_datetime(datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC))


def trade(when: int, out: tuple[str, str], into: tuple[str, str], ref: str) -> Event:
    (out_amount, out_asset), (in_amount, in_asset) = out, into
    value = out_amount if out_asset in FIAT else in_amount
    return Event(ref, "a", when, EventKind.TRADE, (
        ValuedLeg(Asset(out_asset), -D(out_amount), Role.OUT, D(value)),
        ValuedLeg(Asset(in_asset), D(in_amount), Role.IN, D(value))))


def buy(when: int, units: str, pounds: str, ref: str = "") -> Event:
    return trade(when, (pounds, "GBP"), (units, "TOK"), ref or f"buy {units}")


def sell(when: int, units: str, pounds: str, ref: str = "") -> Event:
    return trade(when, (units, "TOK"), (pounds, "GBP"), ref or f"sell {units}")


def uk(events: list[Event]):
    j = JURISDICTIONS["uk"]
    return compute(events, Rules(GBP, "uk-pooling", ZoneInfo("Europe/London"), j.term, FIAT))


def test_crypto22251_pool_then_disposal() -> None:
    """Pool 100 tokens costing £1,000; buy 50 for £125,000; sell 50 for £300,000: cost £42,000."""
    result = uk([buy(at("2023-01-10"), "100", "1000"), buy(at("2023-06-01"), "50", "125000"),
                 sell(at("2023-09-01"), "50", "300000")])
    (d,) = result.disposals
    assert (d.rule, d.cost, d.gain) == ("section-104", D("42000"), D("258000"))
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("100"), D("84000"))]


def test_crypto22252_same_day() -> None:
    """Pool 5,000 costing £500; one day: sell 1,000 for £800, buy 1,600 for £1,000, sell 500 for £600."""
    day = "2023-05-02"
    result = uk([buy(at("2022-01-01"), "5000", "500"), sell(at(day, 9), "1000", "800"),
                 buy(at(day, 10), "1600", "1000"), sell(at(day, 11), "500", "600")])
    (d,) = result.disposals
    assert (d.rule, d.amount, d.proceeds, d.cost, d.gain) == ("same-day", D("1500"), D("1400"), D("937.5"),
                                                              D("462.5"))
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("5100"), D("562.5"))]


def test_crypto22253_bed_and_breakfast() -> None:
    """Pool 2,000 costing £1,000; 31 Mar sell 1,000 for £400; 20 Apr sell 500 for £150; buys on 21 Apr
    (700, £175), 28 Apr (500, £100), 1 May (500, £150): gains £165 and £20; 1 May is outside 31 Mar's window."""
    result = uk([buy(at("2022-06-01"), "2000", "1000"), sell(at("2023-03-31"), "1000", "400"),
                 sell(at("2023-04-20"), "500", "150"), buy(at("2023-04-21"), "700", "175"),
                 buy(at("2023-04-28"), "500", "100"), buy(at("2023-05-01"), "500", "150")])
    by_day: dict[str, D] = {}
    for d in result.disposals:
        assert d.rule == "bed-and-breakfast"
        by_day[d.disposed.isoformat()] = by_day.get(d.disposed.isoformat(), D(0)) + d.gain
    assert by_day == {"2023-03-31": D("165"), "2023-04-20": D("20")}
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("2200"), D("1060"))]


def test_crypto22254_same_day_then_pool() -> None:
    """Pool 8,000 costing £1,000; 31 Jan: sell 5,000 for £500, buy 4,000 for £320, buy 1,000 for £75, buy 1,000
    for £70, sell 2,000 for £142, buy 500 for £35: 6,500 same day (£500) and 500 from the pool (£62.50)."""
    day = "2024-01-31"
    result = uk([buy(at("2023-01-01"), "8000", "1000"), sell(at(day, 9), "5000", "500"),
                 buy(at(day, 10), "4000", "320"), buy(at(day, 10, 30), "1000", "75"),
                 buy(at(day, 11), "1000", "70"), sell(at(day, 12), "2000", "142"), buy(at(day, 13), "500", "35")])
    assert sum((d.gain for d in result.disposals), D(0)) == D("79.5")
    assert sorted((d.rule, d.cost) for d in result.disposals) == [("same-day", D("500")),
                                                                  ("section-104", D("62.5"))]


def test_uk_days_are_london_days_across_bst() -> None:
    """23:30 UTC on 30 June is 00:30 on 1 July in London (BST): same day as a buy at 08:00 on 1 July."""
    result = uk([buy(at("2023-01-01"), "10", "100"), sell(at("2023-06-30", 23, 30), "5", "200"),
                 buy(at("2023-07-01", 8), "5", "150")])
    (d,) = result.disposals
    assert (d.rule, d.cost) == ("same-day", D("150"))


def test_uk_selling_more_than_held_is_flagged() -> None:
    result = uk([buy(at("2023-01-01"), "1", "10"), sell(at("2023-02-01"), "3", "90")])
    (d,) = result.disposals
    assert (d.cost, d.no_basis, d.gain) == (D("10"), D("2"), D("80"))
    assert [p.kind for p in result.problems] == [ProblemKind.MISSING_COST_BASIS]


def test_canada_average_cost_with_fees() -> None:
    """tax-rules.md, Canada: buy 100 at $50 + $10 fee (ACB 5,010); sell 50 at $120 - $10 fee: gain 3,485;
    buy 50 at $130 + $10 fee (ACB 9,015 for 100); sell 40 at $90 - $10 fee: loss 16."""
    cad = Asset("CAD")

    def deal(when: int, out: tuple[str, str], into: tuple[str, str], fee: str) -> Event:
        event = trade(when, out, into, f"{when}")
        return Event(event.ref, "a", when, EventKind.TRADE, (*event.legs, ValuedLeg(cad, -D(fee), Role.FEE, D(fee))))

    events = [deal(at("2024-01-01"), ("5000", "CAD"), ("100", "TOK"), "10"),
              deal(at("2024-02-01"), ("50", "TOK"), ("6000", "CAD"), "10"),
              deal(at("2024-03-01"), ("6500", "CAD"), ("50", "TOK"), "10"),
              deal(at("2024-04-01"), ("40", "TOK"), ("3600", "CAD"), "10")]
    j = JURISDICTIONS["ca"]
    result = compute(events, Rules(cad, "acb", ZoneInfo("America/Toronto"), j.term, FIAT))
    assert [d.gain for d in result.disposals] == [D("3485"), D("-16")]
    assert [(h.amount, h.cost) for h in result.holdings] == [(D("60"), D("5409"))]
