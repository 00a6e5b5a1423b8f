"""A user's whole (synthetic) KuCoin spot history: fills, deposits, withdrawals and account ledgers.

KuCoin keeps two spot wallets per user: ``MAIN`` (funding: deposits, withdrawals, rewards land here) and
``TRADE`` (spot trading). Every balance change is an account-ledger row (``/api/v1/accounts/ledgers``) with a
positive ``amount``, a ``direction`` (in/out), the wallet (``accountType``), the resulting ``balance`` and a
``bizType`` from KuCoin's documented list (the one ccxt's ``parse_ledger_entry_type`` maps): ``Deposit``,
``Withdrawal``, ``Transfer`` (MAIN <-> TRADE), ``Trade_Exchange`` (one row per fill leg; the fee is charged on
the quote leg) and the reward types ``Rewards``, ``Other rewards``, ``KuCoin Bonus`` (ccxt: ``bonus``).

Fills (``/api/v1/fills``) carry ``size`` (base), ``funds`` (quote, excluding the fee) and ``fee`` in
``feeCurrency`` (the quote here). A withdrawal's ``amount`` excludes its ``fee``: the wallet falls by
amount + fee. Deposit rows have no id (KuCoin's), only ``walletTxId`` = ``hash@address``.

High-frequency (HF) accounts (``hf=True``; KuCoin docs "Get Account Type - Spot",
https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-account-type-spot): spot trading happens
in the ``TRADE_HF`` wallet instead of ``TRADE``. Its ledger rows (``/api/v1/hf/accounts/ledgers``, docs "Get
Account Ledgers - trade_hf") use upper-case ``bizType``s ``TRANSFER`` / ``TRADE_EXCHANGE``, string ``createdAt``
and numeric ids that grow with time (the ``lastId`` cursor); HF fills (``/api/v1/hf/fills``, docs "Get Trade
History") carry a numeric record ``id`` and ``tradeId``. An HF history trades only ``HF_TRADED`` among the many
``LISTED`` markets, so an importer has to find the traded symbols.

``generate_kucoin_history`` builds a deterministic, funded history for a seed (no wallet ever negative, exact
decimals); ``extend_history`` continues it in a later time range; ``expected_totals`` and ``counts`` state what
an import must find.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

DAY_MS = 86_400_000
INCOME_TYPES = ("Rewards", "Other rewards", "KuCoin Bonus")
# symbol -> (base, quote, baseIncrement, priceIncrement, reference price)
MARKETS: dict[str, tuple[str, str, str, str, str]] = {
    "BTC-USDT": ("BTC", "USDT", "0.00000001", "0.1", "60000"),
    "ETH-USDT": ("ETH", "USDT", "0.0000001", "0.01", "3000"),
    "KCS-USDT": ("KCS", "USDT", "0.0001", "0.001", "10"),
    "SOL-USDT": ("SOL", "USDT", "0.0001", "0.001", "150"),
    "ETH-BTC": ("ETH", "BTC", "0.0000001", "0.000001", "0.05"),
}
# Listed but never traded by the generated histories: (base, quote, baseIncrement, priceIncrement).
LISTED: dict[str, tuple[str, str, str, str]] = {
    f"{b}-{q}": (b, q, "0.0001", "0.00000001")
    for b, q in (("SOL", "BTC"), ("KCS", "BTC"), ("SOL", "ETH"), ("KCS", "ETH"), ("XRP", "USDT"), ("ADA", "USDT"),
                 ("DOGE", "USDT"), ("TRX", "USDT"), ("LTC", "USDT"), ("DOT", "USDT"), ("USDC", "USDT"),
                 ("BTC", "USDC"), ("ETH", "USDC"), ("SOL", "USDC"), ("XRP", "BTC"), ("ADA", "BTC"), ("LTC", "BTC"),
                 ("DOT", "BTC"), ("TRX", "BTC"), ("XRP", "ETH"), ("ADA", "ETH"), ("BTC", "EUR"), ("ETH", "EUR"))}
HF_TRADED = ("BTC-USDT", "ETH-BTC", "ETH-USDT", "KCS-USDT")
CHAINS = {"USDT": "trx", "BTC": "btc", "ETH": "eth", "KCS": "kcc", "SOL": "sol", "XRP": "xrp", "ADA": "ada",
          "DOGE": "doge", "TRX": "trx", "LTC": "ltc", "DOT": "dot", "USDC": "eth", "EUR": "sepa"}
WITHDRAW_FEE = {"USDT": Decimal("1"), "BTC": Decimal("0.0005"), "ETH": Decimal("0.002"), "KCS": Decimal("0.01"),
                "SOL": Decimal("0.01")}
FEE_RATE = Decimal("0.001")
E8 = Decimal("0.00000001")


def fmt(value: Decimal) -> str:
    """KuCoin's plain decimal text (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0",) else "0"


