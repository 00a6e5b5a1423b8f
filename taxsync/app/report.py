"""``taxsync report``: one tax period's report in the asked formats, from one pipeline run.

The figures come from ``pipeline.analyze`` (with the opening holdings at the period's start); the holdings are
counted again from the ledger without the engine (``taxsync.ledger.integrity``) and the exchanges' stored
balances compared with the ledger (``taxsync.ledger.balances``), both offline; ``reports`` renders the model.
These figures are kept per revision of the data (``taxsync.app.results``): a report asked again, in another
format or as a summary, only renders.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import taxsync
from reports import ReportContext, build_report_model, write_report
from taxsync.app.pipeline import ANYWHERE, Analysis, analyze, rules_for, settings_for
from taxsync.app.results import kept, settings_key
from taxsync.app.workspace import Settings, Workspace
from taxsync.assets import FIAT
from taxsync.db import Account, RawRecord
from taxsync.ledger.balances import balance_problems
from taxsync.ledger.integrity import IntegrityReport, check_holdings
from taxsync.perf import collector_paused
from taxsync.prices.records import PricePoint
from taxsync.problems import Severity
from taxsync.progress import Progress, silent
from taxsync.safety import owner_only, private_dir
from taxsync.tax.jurisdictions import GIFTS_RECEIVED, JURISDICTIONS, TRANSFER_FEES, Jurisdiction
from taxsync.tax.period import TaxPeriod
from taxsync.tax.records import Disposal, Holding, TaxResult


def methodology(settings: Settings, jurisdiction: Jurisdiction) -> tuple[str, ...]:
    return (
        "Fees: acquisition fees are added to the cost of what was acquired; fees of sales and swaps reduce the "
        "proceeds; a fee paid in crypto is also a disposal of those units at their value.",
        "Transfers: a withdrawal is matched to a deposit into another of your accounts by transaction hash, or "
        "by the same asset arriving within 7 days for no more than was sent less its network fee, or as you "
        "linked them by hand; matched transfers are not disposals and the units keep their cost and dates. "
        f"Transfer fees ({jurisdiction.name}): {TRANSFER_FEES[jurisdiction.transfer_fee][1]}.",
        f"Gifts received ({jurisdiction.name}): {GIFTS_RECEIVED[jurisdiction.gift_received][1]}.",
        *(["A gift worth less than the donor's basis when given has that value as its basis for a loss (Treas. Reg. "
           "1.1015-1(a)): sold above the donor's basis it gains on that basis, below the value it loses on the "
           "value, in between there is neither gain nor loss."] if jurisdiction.gift_dual_basis else []),
        *(["Superficial losses (ITA s.54): a loss is denied, in proportion, when the same asset was acquired in the "
           "30 days before or after the sale and is still held 30 days after it; the denied loss is shown as an "
           "adjustment and added to the cost base of the units held (s.53(1)(f))."]
          if jurisdiction.superficial_loss else []),
        "Values: a trade's own side in the tax currency, else the value stated in the source file, else, in "
        "order: a side in another fiat currency at the ECB reference rate of the day (the last published rate on "
        "days without one); a stablecoin side at its market price, or at par with the currency it is pegged to "
        "when no market price is known (1 USDT = 1 USD); a crypto side at its market price from the price cache "
        "(your own prices first, then exchange candles, the finest available: minute, hour, day), through USDT or "
        f"USDC where the asset has no {settings.currency} market. Both sides of a crypto-to-crypto trade get the "
        f"same {settings.currency} value. Every price and rate used is listed in the appendix.",
        "Unmatched deposits are treated as acquired at zero cost, unless you gave their cost (and the day they were "
        "acquired, if before they arrived) with `taxsync transfers cost`, and unmatched withdrawals as moves to a "
        "wallet that is not imported (no gain); each is listed under Problems.",
        "Fiat currencies are cash: only crypto-assets are tracked as lots.",
        *([f"Basis tracking switches to per wallet on {jurisdiction.per_wallet_from} (Reg. 1.1012-1(j)): the lots "
           "left at the end of the day before are allocated to the wallets holding the units, oldest lots first, "
           "wallets in name order (Rev. Proc. 2024-28 global allocation)."]
          if jurisdiction.per_wallet_from and settings.tracking == "universal" else []),
        f"Holding term ({jurisdiction.name}): {jurisdiction.term_rule}.",
    )


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What a report of one period is rendered from, kept between runs (``taxsync.app.results``)."""

    result: TaxResult  # with the holdings check's and the balance audit's problems
    integrity: IntegrityReport
    prices: list[PricePoint]
    opening: tuple[Holding, ...]
    accounts: tuple[str, ...]
    sources: tuple[str, ...]
    transactions: int = 0  # in the period


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """What ``report`` wrote: the files, the period in words, and how many problems the report lists."""

    paths: list[Path]
    period: str
    errors: int
    warnings: int
    transactions: int  # in the period: none means there was nothing to report


def report_figures(ws: Workspace, settings: Settings, period: TaxPeriod, progress: Progress = silent
                   ) -> ReportFigures:
    """The pipeline up to the period's end, with the opening holdings, then the two checks of its result
    against other evidence: the holdings counted again from the ledger without the engine
    (``taxsync.ledger.integrity``) and the exchanges' stored balances (``taxsync.ledger.balances``), offline."""
    analysis = analyze(ws, settings, period, opening=True, progress=progress, resume_before=ANYWHERE)
    return figures_from(ws, settings, period, analysis)


