"""A user's whole (synthetic) Coinbase history: Advanced Trade fills and the v2 transactions of every wallet.

Coinbase keeps one wallet ("account") per currency. The v2 Transaction resource (Coinbase App docs, Track APIs,
"Transactions") is "an event on the account"; its ``amount`` is signed ("positive (credit) or negative (debit)"),
so a wallet's balance is the sum of its transactions. The types generated here, from that page's type table:

* ``advanced_trade_fill`` ("Fills for an advanced trade order"): one row in the base and one in the quote wallet
  per fill. The fill itself is served by Advanced Trade "List Fills": ``price``, ``size`` (base units, or quote
  units when ``size_in_quote``), ``commission`` in the quote currency; a buy costs price x size + commission, a
  sell yields price x size - commission.
* ``fiat_deposit`` / ``fiat_withdrawal`` (USD), ``receive`` (crypto in), ``send`` (crypto out: ``amount`` is
  ``network.transaction_amount`` + ``network.transaction_fee``, the sample in ccxt's coinbase ``parse_transaction``
  has -14.008308 = 10 + 4.008308), ``staking_reward``, ``inflation_reward`` and ``interest`` (USDC rewards).

A pending ``send`` is already taken from the balance (the funds are held); a pending credit is not yet added.
``expected_totals`` and ``counts`` state what an import must find; ``coinbase_generator`` builds histories.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CbCurrency:
    code: str
    name: str
    exponent: int
    fiat: bool
    usd: Decimal  # reference price the generator's random walk starts from
    network: str = ""  # the v2 ``network.network_name`` of sends and receives
    network_fee: Decimal = ZERO  # charged in the currency itself, on top of what is sent
    color: str = "#0052FF"

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.exponent)


CURRENCIES: dict[str, CbCurrency] = {c.code: c for c in (
    CbCurrency("USD", "US Dollar", 2, True, Decimal(1)),
    CbCurrency("BTC", "Bitcoin", 8, False, Decimal(30000), "bitcoin", Decimal("0.00005000"), "#F7931A"),
    CbCurrency("ETH", "Ethereum", 8, False, Decimal(2000), "ethereum", Decimal("0.00080000"), "#627EEA"),
    CbCurrency("USDC", "USDC", 6, False, Decimal(1), "ethereum", Decimal("1.500000"), "#2775CA"),
    CbCurrency("SOL", "Solana", 9, False, Decimal(60), "solana", Decimal("0.000005000"), "#9945FF"),
    CbCurrency("DOGE", "Dogecoin", 8, False, Decimal("0.08"), "dogecoin", Decimal("1.00000000"), "#C2A633"),
)}


@dataclass(frozen=True, slots=True)
class CbProduct:
    base: str
    quote: str
    size_decimals: int  # base_increment = 10^-size_decimals

    @property
    def id(self) -> str:
        return f"{self.base}-{self.quote}"


PRODUCTS: tuple[CbProduct, ...] = (*(CbProduct(b, q, d) for b, d in (("BTC", 8), ("ETH", 8), ("SOL", 3))
                                     for q in ("USD", "USDC")), CbProduct("DOGE", "USD", 1))
TRADED = tuple(p for p in PRODUCTS if p.base != "DOGE")  # DOGE: a listed market and a wallet, never used


@dataclass(frozen=True, slots=True)
class CbAccount:
    uuid: str  # the same id in v2 (``id``) and v3 (``uuid``)
    currency: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class CbFill:
    """One Advanced Trade fill as List Fills returns it; times in microseconds."""

    entry_id: str
    trade_id: str
    order_id: str
    product_id: str
    side: str  # BUY | SELL
    price: str
    size: str
    commission: str
    trade_us: int
    sequence_us: int
    liquidity: str  # MAKER | TAKER
    size_in_quote: bool = False

    @property
    def base(self) -> str:
        return self.product_id.split("-")[0]

    @property
    def quote(self) -> str:
        return self.product_id.split("-")[1]

    @property
    def timestamp_ms(self) -> int:
        return self.trade_us // 1000

    @property
    def base_amount(self) -> Decimal:
        return Decimal(self.size) / Decimal(self.price) if self.size_in_quote else Decimal(self.size)

    @property
    def cost(self) -> Decimal:
        return Decimal(self.size) if self.size_in_quote else Decimal(self.price) * Decimal(self.size)

    @property
    def changes(self) -> dict[str, Decimal]:
        """What the fill does to the base and the quote wallet."""
        if self.side == "BUY":
            return {self.base: self.base_amount, self.quote: -(self.cost + Decimal(self.commission))}
        return {self.base: -self.base_amount, self.quote: self.cost - Decimal(self.commission)}


@dataclass(frozen=True, slots=True)
class CbTransaction:
    """One v2 transaction of one wallet; ``seq`` orders the rows booked in the same second."""

    id: str
    account: str
    currency: str
    type: str
    status: str  # completed | pending | failed | canceled
    amount: str  # signed balance change
    created_s: int
    native_usd: str
    seq: int
    network_amount: str = ""  # sends: what left the wallet on chain (amount = -(network_amount + network_fee))
    network_fee: str = ""
    tx_hash: str = ""
    address: str = ""
    fill: str = ""  # advanced_trade_fill rows: the fill's entry_id

    @property
    def change(self) -> Decimal:
        return Decimal(self.amount)

    @property
    def timestamp_ms(self) -> int:
        return self.created_s * 1000

    @property
    def holds(self) -> bool:
        """Whether the row is part of the wallet's balance (completed, or a pending debit that is held)."""
        return self.status == "completed" or (self.status == "pending" and self.change < 0)


