"""A user's whole (synthetic) Binance spot history: markets, trades, deposits and withdrawals.

The simulator serves this history through the real Binance REST API, and tests compare what ccxt imports
against it. Records keep Binance's own shapes and units: trade ids are per symbol, times are int ms,
amounts are exact decimal strings (never floats) and transfer statuses are Binance's status codes.
``generate_history`` builds a deterministic, self-consistent history for a seed (every running balance
stays >= 0); ``generate_activity`` continues one with new events for "the next nightly run".
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

# Transfer statuses that move money (Binance codes). Deposits: 1 success, 6 credited but cannot withdraw
# (0 pending, 7 wrong deposit, 8 waiting user confirm, 2 rejected do not). Withdrawals: 6 completed (0 email
# sent, 2 awaiting approval, 4 processing are not final; 1 cancelled, 3 rejected, 5 failure never moved funds).
CREDITED_DEPOSIT = frozenset({1, 6})
DEBITED_WITHDRAWAL = frozenset({6})


@dataclass(frozen=True, slots=True)
class SimTrade:
    """One row of GET /api/v3/myTrades."""

    symbol: str  # exchange id, e.g. "BTCUSDT"
    id: int  # unique per symbol only
    order_id: int
    time: int  # ms
    price: str
    qty: str
    quote_qty: str
    commission: str
    commission_asset: str
    is_buyer: bool
    is_maker: bool


@dataclass(frozen=True, slots=True)
class SimTransfer:
    """One deposit (capital/deposit/hisrec) or withdrawal (capital/withdraw/history)."""

    id: str
    tx_id: str
    coin: str
    network: str
    amount: str
    fee: str  # withdrawals: transactionFee, charged on top of amount; "0" for deposits
    time: int  # ms: insertTime of a deposit, applyTime of a withdrawal (whole seconds)
    status: int
    address: str


@dataclass(frozen=True, slots=True)
class SimMarket:
    """A spot market; ``listed=False`` means delisted: absent from exchangeInfo, trades still served."""

    symbol: str  # exchange id, e.g. "BTCUSDT"
    base: str
    quote: str
    listed: bool = True


@dataclass(frozen=True)
class SimHistory:
    markets: tuple[SimMarket, ...]
    trades: tuple[SimTrade, ...]  # sorted by symbol, then id
    deposits: tuple[SimTransfer, ...]  # sorted by time
    withdrawals: tuple[SimTransfer, ...]  # sorted by time
    start_ms: int
    end_ms: int
    seed: int = 1  # seeds the price path served by /api/v3/klines

    @cached_property
    def _by_symbol(self) -> dict[str, tuple[SimTrade, ...]]:
        return {sym: tuple(group) for sym, group in itertools.groupby(self.trades, key=lambda t: t.symbol)}

    @cached_property
    def _markets_by_symbol(self) -> dict[str, SimMarket]:
        return {m.symbol: m for m in self.markets}

    def trades_for(self, symbol: str) -> tuple[SimTrade, ...]:
        """The symbol's trades in id order (what paging myTrades by fromId returns)."""
        return self._by_symbol.get(symbol, ())

    def traded_symbols(self) -> list[str]:
        return sorted(self._by_symbol)

    def market(self, symbol: str) -> SimMarket | None:
        return self._markets_by_symbol.get(symbol)

    def listed_markets(self) -> list[SimMarket]:
        return [m for m in self.markets if m.listed]

    def assets(self) -> list[str]:
        """Every asset that appears in a market or a transfer, sorted."""
        names = {a for m in self.markets for a in (m.base, m.quote)}
        names.update(t.coin for t in (*self.deposits, *self.withdrawals))
        return sorted(names)

    def balances(self) -> dict[str, Decimal]:
        """Exact final balance per asset (zero balances included)."""
        totals: dict[str, Decimal] = dict.fromkeys(self.assets(), Decimal(0))
        for asset, delta in self._deltas():
            totals[asset] += delta
        return totals

    def _deltas(self) -> Iterable[tuple[str, Decimal]]:
        for _, _, changes in self.events():
            yield from changes

    def events(self) -> list[tuple[int, int, list[tuple[str, Decimal]]]]:
        """Every balance change as (time, kind, [(asset, delta)...]) in the order the generator applied them."""
        out: list[tuple[int, int, list[tuple[str, Decimal]]]] = []
        out.extend((d.time, 0, [(d.coin, Decimal(d.amount))]) for d in self.deposits if d.status in CREDITED_DEPOSIT)
        out.extend((w.time, 2, [(w.coin, -Decimal(w.amount) - Decimal(w.fee))])
                   for w in self.withdrawals if w.status in DEBITED_WITHDRAWAL)
        for t in self.trades:
            out.append((t.time, 1, trade_effects(t, self._markets_by_symbol[t.symbol])))
        out.sort(key=lambda e: (e[0], e[1]))  # stable: same-ms trades keep symbol/id order
        return out

    def lowest_running_balances(self) -> dict[str, Decimal]:
        """The minimum each asset's balance ever reached, replaying events in time order (all >= 0)."""
        running: dict[str, Decimal] = defaultdict(Decimal)
        lowest: dict[str, Decimal] = {}
        for _, _, changes in self.events():
            for asset, delta in changes:
                running[asset] += delta
                lowest[asset] = min(lowest.get(asset, running[asset]), running[asset])
        return lowest

    def with_added(self, *, trades: Iterable[SimTrade] = (), deposits: Iterable[SimTransfer] = (),
                   withdrawals: Iterable[SimTransfer] = (), markets: Iterable[SimMarket] = ()) -> SimHistory:
        """A new history with extra records (new activity); ``end_ms`` grows to cover them."""
        new_markets = tuple(markets)
        known = {m.symbol for m in (*self.markets, *new_markets)}
        new_trades = tuple(trades)
        unknown = {t.symbol for t in new_trades} - known
        if unknown:
            raise ValueError(f"trades on unknown markets: {sorted(unknown)}")
        seen = {(t.symbol, t.id) for t in self.trades}
        clash = [t for t in new_trades if (t.symbol, t.id) in seen]
        if clash:
            raise ValueError(f"trade ids already used: {[(t.symbol, t.id) for t in clash[:5]]}")
        new_deposits, new_withdrawals = tuple(deposits), tuple(withdrawals)
        times = [t.time for t in new_trades] + [r.time for r in (*new_deposits, *new_withdrawals)]
        return replace(
            self,
            markets=self.markets + new_markets,
            trades=tuple(sorted(self.trades + new_trades, key=lambda t: (t.symbol, t.id))),
            deposits=tuple(sorted(self.deposits + new_deposits, key=lambda d: d.time)),
            withdrawals=tuple(sorted(self.withdrawals + new_withdrawals, key=lambda w: w.time)),
            end_ms=max([self.end_ms, *times]),
        )


