"""The generated history is deterministic, realistic in shape and consistent: balances never go negative."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest

from importer.simulator.history import SimHistory, generate_activity, generate_history
from importer.simulator.prices import market_rules, pair_price

END = 1_767_225_600_000  # 2026-01-01
AMOUNT = re.compile(r"^[0-9]+(\.[0-9]{1,8})?$")


def test_same_seed_same_history_other_seed_other_history() -> None:
    a = generate_history(seed=3, trades=300, end_ms=END)
    assert a == generate_history(seed=3, trades=300, end_ms=END)
    assert a.trades != generate_history(seed=4, trades=300, end_ms=END).trades


def test_counts_markets_and_delisting(history: SimHistory) -> None:
    assert len(history.trades) == 2500 and len(history.deposits) == 30 and len(history.withdrawals) == 12
    assert len(history.listed_markets()) == 40
    assert len(history.traded_symbols()) == 5
    unlisted = [m for m in history.markets if not m.listed]
    assert len(unlisted) == 1 and unlisted[0].quote == "BUSD" and history.trades_for(unlisted[0].symbol)
    many = generate_history(seed=9, trades=500, markets=60, traded=15, delisted=3, end_ms=END)
    assert len(many.traded_symbols()) == 15 and len(many.listed_markets()) == 60
    assert sum(not m.listed for m in many.markets) == 3


def test_trades_sorted_ids_collide_across_symbols_and_share_milliseconds(history: SimHistory) -> None:
    assert list(history.trades) == sorted(history.trades, key=lambda t: (t.symbol, t.id))
    ids = [{t.id for t in history.trades_for(s)} for s in history.traded_symbols()]
    assert any(a & b for i, a in enumerate(ids) for b in ids[i + 1:])
    same_ms = Counter((t.symbol, t.time) for t in history.trades)
    assert sum(n > 1 for n in same_ms.values()) >= 5
    for symbol in history.traded_symbols():
        trades = history.trades_for(symbol)
        assert len({t.id for t in trades}) == len(trades)
        assert [t.time for t in trades] == sorted(t.time for t in trades)


def test_amounts_are_exact_decimal_strings_on_the_market_grid(history: SimHistory) -> None:
    commission_assets = Counter(t.commission_asset for t in history.trades)
    assert commission_assets["BNB"] > 0 and len(commission_assets) > 2
    for t in history.trades:
        for value in (t.price, t.qty, t.quote_qty, t.commission):
            assert AMOUNT.match(value), value
        market = history.market(t.symbol)
        assert market is not None
        rules = market_rules(market.base, market.quote)
        assert Decimal(t.price) % rules.tick == 0 and Decimal(t.qty) % rules.step == 0
        assert Decimal(t.quote_qty) == Decimal(t.price) * Decimal(t.qty)
        mid = pair_price(market.base, market.quote, t.time, history.seed)
        assert abs(Decimal(t.price) / mid - 1) < Decimal("0.002")
    for r in (*history.deposits, *history.withdrawals):
        assert AMOUNT.match(r.amount) and AMOUNT.match(r.fee) and Decimal(r.amount) > 0


def test_deposits_fund_every_trade(history: SimHistory) -> None:
    first_trade = min(t.time for t in history.trades)
    assert min(d.time for d in history.deposits) < first_trade
    assert min(history.lowest_running_balances().values()) >= 0
    assert all(v >= 0 for v in history.balances().values())
    assert all(w.time % 1000 == 0 for w in history.withdrawals)  # applyTime has whole seconds


@pytest.mark.parametrize("seed", range(20, 32))
def test_balances_never_negative_for_many_seeds(seed: int) -> None:
    h = generate_history(seed=seed, trades=400, traded=7, deposits=6, withdrawals=15, delisted=2, end_ms=END)
    assert min(h.lowest_running_balances().values()) >= 0
    trades, deposits, withdrawals = generate_activity(h, seed=seed, trades=25, deposits=1, withdrawals=2)
    later = h.with_added(trades=trades, deposits=deposits, withdrawals=withdrawals)
    assert min(later.lowest_running_balances().values()) >= 0
    assert min(t.time for t in trades) > h.end_ms and later.end_ms >= max(t.time for t in trades)


def test_with_added_rejects_reused_ids(history: SimHistory) -> None:
    with pytest.raises(ValueError, match="already used"):
        history.with_added(trades=[history.trades[0]])