@dataclass(frozen=True, slots=True)
class KucoinFill:
    symbol: str
    trade_id: str
    order_id: str
    side: str
    liquidity: str
    price: Decimal
    size: Decimal
    funds: Decimal
    fee: Decimal
    fee_currency: str
    created_at: int
    record_id: int = 0  # HF fills only: the numeric record id (lastId cursor); 0 = classic fill

    def row(self) -> dict[str, Any]:
        if self.record_id:  # /api/v1/hf/fills shape: numeric ids, tax fields
            return {"id": self.record_id, "orderId": self.order_id, "counterOrderId": self.order_id[::-1],
                    "tradeId": int(self.trade_id), "symbol": self.symbol, "side": self.side,
                    "liquidity": self.liquidity, "type": "limit", "forceTaker": self.liquidity == "taker",
                    "price": fmt(self.price), "size": fmt(self.size), "funds": fmt(self.funds), "fee": fmt(self.fee),
                    "feeRate": fmt(FEE_RATE), "feeCurrency": self.fee_currency, "stop": "", "tradeType": "TRADE",
                    "taxRate": "0", "tax": "0", "createdAt": self.created_at}
        return {"symbol": self.symbol, "tradeId": self.trade_id, "orderId": self.order_id,
                "counterOrderId": self.order_id[::-1], "side": self.side, "liquidity": self.liquidity,
                "forceTaker": self.liquidity == "taker", "price": fmt(self.price), "size": fmt(self.size),
                "funds": fmt(self.funds), "fee": fmt(self.fee), "feeRate": fmt(FEE_RATE),
                "feeCurrency": self.fee_currency, "stop": "", "tradeType": "TRADE", "type": "limit",
                "createdAt": self.created_at}


@dataclass(frozen=True, slots=True)
class KucoinTransfer:
    kind: str  # deposit | withdrawal
    id: str
    currency: str
    amount: Decimal
    fee: Decimal
    address: str
    tx_hash: str
    status: str  # SUCCESS | FAILURE | PROCESSING
    created_at: int

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"address": self.address, "memo": "", "currency": self.currency,
                               "chain": CHAINS[self.currency], "amount": fmt(self.amount), "fee": fmt(self.fee),
                               "walletTxId": f"{self.tx_hash}@{self.address}" if self.kind == "deposit"
                               else self.tx_hash, "isInner": False, "status": self.status, "remark": "",
                               "createdAt": self.created_at, "updatedAt": self.created_at + 60_000}
        if self.kind == "deposit":
            row["arrears"] = False
        else:
            row = {"id": self.id, **row}
        return row


@dataclass(frozen=True, slots=True)
class KucoinLedgerEntry:
    id: str
    currency: str
    amount: Decimal  # signed here; the API shows abs(amount) and a direction
    fee: Decimal
    balance: Decimal
    account_type: str  # MAIN | TRADE | TRADE_HF
    biz_type: str
    created_at: int
    context: str = ""

    def row(self) -> dict[str, Any]:
        if self.account_type == "TRADE_HF":  # /api/v1/hf/accounts/ledgers shape
            return {"id": self.id, "currency": self.currency, "amount": fmt(abs(self.amount)), "fee": fmt(self.fee),
                    "tax": "0", "balance": fmt(self.balance), "accountType": self.account_type,
                    "bizType": self.biz_type, "direction": "out" if self.amount < 0 else "in",
                    "createdAt": str(self.created_at), "context": self.context}
        return {"id": self.id, "currency": self.currency, "amount": fmt(abs(self.amount)), "fee": fmt(self.fee),
                "balance": fmt(self.balance), "accountType": self.account_type, "bizType": self.biz_type,
                "direction": "out" if self.amount < 0 else "in", "createdAt": self.created_at,
                "context": self.context}


