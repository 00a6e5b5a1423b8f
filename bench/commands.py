"""The commands a user runs, timed as the user runs them: each one a fresh process, wall seconds and peak memory.

    python bench/commands.py [--rows 20000,200000,1000000] [--formats pdf,html,csv,json] [--singles-up-to 20000]
                             [--keep DIR] [--json]

For each size, writes a synthetic Koinly universal file of that many rows (buys, sells, crypto-to-crypto swaps,
deposits, withdrawals and staking rewards across 20 assets from 2021 to 2024, every row with its Net Worth in
USD, so nothing needs a price from the network; sells and swaps never take more than the running balance), then
runs in a fresh workspace, each as ``python -m taxsync ...``: --version, init, import-file, holdings, problems,
report --summary as PDF, report as CSV and JSON, and, for sizes up to --singles-up-to, the full report in each of
--formats alone; then a night's import of 100 more rows in the newest days into the same account (its ledger
gains those rows and the pipeline resumes at the newest tax year's start), holdings and the summary PDF after
it. For each: wall seconds, CPU seconds and peak memory (wait4's rusage; CPU counts worker
processes, so it tells work from waiting on a busy machine; peak memory is the largest process's, not a sum).
The interpreter's bare start (``import sqlite3, decimal``) and --version are best of 5. Targets: holdings and
problems each at most 0.2 x import-file; on up to 200,000 rows the summary PDF in at most 5 s and CSV and JSON
in at most 10 s; --version at most 10 x the bare start. Exits 1 when a command fails (its stderr tail is
printed). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from importer.files.koinly import KOINLY

ROOT = Path(__file__).resolve().parents[1]
START, END = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp()), int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
UNIT = 10**8  # amounts are whole numbers of 1e-8 units, prices whole cents per unit: no float in the file
PRICES = {  # starting USD price in cents
    "BTC": 2_900_000, "ETH": 73_000, "BNB": 3_700, "SOL": 150, "ADA": 18, "XRP": 22, "DOT": 900, "DOGE": 1,
    "AVAX": 350, "LINK": 1_150, "LTC": 12_500, "ATOM": 500, "MATIC": 2, "TRX": 3, "UNI": 500, "XLM": 13,
    "NEAR": 130, "ALGO": 40, "FIL": 2_000, "AAVE": 9_000,
}
ASSETS = list(PRICES)
NIGHTLY = 100  # rows of the small import after the big one
SECONDS_AT_200K = {"report --summary pdf": 5.0, "report csv,json": 10.0}  # targets on up to 200,000 rows


def _decimal(value: int, places: int) -> str:
    return f"{value // 10**places}.{value % 10**places:0{places}d}"


def koinly_history(path: Path, rows: int, seed: int = 2024) -> None:
    """``rows`` Koinly rows from 2021 to 2024 in time order; a running balance per asset keeps sells, swaps and
    withdrawals within what is held (a sale with nothing to sell becomes a buy)."""
    rng = random.Random(seed)
    prices, held = dict(PRICES), dict.fromkeys(ASSETS, 0)
    with path.open("w", encoding="utf-8") as out:
        out.write(KOINLY.variants[0] + "\n")
        for i in range(rows):
            when = datetime.fromtimestamp(START + i * (END - START) // rows, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            asset = rng.choice(ASSETS)
            price = prices[asset] = min(max(prices[asset] * rng.randint(990, 1011) // 1000, PRICES[asset] // 5 + 1),
                                        PRICES[asset] * 8)
            pick = rng.randrange(100)
            part = held[asset] * rng.randint(5, 60) // 100
            if pick >= 30 and part * price // UNIT < 100:  # too little of it held to part with: a buy instead
                pick = 0
            if pick < 30:  # buy with USD, fee in USD
                cents = rng.randint(2_000, 500_000)
                amount, fee = cents * UNIT // price, cents // 200
                held[asset] += amount
                out.write(f"{when},{_decimal(cents, 2)},USD,{_decimal(amount, 8)},{asset},{_decimal(fee, 2)},USD,"
                          f"{_decimal(cents, 2)},USD,,buy,\n")
            elif pick < 50:  # sell for USD, fee in USD
                cents = part * price // UNIT
                held[asset] -= part
                out.write(f"{when},{_decimal(part, 8)},{asset},{_decimal(cents, 2)},USD,{_decimal(cents // 200, 2)},"
                          f"USD,{_decimal(cents, 2)},USD,,sell,\n")
            elif pick < 65:  # swap for another asset, fee in the asset given
                other = rng.choice([a for a in ASSETS if a != asset])
                cents, fee = part * price // UNIT, part // 500
                received = cents * UNIT // prices[other]
                held[asset] -= part + fee
                held[other] += received
                out.write(f"{when},{_decimal(part, 8)},{asset},{_decimal(received, 8)},{other},{_decimal(fee, 8)},"
                          f"{asset},{_decimal(cents, 2)},USD,swap,swap,\n")
            elif pick < 69:  # withdrawal to a wallet not imported, network fee in the asset
                fee = part // 1000
                held[asset] -= part + fee
                out.write(f"{when},{_decimal(part, 8)},{asset},,,{_decimal(fee, 8)},{asset},"
                          f"{_decimal(part * price // UNIT, 2)},USD,,withdrawal,0x{i:064x}\n")
            elif pick < 73:  # deposit from outside
                cents = rng.randint(5_000, 300_000)
                amount = cents * UNIT // price
                held[asset] += amount
                out.write(f"{when},,,{_decimal(amount, 8)},{asset},,,{_decimal(cents, 2)},USD,,deposit,\n")
            else:  # staking reward
                cents = rng.randint(100, 5_000)
                amount = cents * UNIT // price
                held[asset] += amount
                out.write(f"{when},,,{_decimal(amount, 8)},{asset},,,{_decimal(cents, 2)},USD,staking,reward,\n")


@dataclass
class Run:
    command: str
    seconds: float
    cpu_seconds: float  # user + system, worker processes included: apart from waiting on a busy machine
    peak_mb: float
    exit_code: int
    target: str = ""
    passed: bool | None = None


def _log(folder: Path, label: str, suffix: str) -> Path:
    return folder / (re.sub(r"\W+", "-", label).strip("-") + suffix)


def run(label: str, args: list[str], folder: Path, *, python: bool = False, fresh: bool = False) -> Run:
    """Run ``python -m taxsync ARGS`` (or ``python ARGS``) in ``folder``, output into files there; ``fresh``:
    with nothing kept between commands (``TAXSYNC_NO_CACHE=1``), to show what computing costs."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if fresh:
        env["TAXSYNC_NO_CACHE"] = "1"
    command = [sys.executable, *(args if python else ["-m", "taxsync", *args])]
    with _log(folder, label, ".out").open("wb") as out, _log(folder, label, ".err").open("wb") as err:
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(label, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


def best_of(times: int, label: str, args: list[str], folder: Path, *, python: bool = False) -> Run:
    return min((run(label, args, folder, python=python) for _ in range(times)), key=lambda r: r.seconds)


def check(result: Run, folder: Path) -> bool:
    """True when the command exited 0; else its stderr tail is printed. No other code is accepted: problems and
    report exit 0 whatever problems the data has (taxsync.cli; taxsync.errors lists the codes of failures)."""
    if result.exit_code == 0:
        return True
    tail = _log(folder, result.command, ".err").read_text(errors="replace")
    print(f"FAILED: taxsync {result.command} exited {result.exit_code}:\n" + "\n".join(tail.splitlines()[-20:]),
          file=sys.stderr)
    return False


def _target(result: Run, rows: int, bare: Run, imported: Run | None) -> None:
    """Set the product's target for this command, where it has one."""
    limit: float | None = None
    what = ""
    if result.command == "--version":
        limit, what = 10 * bare.seconds, f"<= 10 x bare start ({10 * bare.seconds:.2f} s)"
    elif result.command in ("holdings", "problems") and imported is not None:
        limit, what = 0.2 * imported.seconds, f"<= 0.2 x import ({0.2 * imported.seconds:.1f} s)"
    elif rows <= 200_000 and (limit := SECONDS_AT_200K.get(result.command)) is not None:
        what = f"<= {limit:.0f} s"
    if limit is not None:
        result.target, result.passed = what, result.seconds <= limit


def _print_row(r: Run) -> None:
    verdict = "-" if r.passed is None else "pass" if r.passed else "FAIL"
    verdict = verdict if r.exit_code == 0 else f"exit {r.exit_code}"
    print(f"{r.command:<36} {r.seconds:8.2f} {r.cpu_seconds:8.2f} {r.peak_mb:8.0f}  {r.target or '-':<36} {verdict}",
          flush=True)


def bench_size(rows: int, folder: Path, singles: list[str], bare: Run, *, show: bool
               ) -> tuple[list[Run], dict[str, object], bool]:
    """Write the history file of ``rows`` rows in ``folder``, run the commands there in order until one fails;
    with ``show``, print each as it ends."""
    history, home, out = folder / "history.csv", str(folder / "home"), str(folder / "out")
    began = time.perf_counter()
    koinly_history(history, rows)
    nightly = folder / "nightly.csv"  # a night's rows: the last 100 of a longer history, in the newest days
    koinly_history(nightly, rows + NIGHTLY)
    lines = nightly.read_text(encoding="utf-8").splitlines(keepends=True)
    nightly.write_text(lines[0] + "".join(lines[-NIGHTLY:]), encoding="utf-8")
    notes: dict[str, object] = {"rows": rows, "file_mb": round(history.stat().st_size / 2**20, 1),
                                "generate_seconds": round(time.perf_counter() - began, 1)}
    report = ["report", "--year", "2024", "--out", out, "--home", home, "--format"]
    steps = [("--version", ["--version"]),
             ("init", ["init", "--home", home, "--jurisdiction", "us", "--currency", "USD"]),
             ("import-file", ["import-file", str(history), "--account", "ledger", "--home", home]),
             ("holdings", ["holdings", "--home", home]),
             ("problems", ["problems", "--home", home]),
             ("report --summary pdf", [*report, "pdf", "--summary"]),
             ("report csv,json", [*report, "csv,json"]),
             *((f"report {fmt}", [*report, fmt]) for fmt in singles),
             (f"import-file {NIGHTLY} more rows", ["import-file", str(nightly), "--account", "ledger", "--home", home]),
             ("holdings (after them)", ["holdings", "--home", home]),
             ("report --summary pdf (after them)", [*report, "pdf", "--summary"])]
    # The same commands with nothing kept (TAXSYNC_NO_CACHE=1): an import that stores only, and each command
    # computing the pipeline itself, as every command did before results were kept.
    fresh_home = str(folder / "fresh")
    fresh_report = ["report", "--year", "2024", "--out", out, "--home", fresh_home, "--format"]
    fresh = [("init (nothing kept)", ["init", "--home", fresh_home, "--jurisdiction", "us", "--currency", "USD"]),
             ("import-file (nothing kept)", ["import-file", str(history), "--account", "ledger", "--home", fresh_home]),
             ("holdings (nothing kept)", ["holdings", "--home", fresh_home]),
             ("problems (nothing kept)", ["problems", "--home", fresh_home]),
             ("report --summary pdf (nothing kept)", [*fresh_report, "pdf", "--summary"]),
             ("report csv,json (nothing kept)", [*fresh_report, "csv,json"])]
    if show:
        print(f"\n{rows:,} rows ({notes['file_mb']} MB file, written in {notes['generate_seconds']} s)")
        print(f"{'command':<36} {'seconds':>8} {'CPU s':>8} {'peak MB':>8}  {'target':<36} result", flush=True)
    results: list[Run] = []
    for label, args in [*steps, *fresh]:
        if label in dict(fresh):
            result = run(label, args, folder, fresh=True)
        else:
            result = best_of(5 if label == "--version" else 1, label, args, folder)
        _target(result, rows, bare, next((r for r in results if r.command == "import-file"), None))
        results.append(result)
        if show:
            _print_row(result)
        if not check(result, folder):
            return results, notes, False
    imported = results[2].seconds
    notes["version/bare"] = round(results[0].seconds / bare.seconds, 1)
    notes["holdings/import"] = round(results[3].seconds / imported, 2)
    notes["problems/import"] = round(results[4].seconds / imported, 2)
    small = next(r for r in results if r.command.startswith(f"import-file {NIGHTLY}"))
    notes["small import/import"] = round(small.seconds / imported, 2)
    if found := re.search(r"(\d+) problem", _log(folder, "problems", ".out").read_text()):
        notes["problems"] = int(found.group(1))
    notes["import"] = _log(folder, "import-file", ".out").read_text().strip()
    if show:
        print("".join(f"  {key}: {notes[key]}\n" for key in
                      ("version/bare", "holdings/import", "problems/import", "small import/import", "problems",
                       "import") if key in notes))
    return results, notes, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000,200000,1000000", help="comma-separated sizes (rows of the file)")
    parser.add_argument("--formats", default="pdf,html,csv,json", help="report formats each run alone")
    parser.add_argument("--singles-up-to", type=int, default=20_000, help="run each format alone up to this size")
    parser.add_argument("--keep", type=Path, help="keep each workspace in a new folder under DIR")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = parser.parse_args()
    sizes = [int(part) for part in args.rows.split(",") if part.strip()]
    formats = [part.strip() for part in args.formats.split(",") if part.strip()]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    measured: list[dict[str, object]] = []
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        bare = best_of(5, "bare start", ["-c", "import sqlite3, decimal"], Path(scratch), python=True)
    if not args.json:
        print(f"bare interpreter start (import sqlite3, decimal), best of 5: {bare.seconds:.3f} s")
    for rows in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(tempfile.mkdtemp(prefix=f"{rows}-rows-", dir=args.keep or scratch))
            singles = formats if rows <= args.singles_up_to else []
            results, notes, ok = bench_size(rows, folder, singles, bare, show=not args.json)
        failed |= not ok
        measured.append({**notes, "commands": [asdict(r) for r in results]})
        if args.keep and not args.json:
            print(f"  workspace kept in {folder}", flush=True)
    if args.json:
        print(json.dumps({"python": sys.executable, "bare_start_seconds": round(bare.seconds, 3),
                          "sizes": measured}, indent=2))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
