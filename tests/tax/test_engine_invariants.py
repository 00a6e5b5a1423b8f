"""Invariants every method must keep, on generated histories (hypothesis).

Histories have two accounts (a, b), two tokens (TOK, ETH) and USD cash: buys, sales that may exceed what is
held, crypto-to-crypto swaps, fees in cash or in either token, staking income, deposits from outside, transfers
between the accounts, and withdrawals, gifts and losses. They run under three sets of rules: one pool for all
accounts, one per account, and the US rules (universal until 1 January 2025 in New York, per wallet after).

While drawing, the generator keeps what the pools hold under both trackings, so units that leave without a sale
(withdrawals, gifts, losses, transfers) never exceed them; sales and fees may. Timestamps are distinct.

test_engine_properties.py checks one account, buys and sales; here the histories are richer and the checks go
row by row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import ROUND_DOWN
from decimal import Decimal as D

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from taxsync.assets import FIAT
from taxsync.problems import ProblemKind
from taxsync.tax.engine import METHODS, Rules, compute, look_ahead_days
from taxsync.tax.records import Disposal, Event, EventKind, TaxResult, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs, day_start, local_date
from tests.tax.conftest import rules

TOKENS = ("TOK", "ETH")
ACCOUNTS = ("a", "b")
DAY = 86_400_000
START = 1_727_740_800_000  # 1 Oct 2024 00:00 UTC: histories often cross the US switch of 1 Jan 2025
STEPS = (1, 60_000, 3_600_000, DAY, 7 * DAY, 45 * DAY, 200 * DAY)
TINY = D("1e-18")
ZERO = D(0)
LOT_METHODS = tuple(m for m in METHODS if m != "uk-pooling")
TRACKINGS = {
    "universal": rules("generic", tracking="universal"),
    "per-wallet": rules("generic", tracking="per-wallet"),
    "us-switch": rules("us"),
}
EXAMPLES = settings(max_examples=40, deadline=None)
ACQUIRING = (EventKind.TRADE, EventKind.INCOME, EventKind.DEPOSIT, EventKind.GIFT_IN)
REMOVING = (EventKind.WITHDRAWAL, EventKind.GIFT_OUT, EventKind.LOSS)


def usd(amount: D, role: Role) -> ValuedLeg:
    return ValuedLeg(Asset("USD"), amount, role, abs(amount))


@dataclass
class _Holdings:
    """What the pools hold while drawing: per account (per-wallet pools) and over all accounts (universal)."""

    wallet: dict[tuple[str, str], D] = field(default_factory=lambda: defaultdict(D))
    pooled: dict[str, D] = field(default_factory=lambda: defaultdict(D))

    def covered(self, account: str, asset: str) -> D:
        return min(self.wallet[(account, asset)], self.pooled[asset])

    def acquire(self, account: str, asset: str, units: D) -> None:
        self.wallet[(account, asset)] += units
        self.pooled[asset] += units

    def dispose(self, account: str, asset: str, units: D) -> None:  # a sale may exceed: pools just empty
        self.wallet[(account, asset)] -= min(units, self.wallet[(account, asset)])
        self.pooled[asset] -= min(units, self.pooled[asset])


def _units(draw: st.DrawFn) -> D:
    scale = draw(st.sampled_from((0, 2, 8, 18)))
    return D(draw(st.integers(1, 10**6))).scaleb(-scale)


def _part(draw: st.DrawFn, held: D) -> D:
    """Some of ``held``: all of it, a percentage (to 18 places), or nothing when nothing is held."""
    if held <= 0:
        return ZERO
    if draw(st.booleans()):
        return held
    return (held * draw(st.integers(1, 99)) / 100).quantize(TINY, rounding=ROUND_DOWN)


@st.composite
def histories(draw: st.DrawFn, fully_sold: bool = False) -> list[Event]:
    """A random history; with ``fully_sold`` nothing is ever oversold, nothing leaves without a sale and
    everything still held is sold at the end."""
    events: list[Event] = []
    held = _Holdings()
    moment = START
    kinds = ["buy", "sell", "swap", "income", "transfer"]
    if not fully_sold:
        kinds += ["deposit", "withdrawal", "gift", "loss"]
    for i in range(draw(st.integers(1, 20))):
        moment += draw(st.sampled_from(STEPS)) + draw(st.integers(0, 999))
        ts, ref = TimestampMs(moment), f"e{i}"
        account = draw(st.sampled_from(ACCOUNTS))
        asset, other = draw(st.permutations(TOKENS))
        value = D(draw(st.integers(0, 10**8))).scaleb(-2)
        kind = draw(st.sampled_from(kinds))
        if kind in ("sell", "swap"):
            units = _part(draw, held.wallet[(account, asset)]) if fully_sold else (
                draw(st.one_of(st.just(held.wallet[(account, asset)] + _units(draw)), st.just(_units(draw)))))
            if units <= 0:
                kind, units = "buy", _units(draw)
        else:
            units = _units(draw)
        legs: list[ValuedLeg] = []
        if kind == "buy":
            legs = [usd(-value, Role.OUT), ValuedLeg(Asset(asset), units, Role.IN, value)]
            held.acquire(account, asset, units)
        elif kind == "sell":
            legs = [ValuedLeg(Asset(asset), -units, Role.OUT, value), usd(value, Role.IN)]
            held.dispose(account, asset, units)
        elif kind == "swap":
            received = _units(draw)
            legs = [ValuedLeg(Asset(asset), -units, Role.OUT, value), ValuedLeg(Asset(other), received, Role.IN, value)]
            held.dispose(account, asset, units)
            held.acquire(account, other, received)
        if kind in ("buy", "sell", "swap"):
            legs += _fee(draw, held, account, value, fully_sold)
            events.append(Event(ref, account, ts, EventKind.TRADE, tuple(legs)))
        elif kind in ("income", "deposit"):
            event_kind = EventKind.INCOME if kind == "income" else EventKind.DEPOSIT
            events.append(Event(ref, account, ts, event_kind, (
                ValuedLeg(Asset(asset), units, Role.IN, value if kind == "income" else None),), subkind="staking"))
            held.acquire(account, asset, units)
        elif kind == "transfer":
            target = "b" if account == "a" else "a"
            moved = _part(draw, held.covered(account, asset))
            if moved > 0:
                held.wallet[(account, asset)] -= moved
                held.wallet[(target, asset)] += moved
                fee = ()
                left = held.wallet[(account, asset)]
                paid = (_part(draw, left) if fully_sold else _units(draw)) if draw(st.booleans()) else ZERO
                if paid > 0:
                    fee = (ValuedLeg(Asset(asset), -paid, Role.FEE, D(draw(st.integers(0, 10**4))).scaleb(-2)),)
                    held.dispose(account, asset, paid)
                events.append(Event(ref, account, ts, EventKind.TRANSFER, (
                    ValuedLeg(Asset(asset), -moved, Role.OUT, None), ValuedLeg(Asset(asset), moved, Role.IN, None),
                    *fee), to_account=target))
        else:  # units leave without a sale, never more than the pools hold
            gone = _part(draw, held.covered(account, asset))
            if gone > 0:
                event_kind = {"withdrawal": EventKind.WITHDRAWAL, "gift": EventKind.GIFT_OUT}.get(kind, EventKind.LOSS)
                events.append(Event(ref, account, ts, event_kind, (ValuedLeg(Asset(asset), -gone, Role.OUT, None),)))
                held.wallet[(account, asset)] -= gone
                held.pooled[asset] -= gone
    if fully_sold:
        for (account, asset), units in sorted(held.wallet.items()):
            if units > 0:
                moment += DAY
                price = D(draw(st.integers(0, 10**8))).scaleb(-2)
                events.append(Event(f"last {account} {asset}", account, TimestampMs(moment), EventKind.TRADE,
                                    (ValuedLeg(Asset(asset), -units, Role.OUT, price), usd(price, Role.IN))))
    return events


def _fee(draw: st.DrawFn, held: _Holdings, account: str, value: D, fully_sold: bool) -> list[ValuedLeg]:
    """No fee, a cash fee, or a fee in a token (itself a disposal), worth up to 1% of the trade."""
    choice = draw(st.sampled_from(("none", "cash", *TOKENS)))
    worth = (value * draw(st.integers(0, 10)) / 1000).quantize(D("0.01"), rounding=ROUND_DOWN)
    if choice == "none" or (choice == "cash" and not worth):
        return []
    if choice == "cash":
        return [ValuedLeg(Asset("USD"), -worth, Role.FEE, worth)]
    units = _part(draw, held.wallet[(account, choice)]) if fully_sold else _units(draw)
    if units <= 0:
        return []
    held.dispose(account, choice, units)
    return [ValuedLeg(Asset(choice), -units, Role.FEE, worth)]


# --- What the events say, independently of the engine ----------------------------------------------------------


def units_by_asset(events: list[Event], kinds: tuple[EventKind, ...], role: Role) -> dict[str, D]:
    """Token units moved by legs of ``role`` in events of ``kinds``."""
    found: dict[str, D] = defaultdict(D)
    for event in events:
        if event.kind in kinds:
            for leg in event.legs:
                if leg.asset not in FIAT and leg.role is role:
                    found[leg.asset] += abs(leg.amount)
    return found


def realized(event: Event) -> dict[str, D]:
    """Amount realized per asset disposed of by ``event``: a trade's first token given up brings its value less
    all fees (Reg. 1.1001-7(b)(2)); each token paid as a fee is disposed of at its own value."""
    found: dict[str, D] = defaultdict(D)
    if event.kind is EventKind.TRADE:
        fees = sum((leg.value or ZERO for leg in event.legs if leg.role is Role.FEE), ZERO)
        outs = [leg for leg in event.legs if leg.role is Role.OUT and leg.asset not in FIAT]
        for index, leg in enumerate(outs):
            found[leg.asset] += (leg.value or ZERO) - (fees if index == 0 else ZERO)
    for leg in event.legs:
        if leg.role is Role.FEE and leg.asset not in FIAT:
            found[leg.asset] += leg.value or ZERO
    return found


def basis_added(event: Event) -> D:
    """Cost given to what ``event`` acquires: a purchase's value plus its fees; income at its value."""
    ins = [leg for leg in event.legs if leg.role is Role.IN and leg.asset not in FIAT]
    if event.kind is EventKind.INCOME:
        return sum((leg.value or ZERO for leg in ins), ZERO)
    if event.kind is not EventKind.TRADE or not ins:
        return ZERO
    bought = not any(leg.role is Role.OUT and leg.asset not in FIAT for leg in event.legs)
    fees = sum((leg.value or ZERO for leg in event.legs if leg.role is Role.FEE), ZERO) if bought else ZERO
    return sum((leg.value or ZERO for leg in ins), ZERO) + fees


