"""Writing the exports of a large ledger: Koinly universal CSV, TurboTax universal CSV and beancount.

    python bench/export_speed.py [--transactions 200000]

Builds a ledger in memory (purchases and sales against USD, crypto-to-crypto swaps with stated values and fees
in the asset given, staking income, in three accounts and ten assets over four years), values it with the
transactions' own values, books it with FIFO keeping the lot journal, then times each exporter alone and prints
seconds and rows per second. No target: the figures say what an export of a big history costs.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from reports.exports import EXPORTERS, SUFFIXES, LedgerExport
from taxsync.app.pipeline import rules_for
from taxsync.app.workspace import Settings
from taxsync.assets import FIAT
from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.prices.valuation import valuation
from taxsync.tax.engine import LotEntry, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.types import Asset, Role, TimestampMs

START = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = 4 * 365 * 86_400_000
ASSETS = [Asset(a) for a in ("BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "AVAX", "LINK", "ATOM")]
USD = Asset("USD")


def ledger(count: int, seed: int = 7) -> list[Transaction]:
    rng = random.Random(seed)
    stamps = sorted(START + rng.randrange(SPAN_MS) for _ in range(count))
    transactions = []
    for index, stamp in enumerate(stamps):
        account = rng.choice(("binance", "kraken", "ledger"))
        asset = rng.choice(ASSETS)
        units = Decimal(rng.randrange(1, 10**6)) / 10**5
        usd = (units * Decimal(rng.randrange(5, 60_000))).quantize(Decimal("0.01"))
        roll = rng.random()
        ref = f"{account}/bench.csv:{index + 2}"
        if roll < 0.45:
            legs = (Leg(USD, -usd, Role.OUT), Leg(asset, units, Role.IN), Leg(USD, -Decimal("1.5"), Role.FEE))
            tx = Transaction(ref, account, TimestampMs(stamp), TxKind.TRADE, legs)
        elif roll < 0.8:
            legs = (Leg(asset, -units / 4, Role.OUT), Leg(USD, usd / 4, Role.IN))
            tx = Transaction(ref, account, TimestampMs(stamp), TxKind.TRADE, legs)
        elif roll < 0.95:
            other = rng.choice([a for a in ASSETS if a != asset])
            legs = (Leg(asset, -units / 8, Role.OUT), Leg(other, units, Role.IN), Leg(asset, -units / 1000, Role.FEE))
            tx = Transaction(ref, account, TimestampMs(stamp), TxKind.TRADE, legs, quote=Quote(usd / 8, USD),
                             subkind="swap")
        else:
            tx = Transaction(ref, account, TimestampMs(stamp), TxKind.INCOME, (Leg(asset, units / 100, Role.IN),),
                             quote=Quote(usd / 100, USD), subkind="staking")
        transactions.append(tx)
    return transactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200_000)
    args = parser.parse_args()
    settings = Settings(name="bench", jurisdiction="us", currency="USD", method="fifo", tracking="universal",
                        timezone="America/New_York")
    rules = rules_for(settings, JURISDICTIONS["us"])
    transactions = ledger(args.transactions)
    events = valuation(transactions, [], rules.currency, FIAT).events
    journal: list[LotEntry] = []
    result = compute(events, rules, journal)
    data = LedgerExport(tuple(transactions), (), tuple(events), result, tuple(journal), "USD", FIAT, "fifo",
                        ZoneInfo("America/New_York"))
    print(f"{args.transactions:,} transactions, {len(result.disposals):,} disposals")
    with tempfile.TemporaryDirectory() as folder:
        for name, exporter in EXPORTERS.items():
            began = time.perf_counter()
            paths = exporter(data, Path(folder) / f"bench{SUFFIXES[name]}")
            seconds = time.perf_counter() - began
            size = sum(path.stat().st_size for path in paths) / 1e6
            print(f"{name:20} {seconds:6.1f} s  {args.transactions / seconds:9,.0f} transactions/s  {size:6.1f} MB")


if __name__ == "__main__":
    main()
