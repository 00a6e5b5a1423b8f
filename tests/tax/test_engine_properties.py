"""Properties every method must keep, checked on generated histories (hypothesis)."""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from taxsync.assets import FIAT
from taxsync.tax.engine import METHODS, Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs

USD = Asset("USD")
DAY = 86_400_000


@st.composite
def fully_sold_histories(draw: st.DrawFn) -> list[Event]:
    """Buys and partial sells of one asset over a few months, ending with everything sold."""
    events: list[Event] = []
    held = D(0)
    moment = 1_700_000_000_000
    for i in range(draw(st.integers(1, 25))):
        moment += draw(st.integers(0, 20)) * DAY // 4 + draw(st.integers(0, 999))
        units = D(draw(st.integers(1, 10**6))) / 1000
        value = D(draw(st.integers(1, 10**8))) / 100
        selling = held > 0 and draw(st.booleans())
        units = min(units, held) if selling else units
        held += -units if selling else units
        legs = ((ValuedLeg(Asset("TOK"), -units, Role.OUT, value), ValuedLeg(USD, value, Role.IN, value)) if selling
                else (ValuedLeg(USD, -value, Role.OUT, value), ValuedLeg(Asset("TOK"), units, Role.IN, value)))
        events.append(Event(f"e{i}", "a", TimestampMs(moment), EventKind.TRADE, legs))
    if held:
        events.append(Event("last", "a", TimestampMs(moment + DAY * 40), EventKind.TRADE, (
            ValuedLeg(Asset("TOK"), -held, Role.OUT, D("12.34")), ValuedLeg(USD, D("12.34"), Role.IN, D("12.34")))))
    return events


def run(events: list[Event], method: str):
    return compute(events, Rules(USD, method, ZoneInfo("UTC"), JURISDICTIONS["generic"].term, FIAT))


@settings(max_examples=60, deadline=None)
@given(fully_sold_histories())
def test_fully_sold_history_has_one_total_gain_whatever_the_method(events: list[Event]) -> None:
    """Shares are rounded to 18 places but remainders keep every sum exact, so totals match to the digit."""
    bought = sum((leg.value or D(0) for e in events for leg in e.legs if leg.role is Role.IN and leg.asset != USD),
                 D(0))
    sold = sum((leg.value or D(0) for e in events for leg in e.legs if leg.role is Role.OUT and leg.asset != USD),
               D(0))
    for method in METHODS:
        result = run(events, method)
        assert result.holdings == ()
        assert sum((d.cost for d in result.disposals), D(0)) == bought, method
        assert sum((d.proceeds for d in result.disposals), D(0)) == sold, method
        units_in = sum((leg.amount for e in events for leg in e.legs if leg.asset == "TOK" and leg.amount > 0), D(0))
        assert sum((d.amount for d in result.disposals), D(0)) == units_in, method
        assert all(d.gain == d.proceeds - d.cost for d in result.disposals)
        assert result.problems == ()