def shortfall(row: Disposal) -> D:
    """Units of ``row`` that no lot covered: its matches without a lot, and any part no match accounts for."""
    matched = sum((m.amount for m in row.matches), ZERO)
    return row.amount - matched + sum((m.amount for m in row.matches if not m.lot_ref), ZERO)


def summed(pairs) -> dict:
    total: dict = defaultdict(D)
    for key, value in pairs:
        total[key] += value
    return dict(total)


def all_rules(method: str) -> list[tuple[str, Rules]]:
    """The three sets of rules with ``method`` (uk-pooling keeps one pool per token whatever the tracking)."""
    return [(name, replace(r, method=method)) for name, r in TRACKINGS.items()]


# --- The properties --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@EXAMPLES
@given(histories())
def test_units_are_conserved(method: str, events: list[Event]) -> None:
    """Per asset: acquired + units sold that no lot covered = disposed + removed + held, exactly, unless a
    NEGATIVE_BALANCE problem says why not (units that left were never there, or lots no wallet held at the US
    switch). Nothing is ever created: at most the removed units go uncovered."""
    acquired, removed = units_by_asset(events, ACQUIRING, Role.IN), units_by_asset(events, REMOVING, Role.OUT)
    for name, r in all_rules(method):
        result = compute(events, r)
        disposed = summed((d.asset, d.amount) for d in result.disposals)
        uncovered = summed((d.asset, shortfall(d)) for d in result.disposals)
        held = summed((h.asset, h.amount) for h in result.holdings)
        negative = {p.kind for p in result.problems} & {ProblemKind.NEGATIVE_BALANCE}
        for asset in TOKENS:
            slack = (acquired.get(asset, ZERO) + uncovered.get(asset, ZERO) - disposed.get(asset, ZERO)
                     - removed.get(asset, ZERO) - held.get(asset, ZERO))
            if not negative:
                assert slack == 0, (name, asset)
            else:
                assert -removed.get(asset, ZERO) <= slack, (name, asset)
        assert all(h.amount > 0 and h.cost >= 0 for h in result.holdings), name


