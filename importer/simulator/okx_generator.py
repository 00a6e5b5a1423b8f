"""The engine behind ``generate_okx_history``: a chronological simulation of one OKX spot user.

Every event is sized from the trading-account balances at its moment, so no balance ever goes negative: a
deposit is credited to the funding account and moved to the trading account one millisecond later (a type-1
bill); a withdrawal first moves amount + fee back to funding; an order buys with at most the quote held or sells
at most the base held, filling in one to three fills in the same millisecond; auto-lend interest pays a small
share of the USDT held. Fees follow OKX's spot rule: charged in the currency received, 0.1 % taker / 0.08 %
maker, as a negative ``fee`` whose exact product (no rounding) is inside the received bill's ``balChg``.

Prices come from ``prices.pair_price`` at a time anchored to the history's end, so a seed gives the same amounts
whatever ``end_ms`` is; tick and lot sizes come from ``prices.market_rules``.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from importer.simulator.okx_history import (
    DAY_MS,
    FUNDING,
    RETENTION_MS,
    TRADING,
    OkxActivity,
    OkxBill,
    OkxDeposit,
    OkxFill,
    OkxHistory,
    OkxInstrument,
    OkxWithdrawal,
    plain,
)
from importer.simulator.prices import market_rules, pair_price

PAIRS: tuple[tuple[str, str], ...] = (
    ("BTC", "USDT"), ("ETH", "USDT"), ("SOL", "USDT"), ("ETH", "BTC"), ("XRP", "USDT"), ("DOGE", "USDT"),
    ("LTC", "USDT"), ("ADA", "USDT"), ("DOT", "USDT"), ("SOL", "BTC"), ("BTC", "USDC"), ("ETH", "USDC"),
    ("LINK", "USDT"), ("AVAX", "USDT"), ("TRX", "USDT"), ("ATOM", "USDT"),
)
# ccy -> (chain id as OKX names it, withdrawal fee)
CHAINS: dict[str, tuple[str, str]] = {
    "USDT": ("USDT-TRC20", "1"), "USDC": ("USDC-ERC20", "5"), "BTC": ("BTC-Bitcoin", "0.0002"),
    "ETH": ("ETH-ERC20", "0.0016"), "SOL": ("SOL-Solana", "0.008"), "XRP": ("XRP-Ripple", "0.2"),
    "DOGE": ("DOGE-Dogecoin", "4"), "LTC": ("LTC-Litecoin", "0.001"),
}
DEPOSIT_RANGES: dict[str, tuple[str, str, str]] = {  # ccy -> (low, high, quantum)
    "USDT": ("500", "15000", "0.01"), "BTC": ("0.02", "0.8", "0.000001"), "ETH": ("0.3", "8", "0.000001"),
}
TAKER, MAKER = Decimal("0.001"), Decimal("0.0008")
PRICE_ANCHOR_MS = 1_700_000_000_000  # history end maps to this instant of the price path
BILL_BASE, ORDER_BASE = 600_000_000_000_000_000, 610_000_000_000_000_000
ID_STEP = 4096
GUARD_MS = 4 * 3_600_000
MIN_GAP_MS = 10


class _Sim:
    """State carried from one event to the next; also rebuilt from a history to continue it."""

    def __init__(self, rng: random.Random, seed: int, end_ms: int, instruments: list[OkxInstrument],
                 traded: list[OkxInstrument], price_shift_ms: int) -> None:
        self.rng, self.seed, self.end_ms, self.price_shift_ms = rng, seed, end_ms, price_shift_ms
        self.instruments, self.traded = instruments, traded
        self.balances: dict[str, Decimal] = defaultdict(Decimal)
        self.fills: list[OkxFill] = []
        self.bills: list[OkxBill] = []
        self.deposits: list[OkxDeposit] = []
        self.withdrawals: list[OkxWithdrawal] = []
        self.bill_seq = 0
        self.order_seq = 0
        self.trade_ids: dict[str, int] = {i.inst_id: rng.randint(10_000_000, 90_000_000) for i in traded}
        self.dep_id = 91_000_000 + rng.randint(0, 9_999)
        self.wd_id = 27_000_000 + rng.randint(0, 9_999)

    # -- ids and prices -------------------------------------------------------------------------------
    def _bill_id(self) -> int:
        self.bill_seq += 1
        return BILL_BASE + self.bill_seq * ID_STEP + self.rng.randrange(ID_STEP)

    def _order_id(self) -> str:
        self.order_seq += 1
        return str(ORDER_BASE + self.order_seq * ID_STEP + self.rng.randrange(ID_STEP))

    def _price(self, inst: OkxInstrument, t: int) -> Decimal:
        raw = pair_price(inst.base, inst.quote, t + self.price_shift_ms, self.seed)
        return market_rules(inst.base, inst.quote).price(raw)

    def _bill(self, t: int, ccy: str, change: Decimal, kind: str, sub_type: str, **extra: str) -> OkxBill:
        self.balances[ccy] += change
        assert self.balances[ccy] >= 0, (ccy, self.balances[ccy])
        bill = OkxBill(self._bill_id(), t, ccy, plain(change), plain(self.balances[ccy]), kind, sub_type, **extra)
        self.bills.append(bill)
        return bill

    def _address(self, ccy: str) -> str:
        alphabet = "0123456789abcdef"
        body = "".join(self.rng.choice(alphabet) for _ in range(40))
        return {"BTC": "bc1q" + body[:38], "USDT": "T" + body[:33].upper()}.get(ccy, "0x" + body)

    def _txid(self) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(64))

    # -- events ---------------------------------------------------------------------------------------
    def deposit(self, t: int, ccy: str | None = None, amount: Decimal | None = None, state: str = "2") -> None:
        ccy = ccy or self.rng.choices(("USDT", "BTC", "ETH"), (6, 2, 2))[0]
        low, high, quantum = (Decimal(v) for v in DEPOSIT_RANGES[ccy])
        if amount is None:
            amount = (low + (high - low) * Decimal(self.rng.random())).quantize(quantum, rounding=ROUND_DOWN)
        self.dep_id += self.rng.randint(1, 9_000)
        self.deposits.append(OkxDeposit(str(self.dep_id), ccy, CHAINS[ccy][0], plain(amount), self._address(ccy),
                                        self._txid(), t, state))
        if state == "2":  # moved to the trading account right away (the n-th deposit of a millisecond: +n ms)
            self._bill(t + sum(d.ts == t for d in self.deposits), ccy, amount, "1", "11", from_account=FUNDING,
                       to_account=TRADING)

    def withdraw(self, t: int, state: str = "2") -> bool:
        held = [c for c in ("USDT", "BTC", "ETH") if self.balances[c] > Decimal(CHAINS[c][1]) * 20]
        if not held:
            return False
        ccy = self.rng.choice(held)
        fee = Decimal(CHAINS[ccy][1])
        share = Decimal(self.rng.randint(10, 45)) / 100
        quantum = Decimal("0.01") if ccy == "USDT" else Decimal("0.000001")
        amount = ((self.balances[ccy] - fee) * share).quantize(quantum, rounding=ROUND_DOWN)
        if amount <= 0:
            return False
        if state == "2":
            self._bill(t - 1, ccy, -(amount + fee), "1", "12", from_account=TRADING, to_account=FUNDING)
        self.wd_id += self.rng.randint(1, 9_000)
        self.withdrawals.append(OkxWithdrawal(str(self.wd_id), ccy, CHAINS[ccy][0], plain(amount), plain(fee),
                                              self._address(ccy), self._txid() if state == "2" else "", t, state))
        return True

    def interest(self, t: int) -> bool:
        if self.balances["USDT"] <= 100:
            return False
        apr = Decimal(self.rng.randint(20, 120)) / 1000
        amount = (self.balances["USDT"] * apr / 365).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
        if amount <= 0:
            return False
        self._bill(t, "USDT", amount, "381", "381", earn_apr=plain(apr))
        return True

    def order(self, t: int, max_fills: int) -> int:
        """One order filled in 1..3 fills (at most ``max_fills``); returns the number of fills."""
        inst = self.rng.choice(self.traded)
        rules = market_rules(inst.base, inst.quote)
        price = self._price(inst, t)
        share = Decimal(self.rng.randint(5, 35)) / 100
        buy_size = rules.qty(self.balances[inst.quote] * share / price)
        sell_size = rules.qty(self.balances[inst.base] * share)
        buy = buy_size >= rules.step and (sell_size < rules.step or self.rng.random() < 0.55)
        size = buy_size if buy else sell_size
        if size < rules.step:
            return 0
        parts = self._split(size, rules.step, min(max_fills, self.rng.choice((1, 1, 1, 2, 3))))
        ord_id, maker = self._order_id(), self.rng.random() < 0.3
        for part in parts:
            self._fill(t, inst, ord_id, "buy" if buy else "sell", price, part, maker)
        return len(parts)

    def _split(self, size: Decimal, step: Decimal, count: int) -> list[Decimal]:
        units = int(size / step)
        count = max(1, min(count, units))
        cuts = sorted(self.rng.sample(range(1, units), count - 1)) if count > 1 else []
        bounds = [0, *cuts, units]
        return [step * (b - a) for a, b in itertools.pairwise(bounds)]

    def _fill(self, t: int, inst: OkxInstrument, ord_id: str, side: str, price: Decimal, size: Decimal,
              maker: bool) -> None:
        self.trade_ids[inst.inst_id] += self.rng.randint(1, 400)
        trade_id = str(self.trade_ids[inst.inst_id])
        quote = size * price
        received, paid = (inst.base, inst.quote) if side == "buy" else (inst.quote, inst.base)
        gross = size if side == "buy" else quote
        fee = -gross * (MAKER if maker else TAKER)
        exec_type = "M" if maker else "T"
        sub = "1" if side == "buy" else "2"
        common = {"inst_id": inst.inst_id, "ord_id": ord_id, "trade_id": trade_id, "px": plain(price),
                  "exec_type": exec_type}
        self._bill(t, paid, -(quote if side == "buy" else size), "2", sub,
                   sz=plain(quote if side == "buy" else size), **common)
        bill = self._bill(t, received, gross + fee, "2", sub, fee=plain(fee), sz=plain(gross), **common)
        self.fills.append(OkxFill(inst.inst_id, trade_id, ord_id, bill.bill_id, side, plain(price), plain(size),
                                  plain(fee), received, exec_type, t))


def _times(rng: random.Random, count: int, low: int, high: int, end_ms: int, taken: set[int]) -> list[int]:
    """``count`` distinct times in [low, high], none near a retention mark and none within 10 ms of another."""
    marks = [end_ms - keep for keep in RETENTION_MS.values() if keep]
    out: list[int] = []
    for _ in range(count * 200 if high > low else 0):
        if len(out) == count:
            break
        t = rng.randint(low, high)
        if any(abs(t - m) < GUARD_MS for m in marks) or any(abs(t - s) < MIN_GAP_MS for s in taken):
            continue
        taken.add(t)
        out.append(t)
    return out


def _instruments(count: int, start_ms: int) -> list[OkxInstrument]:
    out = []
    for i, (base, quote) in enumerate(PAIRS[:count]):
        rules = market_rules(base, quote)
        out.append(OkxInstrument(f"{base}-{quote}", base, quote, plain(rules.tick), plain(rules.step),
                                 plain(rules.step * 10), start_ms - (400 - i) * DAY_MS))
    return out


def _run(sim: _Sim, start: int, end: int, *, trades: int, deposits: int, withdrawals: int, interest: int,
         opening: bool) -> None:
    """Simulate [start, end]; ``opening``: the account's first days (a large USDT deposit comes first, other
    events later, and the first random deposit has a twin in the same millisecond)."""
    rng, taken = sim.rng, set[int]()

    def lead(days: float) -> int:
        return start + int(days * DAY_MS) if opening else start

    events: list[tuple[int, str]] = []
    if opening:
        events.append((start + 3_600_000, "first"))
        taken.add(start + 3_600_000)
        deposits -= 1
    twin = opening and deposits >= 2
    deposit_times = _times(rng, deposits - twin, lead(2), end, sim.end_ms, taken)
    events += [(t, "deposit") for t in deposit_times]
    events += [(t, "withdraw") for t in _times(rng, withdrawals, lead(10), end, sim.end_ms, taken)]
    events += [(t, "interest") for t in _times(rng, interest, lead(1), end, sim.end_ms, taken)]
    orders = _times(rng, max(1, min(trades, trades * 5 // 8)), lead(0.2), end, sim.end_ms, taken)  # ~1.6 fills
    events += [(t, "order") for t in orders]
    events.sort()
    twin_at = min(deposit_times) if twin and deposit_times else None
    fills, withdrawn = 0, 0
    for t, kind in events:
        if kind == "first":
            sim.deposit(t, "USDT", Decimal(20_000 + rng.randint(0, 30_000)))
        elif kind == "deposit":
            sim.deposit(t)
            if t == twin_at:
                sim.deposit(t)
        elif kind == "withdraw":
            withdrawn += sim.withdraw(t, "-2" if withdrawn == 2 else "2")
        elif kind == "interest":
            sim.interest(t)
        else:  # leave at least one fill for each order still to come
            orders_left = sum(1 for o in orders if o > t)
            if trades - fills > 0:
                fills += sim.order(t, max(1, trades - fills - orders_left))


def build_history(*, seed: int, trades: int, days: int, deposits: int, withdrawals: int, interest: int,
                  instruments: int, traded: int, end_ms: int | None) -> OkxHistory:
    if end_ms is None:
        end_ms = int(time.time()) // 60 * 60_000
    if not 1 <= traded <= min(instruments, len(PAIRS)):
        raise ValueError(f"traded must be 1..{min(instruments, len(PAIRS))}")
    if deposits < 1:
        raise ValueError("at least one deposit is needed to fund the trades")
    start = end_ms - days * DAY_MS
    rng = random.Random(f"okx:{seed}")
    listed = _instruments(instruments, start)
    sim = _Sim(rng, seed, end_ms, listed, listed[:traded], PRICE_ANCHOR_MS - end_ms)
    _run(sim, start, end_ms - 60_000, trades=trades, deposits=deposits, withdrawals=withdrawals,
         interest=interest, opening=True)
    return OkxHistory(tuple(listed), tuple(sim.fills), tuple(sim.bills), tuple(sim.deposits),
                      tuple(sim.withdrawals), start, end_ms, seed,
                      chains={c: chain for c, (chain, _) in CHAINS.items()}, price_shift_ms=sim.price_shift_ms)


def continue_history(history: OkxHistory, *, seed: int, trades: int, deposits: int, withdrawals: int,
                     interest: int, end_ms: int | None) -> OkxActivity:
    last = max([history.start_ms, *(f.ts for f in history.fills), *(b.ts for b in history.bills),
                *(d.ts for d in history.deposits), *(w.ts for w in history.withdrawals)])
    end_ms = int(time.time() * 1000) - 1 if end_ms is None else end_ms
    if end_ms - last < 1_000:
        raise ValueError(f"no room for new activity between the history's last record ({last}) and {end_ms}")
    rng = random.Random(f"okx:{history.seed}:more:{seed}")
    traded_ids = sorted({f.inst_id for f in history.fills}) or [history.instruments[0].inst_id]
    sim = _Sim(rng, history.seed, history.end_ms, list(history.instruments),
               [history.instrument_by_id[i] for i in traded_ids], history.price_shift_ms)
    sim.balances.update(history.trading_balances())
    bill_ids = [b.bill_id for b in history.bills]
    sim.bill_seq = (max(bill_ids) - BILL_BASE) // ID_STEP if bill_ids else 0
    sim.order_seq = max(((int(f.ord_id) - ORDER_BASE) // ID_STEP for f in history.fills), default=0)
    for f in history.fills:
        sim.trade_ids[f.inst_id] = max(sim.trade_ids.get(f.inst_id, 0), int(f.trade_id))
    sim.dep_id = max((int(d.dep_id) for d in history.deposits), default=sim.dep_id)
    sim.wd_id = max((int(w.wd_id) for w in history.withdrawals), default=sim.wd_id)
    _run(sim, last + MIN_GAP_MS, end_ms, trades=trades, deposits=deposits, withdrawals=withdrawals,
         interest=interest, opening=False)
    return OkxActivity(tuple(sim.fills), tuple(sim.bills), tuple(sim.deposits), tuple(sim.withdrawals))
