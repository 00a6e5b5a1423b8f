"""The engine behind ``generate_history``: a chronological simulation of one Binance spot user.

A history that tests can trust must be internally consistent: every trade is paid for by earlier deposits
and trades, no balance ever dips below zero, commissions follow Binance's rules (0.1 % of the received
asset, or 0.075 % of the value in BNB when the user holds BNB), and amounts respect each market's tick and
lot step. The generator walks a merged, time-ordered list of deposits, orders and withdrawals, sizing each
one from the balances at that moment, so these properties hold by construction for any seed.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from importer.simulator.history import SimHistory, SimMarket, SimTrade, SimTransfer, trade_effects
from importer.simulator.prices import (
    ASSETS,
    DAY_MS,
    DELISTED_QUOTE,
    LISTED_QUOTES,
    STABLES,
    fmt8,
    market_rules,
    pair_price,
    usd_price,
)

YEAR_MS = 365 * DAY_MS
E8 = Decimal("0.00000001")
TAKER_RATE, BNB_RATE = Decimal("0.001"), Decimal("0.00075")
# coin -> (network, withdrawal fee), Binance-like; other coins withdraw over BSC for about half a dollar.
NETWORKS: dict[str, tuple[str, str]] = {
    "BTC": ("BTC", "0.0002"), "ETH": ("ETH", "0.0012"), "USDT": ("TRX", "1"), "BUSD": ("BSC", "0.3"),
    "BNB": ("BSC", "0.0005"), "SOL": ("SOL", "0.008"), "ADA": ("ADA", "1"), "XRP": ("XRP", "0.25"),
    "DOGE": ("DOGE", "4"), "LTC": ("LTC", "0.001"), "TRX": ("TRX", "1"), "DOT": ("DOT", "0.1"),
    "ATOM": ("ATOM", "0.005"), "XLM": ("XLM", "0.01"), "FDUSD": ("BSC", "0.5"), "USDC": ("ETH", "3"),
}
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _market_universe(markets: int) -> list[SimMarket]:
    """The ``markets`` most "popular" listed pairs: X/USDT first, cross pairs only against bigger coins."""
    bases = list(ASSETS)
    penalty = {q: i * 4 for i, q in enumerate(LISTED_QUOTES)}
    ranked: list[tuple[int, str, str]] = []
    for q in LISTED_QUOTES:
        for i, b in enumerate(bases):
            if b == q or (q in ASSETS and bases.index(q) >= i):
                continue
            ranked.append((i + penalty[q], b, q))
    ranked.sort()
    return [SimMarket(f"{b}{q}", b, q, True) for _, b, q in ranked[:markets]]


def _network(coin: str) -> tuple[str, Decimal]:
    if coin in NETWORKS:
        net, fixed = NETWORKS[coin]
        return net, Decimal(fixed)
    ref = Decimal(ASSETS.get(coin, "1"))
    fee = Decimal("0.5") / ref
    return "BSC", fee.quantize(Decimal(1).scaleb(min(fee.adjusted() - 1, 0)), rounding=ROUND_HALF_UP)


def _decimals(coin: str) -> Decimal:
    return Decimal("0.01") if coin in STABLES else Decimal("0.000001")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass
class _State:
    """Everything the simulation carries from one event to the next (also rebuilt to continue a history)."""

    rng: random.Random
    seed: int
    traded: list[SimMarket]
    delist_at: dict[str, int]
    balances: dict[str, Decimal]
    next_trade_id: dict[str, int]
    next_order_id: dict[str, int]
    end_ms: int


class _Simulation:
    def __init__(self, state: _State) -> None:
        self.s = state
        self.rng = state.rng
        self.trades: list[SimTrade] = []
        self.deposits: list[SimTransfer] = []
        self.withdrawals: list[SimTransfer] = []

    # -- helpers ---------------------------------------------------------------------------------------
    def _hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def _address(self, network: str, rng: random.Random) -> str:
        if network == "BTC":
            return "bc1q" + "".join(rng.choice(_BECH32) for _ in range(38))
        if network in ("ETH", "BSC", "ARBITRUM", "MATIC", "AVAXC", "OPTIMISM"):
            return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        prefix = {"TRX": "T", "XRP": "r"}.get(network, "")
        return prefix + "".join(rng.choice(_B58) for _ in range(44 - len(prefix) if network == "SOL" else 33))

    def _tx(self, network: str) -> str:
        return ("0x" if network in ("ETH", "BSC", "ARBITRUM") else "") + self._hex(64)

    def _active(self, t: int) -> list[SimMarket]:
        return [m for m in self.s.traded if self.s.delist_at.get(m.symbol, 1 << 62) > t]

    # -- events ----------------------------------------------------------------------------------------
    def deposit(self, t: int, first: bool = False, second: bool = False) -> None:
        active = self._active(t) or self.s.traded
        if first:
            coin = active[0].quote
        elif second:  # users keep some BNB to pay fees at a discount
            coin = "BNB"
        else:
            weights: dict[str, int] = {"BNB": 4}
            for m in active:
                weights[m.quote] = weights.get(m.quote, 0) + (40 if m.quote in STABLES else 8)
                weights[m.base] = weights.get(m.base, 0) + (10 if m.base in ("BTC", "ETH") else 3)
            coins = sorted(weights)
            coin = self.rng.choices(coins, [weights[c] for c in coins])[0]
        usd = self.rng.randrange(5000, 20001, 100) if first else self.rng.randrange(300, 5001, 50)
        amount = (Decimal(usd) / usd_price(coin, t, self.s.seed)).quantize(_decimals(coin), rounding=ROUND_DOWN)
        network, _ = _network(coin)
        status = 6 if (t > self.s.end_ms - 3 * DAY_MS and self.rng.random() < 0.5) else 1
        address = self._address(network, random.Random(f"{self.s.seed}:deposit-address:{coin}"))
        self.deposits.append(SimTransfer(
            id=str(self.rng.randrange(10**17, 10**18)), tx_id=self._tx(network), coin=coin, network=network,
            amount=_plain(amount), fee="0", time=t, status=status, address=address))
        self.s.balances[coin] = self.s.balances.get(coin, Decimal(0)) + amount

    def withdraw(self, t: int) -> None:
        bal = self.s.balances
        candidates = [a for a in sorted(bal) if bal[a] * usd_price(a, t, self.s.seed) >= 50]
        coin = self.rng.choice(candidates) if candidates else "USDT"
        network, fee = _network(coin)
        amount = Decimal(0)
        if candidates and self.rng.random() >= 0.12:
            share = Decimal(self.rng.randint(10, 60)) / 100
            amount = (bal[coin] * share - fee).quantize(_decimals(coin), rounding=ROUND_DOWN)
        if amount > 0 and amount + fee <= bal[coin]:
            status, tx_id = 6, self._tx(network)
            bal[coin] -= amount + fee
        else:  # rejected (3) or cancelled (1): listed by Binance, no funds moved
            status, tx_id = self.rng.choice((3, 1)), ""
            amount = (Decimal(self.rng.randrange(50, 500)) / usd_price(coin, t, self.s.seed)).quantize(
                _decimals(coin), rounding=ROUND_DOWN)
        self.withdrawals.append(SimTransfer(
            id=self._hex(32), tx_id=tx_id, coin=coin, network=network, amount=_plain(amount), fee=_plain(fee),
            time=t, status=status, address=self._address(network, self.rng)))

    def order(self, t: int, fills: int) -> None:
        """One order filled by ``fills`` trades at the same millisecond; falls back to other markets."""
        active = self._active(t)
        weights = [max(6 - i, 1) for i in range(len(active))]
        first = self.rng.choices(active, weights)[0]
        made = self._try_order(first, t, fills)
        for market in [] if made else self.rng.sample(active, len(active)):
            made = self._try_order(market, t, fills) or self._try_order(market, t, 1)
            if made:
                break
        if made:
            self.trades.extend(made)
            return
        raise RuntimeError(f"history generator: no fundable order at {t} (balances {self.s.balances})")

    def _try_order(self, m: SimMarket, t: int, fills: int) -> list[SimTrade] | None:
        rng, bal, rules = self.rng, self.s.balances, market_rules(m.base, m.quote)
        mid = pair_price(m.base, m.quote, t, self.s.seed)
        price = rules.price(mid * (1 + Decimal(rng.randint(-10, 10)) / 10000))
        have_quote, have_base = bal.get(m.quote, Decimal(0)), bal.get(m.base, Decimal(0))
        can_buy = have_quote >= price * rules.step * fills * Decimal("1.01")
        can_sell = have_base >= rules.step * fills
        if not (can_buy or can_sell):
            return None
        buy = can_buy and (not can_sell or rng.random() < 0.5)
        if buy:
            total = rules.qty(have_quote * Decimal(rng.randint(2, 30)) / 100 / price)
        else:
            total = rules.qty(have_base * Decimal(rng.randint(5, 60)) / 100)
        units = max(int(total / rules.step), fills)
        cuts = sorted(rng.sample(range(1, units), fills - 1)) if fills > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]
        use_bnb = bal.get("BNB", Decimal(0)) > 0 and rng.random() < 0.35
        maker = rng.random() < 0.3
        trial = dict(bal)
        made: list[SimTrade] = []
        tid, oid = self.s.next_trade_id[m.symbol], self.s.next_order_id[m.symbol]
        for i, part in enumerate(parts):
            qty = rules.step * part
            fill_price = price + rules.tick * i if buy else max(price - rules.tick * i, rules.tick)
            quote_qty = qty * fill_price
            if use_bnb:
                in_bnb = quote_qty * usd_price(m.quote, t, self.s.seed) / usd_price("BNB", t, self.s.seed)
                fee, fee_asset = (in_bnb * BNB_RATE).quantize(E8, rounding=ROUND_HALF_UP), "BNB"
            else:
                received, fee_asset = (qty, m.base) if buy else (quote_qty, m.quote)
                fee = (received * TAKER_RATE).quantize(E8, rounding=ROUND_HALF_UP)
            trade = SimTrade(symbol=m.symbol, id=tid + i, order_id=oid, time=t, price=fmt8(fill_price),
                             qty=fmt8(qty), quote_qty=fmt8(quote_qty), commission=fmt8(fee),
                             commission_asset=fee_asset, is_buyer=buy, is_maker=maker)
            for asset, delta in trade_effects(trade, m):
                trial[asset] = trial.get(asset, Decimal(0)) + delta
            if any(v < 0 for v in trial.values()):
                return None
            made.append(trade)
        bal.clear()
        bal.update(trial)
        self.s.next_trade_id[m.symbol] = tid + len(parts) + rng.randrange(1, 3000)
        self.s.next_order_id[m.symbol] = oid + rng.randrange(1, 20000)
        return made

    # -- driver ----------------------------------------------------------------------------------------
    def run(self, deposit_times: list[int], order_plan: list[tuple[int, int]], withdrawal_times: list[int],
            first_deposit: bool) -> None:
        events = [(t, 0, 0) for t in deposit_times] + [(t, 1, f) for t, f in order_plan]
        events += [(t, 2, 0) for t in withdrawal_times]
        events.sort()
        deposits_seen = 0
        for t, kind, fills in events:
            if kind == 0:
                deposits_seen += 1
                self.deposit(t, first=first_deposit and deposits_seen == 1,
                             second=first_deposit and deposits_seen == 2)
            elif kind == 1:
                self.order(t, fills)
            else:
                self.withdraw(t)


def _order_plan(rng: random.Random, trades: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """(time, fills) per order; distinct times; about one order in eight fills several trades at once."""
    if trades <= 0:
        return []
    slots = sorted(rng.sample(range(lo, hi), trades))
    plan: list[tuple[int, int]] = []
    i = 0
    while i < trades:
        fills = rng.randint(2, 4) if rng.random() < 0.12 or len(plan) == 1 else 1
        fills = min(fills, trades - i)
        plan.append((slots[i], fills))
        i += fills
    return plan


def build_history(*, seed: int, trades: int, markets: int, traded: int, years: int, deposits: int,
                  withdrawals: int, delisted: int, end_ms: int | None) -> SimHistory:
    if traded < 1 or delisted > traded or traded - delisted > markets or deposits < 1:
        raise ValueError("need 1 <= traded, delisted <= traded, traded - delisted <= markets, deposits >= 1")
    rng = random.Random(seed)
    end = end_ms if end_ms is not None else int(time.time() * 1000) // DAY_MS * DAY_MS
    start = end - years * YEAR_MS
    listed = _market_universe(markets)
    if len(listed) < markets:
        raise ValueError(f"at most {len(listed)} listed markets available")
    by_symbol = {m.symbol: m for m in listed}
    chosen = [by_symbol[s] for s in ("BTCUSDT", "ETHUSDT") if s in by_symbol][: traded - delisted]
    rest = [m for m in listed if m not in chosen]
    chosen += rng.sample(rest, traded - delisted - len(chosen))
    gone_bases = rng.sample([b for b in list(ASSETS)[:12]], delisted)
    gone = [SimMarket(f"{b}{DELISTED_QUOTE}", b, DELISTED_QUOTE, False) for b in gone_bases]
    traded_markets = chosen + gone
    delist_at = {m.symbol: start + (end - start) * rng.randint(55, 80) // 100 for m in gone}
    trade_ids = {m.symbol: rng.randrange(10_000_000, 400_000_000) for m in traded_markets}
    if len(traded_markets) > 1:  # Binance trade ids are per symbol: make two symbols share one
        trade_ids[traded_markets[1].symbol] = trade_ids[traded_markets[0].symbol]
    state = _State(rng=rng, seed=seed, traded=traded_markets, delist_at=delist_at, balances={},
                   next_trade_id=trade_ids,
                   next_order_id={m.symbol: rng.randrange(100_000_000, 9_000_000_000) for m in traded_markets},
                   end_ms=end)
    first = start + rng.randrange(3_600_000, DAY_MS)
    deposit_times = [first, *rng.sample(range(first + 1, end - 3_600_000), deposits - 1)]
    plan = _order_plan(rng, trades, first + 60_000, end - 60_000)
    w_times = [s * 1000 for s in rng.sample(range(first // 1000 + 3600, end // 1000 - 3600), withdrawals)]
    sim = _Simulation(state)
    sim.run(deposit_times, plan, w_times, first_deposit=True)
    all_markets = tuple(listed) + tuple(gone)
    return SimHistory(markets=all_markets, trades=tuple(sorted(sim.trades, key=lambda t: (t.symbol, t.id))),
                      deposits=tuple(sim.deposits), withdrawals=tuple(sim.withdrawals),
                      start_ms=start, end_ms=end, seed=seed)


def continue_history(history: SimHistory, *, seed: int, trades: int, deposits: int, withdrawals: int,
                     end_ms: int | None) -> tuple[list[SimTrade], list[SimTransfer], list[SimTransfer]]:
    rng = random.Random(f"{history.seed}:{seed}:{history.end_ms}")
    lo = history.end_ms + 1
    hi = end_ms if end_ms is not None else history.end_ms + DAY_MS
    if hi - lo < 4 * (trades + deposits + withdrawals) + 10_000:
        raise ValueError("end_ms leaves too little time for the new activity")
    traded = [m for m in (history.market(s) for s in history.traded_symbols()) if m is not None and m.listed]
    last_id = {m.symbol: history.trades_for(m.symbol)[-1].id for m in traded}
    last_order = {m.symbol: max(t.order_id for t in history.trades_for(m.symbol)) for m in traded}
    state = _State(rng=rng, seed=history.seed, traded=traded, delist_at={},
                   balances={a: v for a, v in history.balances().items() if v > 0},
                   next_trade_id={s: i + rng.randrange(1, 3000) for s, i in last_id.items()},
                   next_order_id={s: i + rng.randrange(1, 20000) for s, i in last_order.items()}, end_ms=hi)
    deposit_times = sorted(rng.sample(range(lo, hi), deposits))
    plan = _order_plan(rng, trades, lo, hi)
    w_times = [s * 1000 for s in rng.sample(range(lo // 1000 + 1, hi // 1000), withdrawals)]
    sim = _Simulation(state)
    sim.run(deposit_times, plan, w_times, first_deposit=False)
    return sim.trades, sim.deposits, sim.withdrawals