@pytest.mark.parametrize("method", METHODS)
@EXAMPLES
@given(histories())
def test_each_row_is_its_proceeds_less_the_cost_of_its_matches(method: str, events: list[Event]) -> None:
    """Every disposal row: gain = proceeds - cost; its matches' costs add up to its cost exactly; its acquisition
    date is the matches' single date (or None for several); its term is the term of every match."""
    for name, r in all_rules(method):
        for row in compute(events, r).disposals:
            assert row.amount > 0 and row.cost >= 0, name
            assert row.gain == row.proceeds - row.cost, name
            assert sum((m.cost for m in row.matches), ZERO) == row.cost, (name, row)
            dates = {m.acquired_date for m in row.matches}
            assert row.acquired == (next(iter(dates)) if len(dates) == 1 else None), (name, row)
            assert row.disposed == local_date(row.disposed_at, r.zone), name
            if method != "uk-pooling":  # UK gains have no holding term: every row is "short"
                assert {r.term(m.acquired_date, row.disposed) if m.acquired_date else "short"
                        for m in row.matches} == {row.term}, (name, row)


@pytest.mark.parametrize("method", METHODS)
@EXAMPLES
@example([Event("buy", "a", TimestampMs(START), EventKind.TRADE,
                (usd(D(-10), Role.OUT), ValuedLeg(Asset("TOK"), D(1), Role.IN, D(10)))),
          Event("sell", "a", TimestampMs(START + DAY), EventKind.TRADE,
                (ValuedLeg(Asset("TOK"), D(-3), Role.OUT, D(90)), usd(D(90), Role.IN)))])
