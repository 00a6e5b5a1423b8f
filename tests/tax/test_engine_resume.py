"""The engine resumed from a checkpoint finds exactly what booking the whole history finds after it.

Generated histories of buys, sells, income, deposits of unknown cost, withdrawals and moves between two
accounts, across the US switch to per-wallet tracking (1 Jan 2025), under every method that can resume (UK
pooling too: booking only collects its days, matching waits for the end); a
checkpoint at each local day start of the generated cuts; resuming from each with the events from its moment
on gives the same holdings, problems, opening holdings and the disposals and income from that moment on.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxsync.tax.engine import DEFERRED, METHODS, Checkpoint, compute, resumable
from taxsync.tax.records import Event, EventKind
from taxsync.types import TimestampMs, day_start
from tests.tax.conftest import buy, income, movement, rules, sell, transfer

START = date(2024, 10, 1)
ZONE = ZoneInfo("America/New_York")


def _when(day: int, minute: int) -> TimestampMs:
    return TimestampMs(day_start(START + timedelta(days=day), ZONE) + minute * 60_000)


def _event(kind: str, when: TimestampMs, units: str, asset: str, account: str, value: str, ref: str) -> Event:
    other = "b" if account == "a" else "a"
    if kind == "buy":
        return buy(when, units, asset, value, account=account, ref=ref)
    if kind == "sell":
        return sell(when, units, asset, value, account=account, ref=ref)
    if kind == "income":
        return income(when, units, asset, value, account=account, ref=ref)
    if kind == "move":
        return transfer(when, units, asset, account, other, ref=ref, fee=("0.001", asset, "1.00"))
    return movement(EventKind(kind), when, units, asset, account=account, ref=ref)


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    return [_event(draw(st.sampled_from(["buy", "sell", "income", "deposit", "withdrawal", "move"])),
                   _when(draw(st.integers(0, 180)), draw(st.integers(0, 1439))),
                   str(D(draw(st.integers(1, 5000))) / 1000), draw(st.sampled_from(["BTC", "ETH"])),
                   draw(st.sampled_from(["a", "b"])), str(D(draw(st.integers(1, 10**6))) / 100), f"e{i}")
            for i in range(draw(st.integers(1, 40)))]


RESUMABLE = [(j, m) for j, m in [("us", method) for method in METHODS] + [("generic", "acb"), ("de", "fifo"),
                                                                          ("au", "fifo"), ("uk", "uk-pooling")]
             if resumable(rules(j, m))]


@settings(max_examples=80, deadline=None)
@given(events=histories(), days=st.lists(st.integers(1, 180), min_size=1, max_size=4, unique=True),
       which=st.sampled_from(RESUMABLE), opening_day=st.integers(0, 180))
def test_resumed_equals_booked_whole(events: list[Event], days: list[int], which: tuple[str, str],
                                     opening_day: int) -> None:
    ruled = rules(*which)
    cuts = [_when(day, 0) for day in days]
    opening_at = _when(opening_day, 0)
    checkpoints: list[Checkpoint] = []
    whole = compute(events, ruled, opening_at=opening_at, checkpoints=checkpoints, cuts=cuts)
    assert [c.at for c in checkpoints] == sorted(c for c in cuts if any(e.timestamp >= c for e in events))
    for checkpoint in checkpoints:
        later = [e for e in events if e.timestamp >= checkpoint.at]
        resumed = compute(later, ruled, resume=checkpoint,
                          opening_at=opening_at if opening_at >= checkpoint.at else None)
        assert resumed.holdings == whole.holdings
        assert resumed.problems == whole.problems
        if ruled.method in DEFERRED:  # UK pooling matches every disposal at the end
            assert resumed.disposals == whole.disposals
        else:
            assert resumed.disposals == tuple(d for d in whole.disposals if d.disposed_at >= checkpoint.at)
        assert resumed.income == tuple(i for i in whole.income if i.received_at >= checkpoint.at)
        if opening_at >= checkpoint.at:
            assert resumed.opening == whole.opening


@pytest.mark.parametrize("which", [("ca", "acb"), ("ca", "fifo")])
def test_a_loss_rule_that_looks_ahead_is_not_resumed(which: tuple[str, str]) -> None:
    """Canada's superficial loss looks 30 days ahead while booking a sale: a state at one moment does not say
    what the history after it finds."""
    ruled = rules(*which)
    assert not resumable(ruled)
    with pytest.raises(ValueError, match="not resumable"):
        compute([buy("2024-01-02", "1", "BTC", "100")], ruled, checkpoints=[], cuts=[_when(1, 0)])


def test_a_checkpoint_after_the_opening_is_refused() -> None:
    ruled = rules("us", "fifo")
    checkpoints: list[Checkpoint] = []
    events = [buy(_when(0, 5), "1", "BTC", "100"), sell(_when(10, 5), "1", "BTC", "150")]
    compute(events, ruled, checkpoints=checkpoints, cuts=[_when(5, 0)])
    with pytest.raises(ValueError, match="opening"):
        compute(events[1:], ruled, resume=checkpoints[0], opening_at=_when(1, 0))
