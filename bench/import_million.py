"""Import of a 1,000,000-row export file into a fresh workspace: rows per second.

    python bench/import_million.py [--rows 1000000] [--format koinly|binance]

Writes a synthetic Koinly universal file (trades, deposits, withdrawals and income over three years and ten
assets, with fees, labels and net worth) or a Binance transaction history (spot trades of three rows each,
grouped back into trades, plus deposits and Earn interest), then times ``service.import_files`` into a fresh
SQLite workspace: reading and checking every row (in worker processes, one per core, while the importer stores
the rows already checked), storing the raw records and building the ledger.
Target (issue 7): at most 30 s for a million rows.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from taxsync.app import service
from taxsync.app.workspace import init_workspace

START = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())
ASSETS = ["BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "AVAX", "LINK", "ATOM"]
KOINLY_HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
                 "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(START + seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def koinly_file(path: Path, rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(KOINLY_HEADER + "\n")
        for i in range(rows):
            asset = rng.choice(ASSETS)
            amount = f"{rng.randint(1, 10**8) / 10**6:.6f}"
            usd = f"{rng.randint(100, 10**7) / 100:.2f}"
            when = _when(i * 90) + " UTC"
            pick = i % 10
            if pick < 6:  # trades, buys and sells against USD with a fee
                if pick % 2:
                    out.write(f"{when},{usd},USD,{amount},{asset},0.50,USD,{usd},USD,,buy,\n")
                else:
                    out.write(f"{when},{amount},{asset},{usd},USD,0.50,USD,{usd},USD,,sell,\n")
            elif pick < 8:
                out.write(f"{when},,,{amount},{asset},,,,,,deposit,\n")
            elif pick == 8:
                out.write(f"{when},{amount},{asset},,,0.0001,{asset},,,,withdrawal,0x{i:064x}\n")
            else:
                out.write(f"{when},,,{amount},{asset},,,{usd},USD,staking,reward,\n")


def binance_file(path: Path, rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("User_ID,UTC_Time,Account,Operation,Coin,Change,Remark\n")
        written, i = 0, 0
        while written < rows:
            asset = rng.choice(ASSETS)
            when = _when(i * 60)
            amount = f"{rng.randint(1, 10**8) / 10**8:.8f}"
            usdt = f"{rng.randint(100, 10**7) / 100:.8f}"
            if i % 10 < 8:
                out.write(f"123,{when},Spot,Transaction Spend,USDT,-{usdt},\n"
                          f"123,{when},Spot,Transaction Buy,{asset},{amount},\n"
                          f"123,{when},Spot,Transaction Fee,BNB,-0.00010000,\n")
                written += 3
            elif i % 10 == 8:
                out.write(f"123,{when},Spot,Deposit,{asset},{amount},\n")
                written += 1
            else:
                out.write(f"123,{when},Earn,Simple Earn Flexible Interest,{asset},{amount},\n")
                written += 1
            i += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["koinly", "binance"], default="koinly")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{args.format}.csv"
        (koinly_file if args.format == "koinly" else binance_file)(path, args.rows)
        ws = init_workspace(Path(folder) / "ws", jurisdiction="us")
        began, cpu, workers = time.perf_counter(), time.process_time(), _children_cpu()
        summary = service.import_files(ws, [path], account="bench")
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        workers = _children_cpu() - workers
        ws.engine.dispose()
    print(f"import {args.format} file: {args.rows:,} rows -> {summary.new_records:,} records, "
          f"{summary.transactions:,} transactions in {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s; "
          f"CPU {cpu:.1f} s importing, {workers:.1f} s in checking workers; target: 1,000,000 rows in 30 s)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
