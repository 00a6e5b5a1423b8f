"""Helpers for tax-engine tests that read like a ledger: events written as an accountant would say them
("buy 10 XYZ for $100 on 1 Jan"), the rules of a real jurisdiction, and views of what the engine returned.

``lots_held`` shows the lots left after a history. The engine only reports holdings as totals, so it asks the
engine itself: it appends one sale of everything held (a "probe", a millisecond after the last event) and
reads the probe's matched lots. Under FIFO, LIFO and HIFO every lot is consumed whole, so each match is one
lot: its acquisition date, its units and its remaining cost. Pooled methods (UK Section 104, Canada's ACB)
hold one pool per asset, read straight from the holdings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as D
from typing import NamedTuple
from zoneinfo import ZoneInfo

from taxsync.app.pipeline import rules_for
from taxsync.app.workspace import Settings
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Disposal, Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs, from_datetime

POOLED = ("acb", "uk-pooling")


def at(when: str, zone: str = "UTC") -> TimestampMs:
    """``2024-01-31`` (noon) or ``2024-01-31 23:30[:15]`` on the wall clock of ``zone``."""
    moment = datetime.fromisoformat(when if " " in when else f"{when} 12:00")
    return from_datetime(moment.replace(tzinfo=ZoneInfo(zone)))


def rules(jurisdiction: str = "generic", method: str | None = None, tracking: str | None = None,
          switch: bool = True) -> Rules:
    """The rules a workspace of ``jurisdiction`` gets (taxsync.app.pipeline.rules_for), with ``method`` and
    ``tracking`` overridden if given; ``switch=False`` drops a per-wallet switch date (the US one)."""
    j = JURISDICTIONS[jurisdiction]
    settings = Settings(name="test", jurisdiction=jurisdiction, currency=j.currency, method=method or j.method,
                        tracking=tracking or j.tracking, timezone=j.timezone)
    made = rules_for(settings, j)
    return made if switch else replace(made, per_wallet_from=None)


def leg(asset: str, amount: str | D, role: Role, value: str | D | None) -> ValuedLeg:
    return ValuedLeg(Asset(asset), D(amount), role, None if value is None else D(value))


Fee = tuple[str, str, str]  # (units, asset, value in the tax currency)


def _fee(fee: Fee | None) -> tuple[ValuedLeg, ...]:
    return (leg(fee[1], -D(fee[0]), Role.FEE, fee[2]),) if fee else ()


def trade(when: TimestampMs | str, out: tuple[str, str], into: tuple[str, str], value: str, *,
          fee: Fee | None = None, account: str = "a", ref: str = "") -> Event:
    """Give ``out`` = (units, asset) for ``into`` = (units, asset), both worth ``value``."""
    ts = at(when) if isinstance(when, str) else when
    legs = (leg(out[1], -D(out[0]), Role.OUT, value), leg(into[1], into[0], Role.IN, value), *_fee(fee))
    return Event(ref or f"{out[0]} {out[1]} -> {into[0]} {into[1]} @{ts}", account, ts, EventKind.TRADE, legs)


def buy(when: TimestampMs | str, units: str, asset: str, cost: str, *, cash: str = "USD", fee: Fee | None = None,
        account: str = "a", ref: str = "") -> Event:
    return trade(when, (cost, cash), (units, asset), cost, fee=fee, account=account, ref=ref)


def sell(when: TimestampMs | str, units: str, asset: str, proceeds: str, *, cash: str = "USD",
         fee: Fee | None = None, account: str = "a", ref: str = "") -> Event:
    return trade(when, (units, asset), (proceeds, cash), proceeds, fee=fee, account=account, ref=ref)


def income(when: TimestampMs | str, units: str, asset: str, value: str | None, *, account: str = "a",
           kind: str = "staking", ref: str = "") -> Event:
    ts = at(when) if isinstance(when, str) else when
    return Event(ref or f"{kind} {units} {asset} @{ts}", account, ts, EventKind.INCOME,
                 (leg(asset, units, Role.IN, value),), subkind=kind)


def movement(kind: EventKind, when: TimestampMs | str, units: str, asset: str, *, account: str = "a",
             fee: Fee | None = None, ref: str = "") -> Event:
    """A deposit, withdrawal, gift or loss of ``units`` (positive): in or out by the kind."""
    ts = at(when) if isinstance(when, str) else when
    incoming = kind in (EventKind.DEPOSIT, EventKind.GIFT_IN)
    amount = D(units) if incoming else -D(units)
    return Event(ref or f"{kind} {units} {asset} @{ts}", account, ts, kind,
                 (leg(asset, amount, Role.IN if incoming else Role.OUT, None), *_fee(fee)))


def transfer(when: TimestampMs | str, units: str, asset: str, source: str, target: str, *,
             fee: Fee | None = None, ref: str = "") -> Event:
    """``units`` leave ``source`` and arrive in ``target``; a fee is paid on top by the sender."""
    ts = at(when) if isinstance(when, str) else when
    return Event(ref or f"move {units} {asset} {source}->{target} @{ts}", source, ts, EventKind.TRANSFER,
                 (leg(asset, -D(units), Role.OUT, None), leg(asset, units, Role.IN, None), *_fee(fee)),
                 to_account=target)


class Match(NamedTuple):
    """One matched piece of a disposal, as a ledger line: which rule, acquired when, units, cost."""

    rule: str
    acquired: date | None
    units: D
    cost: D


class LotView(NamedTuple):
    """A lot (or a pool, with ``acquired`` None) still held: asset, acquired when, units, remaining cost, account."""

    asset: str
    acquired: date | None
    units: D
    cost: D
    account: str = "all"


def matches(disposals: Iterable[Disposal]) -> list[Match]:
    return [Match(d.rule, m.acquired_date, m.amount, m.cost) for d in disposals for m in d.matches]


PROBE = "probe: sell everything held"


def lots_held(events: Sequence[Event], rules: Rules) -> list[LotView]:
    """The lots (or pools) left after ``events``, sorted by account, acquisition date and units."""
    result = compute(events, rules)
    if rules.method in POOLED:
        return [LotView(h.asset, None, h.amount, h.cost, h.account) for h in result.holdings]
    last = max(e.timestamp for e in events)
    probes = [sell(TimestampMs(last + 1 + i), str(h.amount), h.asset, "0", cash=str(rules.currency),
                   account=h.account if h.account != "all" else "a", ref=f"{PROBE} {i}")
              for i, h in enumerate(result.holdings)]
    probed = compute([*events, *probes], rules)
    rows = [d for d in probed.disposals if d.ref.startswith(PROBE)]
    lots = [LotView(h.asset, m.acquired_date, m.amount, m.cost, h.account)
            for d in rows for h in (result.holdings[int(d.ref.rsplit(" ", 1)[1])],) for m in d.matches]
    assert all(m.lot_ref for d in rows for m in d.matches), "the probe found units without a lot"
    assert sum((lot.units for lot in lots), D(0)) == sum((h.amount for h in result.holdings), D(0))
    assert sum((lot.cost for lot in lots), D(0)) == sum((h.cost for h in result.holdings), D(0))
    return sorted(lots, key=lambda lot: (lot.account, lot.asset, lot.acquired or date.min, lot.units))


class Totals(NamedTuple):
    units: D
    proceeds: D
    cost: D
    gain: D


def totals(disposals: Iterable[Disposal]) -> Totals:
    rows = list(disposals)
    zero = D(0)
    return Totals(sum((d.amount for d in rows), zero), sum((d.proceeds for d in rows), zero),
                  sum((d.cost for d in rows), zero), sum((d.gain for d in rows), zero))