@dataclass(frozen=True, slots=True)
class KucoinHistory:
    fills: tuple[KucoinFill, ...]
    deposits: tuple[KucoinTransfer, ...]
    withdrawals: tuple[KucoinTransfer, ...]
    ledger: tuple[KucoinLedgerEntry, ...]
    start_ms: int
    end_ms: int
    seed: int
    hf: bool = False

    def wallets(self) -> dict[tuple[str, str], Decimal]:
        """(accountType, currency) -> balance, from the ledger."""
        out: dict[tuple[str, str], Decimal] = {}
        for e in self.ledger:
            key = (e.account_type, e.currency)
            out[key] = out.get(key, Decimal(0)) + e.amount - e.fee
        return out

    def expected_totals(self) -> dict[str, Decimal]:
        """Per-asset net change an import must book (transfers between the wallets cancel out)."""
        out: dict[str, Decimal] = {}
        for (_, currency), value in self.wallets().items():
            out[currency] = out.get(currency, Decimal(0)) + value
        return {c: v for c, v in out.items() if v}

    def counts(self) -> Counter[str]:
        return Counter({"trades": len(self.fills),
                        "deposits": sum(d.status == "SUCCESS" for d in self.deposits),
                        "withdrawals": sum(w.status == "SUCCESS" for w in self.withdrawals),
                        "deposit_rows": len(self.deposits), "withdrawal_rows": len(self.withdrawals),
                        "income": sum(e.biz_type in INCOME_TYPES for e in self.ledger), "ledger": len(self.ledger)})

    def with_added(self, more: KucoinHistory) -> KucoinHistory:
        return replace(self, fills=self.fills + more.fills, deposits=self.deposits + more.deposits,
                       withdrawals=self.withdrawals + more.withdrawals, ledger=self.ledger + more.ledger,
                       end_ms=max(self.end_ms, more.end_ms))


