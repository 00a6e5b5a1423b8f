"""A user's whole (synthetic) Kraken spot history: trades, and the ledger that books every balance change.

Kraken's own record of an account is its ledger: each fill books two ``trade`` entries (base and quote leg,
the fee charged on the quote leg), deposits and withdrawals book one entry each (a withdrawal's amount is
negative and its fee extra), staking moves funds with ``transfer`` entries (subtypes ``spottostaking`` /
``stakingfromspot`` and back ``stakingtospot`` / ``spotfromstaking``) into suffixed assets such as ``DOT.S``
where ``staking`` rewards arrive. Every entry carries the asset's resulting balance, so for each asset
balance = sum(amount - fee). Records keep Kraken's shapes: times in units of 1e-4 s (Kraken prints
``1688667796.8802``), amounts as exact decimal strings with the asset's or pair's fixed decimals.

``generate_kraken_history`` builds a deterministic, self-consistent history for a seed (balances never
negative); ``expected_totals`` and ``counts`` state what an import through ccxt must find.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

from importer.simulator.kraken_universe import ASSETS, PAIRS, KrakenAsset, KrakenPair


@dataclass(frozen=True, slots=True)
class KrakenTrade:
    """One fill, as ``TradesHistory`` lists it under its txid (fee in the quote asset)."""

    txid: str  # e.g. "THVRQM-33VKH-UCI7BS"
    ordertxid: str
    pair: str  # pair id, e.g. "XXBTZUSD"
    time: int  # unix time in 1e-4 s
    type: str  # "buy" | "sell"
    ordertype: str  # "limit" | "market"
    price: str
    cost: str
    fee: str
    vol: str
    maker: bool
    trade_id: int  # Kraken's per-pair public trade id
    ledgers: tuple[str, str]  # ids of the base and the quote ledger entry

    @property
    def timestamp_ms(self) -> int:
        """What ccxt reports as ``timestamp``."""
        return self.time // 10


@dataclass(frozen=True, slots=True)
class KrakenLedgerEntry:
    """One ``Ledgers`` row, keyed by its id; ``balance`` is the asset's balance after the entry."""

    id: str  # e.g. "L4UESK-KG3EQ-UFO4T5"
    refid: str  # the trade txid, deposit/withdrawal refid, or staking reference
    time: int  # 1e-4 s
    type: str  # trade | deposit | withdrawal | transfer | staking
    subtype: str  # "" or spottostaking | stakingfromspot | stakingtospot | spotfromstaking
    asset: str  # asset id, e.g. "XXBT", "DOT.S"
    amount: str  # signed
    fee: str
    balance: str
    aclass: str = "currency"

    @property
    def timestamp_ms(self) -> int:
        return self.time // 10

    @property
    def change(self) -> Decimal:
        """What the entry does to the balance: amount - fee."""
        return Decimal(self.amount) - Decimal(self.fee)


@dataclass(frozen=True, slots=True)
class KrakenTransfer:
    """A deposit (``DepositStatus``) or withdrawal (``WithdrawStatus``); ``amount`` excludes ``fee``."""

    refid: str
    kind: str  # "deposit" | "withdrawal"
    asset: str
    method: str  # e.g. "Bitcoin", "SEPA"
    network: str  # withdrawals: e.g. "Bitcoin", "Tron"; "" for fiat
    txid: str
    info: str  # the address (or bank reference)
    amount: str
    fee: str
    time: int  # 1e-4 s; the status endpoints print whole seconds
    status: str  # "Success" books a ledger entry; "Failure" does not
    key: str = ""  # withdrawals: the name of the saved withdrawal address


@dataclass(frozen=True, slots=True)
class KrakenActivity:
    """New records that continue a history (see ``generate_kraken_activity``)."""

    trades: tuple[KrakenTrade, ...] = ()
    ledger: tuple[KrakenLedgerEntry, ...] = ()
    deposits: tuple[KrakenTransfer, ...] = ()
    withdrawals: tuple[KrakenTransfer, ...] = ()


