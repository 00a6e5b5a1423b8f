"""The tax engine on a generated ledger of a million transactions: throughput and peak memory per method.

    python bench/engine_million.py [--transactions 1000000] [--methods fifo,uk-pooling]

Each method runs in a fresh process (so its peak memory is its own): the process builds the valued ledger,
then times ``compute`` alone and prints transactions per second and the process's peak resident memory.
The ledger mixes what a very active trader's years look like: purchases and sales against USD, crypto-to-crypto
swaps valued on both sides, fees in USD or in BNB, staking income, moves between three own accounts, and a few
unmatched deposits and withdrawals, over five years (2021 to 2025: US tracking turns per wallet in 2025) and
twenty assets, with amounts of up to eight decimals.
Targets (issue 4): at most 10 s and 2 GB for 1,000,000 transactions, each for fifo and uk-pooling.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from taxsync.app.pipeline import rules_for
from taxsync.app.workspace import Settings
from taxsync.tax.engine import compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs

START = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = 5 * 365 * 86_400_000
ASSETS = [Asset(a) for a in ("BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "AVAX", "LINK", "ATOM", "MATIC",
                             "DOGE", "TRX", "UNI", "AAVE", "NEAR", "FIL", "ALGO", "XLM", "BNB")]
ACCOUNTS = ("binance", "kraken", "ledger")
USD, BNB = Asset("USD"), Asset("BNB")
JURISDICTION_OF = {"fifo": "us", "lifo": "us", "hifo": "us", "acb": "ca", "uk-pooling": "uk"}


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(1, 500_000_000)) / 100_000_000  # up to 5 units, 8 decimals


def _value(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(100, 2_000_000)) / 100  # $1 to $20,000


def ledger(count: int, seed: int = 2024) -> list[Event]:
    rng = random.Random(seed)
    step = SPAN_MS // count
    held = {(asset, account): Decimal(0) for asset in ASSETS for account in ACCOUNTS}
    events: list[Event] = []
    for i in range(count):
        ts = TimestampMs(START + i * step + rng.randint(0, step - 1))
        account = rng.choice(ACCOUNTS)
        roll = rng.random()
        asset, amount, value = rng.choice(ASSETS), _amount(rng), _value(rng)
        if 0.40 <= roll < 0.80 or 0.92 <= roll < 0.98 or roll >= 0.99:  # units leave: at most what is held
            amount = min(amount, held[(asset, account)] * Decimal("0.999"))
            if not amount:
                roll = 0.0  # nothing to sell: a purchase instead
                amount = _amount(rng)
        fee: tuple[ValuedLeg, ...] = ()
        bnb = Decimal(rng.randint(1, 100_000)) / 10**8
        if rng.random() < 0.3 and held[(BNB, account)] >= bnb:
            fee = (ValuedLeg(BNB, -bnb, Role.FEE, Decimal("0.25")),)
        elif rng.random() < 0.5:
            fee = (ValuedLeg(USD, Decimal("-0.50"), Role.FEE, Decimal("0.50")),)
        kind, to_account = EventKind.TRADE, ""
        if roll < 0.40:  # purchase
            legs = (ValuedLeg(USD, -value, Role.OUT, value), ValuedLeg(asset, amount, Role.IN, value), *fee)
        elif roll < 0.65:  # sale
            legs = (ValuedLeg(asset, -amount, Role.OUT, value), ValuedLeg(USD, value, Role.IN, value), *fee)
        elif roll < 0.80:  # swap
            other = rng.choice(ASSETS)
            legs = (ValuedLeg(asset, -amount, Role.OUT, value), ValuedLeg(other, _amount(rng), Role.IN, value), *fee)
        elif roll < 0.92:  # staking reward
            kind, legs = EventKind.INCOME, (ValuedLeg(asset, amount / 1000, Role.IN, value / 1000),)
        elif roll < 0.98:  # a move between own accounts with a network fee in the moved asset
            kind, to_account = EventKind.TRANSFER, rng.choice([a for a in ACCOUNTS if a != account])
            legs = (ValuedLeg(asset, amount, Role.IN, value),
                    ValuedLeg(asset, -amount / 10_000, Role.FEE, value / 10_000))
        elif roll < 0.99:
            kind, legs = EventKind.DEPOSIT, (ValuedLeg(asset, amount, Role.IN, value),)
        else:
            kind, legs = EventKind.WITHDRAWAL, (ValuedLeg(asset, -amount, Role.OUT, value),)
        for leg in legs:
            if leg.asset != USD and not (to_account and leg.role is Role.IN):
                held[(leg.asset, account)] += leg.amount
        if to_account:
            held[(asset, account)] -= amount
            held[(asset, to_account)] += amount
        events.append(Event(f"{account}/{i}", account, ts, kind, legs, to_account=to_account))
    return events


def run_one(method: str, count: int) -> None:
    jurisdiction = JURISDICTIONS[JURISDICTION_OF[method]]
    settings = Settings(name="bench", jurisdiction=jurisdiction.code, currency=jurisdiction.currency,
                        method=method, timezone=jurisdiction.timezone, tracking="universal")
    rules = rules_for(settings, jurisdiction)  # the rules a report uses: US switches to per wallet in 2025
    began = time.perf_counter()
    events = ledger(count)
    built = time.perf_counter() - began
    began = time.perf_counter()
    result = compute(events, rules)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{method:<11} {count:>10,} transactions {seconds:7.2f} s {count / seconds:>11,.0f} transactions/s  "
          f"peak {peak_mb:,.0f} MB  ({len(result.disposals):,} disposal rows, {len(result.problems):,} problems; "
          f"ledger built in {built:.1f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--methods", default="fifo,uk-pooling")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.transactions)
        return
    for method in args.methods.split(","):
        subprocess.run([sys.executable, __file__, "--one", method, "--transactions", str(args.transactions)],
                       check=True)


if __name__ == "__main__":
    main()