def trade_effects(trade: SimTrade, market: SimMarket) -> list[tuple[str, Decimal]]:
    """Balance changes of one fill: base and quote legs, then the commission."""
    qty, quote_qty = Decimal(trade.qty), Decimal(trade.quote_qty)
    sign = 1 if trade.is_buyer else -1
    return [(market.base, sign * qty), (market.quote, -sign * quote_qty),
            (trade.commission_asset, -Decimal(trade.commission))]


def generate_history(*, seed: int = 1, trades: int = 1000, markets: int = 40, traded: int = 5, years: int = 3,
                     deposits: int = 30, withdrawals: int = 10, delisted: int = 1,
                     end_ms: int | None = None) -> SimHistory:
    """A deterministic history for ``seed`` (and ``end_ms``; by default the start of today, UTC).

    ``markets`` listed spot markets in total; ``traded`` markets carry trades, ``delisted`` of them are
    unlisted (BUSD markets, like Binance's 2023 delisting). Deposits come first and fund every trade;
    some orders fill several trades in the same millisecond and the first trades of two symbols share an id.
    """
    from importer.simulator.generator import build_history

    return build_history(seed=seed, trades=trades, markets=markets, traded=traded, years=years,
                         deposits=deposits, withdrawals=withdrawals, delisted=delisted, end_ms=end_ms)


def generate_activity(history: SimHistory, *, seed: int = 2, trades: int = 20, deposits: int = 1,
                      withdrawals: int = 0, end_ms: int | None = None,
                      ) -> tuple[list[SimTrade], list[SimTransfer], list[SimTransfer]]:
    """New records after ``history.end_ms`` (up to ``end_ms``, default one day later) that continue its ids
    and balances: feed them to ``Simulator.add_trades`` / ``add_deposits`` / ``add_withdrawals``."""
    from importer.simulator.generator import continue_history

    return continue_history(history, seed=seed, trades=trades, deposits=deposits, withdrawals=withdrawals,
                            end_ms=end_ms)