@dataclass(frozen=True, slots=True)
class CbActivity:
    fills: tuple[CbFill, ...] = ()
    transactions: tuple[CbTransaction, ...] = ()


@dataclass(frozen=True)
class CoinbaseHistory:
    """Everything the Coinbase simulator serves."""

    accounts: tuple[CbAccount, ...]
    fills: tuple[CbFill, ...]
    transactions: tuple[CbTransaction, ...]
    start_ms: int
    end_ms: int
    seed: int = 1
    user_id: str = "6c0ad6a6-0000-5000-8000-00000000c0b1"
    portfolio_uuid: str = "0a1b2c3d-0000-4000-8000-0000000000aa"
    products: tuple[CbProduct, ...] = PRODUCTS
    currencies: tuple[CbCurrency, ...] = field(default_factory=lambda: tuple(CURRENCIES.values()))

    @cached_property
    def account_by_id(self) -> dict[str, CbAccount]:
        return {a.uuid: a for a in self.accounts}

    @cached_property
    def fill_by_entry(self) -> dict[str, CbFill]:
        return {f.entry_id: f for f in self.fills}

    @cached_property
    def _by_account(self) -> dict[str, list[CbTransaction]]:
        rows: dict[str, list[CbTransaction]] = {a.uuid: [] for a in self.accounts}
        for tx in sorted(self.transactions, key=lambda t: (t.created_s, t.seq)):
            rows[tx.account].append(tx)
        return rows

    def transactions_of(self, account: str) -> list[CbTransaction]:
        """The wallet's transactions, oldest first (Coinbase's ``order=asc``)."""
        return self._by_account[account]

    def balance(self, currency: str) -> Decimal:
        """The wallet's balance as Coinbase shows it (pending debits are already held)."""
        return sum((t.change for t in self.transactions if t.currency == currency and t.holds), ZERO)

    def expected_totals(self) -> dict[str, Decimal]:
        """Per-asset sum of everything completed: what a complete import's ledger must add up to."""
        totals: dict[str, Decimal] = {}
        for tx in self.transactions:
            if tx.status == "completed":
                totals[tx.currency] = totals.get(tx.currency, ZERO) + tx.change
        return {c: v for c, v in totals.items() if v}

    def counts(self) -> Counter[str]:
        """``fills`` and ``ledger`` (completed v2 rows), plus completed rows per v2 type."""
        done = [t for t in self.transactions if t.status == "completed"]
        counts = Counter(t.type for t in done)
        counts.update(fills=len(self.fills), ledger=len(done))
        return counts

    def with_added(self, activity: CbActivity) -> CoinbaseHistory:
        fills = tuple(sorted((*self.fills, *activity.fills), key=lambda f: f.sequence_us))
        end = max([self.end_ms, *(f.timestamp_ms for f in activity.fills),
                   *(t.timestamp_ms for t in activity.transactions)])
        return replace(self, fills=fills, transactions=(*self.transactions, *activity.transactions), end_ms=end)

    def with_status(self, tx_id: str, status: str) -> CoinbaseHistory:
        """The history after transaction ``tx_id`` changed its status (a pending send completing, say)."""
        return replace(self, transactions=tuple(replace(t, status=status) if t.id == tx_id else t
                                                for t in self.transactions))


def plain(value: Decimal) -> str:
    """A decimal as Coinbase prints it: positional notation, never ``1E-7``."""
    return format(value, "f")


def iso(seconds: int, micros: int | None = None) -> str:
    """Coinbase's RFC 3339 times: whole seconds for v2 (``...Z``), microseconds for fills."""
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{micros:06d}Z" if micros is not None else f"{text}Z"


def iso_us(micros: int) -> str:
    return iso(micros // 1_000_000, micros % 1_000_000)
