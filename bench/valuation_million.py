"""Valuation of a million legs with a warm price cache: legs per second.

    python bench/valuation_million.py [--legs 1000000]

The ledger is 500,000 crypto-to-crypto swaps (two legs each, nothing in the tax currency, no stated value) over a
year and twenty assets, so every trade is valued at market: the cache holds hourly candles of each asset in USD
for the whole year (about 175,000 prices), and a fifth of the assets are priced only against USDT, so those go
through the bridge (times USDT at par). The timing covers ``valuation()`` as a report runs it: one vectorized
lookup per pair (as-of on time), then one pass over the transactions. Target (issue 5): at most 10 s.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime
from decimal import Decimal

from taxsync.assets import FIAT
from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.prices.book import PriceBook
from taxsync.prices.oracle import Oracle
from taxsync.prices.valuation import valuation
from taxsync.types import Asset, Role, TimestampMs

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
HOUR = 3_600_000
HOURS = 366 * 24
ASSETS = ["BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "AVAX", "LINK", "ATOM", "MATIC", "DOGE", "TRX", "UNI",
          "AAVE", "NEAR", "FIL", "ALGO", "XLM", "ETC"]
USDT_ONLY = set(ASSETS[::5])


def cache() -> PriceBook:
    bases, quotes, stamps, resolutions, prices, sources = [], [], [], [], [], []
    for index, asset in enumerate(ASSETS):
        quote = "USDT" if asset in USDT_ONLY else "USD"
        for hour in range(HOURS):
            bases.append(asset)
            quotes.append(quote)
            stamps.append(START + hour * HOUR)
            resolutions.append("1h")
            prices.append(f"{10 + index}.{hour % 1000:03d}")
            sources.append(f"binance 1h close {asset}/{quote}")
    return PriceBook.from_columns(bases, quotes, stamps, resolutions, prices, sources)


def ledger(swaps: int, seed: int = 5) -> list[Transaction]:
    rng = random.Random(seed)
    out = []
    for i in range(swaps):
        given, received = rng.sample(ASSETS, 2)
        ts = TimestampMs(START + rng.randrange(HOURS * HOUR))
        legs = (Leg(Asset(given), -Decimal(rng.randint(1, 10**6)) / 10**4, Role.OUT),
                Leg(Asset(received), Decimal(rng.randint(1, 10**6)) / 10**4, Role.IN))
        out.append(Transaction(f"a/{i}", "a", ts, TxKind.TRADE, legs))
    out.sort(key=lambda tx: tx.timestamp)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legs", type=int, default=1_000_000)
    args = parser.parse_args()
    book = cache()
    transactions = ledger(args.legs // 2)
    began = time.perf_counter()
    valued = valuation(transactions, [], Asset("USD"), FIAT, oracle=Oracle("USD", FIAT, book))
    seconds = time.perf_counter() - began
    legs = sum(len(event.legs) for event in valued.events)
    unvalued = sum(1 for event in valued.events for leg in event.legs if leg.value is None)
    print(f"valuation  {legs:>10,} legs {seconds:7.2f} s {legs / seconds:>11,.0f} legs/s  ({len(book):,} cached "
          f"prices, {len(valued.prices):,} used, {unvalued:,} legs without a value, "
          f"{len(valued.problems):,} problems)")


if __name__ == "__main__":
    main()
