"""A user's whole (synthetic) Bybit history: a unified trading account (UTA) with spot trades, deposits,
withdrawals, income in the transaction log, and a perpetual position whose funding is *not* spot activity.

Records keep Bybit v5's own shapes and units (times in int ms, amounts as exact decimal strings, Bybit's status
codes and log types), so the simulator can serve them verbatim and tests can compare what ccxt imports with
them. How Bybit books money, which this history follows (Bybit v5 docs: "Get Transaction Log", "Get Deposit
Records (on-chain)", "Get Withdrawal Records", "Get Trade History"):

* Deposits arrive in the Funding wallet (FUND); the user moves them into the unified wallet, which the
  transaction log shows as ``TRANSFER_IN``. Withdrawals leave from FUND after a ``TRANSFER_OUT`` of amount + fee.
* A spot execution writes two ``TRADE`` rows to the transaction log, one per coin; its fee is charged in the
  coin received (base when buying, quote when selling) — ``execFee`` on the execution, ``fee`` on the log row.
* Perpetual funding is an execution with ``execType: Funding`` (category ``linear``) plus a ``SETTLEMENT`` log
  row that moves USDT in the unified wallet. It is derivatives activity: it changes the wallet balance but is
  no spot trade, so ``expected_totals`` (what a spot tax ledger must add up to) leaves it out while
  ``wallet_balances`` (what ``/v5/account/wallet-balance`` reports) includes it.
* Income shows up only in the log: ``BONUS``, ``FEE_REFUND``, ``AIRDRP`` credit, ``INTEREST`` (borrowing
  interest) debits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

CREDITED_DEPOSIT = frozenset({3})  # 0 unknown, 1 toBeConfirmed, 2 processing, 3 success, 4 failed
DEBITED_WITHDRAWAL = frozenset({"success", "BlockchainConfirmed"})  # SecurityCheck, Pending: not final
INCOME_LOG_TYPES = ("BONUS", "FEE_REFUND", "AIRDRP")
COST_LOG_TYPES = ("INTEREST",)
INTERNAL_LOG_TYPES = ("TRANSFER_IN", "TRANSFER_OUT")
DERIVATIVE_LOG_TYPES = ("SETTLEMENT",)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BybitMarket:
    """One instrument of ``/v5/market/instruments-info``; ``listed=False``: delisted (absent), trades still served."""

    symbol: str  # exchange id, "BTCUSDT" (a spot market and the linear perpetual share it)
    base: str
    quote: str
    base_precision: str  # lotSizeFilter.basePrecision (spot) / qtyStep (linear)
    tick: str  # priceFilter.tickSize
    category: str = "spot"  # spot | linear
    listed: bool = True


@dataclass(frozen=True, slots=True)
class BybitExecution:
    """One row of ``/v5/execution/list``: a spot fill, or a perpetual's funding (``exec_type`` Funding)."""

    exec_id: str
    order_id: str
    category: str  # spot | linear
    symbol: str
    side: str  # Buy | Sell
    exec_type: str  # Trade | Funding
    qty: str
    price: str
    value: str  # execValue = qty * price, exact
    fee: str  # execFee; Funding: positive = paid, negative = received
    fee_currency: str  # spot: the coin received; "" for linear
    fee_rate: str
    time: int
    seq: int
    is_maker: bool = False
    order_type: str = "Market"


@dataclass(frozen=True, slots=True)
class BybitDeposit:
    """One row of ``/v5/asset/deposit/query-record`` (on-chain deposits into the Funding wallet)."""

    id: str
    coin: str
    chain: str
    amount: str
    tx_id: str
    status: int
    to_address: str
    time: int  # successAt (ms)


@dataclass(frozen=True, slots=True)
class BybitWithdrawal:
    """One row of ``/v5/asset/withdraw/query-record``; ``withdraw_type`` 0 on chain, 1 off chain (to a Bybit UID)."""

    withdraw_id: str
    coin: str
    chain: str
    amount: str
    fee: str  # withdrawFee, on top of amount
    tx_id: str
    status: str
    to_address: str
    time: int  # createTime (ms)
    update_time: int
    withdraw_type: int = 0


