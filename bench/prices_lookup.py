"""Price lookups against a warm cache: a million moments valued from a million cached candles.

    python bench/prices_lookup.py [--minutes-days 180] [--lookups 1000000] [--seed 5]

Builds a workspace in a temporary folder and stores, for four pairs (BTC/USD, ETH/USD, SOL/USDT, USDT/USD),
minute candles over the last ``--minutes-days`` days of 2024 (180 days: 1,036,800 candles), hourly candles over
2023-2024, daily candles over 2020-2024 and a user price file's daily SOL prices of 2022: about 1.1 million
rows. Then times what a report run does with a warm cache: ``load_book`` (one query) and ``lookup_many`` for
``--lookups`` (asset, moment) pairs spread over 2022-2024 (so minute, hour, day and user prices all answer),
and prints lookups per second and peak memory.
Target (issue 5, item 6): at most 10 s for 1,000,000 lookups with a warm cache.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from taxsync.app.workspace import init_workspace
from taxsync.prices.records import RESOLUTION_MS, PricePoint
from taxsync.prices.store import load_book, save_prices

PAIRS = (("BTC", "USD", 40_000), ("ETH", "USD", 2_500), ("SOL", "USDT", 100), ("USDT", "USD", 1))


def _ms(year: int, month: int = 1, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp()) * 1000


def candles(base: str, quote: str, level: int, resolution: str, start: int, end: int,
            rng: np.random.Generator) -> Iterator[PricePoint]:
    """Candles of a random walk around ``level``, prices with four decimals."""
    step = RESOLUTION_MS[resolution]
    opens = np.arange(start, end, step, dtype=np.int64)
    walk = level * 10_000 * np.exp(np.cumsum(rng.normal(0, 0.0005, len(opens))))
    source = f"bench {resolution} close {base}/{quote}"
    for t, ticks in zip(opens.tolist(), walk.astype(np.int64).tolist(), strict=True):
        yield PricePoint(base, quote, t, resolution, Decimal(ticks).scaleb(-4), source)


def fill(session: Session, minutes_days: int, rng: np.random.Generator) -> int:
    end = _ms(2025)
    stored = 0
    for base, quote, level in PAIRS:
        for resolution, start in (("1m", end - minutes_days * RESOLUTION_MS["1d"]), ("1h", _ms(2023)),
                                  ("1d", _ms(2020))):
            stored += save_prices(session, candles(base, quote, level, resolution, start, end, rng), 0)
    user = (PricePoint("SOL", "USDT", t, "1d", Decimal(100 + i % 7), f"user file sol.csv:{i + 2}")
            for i, t in enumerate(range(_ms(2022), _ms(2023), RESOLUTION_MS["1d"])))
    return stored + save_prices(session, user, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes-days", type=int, default=180)
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        ws = init_workspace(Path(folder) / "ws")
        began = time.perf_counter()
        with Session(ws.engine) as session, session.begin():
            rows = fill(session, args.minutes_days, rng)
        print(f"stored {rows:,} prices in {time.perf_counter() - began:.1f} s (set-up, not timed below)")

        moments = rng.integers(_ms(2022), _ms(2025), args.lookups, dtype=np.int64)
        pair_of = rng.integers(0, len(PAIRS), args.lookups)
        asked = [(base, quote, moments[pair_of == i]) for i, (base, quote, _) in enumerate(PAIRS)]

        began = time.perf_counter()
        with Session(ws.engine) as session:
            book = load_book(session)
        loaded = time.perf_counter() - began
        began = time.perf_counter()
        found = 0
        resolutions: dict[str, int] = {}
        for base, quote, times in asked:
            for point in book.lookup_many(base, quote, times):
                if point is not None:
                    found += 1
                    kind = point.resolution + (" user" if point.source.startswith("user") else "")
                    resolutions[kind] = resolutions.get(kind, 0) + 1
        looked = time.perf_counter() - began
        ws.engine.dispose()
    total = loaded + looked
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load_book: {len(book):,} prices, {len(book.pairs())} pairs in {loaded:.2f} s")
    print(f"lookups:   {args.lookups:,} in {looked:.2f} s = {args.lookups / looked:,.0f} lookups/s "
          f"({found:,} found: {', '.join(f'{r} {n:,}' for r, n in sorted(resolutions.items()))})")
    print(f"warm cache, load + lookups: {total:.2f} s = {args.lookups / total:,.0f} lookups/s "
          f"(target: at most 10 s for 1,000,000); peak {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
