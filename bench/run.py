"""Throughput of the pipeline's stages on synthetic data: file import, tax engine, report writing.

    python bench/run.py [--events 200000] [--rows 100000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from taxsync.app import service
from taxsync.app.workspace import init_workspace
from taxsync.assets import FIAT
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs

T = TypeVar("T")
START = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp() * 1000)
ASSETS = ["BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "AVAX", "LINK", "ATOM"]


def timed(label: str, count: int, unit: str, work: Callable[[], T]) -> T:
    began = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - began
    print(f"{label:<42} {count:>9,} {unit:<12} {seconds:8.2f} s  {count / seconds:>12,.0f} {unit}/s")
    return result


def synthetic_events(count: int, seed: int = 7) -> list[Event]:
    """Buys and sells (about 60/40) spread over three years and ten assets, valued in USD."""
    rng = random.Random(seed)
    held = dict.fromkeys(ASSETS, Decimal(0))
    events = []
    for i in range(count):
        asset = rng.choice(ASSETS)
        amount = Decimal(rng.randint(1, 10_000)) / 1000
        value = Decimal(rng.randint(100, 5_000_000)) / 100
        ts = TimestampMs(START + i * 90_000)
        if held[asset] >= amount and rng.random() < 0.4:
            held[asset] -= amount
            legs = (ValuedLeg(Asset(asset), -amount, Role.OUT, value), ValuedLeg(Asset("USD"), value, Role.IN, value))
        else:
            held[asset] += amount
            legs = (ValuedLeg(Asset("USD"), -value, Role.OUT, value), ValuedLeg(Asset(asset), amount, Role.IN, value))
        events.append(Event(f"e{i}", "a", ts, EventKind.TRADE, legs))
    return events


def synthetic_koinly(path: Path, rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    lines = ["Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
             "Net Worth Amount,Net Worth Currency,Label,Description,TxHash"]
    for i in range(rows):
        moment = datetime.fromtimestamp((START + i * 300_000) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        asset = rng.choice(ASSETS)
        usd = f"{rng.randint(100, 500_000) / 100:.2f}"
        units = f"{rng.randint(1, 100_000) / 10_000:.4f}"
        sent, received = ((usd, "USD"), (units, asset)) if i % 3 else ((units, asset), (usd, "USD"))
        lines.append(f"{moment},{sent[0]},{sent[1]},{received[0]},{received[1]},0.5,USD,,,,row {i},")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    us = JURISDICTIONS["us"]
    events = synthetic_events(args.events)
    for method in ("fifo", "lifo", "hifo"):
        rules = Rules(Asset("USD"), method, ZoneInfo("America/New_York"), us.term, FIAT)
        result = timed(f"tax engine, {method}", args.events, "events", lambda r=rules: compute(events, r))
    print(f"  ({len(result.disposals):,} disposals)")

    with tempfile.TemporaryDirectory() as folder:
        ws = init_workspace(Path(folder) / "ws")
        csv_path = Path(folder) / "big.csv"
        synthetic_koinly(csv_path, args.rows)
        timed("import-file (Koinly CSV -> raw -> ledger)", args.rows, "rows",
              lambda: service.import_files(ws, [csv_path], account="bench"))
        timed("analyze (load ledger, match, value, FIFO)", args.rows, "rows",
              lambda: service.tax_result(ws, ws.settings, through=date(2024, 12, 31)))
        out = Path(folder) / "out"
        timed("report json+csv", args.rows, "rows",
              lambda: service.build_report(ws, year="2022", formats=("json", "csv"), out=out))
        ws.engine.dispose()


if __name__ == "__main__":
    main()
