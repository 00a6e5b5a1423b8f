"""A small hand-built tax result, with the awkward cases a report must survive, shared by the report tests.

Period: calendar 2024 (US). Rows outside it must not appear. Asset names, accounts and problem messages carry
formula and HTML payloads as an exchange export might.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from reports import ReportContext, ReportModel, build_report_model
from reports.pdf_writer import write_pdf
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Disposal, Holding, Income, LotMatch, TaxResult, Term
from taxsync.types import Asset, TimestampMs, day_start

FORMULA = '=HYPERLINK("http://x")'
SCRIPT = "<script>alert(1)</script>"


def ts(day: date, hour: int = 12) -> TimestampMs:
    return TimestampMs(day_start(day, UTC) + hour * 3_600_000)  # type: ignore[arg-type]


def disposal(
    ref: str,
    asset: str,
    amount: str,
    disposed: date,
    acquired: date | None,
    proceeds: str,
    cost: str,
    term: Term,
    *,
    account: str = "binance-main",
    no_basis: str = "0",
    hour: int = 12,
    matches: tuple[LotMatch, ...] = (),
) -> Disposal:
    """A disposal; it consumed one lot (``<ref>-lot``, none known when ``acquired`` is None) unless ``matches``
    says which."""
    match = LotMatch(
        lot_ref=f"{ref}-lot" if acquired else "",
        acquired=ts(acquired) if acquired else None,
        acquired_date=acquired,
        amount=D(amount),
        cost=D(cost),
        account=account,
    )
    return Disposal(
        ref=ref,
        account=account,
        asset=Asset(asset),
        amount=D(amount),
        disposed_at=ts(disposed, hour),
        disposed=disposed,
        acquired=acquired,
        proceeds=D(proceeds),
        cost=D(cost),
        term=term,
        rule="fifo",
        matches=matches or (match,),
        no_basis=D(no_basis),
    )


def income(ref: str, asset: str, amount: str, value: str | None, kind: str, received: date, account: str):
    return Income(
        ref=ref,
        account=account,
        asset=Asset(asset),
        amount=D(amount),
        value=None if value is None else D(value),
        kind=kind,
        received_at=ts(received),
        received=received,
    )


def sample_result() -> TaxResult:
    disposals = (
        # long-term, listed first in the input to check the ordering
        disposal(
            "kraken/9",
            "ETH",
            "2",
            date(2024, 6, 1),
            date(2022, 5, 1),
            "6000.125",
            "3000.115",
            Term.LONG,
            account="kraken",
        ),
        # short-term, half-cent on both sides: rounds up, row gain 10000.01 (exact 10000.001)
        disposal(
            "binance-main/2", "BTC", "0.5", date(2024, 3, 15), date(2024, 1, 10), "30000.005", "20000.004", Term.SHORT
        ),
        # a loss, lots bought on several days ("various"), a formula as asset name
        disposal("binance-main/3", FORMULA, "100", date(2024, 4, 2), None, "100.00", "112.50", Term.SHORT),
        # no basis at all: acquired unknown, zero cost; a script tag as asset name, a formula-ish account
        disposal(
            "coinbase/7",
            SCRIPT,
            "10",
            date(2024, 12, 31),
            None,
            "1500",
            "0",
            Term.SHORT,
            account="-cmd",
            no_basis="10",
            hour=23,
        ),
        # very small and very precise amount, exponent-prone values
        disposal(
            "kraken/11",
            "SHIB",
            "0.00000001",
            date(2024, 7, 4),
            date(2020, 1, 2),
            "1E+2",
            "0.001",
            Term.LONG,
            account="kraken",
        ),
        # outside the period on both sides
        disposal("binance-main/1", "BTC", "1", date(2023, 12, 31), date(2023, 1, 1), "1", "1", Term.SHORT),
        disposal("binance-main/99", "BTC", "1", date(2025, 1, 1), date(2023, 1, 1), "1", "1", Term.LONG),
    )
    incomes = (
        income("kraken/20", "ETH", "0.01", "123.456", "staking", date(2024, 2, 1), "kraken"),
        income("binance-main/21", "+1", "5", None, "airdrop", date(2024, 5, 5), "@SUM(A1)"),
        income("kraken/22", "ETH", "0.02", "40.004", "staking", date(2024, 9, 9), "kraken"),
        income("kraken/23", FORMULA, "7", "0.005", "reward", date(2024, 10, 1), "kraken"),
        income("kraken/19", "ETH", "1", "999", "staking", date(2023, 12, 31), "kraken"),
    )
    holdings = (
        Holding(asset=Asset("BTC"), amount=D("1.25"), cost=D("25000.505"), account="all"),
        Holding(asset=Asset(SCRIPT), amount=D("3"), cost=D("0"), account="all"),
        Holding(asset=Asset("@SUM(A1)"), amount=D("1E+3"), cost=D("10.001"), account="-cmd"),
    )
    problems = (
        Problem(ProblemKind.MISSING_PRICE, Severity.WARNING, "no price for +1 on 2024-05-05", "binance-main/21"),
        Problem(ProblemKind.MISSING_COST_BASIS, Severity.ERROR, FORMULA, "coinbase/7"),
        Problem(ProblemKind.UNKNOWN_LABEL, Severity.INFO, f"unknown label {SCRIPT}", "-cmd"),
        Problem(ProblemKind.UNMATCHED_DEPOSIT, Severity.ERROR, "deposit of 3 SHIB not matched", "@SUM(A1)"),
    )
    return TaxResult(disposals=disposals, income=incomes, holdings=holdings, problems=problems)


def sample_context(**overrides: object) -> ReportContext:
    values: dict[str, object] = {
        "workspace": "household",
        "jurisdiction": "us",
        "jurisdiction_name": "United States",
        "tax_year": "2024",
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "currency": "USD",
        "method": "fifo",
        "tracking": "universal",
        "timezone": "America/New_York",
        "accounts": ("binance-main", "kraken", "-cmd"),
        "generated_at": datetime(2025, 2, 1, 9, 30, tzinfo=UTC),
        "version": "0.1.0",
        "notes": ("Trading fees are added to cost or deducted from proceeds.",),
    }
    values.update(overrides)
    return ReportContext(**values)  # type: ignore[arg-type]


@pytest.fixture
def result() -> TaxResult:
    return sample_result()


@pytest.fixture
def make_model() -> Callable[..., ReportModel]:
    """``make_model(result=None, **context_overrides)``: the sample model, varied."""

    def make(result: TaxResult | None = None, **overrides: object) -> ReportModel:
        return build_report_model(sample_result() if result is None else result, sample_context(**overrides))

    return make


@pytest.fixture
def model() -> ReportModel:
    return build_report_model(sample_result(), sample_context())


@pytest.fixture(scope="session")
def pdf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample report rendered to PDF once for the whole run (WeasyPrint takes about a second)."""
    out = tmp_path_factory.mktemp("pdf")
    (path,) = write_pdf(build_report_model(sample_result(), sample_context()), out)
    return path
