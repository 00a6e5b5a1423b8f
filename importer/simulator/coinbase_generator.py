"""Deterministic Coinbase histories: ``generate_coinbase_history`` and ``generate_coinbase_activity``.

Events (fills, USD deposits and withdrawals, crypto receives and sends, staking and inflation rewards, USDC
interest) are drawn for a seed and booked in time order; an event the balances cannot pay for is dropped, so no
balance ever goes negative. Amounts are exact decimals: each currency's exponent for wallet movements, exact
products for fills (price x size, commission = cost x fee rate, 0.4 % maker / 0.6 % taker as in Coinbase's
"Advanced 1" tier). About one buy in five is sized in the quote currency (``size_in_quote``), as a market buy
for a USD amount is; its base amount is size / price, exactly.
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import ROUND_DOWN, Decimal
from random import Random

from importer.simulator.coinbase_history import (
    CURRENCIES,
    TRADED,
    ZERO,
    CbAccount,
    CbActivity,
    CbFill,
    CbTransaction,
    CoinbaseHistory,
    plain,
)

START_MS = 1_672_531_200_000  # 2023-01-01
YEAR_S = 365 * 86_400


# -- generation ---------------------------------------------------------------------------------------------
class _Generator:
    """Books events one after the other, keeping every balance >= 0."""

    def __init__(self, rng: Random, accounts: dict[str, CbAccount], balances: dict[str, Decimal], seq: int) -> None:
        self.rng = rng
        self.accounts = accounts
        self.bal = {c: balances.get(c, ZERO) for c in CURRENCIES}
        self.price = {c.code: c.usd for c in CURRENCIES.values()}
        self.seq = seq
        self.fills: list[CbFill] = []
        self.txs: list[CbTransaction] = []
        self.sequences: set[int] = set()

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def fraction(self, low: int, high: int) -> Decimal:
        """A random fraction between low% and high%, in whole hundredths of a percent."""
        return Decimal(self.rng.randint(low * 100, high * 100)) / 10_000

    def walk(self) -> None:
        for code, cur in CURRENCIES.items():
            if code not in ("USD", "USDC"):
                step = Decimal(self.rng.randint(-250, 260)) / 10_000
                self.price[code] = max(cur.usd / 4, (self.price[code] * (1 + step)).quantize(Decimal("0.01")))

    def book(self, t: int, currency: str, kind: str, amount: Decimal, status: str = "completed",
             **extra: str) -> CbTransaction:
        usd = (amount * self.price[currency]).quantize(Decimal("0.01"))
        tx = CbTransaction(self.uid(), self.accounts[currency].uuid, currency, kind, status, plain(amount), t,
                           plain(usd), self.seq, **extra)
        self.seq += 1
        if tx.holds:
            self.bal[currency] += amount
        self.txs.append(tx)
        return tx

    def quantized(self, currency: str, value: Decimal) -> Decimal:
        return value.quantize(CURRENCIES[currency].quantum, rounding=ROUND_DOWN)

    # -- events ----------------------------------------------------------------------------------------
    def fiat_deposit(self, t: int) -> None:
        self.book(t, "USD", "fiat_deposit", Decimal(self.rng.randint(200_000, 2_000_000)) / 100)

    def fiat_withdrawal(self, t: int) -> None:
        amount = self.quantized("USD", self.bal["USD"] * self.fraction(5, 30))
        if amount >= 10:
            self.book(t, "USD", "fiat_withdrawal", -amount)

    def receive(self, t: int) -> None:
        code = self.rng.choice(("BTC", "ETH", "USDC", "USDC", "SOL"))
        amount = self.quantized(code, Decimal(self.rng.randint(200, 5000)) / self.price[code])
        self.book(t, code, "receive", amount, tx_hash=self.hash(), address="")

    def send(self, t: int, status: str = "completed") -> None:
        codes = [c for c in ("BTC", "ETH", "USDC", "SOL") if self.bal[c] > CURRENCIES[c].network_fee * 20]
        if not codes:
            return
        code = self.rng.choice(codes)
        fee = CURRENCIES[code].network_fee
        sent = self.quantized(code, (self.bal[code] - fee) * self.fraction(10, 60))
        self.book(t, code, "send", -(sent + fee), status, network_amount=plain(sent), network_fee=plain(fee),
                  tx_hash=self.hash(), address=self.address(code))

    def reward(self, t: int, kind: str) -> None:
        codes = {"staking_reward": ("ETH", "SOL"), "inflation_reward": ("SOL",), "interest": ("USDC",)}[kind]
        held = [c for c in codes if self.bal[c] > 0]
        if held:
            code = self.rng.choice(held)
            amount = self.quantized(code, self.bal[code] * self.fraction(1, 30) / 100)
            if amount > 0:
                self.book(t, code, kind, amount)

    def fill(self, t: int) -> None:
        buys = [p for p in TRADED if self.bal[p.quote] >= 20]
        sells = [p for p in TRADED if self.bal[p.base] * self.price[p.base] >= 5]
        if not buys and not sells:
            return
        buy = bool(buys) and (not sells or self.rng.random() < 0.55)
        product = self.rng.choice(buys if buy else sells)
        price = self.price[product.base]
        maker = self.rng.random() < 0.4
        rate = Decimal("0.004") if maker else Decimal("0.006")
        step = Decimal(1).scaleb(-product.size_decimals)
        if buy:
            spend = self.bal[product.quote] * self.fraction(5, 40)
            size = (spend / (price * (1 + rate))).quantize(step, rounding=ROUND_DOWN)
        else:
            size = (self.bal[product.base] * self.fraction(20, 100)).quantize(step, rounding=ROUND_DOWN)
        if size <= 0:
            return
        cost = price * size
        in_quote = buy and self.rng.random() < 0.2  # a market buy sized in USD: ``size`` is the quote amount
        us = t * 1_000_000 + self.rng.randint(0, 999_999)
        sequence = us + self.rng.randint(100, 5_000)
        while sequence in self.sequences:
            sequence += 1
        self.sequences.add(sequence)
        fill = CbFill(hashlib.sha256(self.uid().encode()).hexdigest(), self.uid(), self.uid(), product.id,
                      "BUY" if buy else "SELL", plain(price), plain(cost if in_quote else size), plain(cost * rate), us,
                      sequence, "MAKER" if maker else "TAKER", in_quote)
        self.fills.append(fill)
        for currency, change in fill.changes.items():
            self.book(t, currency, "advanced_trade_fill", change, fill=fill.entry_id)

    def hash(self) -> str:
        return "0x" + hashlib.sha256(self.uid().encode()).hexdigest()

    def address(self, code: str) -> str:
        digest = self.hash()[2:]
        return {"BTC": "bc1q" + digest[:38], "SOL": digest[:44]}.get(code, "0x" + digest[:40])

    def run(self, plan: list[tuple[int, str]]) -> None:
        handlers = {"fill": self.fill, "fiat_deposit": self.fiat_deposit, "fiat_withdrawal": self.fiat_withdrawal,
                    "receive": self.receive, "send": self.send,
                    "pending_send": lambda t: self.send(t, "pending")}
        for t, kind in plan:
            self.walk()
            handler = handlers.get(kind)
            if handler is not None:
                handler(t)
            else:
                self.reward(t, kind)
        if any(v < 0 for v in self.bal.values()):  # pragma: no cover - the generator's own invariant
            raise AssertionError(f"negative balance generated: {self.bal}")


def _plan(rng: Random, start_s: int, end_s: int, sizes: dict[str, int]) -> list[tuple[int, str]]:
    kinds = [kind for kind, n in sizes.items() for _ in range(n)]
    rng.shuffle(kinds)
    times = sorted(rng.randint(start_s, end_s) for _ in kinds)
    return list(zip(times, kinds, strict=True))


def generate_coinbase_history(seed: int = 1, *, fills: int = 300, years: float = 2, fiat_deposits: int = 6,
                              fiat_withdrawals: int = 2, receives: int = 10, sends: int = 8,
                              staking_rewards: int = 40, inflation_rewards: int = 6, interest: int = 12,
                              start_ms: int = START_MS) -> CoinbaseHistory:
    """A deterministic history for ``seed``; the first event is a USD deposit, the second a USDC receive."""
    if min(fills, fiat_deposits) < 1 or years <= 0:
        raise ValueError("a Coinbase history needs at least one fill, one fiat deposit and a positive span")
    rng = Random(f"coinbase:{seed}")
    start_s = start_ms // 1000
    end_s = start_s + int(years * YEAR_S)
    accounts = {c: CbAccount(str(uuid.UUID(int=rng.getrandbits(128), version=4)), c, start_ms - 86_400_000 * (i + 1))
                for i, c in enumerate(CURRENCIES)}
    gen = _Generator(rng, accounts, {}, 1)
    gen.fiat_deposit(start_s)
    gen.book(start_s + 3600, "USDC", "receive", Decimal("2500.000000"), tx_hash=gen.hash())
    gen.run(_plan(rng, start_s + 7200, end_s, {
        "fill": fills, "fiat_deposit": fiat_deposits - 1, "fiat_withdrawal": fiat_withdrawals,
        "receive": receives, "send": sends, "staking_reward": staking_rewards,
        "inflation_reward": inflation_rewards, "interest": interest}))
    return CoinbaseHistory(tuple(accounts.values()), tuple(sorted(gen.fills, key=lambda f: f.sequence_us)),
                           tuple(gen.txs), start_ms, end_s * 1000, seed)


def generate_coinbase_activity(history: CoinbaseHistory, seed: int, *, days: int = 30, fills: int = 5,
                               staking_rewards: int = 3, interest: int = 1, receives: int = 1, sends: int = 0,
                               pending_sends: int = 0) -> CbActivity:
    """New records after ``history.end_ms`` that keep every balance >= 0 (pending sends stay pending)."""
    rng = Random(f"coinbase-activity:{history.seed}:{seed}")
    start_s = history.end_ms // 1000 + 60
    gen = _Generator(rng, {a.currency: a for a in history.accounts},
                     {c: history.balance(c) for c in CURRENCIES}, max((t.seq for t in history.transactions),
                                                                       default=0) + 1)
    gen.run(_plan(rng, start_s, start_s + days * 86_400, {
        "fill": fills, "staking_reward": staking_rewards, "interest": interest, "receive": receives,
        "send": sends, "pending_send": pending_sends}))
    return CbActivity(tuple(gen.fills), tuple(gen.txs))
