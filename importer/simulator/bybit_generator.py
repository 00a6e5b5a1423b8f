"""The engine behind ``generate_bybit_history``: a chronological simulation of one Bybit unified account.

A history that tests can trust must be internally consistent. The simulation walks a time-ordered plan of
deposits, orders, withdrawals, income, interest and funding, sizing each event from the balances at that
moment, so no spot balance (nor the unified wallet, funding included) ever goes negative, whatever the seed.
Every amount is an exact ``Decimal`` printed as Bybit prints it (plain decimal text, no exponent): an execution's
``execValue`` is exactly ``execQty * execPrice`` and its fee exactly ``0.1 %`` of the coin received, as in the
spot sample of ccxt's static fixtures (0.000336 BTC bought -> execFee 0.000000336). Event times are distinct
seconds plus 2..989 ms, so the 1 ms transfer that follows a deposit (or precedes a withdrawal) never collides
with another event; funding settles on the 8-hour marks (00:00, 08:00, 16:00 UTC) like Bybit's perpetuals.
"""

from __future__ import annotations

import random
import time
from decimal import ROUND_DOWN, Decimal

from importer.simulator.bybit_history import (
    BybitDeposit,
    BybitExecution,
    BybitHistory,
    BybitLogEntry,
    BybitMarket,
    BybitWithdrawal,
    trade_effects,
)
from importer.simulator.prices import DAY_MS, market_rules, pair_price, usd_price