@given(histories())
def test_matches_add_up_to_the_units_of_their_row(method: str, events: list[Event]) -> None:
    """Every row's matched units add up to its units, and its units without basis include at least the matches
    that have no lot. (The explicit example, hold 1 TOK and sell 3, makes the uk-pooling failure certain.)"""
    for name, r in all_rules(method):
        for row in compute(events, r).disposals:
            assert sum((m.amount for m in row.matches), ZERO) == row.amount, (name, row)
            assert sum((m.amount for m in row.matches if not m.lot_ref), ZERO) <= row.no_basis <= row.amount, (
                name, row)
            assert all(m.amount > 0 for m in row.matches), (name, row)


@pytest.mark.parametrize("method", METHODS)
@EXAMPLES
@given(histories())
def test_proceeds_of_each_disposal_add_up_over_its_rows(method: str, events: list[Event]) -> None:
    """However a disposal is split (by lot, by holding term, by HMRC rule), its rows' proceeds add up to what
    the event realized, exactly. UK rows are per token and London day (all of a day's disposals are one)."""
    for name, r in all_rules(method):
        rows = compute(events, r).disposals
        if method == "uk-pooling":
            got = summed(((d.asset, d.disposed), d.proceeds) for d in rows)
            want = summed(((asset, local_date(e.timestamp, r.zone)), value)
                          for e in events for asset, value in realized(e).items())
        else:
            got = summed(((d.ref, d.asset), d.proceeds) for d in rows)
            want = summed(((e.ref, asset), value) for e in events for asset, value in realized(e).items())
        assert got == want, name


@EXAMPLES
@given(histories(fully_sold=True))
def test_a_fully_sold_history_has_one_total_whatever_the_method_or_tracking(events: list[Event]) -> None:
    """When everything bought is sold in the end (across accounts, swaps, crypto fees, income and transfers),
    every unit's cost leaves exactly once: total cost = all basis acquired, total proceeds = all amounts
    realized, so the total gain is the same under every method and tracking."""
    cost = sum((basis_added(e) for e in events), ZERO)
    proceeds = sum((v for e in events for v in realized(e).values()), ZERO)
    for method in METHODS:
        for name, r in all_rules(method):
            result = compute(events, r)
            assert (result.holdings, result.problems) == ((), ()), (method, name)
            assert sum((d.cost for d in result.disposals), ZERO) == cost, (method, name)
            assert sum((d.proceeds for d in result.disposals), ZERO) == proceeds, (method, name)
            assert sum((d.gain for d in result.disposals), ZERO) == proceeds - cost, (method, name)


@pytest.mark.parametrize("method", METHODS)
@EXAMPLES
@given(st.data())
def test_results_do_not_depend_on_the_order_events_are_passed_in(method: str, data: st.DataObject) -> None:
    """With distinct timestamps the engine books events in time order, so any shuffle gives the same result:
    the same rows in the same order, the same income, holdings and problems."""
    events = data.draw(histories())
    shuffled = data.draw(st.permutations(events))
    for name, r in all_rules(method):
        expected: TaxResult = compute(events, r)
        assert compute(shuffled, r) == expected, name


@EXAMPLES
@pytest.mark.parametrize("tracking", list(TRACKINGS))
@pytest.mark.parametrize("method", METHODS)
@given(histories(), st.integers(min_value=0, max_value=40))
def test_opening_holdings_of_one_run_are_those_of_the_history_before(
        method: str, tracking: str, events: list[Event], cut: int) -> None:
    """The holdings ``compute`` keeps at a moment (a report's opening holdings) are the closing holdings of the
    history up to that moment, under every method and tracking: what booking the events before it leaves, and
    where matching looks ahead (UK pooling's 30 days, CRYPTO22256) those of the next 30 days too, which decide
    what a sale before the moment took from the pool."""
    ordered = sorted(events, key=lambda e: e.timestamp)
    moment = TimestampMs(ordered[min(cut, len(ordered) - 1)].timestamp if ordered else START)
    rules_ = replace(TRACKINGS[tracking], method=method)
    ahead = look_ahead_days(rules_)
    if ahead:
        horizon = day_start(local_date(moment, rules_.zone) + timedelta(days=ahead), rules_.zone)
        before = compute([e for e in events if e.timestamp < horizon], rules_, closing_at=moment).holdings
    else:
        before = compute([e for e in events if e.timestamp < moment], rules_).holdings
    assert compute(events, rules_, opening_at=moment).opening == before
