"""Requests and wall time of a full Binance sync and of the no-change nightly re-run, against the simulator.

    python bench/sync_binance.py [--trades 100000] [--markets 300] [--traded 15] [--years 3]

Prints each figure next to the minimum the API's paging rules allow: per traded symbol ceil((n + 1) / 1000)
``myTrades`` pages (a short page is the only sign of the end), and one request per 90-day window of deposit
and withdrawal history. Targets (issue 3): full sync <= 1.2 x minimum; re-run <= streams + traded symbols.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from importer.simulator.history import generate_history
from importer.simulator.server import SimKey, Simulator
from taxsync.app import accounts
from taxsync.app.workspace import init_workspace

DAY_MS = 86_400_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--markets", type=int, default=300)
    parser.add_argument("--traded", type=int, default=15)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()

    history = generate_history(seed=42, trades=args.trades, markets=args.markets, traded=args.traded,
                               years=args.years, deposits=36 * args.years, withdrawals=12 * args.years)
    key = SimKey("bench-key", "bench-secret")
    symbols = history.traded_symbols()
    windows = math.ceil((history.end_ms - history.start_ms + 1) / (90 * DAY_MS))
    minimum = sum(math.ceil((len(history.trades_for(s)) + 1) / 1000) for s in symbols) + 2 * windows
    streams = 4  # markets, balances, deposits, withdrawals
    with Simulator(history, [key], weight_limit_per_minute=10**9) as sim, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(BENCH_KEY=key.api_key, BENCH_SECRET=key.secret)
        ws = init_workspace(Path(tmp) / "ws")
        opened = datetime.fromtimestamp(history.start_ms // 1000, UTC).date()
        accounts.add_account(ws, "bench", exchange="binance", api_key_env="BENCH_KEY", secret_env="BENCH_SECRET",
                             api_url=sim.url, since=opened)
        for label, bound, target in (("full sync", minimum, 1.2), ("no-change re-run", streams + len(symbols), 1.0)):
            sim.reset_counts()
            began = time.perf_counter()
            (result,) = accounts.import_accounts(ws)
            seconds = time.perf_counter() - began
            assert result.ok, result.error
            made = sim.total_requests
            print(f"{label:<18} {made:>6} requests (bound {bound:>5}, ratio {made / bound:5.2f}, target <= "
                  f"{target}) {seconds:7.1f} s  new records {sum(result.new_records.values()):,}")
        print(f"history: {len(history.trades):,} trades over {len(symbols)} traded of {args.markets} markets, "
              f"{len(history.deposits)} deposits, {len(history.withdrawals)} withdrawals, {windows} 90-day windows")
        ws.engine.dispose()


if __name__ == "__main__":
    main()