@dataclass
class _Gen:
    rng: random.Random
    seed: int
    hf: bool = False
    wallets: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    fills: list[KucoinFill] = field(default_factory=list)
    deposits: list[KucoinTransfer] = field(default_factory=list)
    withdrawals: list[KucoinTransfer] = field(default_factory=list)
    ledger: list[KucoinLedgerEntry] = field(default_factory=list)
    seq: int = 0

    @property
    def trade(self) -> str:
        """The spot trading wallet: TRADE, or TRADE_HF for a high-frequency account."""
        return "TRADE_HF" if self.hf else "TRADE"

    def biz(self, account: str, name: str) -> str:
        """HF ledger rows spell their business types in upper case (TRANSFER, TRADE_EXCHANGE)."""
        return name.upper() if account == "TRADE_HF" else name

    def hf_id(self, t: int) -> int:
        """A numeric id that grows with time (KuCoin's HF ids; the ``lastId`` cursor relies on it)."""
        self.seq = (self.seq + 1) % 1000
        return t * 1000 + self.seq

    def oid(self, digits: int = 24) -> str:
        while True:
            value = "".join(self.rng.choices("0123456789abcdef", k=digits))
            if value not in self.used:
                self.used.add(value)
                return value

    def bal(self, account: str, currency: str) -> Decimal:
        return self.wallets.get((account, currency), Decimal(0))

    def book(self, t: int, account: str, currency: str, amount: Decimal, biz: str, fee: Decimal = Decimal(0),
             context: dict[str, str] | None = None) -> None:
        after = self.bal(account, currency) + amount - fee
        if after < 0:
            raise RuntimeError(f"kucoin generator: {account} {currency} would go negative at {t}")
        self.wallets[(account, currency)] = after
        entry_id = str(self.rng.randrange(10**14, 10**15))
        if account == "TRADE_HF":
            entry_id = str(self.hf_id(t))
        self.ledger.append(KucoinLedgerEntry(entry_id, currency, amount, fee, after, account,
                                             self.biz(account, biz), t, json.dumps(context, separators=(",", ":"))
                                             if context else ""))

    def deposit(self, t: int, currency: str, amount: Decimal) -> None:
        tx = KucoinTransfer("deposit", "", currency, amount, Decimal(0), "addr-" + self.oid(16), "0x" + self.oid(40),
                            "SUCCESS", t)
        self.deposits.append(tx)
        self.book(t, "MAIN", currency, amount, "Deposit")
        self.book(t + 1, "MAIN", currency, -amount, "Transfer")
        self.book(t + 1, self.trade, currency, amount, "Transfer")

    def withdraw(self, t: int) -> None:
        held = sorted(c for (a, c), v in self.wallets.items() if a == self.trade and v > WITHDRAW_FEE[c] * 20)
        if not held:
            return
        currency = self.rng.choice(held)
        fee = WITHDRAW_FEE[currency]
        amount = (self.bal(self.trade, currency) * self.rng.randint(5, 25) / 100).quantize(E8, ROUND_DOWN)
        failed = self.rng.random() < 0.15
        self.withdrawals.append(KucoinTransfer("withdrawal", self.oid(), currency, amount, fee,
                                               "addr-" + self.oid(16), "" if failed else "0x" + self.oid(40),
                                               "FAILURE" if failed else "SUCCESS", t))
        if not failed:  # a refused withdrawal moves nothing
            self.book(t - 2, self.trade, currency, -(amount + fee), "Transfer")
            self.book(t - 2, "MAIN", currency, amount + fee, "Transfer")
            self.book(t, "MAIN", currency, -amount, "Withdrawal", fee)

    def reward(self, t: int) -> None:
        currency = self.rng.choice(("KCS", "USDT", "ETH"))
        amount = Decimal(self.rng.randrange(1, 5000)) * (E8 * 1000 if currency == "ETH" else Decimal("0.0001"))
        self.book(t, "MAIN", currency, amount, self.rng.choice(INCOME_TYPES))

    def order(self, t: int, fills: int) -> None:
        symbols = sorted(HF_TRADED if self.hf else MARKETS)
        for symbol in self.rng.sample(symbols, len(symbols)):
            if self._try_order(t, symbol, fills):
                return

    def _try_order(self, t: int, symbol: str, fills: int) -> bool:
        base, quote, lot_text, tick_text, ref = MARKETS[symbol]
        lot, tick = Decimal(lot_text), Decimal(tick_text)
        wave = Decimal(self.rng.randint(-300, 300)) / 10000 + Decimal((t // DAY_MS) % 40 - 20) / 400
        price = (Decimal(ref) * (1 + wave)).quantize(tick)
        have_quote, have_base = self.bal(self.trade, quote), self.bal(self.trade, base)
        buy = have_quote > price * lot * 1000 and (have_base < lot * 1000 or self.rng.random() < 0.55)
        share = Decimal(self.rng.randint(2, 15) if buy else self.rng.randint(5, 40)) / 100
        budget = have_quote / price * share if buy else have_base * share
        units = int(budget.quantize(lot, ROUND_DOWN) / lot)
        if units < fills * 10:
            return False
        order_id, liquidity = self.oid(), self.rng.choice(("maker", "taker"))
        for i in range(fills):
            size = lot * (units // fills)
            fill_price = price + tick * i if buy else price - tick * i
            funds = size * fill_price
            fee = (funds * FEE_RATE).quantize(E8)
            ts = t + i * self.rng.randint(0, 3)  # fills of one order may share a millisecond
            trade_id, record_id = self.oid(), 0
            if self.hf:
                record_id = self.hf_id(ts)
                trade_id = str(record_id + 5 * 10**15)
            ctx = {"symbol": symbol, "orderId": order_id, "tradeId": trade_id}
            sign = 1 if buy else -1
            self.book(ts, self.trade, base, sign * size, "Trade_Exchange", context=ctx)
            self.book(ts, self.trade, quote, -sign * funds, "Trade_Exchange", fee, context=ctx)
            self.fills.append(KucoinFill(symbol, trade_id, order_id, "buy" if buy else "sell", liquidity, fill_price,
                                         size, funds, fee, quote, ts, record_id))
        return True

    def run(self, events: list[tuple[int, str]]) -> None:
        for t, kind in sorted(events):
            if kind.startswith("deposit:"):
                _, currency, amount = kind.split(":")
                self.deposit(t, currency, Decimal(amount))
            elif kind == "withdraw":
                self.withdraw(t)
            elif kind == "reward":
                self.reward(t)
            else:
                self.order(t, int(kind.removeprefix("order:")))


def _times(rng: random.Random, lo: int, hi: int, n: int, taken: set[int]) -> list[int]:
    out: list[int] = []
    while len(out) < n:
        t = rng.randrange(lo, hi) // 10 * 10  # 10 ms apart: room for an order's fills and a transfer's legs
        if t not in taken:
            taken.add(t)
            out.append(t)
    return out


def _events(gen: _Gen, lo: int, hi: int, *, fills: int, deposits: int, withdrawals: int, rewards: int,
            taken: set[int]) -> list[tuple[int, str]]:
    events: list[tuple[int, str]] = []
    left = fills
    orders: list[int] = []
    while left > 0:
        n = min(gen.rng.choice((1, 1, 1, 2, 3)), left)
        orders.append(n)
        left -= n
    events += [(t, f"order:{n}") for t, n in zip(_times(gen.rng, lo, hi, len(orders), taken), orders, strict=True)]
    amounts = {"USDT": "2500", "BTC": "0.05", "ETH": "0.8", "KCS": "120", "SOL": "9"}
    for t in _times(gen.rng, lo, hi, deposits, taken):
        currency = gen.rng.choice(sorted(amounts))
        events.append((t, f"deposit:{currency}:{Decimal(amounts[currency]) * gen.rng.randint(1, 4)}"))
    events += [(t, "withdraw") for t in _times(gen.rng, lo, hi, withdrawals, taken)]
    events += [(t, "reward") for t in _times(gen.rng, lo, hi, rewards, taken)]
    return events


def generate_kucoin_history(*, seed: int = 1, days: int = 120, fills: int = 300, deposits: int = 8,
                            withdrawals: int = 5, rewards: int = 30, end_ms: int, hf: bool = False) -> KucoinHistory:
    """A funded history of ``days`` days ending at ``end_ms`` (first a large USDT, BTC and ETH deposit).

    ``hf``: a high-frequency account, trading ``HF_TRADED`` in its TRADE_HF wallet."""
    gen = _Gen(random.Random(f"kucoin:{seed}"), seed, hf)
    start = end_ms - days * DAY_MS
    taken: set[int] = set()
    first = [(start + 3_600_000, "deposit:USDT:50000"), (start + 7_200_000, "deposit:BTC:0.4"),
             (start + 10_800_000, "deposit:ETH:6")]
    taken.update(t for t, _ in first)
    gen.run(first + _events(gen, start + 4 * 3_600_000, end_ms - 60_000, fills=fills, deposits=deposits,
                            withdrawals=withdrawals, rewards=rewards, taken=taken))
    return KucoinHistory(tuple(gen.fills), tuple(gen.deposits), tuple(gen.withdrawals), tuple(gen.ledger),
                         start, end_ms, seed, hf)


def extend_history(history: KucoinHistory, *, seed: int, start_ms: int, end_ms: int, fills: int = 10,
                   deposits: int = 1, withdrawals: int = 1, rewards: int = 2) -> KucoinHistory:
    """New activity in [start_ms, end_ms) continuing ``history`` (same wallets, fresh ids)."""
    gen = _Gen(random.Random(f"kucoin:{history.seed}:{seed}:{start_ms}"), history.seed, history.hf,
               dict(history.wallets()))
    gen.used = {f.trade_id for f in history.fills} | {f.order_id for f in history.fills}
    gen.run(_events(gen, start_ms, end_ms, fills=fills, deposits=deposits, withdrawals=withdrawals,
                    rewards=rewards, taken=set()))
    return KucoinHistory(tuple(gen.fills), tuple(gen.deposits), tuple(gen.withdrawals), tuple(gen.ledger),
                         start_ms, end_ms, history.seed, history.hf)