QUOTE = "USDT"
BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "AVAX", "DOT", "ADA", "LTC", "TRX", "NEAR", "ATOM", "APT")
DELISTED_BASES = ("FTM", "EOS", "MATIC")  # spot markets Bybit has since delisted or renamed
SPOT_FEE_RATE = Decimal("0.001")
# coin -> (chain, withdrawal fee); off-chain (internal) withdrawals are free.
CHAINS: dict[str, tuple[str, str]] = {
    "USDT": ("TRX", "1"), "BTC": ("BTC", "0.0002"), "ETH": ("ETH", "0.0012"), "SOL": ("SOL", "0.008"),
    "XRP": ("XRP", "0.25"), "DOGE": ("DOGE", "4"), "TRX": ("TRX", "1"), "LTC": ("LTC", "0.001"),
}
PERP_QTY = Decimal("0.01")  # the BTCUSDT perpetual position whose funding settles every 8 hours
EIGHT_HOURS = 8 * 3_600_000
_HEX = "0123456789abcdef"


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class _Simulation:
    def __init__(self, rng: random.Random, seed: int, markets: list[BybitMarket], delist_at: dict[str, int]) -> None:
        self.rng, self.seed, self.markets, self.delist_at = rng, seed, markets, delist_at
        self.spot: dict[str, Decimal] = {}  # what a spot tax ledger holds
        self.wallet: dict[str, Decimal] = {}  # the unified wallet (spot + derivatives cash flows)
        self.executions: list[BybitExecution] = []
        self.deposits: list[BybitDeposit] = []
        self.withdrawals: list[BybitWithdrawal] = []
        self.log: list[BybitLogEntry] = []
        self.seq = rng.randrange(800_000_000, 900_000_000)
        self.log_id = rng.randrange(1_000_000, 2_000_000)
        self.exec_id = rng.randrange(2_100_000_000_000_000_000, 2_200_000_000_000_000_000)

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def _book(self, t: int, coin: str, change: Decimal, kind: str, *, spot: bool = True, **fields: str) -> None:
        """Apply one change to the wallet (and the spot view) and write its transaction-log row."""
        if spot:
            self.spot[coin] = self.spot.get(coin, Decimal(0)) + change
        self.wallet[coin] = self.wallet.get(coin, Decimal(0)) + change
        self.log_id += self.rng.randrange(1, 40)
        self.log.append(BybitLogEntry(id=str(self.log_id), type=kind, currency=coin, change=_plain(change),
                                      cash_balance=_plain(self.wallet[coin]), time=t, **fields))

    def _hex(self, n: int) -> str:
        return "".join(self.rng.choice(_HEX) for _ in range(n))

    def _uuid(self) -> str:
        h = self._hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _address(self, chain: str) -> str:
        if chain in ("ETH", "BSC"):
            return "0x" + self._hex(40)
        return ("T" if chain == "TRX" else "bc1q" if chain == "BTC" else "") + self._hex(33)

    # -- events --------------------------------------------------------------------------------------------
    def deposit(self, t: int, index: int) -> None:
        coin = QUOTE if index == 0 or self.rng.random() < 0.7 else self.rng.choice(("BTC", "ETH"))
        usd = self.rng.randrange(8000, 15001, 500) if index == 0 else self.rng.randrange(200, 3001, 50)
        step = Decimal("0.01") if coin == QUOTE else Decimal("0.000001")
        amount = (Decimal(usd) / usd_price(coin, t, self.seed)).quantize(step, rounding=ROUND_DOWN)
        status = 4 if index == 3 else 3  # one deposit fails (Bybit status 4): listed, never credited
        chain = CHAINS.get(coin, ("ETH", "0"))[0]
        self.deposits.append(BybitDeposit(id=str(self.rng.randrange(10**7, 10**8)), coin=coin, chain=chain,
                                          amount=_plain(amount), tx_id=self._hex(64), status=status,
                                          to_address=self._address(chain), time=t))
        if status == 3:  # credited to the Funding wallet, then moved into the unified wallet
            self._book(t + 1, coin, amount, "TRANSFER_IN")

    def withdraw(self, t: int, index: int) -> None:
        held = [c for c in sorted(self.spot) if self.spot[c] * usd_price(c, t, self.seed) >= 40
                and self.wallet.get(c, Decimal(0)) >= self.spot[c]]
        coin = self.rng.choice(held) if held else QUOTE
        internal = index % 3 == 2
        chain, fee_text = ("", "0") if internal else CHAINS.get(coin, ("ETH", "0"))
        fee = Decimal(fee_text)
        share = Decimal(self.rng.randint(10, 50)) / 100
        step = Decimal("0.01") if coin == QUOTE else Decimal("0.000001")
        amount = ((self.spot.get(coin, Decimal(0)) - fee) * share).quantize(step, rounding=ROUND_DOWN)
        canceled = index == 4 or amount <= 0 or self.wallet.get(coin, Decimal(0)) < amount + fee
        if canceled:  # cancelled by the user: listed, nothing moved
            amount = max(amount, Decimal(1))
        else:
            self._book(t - 1, coin, -(amount + fee), "TRANSFER_OUT")
        self.withdrawals.append(BybitWithdrawal(
            withdraw_id=str(self.rng.randrange(10**7, 10**8)), coin=coin, chain=chain, amount=_plain(amount),
            fee=fee_text, tx_id="" if canceled or internal else self._hex(64),
            status="CancelByUser" if canceled else "success",
            to_address=str(self.rng.randrange(10**8, 10**9)) if internal else self._address(chain), time=t,
            update_time=t + self.rng.randrange(60_000, 3_600_000), withdraw_type=1 if internal else 0))

    def order(self, t: int, fills: int) -> None:
        active = [m for m in self.markets if self.delist_at.get(m.symbol, 1 << 62) > t]
        for market in self.rng.sample(active, len(active)):
            if self._fill(market, t, fills) or self._fill(market, t, 1):
                return
        raise RuntimeError(f"bybit history generator: no fundable order at {t} (balances {self.spot})")

    def _fill(self, m: BybitMarket, t: int, fills: int) -> bool:
        rng, rules = self.rng, market_rules(m.base, m.quote)
        price = rules.price(pair_price(m.base, m.quote, t, self.seed) * (1 + Decimal(rng.randint(-8, 8)) / 10000))
        have_quote, have_base = self.spot.get(m.quote, Decimal(0)), self.spot.get(m.base, Decimal(0))
        can_buy = have_quote >= price * rules.step * fills * Decimal("1.01")
        can_sell = have_base >= rules.step * fills
        if not (can_buy or can_sell):
            return False
        buy = can_buy and (not can_sell or rng.random() < 0.55)
        share = Decimal(rng.randint(3, 30) if buy else rng.randint(10, 70)) / 100
        budget = have_quote * share / price if buy else have_base * share
        units = max(int(rules.qty(budget) / rules.step), fills)
        cuts = sorted(rng.sample(range(1, units), fills - 1)) if fills > 1 else []
        order_id = str(rng.randrange(10**18, 2 * 10**18))
        made: list[BybitExecution] = []
        trial = dict(self.spot)
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, units], strict=True)):
            qty = rules.step * (b - a)
            fill_price = price + rules.tick * i if buy else max(price - rules.tick * i, rules.tick)
            value = qty * fill_price
            fee = (qty if buy else value) * SPOT_FEE_RATE
            self.seq += 1
            self.exec_id += rng.randrange(1, 5000)
            execution = BybitExecution(
                exec_id=str(self.exec_id), order_id=order_id, category="spot", symbol=m.symbol,
                side="Buy" if buy else "Sell", exec_type="Trade", qty=_plain(qty), price=_plain(fill_price),
                value=_plain(value), fee=_plain(fee), fee_currency=m.base if buy else m.quote,
                fee_rate=_plain(SPOT_FEE_RATE), time=t, seq=self.seq, is_maker=rng.random() < 0.3)
            for coin, delta in trade_effects(execution, m):
                trial[coin] = trial.get(coin, Decimal(0)) + delta
            if any(v < 0 or self.wallet.get(c, Decimal(0)) + v - self.spot.get(c, Decimal(0)) < 0
                   for c, v in trial.items()):
                return False
            made.append(execution)
        for e in made:
            self.executions.append(e)
            base_change, quote_change = ((Decimal(e.qty) - Decimal(e.fee), -Decimal(e.value)) if buy
                                         else (-Decimal(e.qty), Decimal(e.value) - Decimal(e.fee)))
            common = {"category": "spot", "symbol": m.symbol, "side": e.side, "trade_price": e.price,
                      "fee_rate": e.fee_rate, "trade_id": e.exec_id, "order_id": e.order_id}
            self._book(t, m.base, base_change, "TRADE", qty=_plain(base_change), size=_plain(base_change),
                       fee=e.fee if buy else "0", **common)
            self._book(t, m.quote, quote_change, "TRADE", qty=_plain(quote_change), size=_plain(quote_change),
                       fee="0" if buy else e.fee, **common)
        return True

    def income(self, t: int, kind: str) -> None:
        if kind == "AIRDRP":
            coin, amount = "MNT", Decimal(self.rng.randrange(100, 5000)) / 100
        elif kind == "FEE_REFUND":
            coin, amount = QUOTE, Decimal(self.rng.randrange(1, 200)) / 100
        else:  # BONUS
            coin, amount = QUOTE, Decimal(self.rng.randrange(100, 2000)) / 100
        self._book(t, coin, amount, kind)

    def interest(self, t: int) -> None:
        amount = Decimal(self.rng.randrange(1, 100)) / 1000
        if self.spot.get(QUOTE, Decimal(0)) >= amount and self.wallet.get(QUOTE, Decimal(0)) >= amount:
            self._book(t, QUOTE, -amount, "INTEREST")

    def funding(self, t: int) -> None:
        """One funding settlement of the long BTCUSDT perpetual position (derivatives: not spot)."""
        price = pair_price("BTC", QUOTE, t, self.seed).quantize(Decimal("0.1"))
        value = PERP_QTY * price
        rate = Decimal(self.rng.randint(1, 30)) / 100000
        if self.rng.random() < 0.25 or value * rate > self.wallet.get(QUOTE, Decimal(0)):
            rate = -rate  # shorts pay longs
        fee = value * rate  # positive: this long position pays
        self.seq += 1
        self.executions.append(BybitExecution(
            exec_id=self._uuid(), order_id=self._uuid(), category="linear", symbol="BTCUSDT", side="Buy",
            exec_type="Funding", qty=_plain(PERP_QTY), price=_plain(price), value=_plain(value), fee=_plain(fee),
            fee_currency="", fee_rate=_plain(rate), time=t, seq=self.seq, order_type="UNKNOWN"))
        self._book(t, QUOTE, -fee, "SETTLEMENT", spot=False, category="linear", symbol="BTCUSDT", side="Buy",
                   qty=_plain(PERP_QTY), size=_plain(PERP_QTY), trade_price=_plain(price), funding=_plain(-fee),
                   fee_rate=_plain(rate), trade_id=self.executions[-1].exec_id)