@dataclass(frozen=True)
class KrakenHistory:
    """Everything the Kraken simulator serves; trades and ledger are in time order (ties: booking order)."""

    trades: tuple[KrakenTrade, ...]
    ledger: tuple[KrakenLedgerEntry, ...]
    deposits: tuple[KrakenTransfer, ...]
    withdrawals: tuple[KrakenTransfer, ...]
    start_s: int
    end_s: int
    seed: int = 1
    iban: str = "AA00 SIMU LATE DKRA"
    pairs: tuple[KrakenPair, ...] = field(default_factory=lambda: tuple(PAIRS.values()))
    assets: tuple[KrakenAsset, ...] = field(default_factory=lambda: tuple(ASSETS.values()))

    # -- lookups -----------------------------------------------------------------------------------------
    @cached_property
    def _pairs(self) -> dict[str, KrakenPair]:
        return {p.id: p for p in self.pairs}

    @cached_property
    def _assets(self) -> dict[str, KrakenAsset]:
        return {a.id: a for a in self.assets}

    def pair(self, pair_id: str) -> KrakenPair:
        return self._pairs[pair_id]

    def asset(self, asset_id: str) -> KrakenAsset:
        return self._assets[asset_id]

    def code(self, asset_id: str) -> str:
        """The ccxt unified code of an asset id ("XXBT" -> "BTC", "DOT.S" -> "DOT.S")."""
        return self._assets[asset_id].code

    def symbol(self, pair_id: str) -> str:
        """The ccxt unified symbol of a pair id ("XETHXXBT" -> "ETH/BTC")."""
        p = self._pairs[pair_id]
        return f"{self.code(p.base)}/{self.code(p.quote)}"

    def traded_pairs(self) -> list[str]:
        return sorted({t.pair for t in self.trades})

    # -- expectations ------------------------------------------------------------------------------------
    def balances(self) -> dict[str, Decimal]:
        """Exact final balance per asset id that has ledger entries: sum(amount - fee)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for entry in self.ledger:
            totals[entry.asset] += entry.change
        return dict(totals)

    def expected_totals(self) -> dict[str, Decimal]:
        """What ccxt's ``fetch_balance()['total']`` must show, keyed by unified code (BTC, EUR, DOT.S, ...)."""
        return {self.code(asset): amount for asset, amount in self.balances().items()}

    def counts(self) -> dict[str, int]:
        """Record counts: trades, ledger entries (also per ledger type), deposits, withdrawals, and more."""
        types = Counter(e.type for e in self.ledger)
        return {
            "trades": len(self.trades), "ledger": len(self.ledger), "deposits": len(self.deposits),
            "withdrawals": len(self.withdrawals),
            "failed_withdrawals": sum(w.status != "Success" for w in self.withdrawals),
            "staking_rewards": types["staking"], "transfers": types["transfer"],
            **{f"ledger_{kind}": n for kind, n in sorted(types.items())},
        }

    def lowest_running_balances(self) -> dict[str, Decimal]:
        """The minimum each asset's balance reached, replaying the ledger in order (all >= 0)."""
        running: dict[str, Decimal] = defaultdict(Decimal)
        lowest: dict[str, Decimal] = {}
        for entry in self.ledger:
            running[entry.asset] += entry.change
            lowest[entry.asset] = min(lowest.get(entry.asset, running[entry.asset]), running[entry.asset])
        return lowest

    def trades_newest_first(self) -> list[KrakenTrade]:
        return self.trades[::-1]

    def ledger_newest_first(self) -> list[KrakenLedgerEntry]:
        return self.ledger[::-1]

    # -- growth ------------------------------------------------------------------------------------------
    def with_added(self, activity: KrakenActivity) -> KrakenHistory:
        """A new history with ``activity`` appended (it must be newer than every record and reuse no id)."""
        seen = {t.txid for t in self.trades} | {e.id for e in self.ledger}
        seen |= {r.refid for r in (*self.deposits, *self.withdrawals)}
        new_ids = [t.txid for t in activity.trades] + [e.id for e in activity.ledger]
        new_ids += [r.refid for r in (*activity.deposits, *activity.withdrawals)]
        clash = sorted(set(new_ids) & seen)
        if clash or len(set(new_ids)) != len(new_ids):
            raise ValueError(f"ids already used: {clash[:5]}")
        last = max([self.ledger[-1].time if self.ledger else 0, self.trades[-1].time if self.trades else 0])
        firsts = [r[0].time for r in (activity.trades, activity.ledger) if r]
        if firsts and min(firsts) <= last:
            raise ValueError("new activity must be newer than the history")
        times = [r.time for r in (*activity.ledger, *activity.trades, *activity.deposits, *activity.withdrawals)]
        return replace(
            self, trades=self.trades + activity.trades, ledger=self.ledger + activity.ledger,
            deposits=self.deposits + activity.deposits, withdrawals=self.withdrawals + activity.withdrawals,
            end_s=max([self.end_s, *(t // 10_000 + 1 for t in times)]))


def generate_kraken_history(*, seed: int = 1, trades: int = 600, pairs: int = 6, years: int = 3, deposits: int = 12,
                            withdrawals: int = 6, staking_rewards: int = 40, unstakes: int = 1,
                            end_s: int | None = None) -> KrakenHistory:
    """A deterministic Kraken history for ``seed`` (and ``end_s``; by default the start of today, UTC).

    ``pairs`` pairs carry the ``trades`` fills (XBT/USD, ETH/EUR and DOT/EUR first); every pair of the
    universe is listed. The first deposit is fiat and funds the trading, the second is DOT and the third ETH,
    both staked at once (DOT -> DOT.S, ETH -> ETH2.S) so ``staking_rewards`` rewards and ``unstakes`` DOT
    unstakings can follow. About one order in eight fills several trades within one second.
    """
    from importer.simulator.kraken_generator import build_history

    return build_history(seed=seed, trades=trades, pairs=pairs, years=years, deposits=deposits,
                         withdrawals=withdrawals, staking_rewards=staking_rewards, unstakes=unstakes, end_s=end_s)


def generate_kraken_activity(history: KrakenHistory, *, seed: int = 2, trades: int = 20, deposits: int = 1,
                             withdrawals: int = 0, staking_rewards: int = 2,
                             end_s: int | None = None) -> KrakenActivity:
    """New records after ``history.end_s`` (up to ``end_s``, default one day later) continuing its balances
    and ids: feed them to ``KrakenSimulator.add_activity`` (or ``history.with_added``)."""
    from importer.simulator.kraken_generator import continue_history

    return continue_history(history, seed=seed, trades=trades, deposits=deposits, withdrawals=withdrawals,
                            staking_rewards=staking_rewards, end_s=end_s)