def figures_from(ws: Workspace, settings: Settings, period: TaxPeriod, analysis: Analysis) -> ReportFigures:
    """The report figures of ``period`` from the pipeline's ``analysis`` up to its end (with its opening)."""
    rules = JURISDICTIONS[settings.jurisdiction]
    result = analysis.result
    with Session(ws.engine) as session:
        accounts = tuple(session.scalars(select(Account.name).order_by(Account.name)))
        sources = data_sources(session)
        balance_differences = balance_problems(session, analysis.transactions)
    with collector_paused():
        integrity = check_holdings(
            analysis.transactions, analysis.transfers, result.holdings, period_end=period.last,
            zone=ZoneInfo(settings.timezone), fiat=FIAT, tracking=settings.tracking,
            per_wallet_from=rules_for(settings, rules).per_wallet_from, method=settings.method,
            matched_later=matched_later(result.disposals, period.last),
        )
    # The report shows the period's disposals and income only: the earlier ones are not kept with it.
    result = replace(result, problems=(*result.problems, *integrity.problems, *balance_differences),
                     disposals=tuple(d for d in result.disposals if period.covers_day(d.disposed)),
                     income=tuple(i for i in result.income if period.covers_day(i.received)))
    in_period = sum(1 for tx in analysis.transactions if period.contains(tx.timestamp))
    return ReportFigures(result, integrity, analysis.prices, analysis.opening, accounts, sources, in_period)


def matched_later(disposals: Iterable[Disposal], last: date) -> dict[str, Decimal]:
    """Units per asset sold up to ``last`` that UK matching took from acquisitions after it (bed and
    breakfast, CRYPTO22256): the Section 104 pool at the end of ``last`` still holds them."""
    units: dict[str, Decimal] = {}
    for disposal in disposals:
        if disposal.disposed <= last:
            for match in disposal.matches:
                if match.acquired_date is not None and match.acquired_date > last:
                    units[disposal.asset] = units.get(disposal.asset, Decimal(0)) + match.amount
    return units


def kept_report_figures(ws: Workspace, settings: Settings, period: TaxPeriod, progress: Progress = silent
                        ) -> ReportFigures:
    """``report_figures`` as kept for the data's revision (``taxsync.app.results``)."""
    return kept(ws, report_key(settings, period), lambda: report_figures(ws, settings, period, progress))


def report_key(settings: Settings, period: TaxPeriod) -> tuple[Hashable, ...]:
    return ("report", *settings_key(settings), period.label, period.first, period.last)


def build_report(
    ws: Workspace,
    *,
    year: str,
    jurisdiction: str | None = None,
    method: str | None = None,
    tracking: str | None = None,
    formats: Iterable[str] = ("pdf", "csv", "json"),
    out: Path = Path("reports"),
    summary_only: bool = False,
    audit: bool = False,
    progress: Progress = silent,
) -> WrittenReport:
    """Write the report for one tax year in the asked formats; returns the files written and what they say.
    ``summary_only`` makes the PDF and HTML the summary report (totals of the capital gains detail without its
    lines), quick at any size; the other formats are written in full. ``audit`` adds the lot-matching section to
    the PDF and HTML. ``progress`` hears of each stage and each format written."""
    settings = settings_for(ws, jurisdiction, method, tracking)
    rules = JURISDICTIONS[settings.jurisdiction]
    period = TaxPeriod.tax_year_of(rules, ZoneInfo(settings.timezone), year)
    figures = kept_report_figures(ws, settings, period, progress)
    context = ReportContext(
        workspace=settings.name, jurisdiction=settings.jurisdiction, jurisdiction_name=rules.name,
        tax_year=period.label, period_start=period.first, period_end=period.last, currency=settings.currency,
        method=settings.method, tracking=settings.tracking, timezone=settings.timezone, accounts=figures.accounts,
        generated_at=generated_at(), version=taxsync.__version__, notes=methodology(settings, rules),
        sources=figures.sources, detail=not summary_only, audit=audit,
    )
    model = build_report_model(figures.result, context, figures.integrity, figures.prices, opening=figures.opening)
    with owner_only():  # reports are the owner's only (0600 files, a new folder 0700)
        private_dir(out)
        paths = write_report(model, out, formats, progress)
    counts = dict(model.problem_counts)  # as the report's first page counts them
    return WrittenReport(paths, period.words(rules), counts[Severity.ERROR], counts[Severity.WARNING],
                         figures.transactions)


def generated_at() -> datetime:
    """When the report is written: now, or the moment ``SOURCE_DATE_EPOCH`` gives (seconds since 1970, the
    reproducible-builds convention), so a report written again from the same data is the same file."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if fixed.isdigit():
        return datetime.fromtimestamp(int(fixed), UTC)
    return datetime.now(UTC)


def data_sources(session: Session) -> tuple[str, ...]:
    """One line per account: the exchange it is synced from over its API, or the files imported into it."""
    lines = []
    for account in session.scalars(select(Account).order_by(Account.name)):
        files = sorted({Path(origin).name for origin in session.scalars(
            select(RawRecord.origin).where(RawRecord.account_id == account.id, RawRecord.stream == "file")
            .distinct())})
        what = [f"{account.exchange} API (read-only key)"] if account.exchange else []
        what += [f"file{'s' if len(files) > 1 else ''} {', '.join(files)}"] if files else []
        lines.append(f"{account.name}: {'; '.join(what) or 'no data yet'}")
    return tuple(lines)