@dataclass(frozen=True, slots=True)
class BybitLogEntry:
    """One row of ``/v5/account/transaction-log`` (the unified wallet's balance changes)."""

    id: str
    type: str  # TRADE, TRANSFER_IN, TRANSFER_OUT, SETTLEMENT, BONUS, FEE_REFUND, AIRDRP, INTEREST, ...
    currency: str
    change: str  # the whole balance change, fee included
    cash_balance: str  # the wallet balance of ``currency`` after this row
    time: int
    category: str = ""  # spot | linear | "" (not trading)
    symbol: str = ""
    side: str = "None"
    qty: str = ""
    size: str = ""
    trade_price: str = ""
    funding: str = ""
    fee: str = "0"
    fee_rate: str = ""
    trade_id: str = ""
    order_id: str = ""


@dataclass(frozen=True)
class BybitHistory:
    markets: tuple[BybitMarket, ...]
    executions: tuple[BybitExecution, ...]  # by time, then seq
    deposits: tuple[BybitDeposit, ...]  # by time
    withdrawals: tuple[BybitWithdrawal, ...]  # by time
    log: tuple[BybitLogEntry, ...]  # by time, then id
    start_ms: int
    end_ms: int
    seed: int = 1
    uid: int = 290118

    @cached_property
    def _spot(self) -> dict[str, BybitMarket]:
        return {m.symbol: m for m in self.markets if m.category == "spot"}

    # -- views ---------------------------------------------------------------------------------------------
    def spot_market(self, symbol: str) -> BybitMarket:
        return self._spot[symbol]

    def spot_trades(self) -> list[BybitExecution]:
        return [e for e in self.executions if e.category == "spot" and e.exec_type == "Trade"]

    def fundings(self) -> list[BybitExecution]:
        return [e for e in self.executions if e.exec_type == "Funding"]

    def log_of(self, *types: str) -> list[BybitLogEntry]:
        return [e for e in self.log if e.type in types]

    def credited_deposits(self) -> list[BybitDeposit]:
        return [d for d in self.deposits if d.status in CREDITED_DEPOSIT]

    def debited_withdrawals(self) -> list[BybitWithdrawal]:
        return [w for w in self.withdrawals if w.status in DEBITED_WITHDRAWAL]

    # -- balances ------------------------------------------------------------------------------------------
    def spot_changes(self) -> list[tuple[int, str, Decimal]]:
        """Every change a spot tax ledger books, as (time, coin, delta), from the records themselves."""
        out: list[tuple[int, str, Decimal]] = []
        out += [(d.time, d.coin, Decimal(d.amount)) for d in self.credited_deposits()]
        out += [(w.time, w.coin, -Decimal(w.amount) - Decimal(w.fee)) for w in self.debited_withdrawals()]
        for e in self.spot_trades():
            out += [(e.time, coin, delta) for coin, delta in trade_effects(e, self.spot_market(e.symbol))]
        out += [(e.time, e.currency, Decimal(e.change)) for e in self.log_of(*INCOME_LOG_TYPES, *COST_LOG_TYPES)]
        return sorted(out, key=lambda c: c[0])

    def expected_totals(self, log_types: Iterable[str] | None = None) -> dict[str, Decimal]:
        """Per-asset sum of the spot history (ccxt unified codes = Bybit coin names here); non-zero only.

        ``log_types`` narrows the transaction-log income/cost rows counted (all of them by default)."""
        wanted = set(INCOME_LOG_TYPES + COST_LOG_TYPES if log_types is None else log_types)
        skipped = {e.id for e in self.log if e.type in INCOME_LOG_TYPES + COST_LOG_TYPES and e.type not in wanted}
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for _, coin, delta in self.spot_changes():
            totals[coin] += delta
        for e in self.log:
            if e.id in skipped:
                totals[e.currency] -= Decimal(e.change)
        return {c: v for c, v in totals.items() if v}

    def wallet_balances(self) -> dict[str, Decimal]:
        """The unified wallet after the last log row (funding settlements included): what wallet-balance shows."""
        last: dict[str, Decimal] = {}
        for e in self.log:
            last[e.currency] = Decimal(e.cash_balance)
        return {c: v for c, v in last.items() if v}

    def lowest_spot_balances(self) -> dict[str, Decimal]:
        """The minimum each coin's spot balance ever reached, replaying changes in time order (all >= 0)."""
        running: dict[str, Decimal] = defaultdict(Decimal)
        lowest: dict[str, Decimal] = {}
        for _, coin, delta in self.spot_changes():
            running[coin] += delta
            lowest[coin] = min(lowest.get(coin, running[coin]), running[coin])
        return lowest

    def with_added(self, *, executions: Iterable[BybitExecution] = (), log: Iterable[BybitLogEntry] = (),
                   deposits: Iterable[BybitDeposit] = (), withdrawals: Iterable[BybitWithdrawal] = ()) -> BybitHistory:
        """A new history with extra records (new activity); ``end_ms`` grows to cover them."""
        new_exec, new_log, new_dep, new_wd = tuple(executions), tuple(log), tuple(deposits), tuple(withdrawals)
        if {e.exec_id for e in new_exec} & {e.exec_id for e in self.executions}:
            raise ValueError("execution ids already used")
        times = [r.time for r in (*new_exec, *new_log, *new_dep, *new_wd)]
        return replace(
            self,
            executions=tuple(sorted(self.executions + new_exec, key=lambda e: (e.time, e.seq))),
            log=tuple(sorted(self.log + new_log, key=lambda e: (e.time, int(e.id)))),
            deposits=tuple(sorted(self.deposits + new_dep, key=lambda d: d.time)),
            withdrawals=tuple(sorted(self.withdrawals + new_wd, key=lambda w: w.time)),
            end_ms=max([self.end_ms, *times]),
        )


