"""Run an exchange simulator (Binance or Kraken) as a process, e.g. for ``make demo``.

``python -m importer.simulator --exchange binance|kraken --seed 1 --trades 500 --port 0 --url-file PATH
[--key KEY --secret SECRET]`` generates a history, serves it on 127.0.0.1 until SIGTERM/SIGINT, and writes
its base URL to PATH (atomically, once listening) so a script can wait for the file and point the
importer's ``--api-url`` at it. Kraken secrets must be base64; ``--tier off`` disables Kraken's call counter.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import UTC, date, datetime, time
from pathlib import Path

from importer.simulator.history import generate_history
from importer.simulator.server import HttpSimulator, SimKey, Simulator

DEMO_KEY = "taxsyncDemoKey0000000000000000000000000000000000000000000000000000"[:64]
DEMO_SECRET = "taxsyncDemoSecret000000000000000000000000000000000000000000000000"[:64]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m importer.simulator", description=__doc__.splitlines()[0])
    p.add_argument("--exchange", choices=["binance", "kraken"], default="binance")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--trades", type=int, default=500)
    p.add_argument("--markets", type=int, default=40)
    p.add_argument("--traded", type=int, default=5)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--deposits", type=int, default=30)
    p.add_argument("--withdrawals", type=int, default=10)
    p.add_argument("--delisted", type=int, default=1)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--url-file", type=Path, help="write the base URL here once listening")
    p.add_argument("--key", default=DEMO_KEY, help="API key the simulator accepts (read-only)")
    p.add_argument("--secret", default=DEMO_SECRET)
    p.add_argument("--weight-limit", type=int, default=6000, help="binance: request weight per minute")
    p.add_argument("--pairs", type=int, default=6, help="kraken: pairs that carry trades")
    p.add_argument("--staking-rewards", type=int, default=40, help="kraken: staking reward ledger entries")
    p.add_argument("--unstakes", type=int, default=1, help="kraken: DOT unstakings")
    p.add_argument("--tier", choices=["starter", "intermediate", "pro", "off"], default="starter",
                   help="kraken: verification tier of the API call counter")
    p.add_argument("--end", type=_day, help="the day the history ends (YYYY-MM-DD, UTC; default today): a fixed "
                                            "day gives the same history on every day it runs")
    return p


def _day(text: str) -> int:
    """The start of the UTC day ``text`` (YYYY-MM-DD), in milliseconds."""
    try:
        return int(datetime.combine(date.fromisoformat(text), time(), UTC).timestamp() * 1000)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from exc


def _simulator(args: argparse.Namespace) -> HttpSimulator:
    key = SimKey(args.key, args.secret)
    if args.exchange == "kraken":
        from importer.simulator.kraken_history import generate_kraken_history
        from importer.simulator.kraken_server import INTERMEDIATE, PRO, STARTER, KrakenSimulator

        kraken = generate_kraken_history(seed=args.seed, trades=args.trades, pairs=args.pairs, years=args.years,
                                         deposits=args.deposits, withdrawals=args.withdrawals,
                                         staking_rewards=args.staking_rewards, unstakes=args.unstakes,
                                         end_s=None if args.end is None else args.end // 1000)
        tier = {"starter": STARTER, "intermediate": INTERMEDIATE, "pro": PRO, "off": None}[args.tier]
        return KrakenSimulator(kraken, [key], port=args.port, tier=tier)
    history = generate_history(seed=args.seed, trades=args.trades, markets=args.markets, traded=args.traded,
                               years=args.years, deposits=args.deposits, withdrawals=args.withdrawals,
                               delisted=args.delisted, end_ms=args.end)
    return Simulator(history, [key], port=args.port, weight_limit_per_minute=args.weight_limit)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        sim = _simulator(args)
    except ValueError as exc:  # e.g. sizes the generator cannot honour, a Kraken secret that is not base64
        parser.error(str(exc))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    url = sim.start()
    try:
        if args.url_file:
            tmp = args.url_file.with_name(args.url_file.name + ".tmp")
            tmp.write_text(url + "\n")
            os.replace(tmp, args.url_file)
        print(url, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
