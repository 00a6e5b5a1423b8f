"""How long the report writers take on big years (issue 6, item 6), on synthetic report models.

    python bench/report_speed.py [--detail 10000] [--big 1000000] [--problems 2800]

Targets: full-detail PDF of 10,000 disposals in at most 10 s; the summary PDF (no detail) in at most 2 s at
any size; CSV and JSON of 1,000,000 disposals in at most 15 s. Building the model is timed apart: it is not
the writers' work. Not part of the test run.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from reports import ReportContext, ReportModel, build_report_model, write_report
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Disposal, LotMatch, TaxResult, Term
from taxsync.types import Asset, TimestampMs, day_start

T = TypeVar("T")
ASSETS = ["BTC", "ETH", "SOL", "ADA", "DOT", "XRP", "LTC", "AVAX", "LINK", "ATOM"]
YEAR_START = date(2024, 1, 1)


def timed(label: str, work: Callable[[], T]) -> T:
    began = time.perf_counter()
    result = work()
    print(f"{label:<52} {time.perf_counter() - began:8.2f} s", flush=True)
    return result


def synthetic_disposals(count: int, seed: int = 3) -> list[Disposal]:
    """``count`` disposals spread over 2024, a third long-term, each with one lot (some with two)."""
    rng = random.Random(seed)
    disposals = []
    for i in range(count):
        day = YEAR_START + timedelta(days=i * 366 // count)
        term = Term.LONG if i % 3 == 0 else Term.SHORT
        acquired = day - timedelta(days=400 if term == Term.LONG else 30)
        amount = Decimal(rng.randint(1, 10**8)) / 10**6
        cost = Decimal(rng.randint(1, 10**9)) / 1000
        proceeds = Decimal(rng.randint(1, 10**9)) / 1000
        ref = f"binance-main/{i}"
        at = TimestampMs(day_start(acquired, UTC))  # type: ignore[arg-type]
        matches = (LotMatch(f"{ref}-lot", at, acquired, amount, cost, "binance-main"),)
        disposals.append(Disposal(
            ref=ref, account="binance-main", asset=Asset(ASSETS[i % len(ASSETS)]), amount=amount,
            disposed_at=TimestampMs(day_start(day, UTC) + i % 86_400_000),  # type: ignore[arg-type]
            disposed=day, acquired=acquired, proceeds=proceeds, cost=cost, term=term, rule="fifo",
            matches=matches))
    return disposals


def synthetic_problems(count: int) -> list[Problem]:
    """Missing prices and unmatched transfers, as a badly synced year produces them."""
    kinds = (
        (ProblemKind.MISSING_PRICE, Severity.WARNING, "no price for {asset} on 2024-03-{day:02d}"),
        (ProblemKind.UNMATCHED_DEPOSIT, Severity.ERROR, "deposit of {n} {asset} not matched"),
        (ProblemKind.UNKNOWN_LABEL, Severity.INFO, "unknown label reward-{n}"),
    )
    return [
        Problem(kind, severity, text.format(asset=ASSETS[i % 10], day=i % 28 + 1, n=i), f"kraken/{i}")
        for i in range(count)
        for kind, severity, text in (kinds[i % len(kinds)],)
    ]


def result_of(disposals: int, problems: int = 0) -> TaxResult:
    return TaxResult(disposals=tuple(synthetic_disposals(disposals)), income=(), holdings=(),
                     problems=tuple(synthetic_problems(problems)))


def context() -> ReportContext:
    return ReportContext(
        workspace="bench", jurisdiction="us", jurisdiction_name="United States", tax_year="2024",
        period_start=YEAR_START, period_end=date(2024, 12, 31), currency="USD", method="fifo",
        tracking="universal", timezone="UTC", accounts=("binance-main",),
        generated_at=datetime(2025, 1, 1, tzinfo=UTC), version="bench")


def model_of(disposals: int, problems: int = 0) -> ReportModel:
    return build_report_model(result_of(disposals, problems), context())


def pdf(model: ReportModel, out: Path, *, detail: bool = True, audit: bool = False) -> None:
    """The PDF as ``taxsync report`` writes it (through the writer registry, the collector paused)."""
    options = replace(model.context, detail=detail, audit=audit)
    write_report(replace(model, context=options), out, ["pdf"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detail", type=int, default=10_000, help="disposals in the full-detail PDF")
    parser.add_argument("--big", type=int, default=1_000_000, help="disposals for the summary PDF, CSV and JSON")
    parser.add_argument("--problems", type=int, default=2_800, help="problems in the problems-only PDF")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        timed("PDF of 10 disposals (loads WeasyPrint and fonts)", lambda: pdf(model_of(10), out))
        detail = timed(f"build model, {args.detail:,} disposals", lambda: model_of(args.detail))
        timed(f"PDF full detail, {args.detail:,} disposals (target 10 s)", lambda: pdf(detail, out))
        timed(f"PDF full detail and --audit, {args.detail:,} disposals", lambda: pdf(detail, out, audit=True))
        timed(f"PDF summary, {args.detail:,} disposals", lambda: pdf(detail, out, detail=False))
        problems = timed(f"build model, {args.problems:,} problems", lambda: model_of(10, args.problems))
        timed(f"PDF, {args.problems:,} problems", lambda: pdf(problems, out))
        result = result_of(args.big)
        began = time.perf_counter()
        big = timed(f"build model, {args.big:,} disposals", lambda: build_report_model(result, context()))
        built = time.perf_counter()
        timed(f"CSV, {args.big:,} disposals", lambda: write_report(big, out, ["csv"]))
        timed(f"JSON, {args.big:,} disposals", lambda: write_report(big, out, ["json"]))
        ended = time.perf_counter()
        print(f"{'CSV + JSON (target 15 s)':<52} {ended - built:8.2f} s  {args.big / (ended - built):,.0f} disposals/s")
        print(f"{'model + CSV + JSON':<52} {ended - began:8.2f} s")
        timed(f"PDF summary, {args.big:,} disposals (target 2 s)", lambda: pdf(big, out, detail=False))


if __name__ == "__main__":
    main()