def trade_effects(e: BybitExecution, market: BybitMarket) -> list[tuple[str, Decimal]]:
    """Balance changes of one spot fill: the base and quote legs, then the fee in the coin received."""
    qty, value, fee = Decimal(e.qty), Decimal(e.value), Decimal(e.fee)
    if e.side == "Buy":
        return [(market.base, qty), (market.quote, -value), (e.fee_currency, -fee)]
    return [(market.base, -qty), (market.quote, value), (e.fee_currency, -fee)]


def generate_bybit_history(*, seed: int = 1, trades: int = 600, days: int = 400, deposits: int = 12,
                           withdrawals: int = 6, rewards: int = 12, interest: int = 0, fundings: int = 9,
                           pairs: int = 5, delisted: int = 1,
                           reward_types: tuple[str, ...] = ("BONUS", "FEE_REFUND"),
                           end_ms: int | None = None) -> BybitHistory:
    """A deterministic UTA history for ``seed`` (and ``end_ms``; by default the start of today, UTC).

    ``pairs`` spot markets against USDT carry ``trades`` fills (``delisted`` of them are delisted half-way,
    so their executions stay on record while the market is gone from instruments-info); the first
    deposit funds them and no balance ever goes negative. ``rewards`` log rows of ``reward_types`` (any of
    ``INCOME_LOG_TYPES``) and ``interest`` INTEREST debits; ``fundings`` 8-hourly funding executions of a
    BTCUSDT perpetual with their SETTLEMENT rows. One withdrawal in three goes off chain (withdrawType 1).
    """
    from importer.simulator.bybit_generator import build_history

    unknown = set(reward_types) - set(INCOME_LOG_TYPES)
    if unknown:
        raise ValueError(f"reward types must be among {INCOME_LOG_TYPES}, not {sorted(unknown)}")
    return build_history(seed=seed, trades=trades, days=days, deposits=deposits, withdrawals=withdrawals,
                         rewards=rewards, interest=interest, fundings=fundings, pairs=pairs, delisted=delisted,
                         reward_types=reward_types, end_ms=end_ms)