def _universe(rng: random.Random, pairs: int, delisted: int) -> tuple[list[BybitMarket], list[BybitMarket]]:
    """(traded spot markets incl. delisted ones, every market instruments-info lists)."""
    def spot(base: str, listed: bool = True) -> BybitMarket:
        rules = market_rules(base, QUOTE)
        return BybitMarket(f"{base}{QUOTE}", base, QUOTE, _plain(rules.step), _plain(rules.tick), "spot", listed)

    listed = [spot(b) for b in BASES]
    traded = listed[:2] + rng.sample(listed[2:], max(pairs - delisted - 2, 0))
    gone = [spot(b, listed=False) for b in rng.sample(DELISTED_BASES, delisted)]
    perp = BybitMarket("BTCUSDT", "BTC", QUOTE, "0.001", "0.1", "linear")
    return traded + gone, listed + gone + [perp]


def build_history(*, seed: int, trades: int, days: int, deposits: int, withdrawals: int, rewards: int,
                  interest: int, fundings: int, pairs: int, delisted: int, reward_types: tuple[str, ...],
                  end_ms: int | None) -> BybitHistory:
    if pairs < 2 or delisted >= pairs or deposits < 1 or days < 2 or (rewards and not reward_types):
        raise ValueError("need pairs >= 2, delisted < pairs, deposits >= 1, days >= 2, reward_types for rewards")
    rng = random.Random(f"bybit:{seed}")
    end = end_ms if end_ms is not None else int(time.time() * 1000) // DAY_MS * DAY_MS
    start = end - days * DAY_MS
    traded, markets = _universe(rng, pairs, delisted)
    delist_at = {m.symbol: start + (end - start) * rng.randint(35, 60) // 100 for m in traded if not m.listed}
    first = start // 1000 + rng.randrange(600, 20_000)
    orders = _fills_plan(rng, trades)
    count = 1 + len(orders) + (deposits - 1) + withdrawals + rewards + interest
    seconds = [first, *sorted(rng.sample(range(first + 60, end // 1000 - 60), count - 1))]
    kinds = ["deposit"] * (deposits - 1) + ["order"] * len(orders) + ["withdraw"] * withdrawals
    kinds += ["income"] * rewards + ["interest"] * interest
    rng.shuffle(kinds)
    plan = [(seconds[0] * 1000 + rng.randrange(2, 990), "deposit")]
    plan += [(s * 1000 + rng.randrange(2, 990), k) for s, k in zip(seconds[1:], kinds, strict=True)]
    mark = (start + (end - start) // 2) // EIGHT_HOURS * EIGHT_HOURS
    plan += [(mark + i * EIGHT_HOURS, "funding") for i in range(fundings)]
    sim = _Simulation(rng, seed, traded, delist_at)
    n = {"deposit": 0, "withdraw": 0, "income": 0, "order": 0}
    for t, kind in sorted(plan):
        if kind == "deposit":
            sim.deposit(t, n["deposit"])
        elif kind == "withdraw":
            sim.withdraw(t, n["withdraw"])
        elif kind == "order":
            sim.order(t, orders[n["order"]])
        elif kind == "income":
            sim.income(t, reward_types[n["income"] % len(reward_types)])
        elif kind == "interest":
            sim.interest(t)
        else:
            sim.funding(t)
        n[kind] = n.get(kind, 0) + 1
    return BybitHistory(markets=tuple(markets), executions=tuple(sim.executions), deposits=tuple(sim.deposits),
                        withdrawals=tuple(sim.withdrawals), log=tuple(sim.log), start_ms=start, end_ms=end,
                        seed=seed)


def _fills_plan(rng: random.Random, trades: int) -> list[int]:
    """Fills per order, adding up to ``trades``; about one order in eight fills several executions at once."""
    plan: list[int] = []
    left = trades
    while left > 0:
        fills = min(rng.randint(2, 4) if rng.random() < 0.12 else 1, left)
        plan.append(fills)
        left -= fills
    return plan
