"""The engine behind ``generate_kraken_history``: a chronological simulation of one Kraken spot user.

Events (deposits, orders, withdrawals, staking rewards, unstakings) get distinct anchor seconds and are
replayed in time order against running balances, so every order is funded, fees come out of the quote leg
and no balance ever dips below zero. Each event books its ledger entries as it happens, which gives every
entry its resulting ``balance`` and keeps the ledger in time order: an event's entries lie in its own
anchor second (the first entry in the first half of it) or in free seconds right after it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from importer.simulator.kraken_history import (
    KrakenActivity,
    KrakenHistory,
    KrakenLedgerEntry,
    KrakenTrade,
    KrakenTransfer,
)
from importer.simulator.kraken_universe import (
    ASSETS,
    FIAT,
    PAIRS,
    STAKING,
    KrakenPair,
    cost_quantum,
    fmt_fixed,
    pair_price,
    usd,
)

DAY_S = 86_400
YEAR_S = 365 * DAY_S
TAKER_FEE, MAKER_FEE = Decimal("0.0026"), Decimal("0.0016")
E8 = Decimal("0.00000001")
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # Kraken ids look base32: "THVRQM-33VKH-UCI7BS"
# asset id -> (deposit method, withdrawal method, withdrawal network, withdrawal fee, deposit fee)
FUNDING: dict[str, tuple[str, str, str, str, str]] = {
    "XXBT": ("Bitcoin", "Bitcoin", "Bitcoin", "0.00015", "0"),
    "XETH": ("Ether (Hex)", "Ether", "Ethereum", "0.0035", "0"),
    "ZUSD": ("Bank Frick (SWIFT)", "Bank Frick (SWIFT)", "", "5", "5"),
    "ZEUR": ("SEPA", "SEPA", "", "0.35", "0"),
    "USDT": ("Tether USD (ERC20)", "Tether USD (TRC20)", "Tron", "2.5", "0"),
    "USDC": ("USDC", "USDC", "Ethereum", "3", "0"),
    "DOT": ("Polkadot", "Polkadot", "Polkadot", "0.05", "0"),
    "SOL": ("Solana", "Solana", "Solana", "0.01", "0"),
    "ADA": ("ADA", "Cardano", "Cardano", "0.5", "0"),
    "XXRP": ("Ripple XRP", "Ripple XRP", "Ripple", "0.2", "0"),
    "XLTC": ("Litecoin", "Litecoin", "Litecoin", "0.001", "0"),
    "XXDG": ("Dogecoin", "Dogecoin", "Dogecoin", "4", "0"),
    "LINK": ("Link", "Chainlink", "Ethereum", "0.3", "0"),
    "ATOM": ("Cosmos", "Cosmos", "Cosmos", "0.01", "0"),
}
_ADDRESS: dict[str, tuple[str, str, int]] = {  # network -> (prefix, alphabet, length after the prefix)
    "Bitcoin": ("bc1q", "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 38), "Ethereum": ("0x", "0123456789abcdef", 40),
    "Tron": ("T", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 33),
    "Polkadot": ("1", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 46),
    "Solana": ("", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 44),
    "Cardano": ("addr1q", "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 92),
    "Ripple": ("r", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 33),
    "Litecoin": ("ltc1q", "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 38),
    "Dogecoin": ("D", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 33),
    "Cosmos": ("cosmos1", "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 38), "": ("DE89 3704 0044 ", "0123456789", 10),
}
_NETWORK_OF = {"XXBT": "Bitcoin", "XETH": "Ethereum", "USDT": "Ethereum", "USDC": "Ethereum", "DOT": "Polkadot",
               "SOL": "Solana", "ADA": "Cardano", "XXRP": "Ripple", "XLTC": "Litecoin", "XXDG": "Dogecoin",
               "LINK": "Ethereum", "ATOM": "Cosmos"}


@dataclass
class _State:
    """What the simulation carries from event to event (rebuilt from a history to continue it)."""

    rng: random.Random
    seed: int
    traded: list[KrakenPair]
    balances: dict[str, Decimal] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)
    trade_ids: dict[str, int] = field(default_factory=dict)  # next public trade id per pair
    last_reward: dict[str, int] = field(default_factory=dict)  # staked asset -> t4 of the last stake/reward
    occupied: set[int] = field(default_factory=set)  # seconds that hold an event


def _quantum(asset: str) -> Decimal:
    return Decimal("0.01") if asset in FIAT else E8


class _Simulation:
    def __init__(self, state: _State) -> None:
        self.s = state
        self.rng = state.rng
        self.trades: list[KrakenTrade] = []
        self.ledger: list[KrakenLedgerEntry] = []
        self.deposits: list[KrakenTransfer] = []
        self.withdrawals: list[KrakenTransfer] = []

    # -- helpers ---------------------------------------------------------------------------------------
    def _id(self, first: str, sizes: tuple[int, ...] = (6, 5, 6)) -> str:
        while True:
            parts = ["".join(self.rng.choice(_B32) for _ in range(n)) for n in sizes]
            new = "-".join([first + parts[0][1:], *parts[1:]])
            if new not in self.s.used_ids:
                self.s.used_ids.add(new)
                return new

    def _time(self, second: int) -> int:
        """A 1e-4 s time in the first half of ``second``; never a whole millisecond (ccxt floors float ms)."""
        return second * 10_000 + self.rng.randrange(1, 500) * 10 + self.rng.randint(1, 9)

    def _follow(self, t4: int) -> int:
        """A time shortly after ``t4``: a few free seconds later, or later in the same second."""
        second, delay = t4 // 10_000, self.rng.randint(1, 30)
        if all(second + d not in self.s.occupied for d in range(1, delay + 1)):
            self.s.occupied.add(second + delay)
            return self._time(second + delay)
        return t4 + self.rng.randint(1, 99) * 10 + self.rng.randint(1, 9)

    def _tx(self, asset: str, network: str) -> str:
        if asset in FIAT:
            return ""
        digits = "".join(self.rng.choice("0123456789abcdef") for _ in range(64))
        return "0x" + digits if network == "Ethereum" else digits

    def _address(self, network: str, rng: random.Random) -> str:
        prefix, alphabet, n = _ADDRESS[network]
        return prefix + "".join(rng.choice(alphabet) for _ in range(n))

    def _book(self, t4: int, refid: str, kind: str, subtype: str, asset: str, amount: Decimal,
              fee: Decimal = Decimal(0)) -> str:
        """Append one ledger entry and apply it to the running balance."""
        a = ASSETS[asset]
        balance = self.s.balances.get(asset, Decimal(0)) + amount - fee
        if balance < 0:
            raise RuntimeError(f"kraken generator: {asset} would go negative at {t4}")
        self.s.balances[asset] = balance
        entry_id = self._id("L")
        self.ledger.append(KrakenLedgerEntry(entry_id, refid, t4, kind, subtype, asset, a.fmt(amount), a.fmt(fee),
                                             a.fmt(balance)))
        return entry_id

    def _usd(self, asset: str, second: int) -> Decimal:
        return usd(ASSETS[asset].code, second * 1000, self.s.seed)

    # -- funding ---------------------------------------------------------------------------------------
    def deposit(self, second: int, asset: str | None = None, stake: bool = False, big: bool = False) -> None:
        if asset is None:
            weights: dict[str, int] = {}
            for p in self.s.traded:
                weights[p.quote] = weights.get(p.quote, 0) + (40 if p.quote in FIAT else 8)
                weights[p.base] = weights.get(p.base, 0) + 8
            assets = sorted(weights)
            asset = self.rng.choices(assets, [weights[a] for a in assets])[0]
        worth = self.rng.randrange(5000, 20001, 100) if big else self.rng.randrange(300, 5001, 50)
        amount = (Decimal(worth) / self._usd(asset, second)).quantize(_quantum(asset), rounding=ROUND_DOWN)
        method, _, _, _, fee_text = FUNDING[asset]
        fee, network = Decimal(fee_text), _NETWORK_OF.get(asset, "")
        refid, t4 = self._id("Q", (7, 6, 6)), self._time(second)
        address = self._address(network, random.Random(f"{self.s.seed}:kraken-deposit:{asset}"))
        txid, a = self._tx(asset, network), ASSETS[asset]
        self.deposits.append(KrakenTransfer(refid, "deposit", asset, method, "", txid, address, a.fmt(amount),
                                            a.fmt(fee), t4, "Success"))
        self._book(t4, refid, "deposit", "", asset, amount, fee)
        if stake:
            self.stake(self._follow(t4), asset)

    def withdraw(self, second: int) -> None:
        bal = self.s.balances
        candidates = [a for a in sorted(bal) if a in FUNDING and bal[a] * self._usd(a, second) >= 50]
        asset = self.rng.choice(candidates) if candidates else "ZEUR"
        _, method, network, fee_text, _ = FUNDING[asset]
        fee, a, t4 = Decimal(fee_text), ASSETS[asset], self._time(second)
        amount = Decimal(0)
        if candidates and self.rng.random() >= 0.1:
            amount = (bal[asset] * self.rng.randint(10, 60) / 100 - fee).quantize(_quantum(asset), ROUND_DOWN)
        status, txid = "Failure", ""
        if amount > 0:
            status, txid = "Success", self._tx(asset, network)
        else:  # refused by Kraken: listed by WithdrawStatus, no ledger entry
            amount = (Decimal(self.rng.randrange(50, 500)) / self._usd(asset, second)).quantize(_quantum(asset))
        refid = self._id("A", (7, 6, 6))
        key = f"my {network or 'bank'} {'wallet' if network else 'account'}"
        address = self._address(network, random.Random(f"{self.s.seed}:kraken-withdraw:{asset}"))
        self.withdrawals.append(KrakenTransfer(refid, "withdrawal", asset, method, network, txid, address,
                                               a.fmt(amount), a.fmt(fee), t4, status, key))
        if status == "Success":
            self._book(t4, refid, "withdrawal", "", asset, -amount, fee)

    # -- staking ---------------------------------------------------------------------------------------
    def stake(self, t4: int, spot: str) -> None:
        staked = STAKING[spot][0]
        amount = (self.s.balances.get(spot, Decimal(0)) * self.rng.randint(50, 90) / 100).quantize(E8, ROUND_DOWN)
        if amount <= 0:
            return
        refid = self._id("B", (7, 6, 6))
        self._book(t4, refid, "transfer", "spottostaking", spot, -amount)
        credit = self._follow(t4)
        self._book(credit, refid, "transfer", "stakingfromspot", staked, amount)
        self.s.last_reward[staked] = credit

    def unstake(self, second: int) -> None:
        staked = "DOT.S"
        amount = (self.s.balances.get(staked, Decimal(0)) * self.rng.randint(20, 60) / 100).quantize(E8, ROUND_DOWN)
        if amount <= 0:
            raise RuntimeError("kraken generator: nothing staked to unstake")
        refid, t4 = self._id("B", (7, 6, 6)), self._time(second)
        self._book(t4, refid, "transfer", "stakingtospot", staked, -amount)
        self._book(self._follow(t4), refid, "transfer", "spotfromstaking", "DOT", amount)

    def reward(self, second: int) -> None:
        staked = [s for spot, (s, _) in sorted(STAKING.items()) if self.s.balances.get(s, Decimal(0)) > 0]
        if not staked:
            raise RuntimeError("kraken generator: a staking reward needs a staked balance")
        asset = self.rng.choices(staked, [2 if s == "DOT.S" else 1 for s in staked])[0]
        rate = next(r for s, r in STAKING.values() if s == asset)
        t4 = self._time(second)
        days = Decimal(t4 - self.s.last_reward.get(asset, t4 - DAY_S * 10_000)) / (DAY_S * 10_000)
        amount = (self.s.balances[asset] * rate * days / 365).quantize(ASSETS[asset].quantum, ROUND_DOWN)
        self._book(t4, self._id("R", (7, 6, 6)), "staking", "", asset, max(amount, ASSETS[asset].quantum))
        self.s.last_reward[asset] = t4

    # -- trading ---------------------------------------------------------------------------------------
    def order(self, second: int, fills: int) -> None:
        """One order filled by ``fills`` trades within ``second``; falls back to other pairs."""
        traded = self.s.traded
        first = self.rng.choices(traded, [max(6 - i, 1) for i in range(len(traded))])[0]
        made = self._try_order(first, second, fills)
        for pair in [] if made else self.rng.sample(traded, len(traded)):
            made = self._try_order(pair, second, fills) or self._try_order(pair, second, 1)
            if made:
                return
        if not made:
            raise RuntimeError(f"kraken generator: no fundable order at {second} (balances {self.s.balances})")

    def _try_order(self, pair: KrakenPair, second: int, fills: int) -> bool:
        rng, bal = self.rng, self.s.balances
        mid = pair_price(pair, second * 1000, self.s.seed)
        price = max((mid * (1 + Decimal(rng.randint(-10, 10)) / 10000)).quantize(pair.tick), pair.tick)
        have_quote, have_base = bal.get(pair.quote, Decimal(0)), bal.get(pair.base, Decimal(0))
        least = Decimal(pair.ordermin) * Decimal("1.02")  # Kraken refuses orders below ``ordermin``
        can_buy = have_quote >= price * least * Decimal("1.05")
        can_sell = have_base >= least
        if not (can_buy or can_sell):
            return False
        buy = can_buy and (not can_sell or rng.random() < 0.5)
        spend = have_quote * rng.randint(2, 30) / 100 / price if buy else have_base * rng.randint(5, 60) / 100
        units = int(max(spend, least).quantize(pair.lot, rounding=ROUND_DOWN) / pair.lot)
        if units < fills:
            return False
        weights = [rng.randint(1, 4) for _ in range(fills)]
        parts = [units * w // sum(weights) for w in weights]
        parts[-1] += units - sum(parts)
        maker = rng.random() < 0.3
        ordertype = "limit" if maker or rng.random() < 0.5 else "market"
        rate, quantum = (MAKER_FEE if maker else TAKER_FEE), cost_quantum(pair)
        times = [second * 10_000 + f * 10 + rng.randint(1, 9) for f in sorted(rng.sample(range(1, 1000), fills))]
        if fills > 1 and rng.random() < 0.25:  # the last two fills share one timestamp
            times[-1] = times[-2]
        trial, legs = dict(bal), []
        for i, part in enumerate(parts):
            vol = pair.lot * part
            fill_price = price + pair.tick * i if buy else max(price - pair.tick * i, pair.tick)
            cost = (vol * fill_price).quantize(quantum, rounding=ROUND_HALF_UP)
            fee = (cost * rate).quantize(quantum, rounding=ROUND_HALF_UP)
            sign = 1 if buy else -1
            trial[pair.base] = trial.get(pair.base, Decimal(0)) + sign * vol
            trial[pair.quote] = trial.get(pair.quote, Decimal(0)) - sign * cost - fee
            if cost <= 0 or trial[pair.base] < 0 or trial[pair.quote] < 0:
                return False
            legs.append((times[i], vol, fill_price, cost, fee))
        order_id = self._id("O")
        for t4, vol, fill_price, cost, fee in legs:
            txid, sign = self._id("T"), 1 if buy else -1
            base_leg = self._book(t4, txid, "trade", "", pair.base, sign * vol)
            quote_leg = self._book(t4, txid, "trade", "", pair.quote, -sign * cost, fee)
            trade_id = self.s.trade_ids.setdefault(pair.id, rng.randrange(10_000_000, 90_000_000))
            self.s.trade_ids[pair.id] = trade_id + rng.randrange(1, 5000)
            self.trades.append(KrakenTrade(
                txid=txid, ordertxid=order_id, pair=pair.id, time=t4, type="buy" if buy else "sell",
                ordertype=ordertype, price=fmt_fixed(fill_price, pair.pair_decimals),
                cost=fmt_fixed(cost, pair.cost_decimals), fee=fmt_fixed(fee, pair.cost_decimals),
                vol=fmt_fixed(vol, pair.lot_decimals), maker=maker, trade_id=trade_id, ledgers=(base_leg, quote_leg)))
        return True

    # -- driver ----------------------------------------------------------------------------------------
    def run(self, events: list[tuple[int, str, int]]) -> None:
        """Replay (second, kind, argument) events in time order; ``order`` takes its fill count."""
        for second, kind, arg in sorted(events):
            if kind == "order":
                self.order(second, arg)
            elif kind == "deposit":
                self.deposit(second)
            elif kind == "deposit-first":  # fiat in the first traded pair's quote, enough to trade for years
                self.deposit(second, self.s.traded[0].quote, big=True)
            elif kind in ("deposit-dot", "deposit-eth"):  # deposited and staked at once
                self.deposit(second, "DOT" if kind == "deposit-dot" else "XETH", stake=True)
            elif kind == "withdraw":
                self.withdraw(second)
            elif kind == "reward":
                self.reward(second)
            elif kind == "unstake":
                self.unstake(second)
            else:
                raise ValueError(kind)

    def activity(self) -> KrakenActivity:
        return KrakenActivity(tuple(self.trades), tuple(self.ledger), tuple(self.deposits), tuple(self.withdrawals))


def _take(state: _State, lo: int, hi: int, n: int) -> list[int]:
    """``n`` distinct free seconds in [lo, hi), marked occupied."""
    if hi - lo < 4 * n + 10:
        raise ValueError("too little time for the requested events")
    out: list[int] = []
    while len(out) < n:
        second = state.rng.randrange(lo, hi)
        if second not in state.occupied:
            state.occupied.add(second)
            out.append(second)
    return out


def _orders(state: _State, trades: int, lo: int, hi: int) -> list[tuple[int, str, int]]:
    """(second, "order", fills): about one order in eight fills 2-4 trades within its second."""
    plan: list[tuple[int, str, int]] = []
    left = trades
    while left > 0:
        fills = min(state.rng.randint(2, 4) if state.rng.random() < 0.12 or len(plan) == 1 else 1, left)
        plan.append((0, "order", fills))
        left -= fills
    seconds = sorted(_take(state, lo, hi, len(plan)))
    return [(s, kind, fills) for s, (_, kind, fills) in zip(seconds, plan, strict=True)]


def build_history(*, seed: int, trades: int, pairs: int, years: int, deposits: int, withdrawals: int,
                  staking_rewards: int, unstakes: int, end_s: int | None) -> KrakenHistory:
    if not 1 <= pairs <= len(PAIRS) or deposits < 1 or min(trades, withdrawals, staking_rewards, unstakes) < 0:
        raise ValueError(f"need 1 <= pairs <= {len(PAIRS)}, deposits >= 1 and no negative sizes")
    staking = staking_rewards > 0 or unstakes > 0
    if staking and deposits < 3:
        raise ValueError("staking needs deposits >= 3 (the 2nd deposit is staked DOT, the 3rd staked ETH)")
    rng = random.Random(f"kraken:{seed}")
    end = end_s if end_s is not None else int(time.time()) // DAY_S * DAY_S
    start = end - years * YEAR_S
    universe = list(PAIRS.values())
    traded = universe[:min(pairs, 3)] + rng.sample(universe[3:], max(pairs - 3, 0))
    state = _State(rng=rng, seed=seed, traded=traded)
    first = start + rng.randrange(3600, DAY_S)
    dot_at, eth_at = first + rng.randrange(3600, 2 * DAY_S), first + rng.randrange(2 * DAY_S, 5 * DAY_S)
    state.occupied.update((first, dot_at, eth_at))
    sim = _Simulation(state)
    events = _orders(state, trades, first + 60, end - 60)
    events += [(s, "withdraw", 0) for s in _take(state, first + 3600, end - 3600, withdrawals)]
    rewards_from = eth_at + DAY_S
    events += [(s, "reward", 0) for s in _take(state, rewards_from, end - 3600, staking_rewards)]
    events += [(s, "unstake", 0) for s in _take(state, rewards_from + 6 * DAY_S, end - 3600, unstakes)]
    events += [(s, "deposit", 0) for s in _take(state, first + 1, end - 3600, deposits - (3 if staking else 1))]
    events += [(first, "deposit-first", 0)] + ([(dot_at, "deposit-dot", 0), (eth_at, "deposit-eth", 0)]
                                               if staking else [])
    sim.run(events)
    iban = "AA" + str(rng.randrange(10, 100)) + " " + " ".join("".join(rng.choices(_B32[:26] + "0123456789", k=4))
                                                              for _ in range(3))
    return KrakenHistory(trades=tuple(sim.trades), ledger=tuple(sim.ledger), deposits=tuple(sim.deposits),
                         withdrawals=tuple(sim.withdrawals), start_s=start, end_s=end, seed=seed, iban=iban)


def continue_history(history: KrakenHistory, *, seed: int, trades: int, deposits: int, withdrawals: int,
                     staking_rewards: int, end_s: int | None) -> KrakenActivity:
    last = max([history.end_s, *(r.time // 10_000 + 1 for r in (*history.ledger[-1:], *history.trades[-1:]))])
    lo, hi = last + 1, end_s if end_s is not None else last + DAY_S
    rng = random.Random(f"kraken:{history.seed}:{seed}:{history.end_s}")
    traded = [history.pair(p) for p in history.traded_pairs()] or list(PAIRS.values())[:1]
    state = _State(rng=rng, seed=history.seed, traded=traded,
                   balances={a: v for a, v in history.balances().items() if v > 0})
    state.used_ids = {t.txid for t in history.trades} | {t.ordertxid for t in history.trades}
    state.used_ids |= {e.id for e in history.ledger} | {r.refid for r in (*history.deposits, *history.withdrawals)}
    for t in history.trades:
        state.trade_ids[t.pair] = max(state.trade_ids.get(t.pair, 0), t.trade_id + rng.randrange(1, 5000))
    for e in history.ledger:
        if e.type == "staking" or e.subtype == "stakingfromspot":
            state.last_reward[e.asset] = e.time
    if staking_rewards and not any(state.balances.get(s, Decimal(0)) > 0 for s, _ in STAKING.values()):
        raise ValueError("the history has no staked balance to earn rewards on")
    sim = _Simulation(state)
    events = _orders(state, trades, lo, hi)
    events += [(s, "withdraw", 0) for s in _take(state, lo, hi, withdrawals)]
    events += [(s, "reward", 0) for s in _take(state, lo, hi, staking_rewards)]
    events += [(s, "deposit", 0) for s in _take(state, lo, hi, deposits)]
    sim.run(events)
    return sim.activity()
