"""The US switch to per-wallet basis on 1 January 2025 (Reg. 1.1012-1(j), Rev. Proc. 2024-28).

Ledger:  2024-01-01 buy 1 BTC for 10,000 in wallet A;  2024-02-01 buy 1 BTC for 20,000 in wallet B;
         2024-06-01 sell 0.5 BTC from B for 15,000 (universal FIFO: 0.5 of A's lot, cost 5,000).
End of 2024: A holds 1, B holds 0.5; remaining lots oldest first: 0.5 @ 10,000/BTC (Jan), 1 @ 20,000 (Feb).
Allocation (wallets in name order, oldest lots first): A gets 0.5 Jan (5,000) + 0.5 Feb (10,000); B gets
0.5 Feb (10,000).  2025-03-01 sell 0.5 BTC from B for 20,000: cost 10,000 from B's own lots, gain 10,000.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from taxsync.assets import FIAT
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs, from_datetime

USD = Asset("USD")


def at(day: str) -> TimestampMs:
    return from_datetime(datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC))


def trade(day: str, account: str, btc: str, usd: str, buying: bool) -> Event:
    legs = ((ValuedLeg(USD, -D(usd), Role.OUT, D(usd)), ValuedLeg(Asset("BTC"), D(btc), Role.IN, D(usd))) if buying
            else (ValuedLeg(Asset("BTC"), -D(btc), Role.OUT, D(usd)), ValuedLeg(USD, D(usd), Role.IN, D(usd))))
    return Event(f"{day} {account}", account, at(day), EventKind.TRADE, legs)


def test_lots_are_allocated_to_wallets_at_the_switch() -> None:
    events = [trade("2024-01-01", "A", "1", "10000", True), trade("2024-02-01", "B", "1", "20000", True),
              trade("2024-06-01", "B", "0.5", "15000", False), trade("2025-03-01", "B", "0.5", "20000", False)]
    us = JURISDICTIONS["us"]
    rules = Rules(USD, "fifo", ZoneInfo("America/New_York"), us.term, FIAT,
                  per_wallet_from=from_datetime(datetime(2025, 1, 1, 5, tzinfo=UTC)))
    result = compute(events, rules)
    first, second = result.disposals
    assert (first.account, first.cost) == ("B", D("5000"))  # 2024: universal FIFO took A's older lot
    assert (second.account, second.cost, second.gain) == ("B", D("10000"), D("10000"))
    assert [(h.account, h.amount, h.cost) for h in result.holdings] == [("A", D("1"), D("15000"))]
    assert result.problems == ()


def test_without_the_switch_universal_fifo_continues() -> None:
    events = [trade("2024-01-01", "A", "1", "10000", True), trade("2024-02-01", "B", "1", "20000", True),
              trade("2024-06-01", "B", "0.5", "15000", False), trade("2025-03-01", "B", "0.5", "20000", False)]
    us = JURISDICTIONS["us"]
    result = compute(events, Rules(USD, "fifo", ZoneInfo("America/New_York"), us.term, FIAT))
    assert [d.cost for d in result.disposals] == [D("5000"), D("5000")]
