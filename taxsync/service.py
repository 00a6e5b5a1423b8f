"""The Python API behind the CLI: each command is one call here (tests and scripts call it directly).

It wires the one-way pipeline: importer -> ledger -> prices -> tax -> reports, with the database as the edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import taxsync
from importer.files import FORMATS, open_file
from importer.files.checking import Checker
from reports import ReportContext, build_report_model, write_report
from taxsync.assets import FIAT
from taxsync.balance_audit import balance_problems
from taxsync.db import Account, RawRecord
from taxsync.errors import BusyError, UsageError
from taxsync.export import EXPORTERS, SUFFIXES, LedgerExport
from taxsync.file_import import ImportSummary, store_checked
from taxsync.integrity import check_holdings
from taxsync.ledger.records import Transaction, Transfer
from taxsync.ledger.store import load_ledger, refresh_ledgers, stale_ledgers
from taxsync.ledger.transfers import link_problems, match_transfers
from taxsync.lock import workspace_lock
from taxsync.perf import collector_paused
from taxsync.prices.attempts import load_attempts
from taxsync.prices.fx import ecb_rate
from taxsync.prices.oracle import Oracle
from taxsync.prices.records import PricePoint
from taxsync.prices.store import load_book
from taxsync.prices.valuation import valuation
from taxsync.problems import Problem
from taxsync.safety import owner_only, private_dir
from taxsync.tax.engine import LotEntry, Rules, compute
from taxsync.tax.jurisdictions import GIFTS_RECEIVED, JURISDICTIONS, TRANSFER_FEES, Jurisdiction
from taxsync.tax.records import Holding, TaxResult
from taxsync.transfer_review import Decisions, load_decisions
from taxsync.types import Asset, day_start
from taxsync.workspace import Settings, Workspace, with_overrides


def import_files(ws: Workspace, paths: Sequence[Path], *, account: str | None = None,
                 fmt: str = "auto") -> ImportSummary:
    """Import exported files into ``account`` (by default each file into the account named after its exchange,
    else after the file): all of them or, at the first bad line, nothing at all."""
    if fmt != "auto" and fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}': choose auto or {', '.join(FORMATS)}")
    if account is not None and not account.strip():
        raise UsageError("an account name is needed (--account NAME)")
    if not paths:
        raise UsageError("no file to import: name one or more files (or use --list-formats)")
    with collector_paused():  # millions of acyclic records: the cyclic collector would only walk them again
        files = [open_file(path, FORMATS, fmt) for path in paths]  # each file's layout, before the database
        with Checker(files) as checked:  # a large file's records are checked by workers while blocks are stored
            return store_checked(ws, files, checked, account)


def file_formats() -> list[tuple[str, str, tuple[str, ...]]]:
    """Every registered file format: its name, its title and the header lines it recognizes."""
    return [(fmt.name, fmt.title, fmt.variants or (",".join((*fmt.required, *fmt.optional)),))
            for fmt in FORMATS.values()]


def rules_for(settings: Settings, jurisdiction: Jurisdiction) -> Rules:
    return Rules(
        currency=Asset(settings.currency),
        method=settings.method,
        zone=ZoneInfo(settings.timezone),
        term=jurisdiction.term,
        fiat=FIAT,
        tracking=settings.tracking,
        crypto_fee_is_disposal=jurisdiction.crypto_fee_is_disposal,
        transfer_fee_is_disposal=TRANSFER_FEES[jurisdiction.transfer_fee][0],
        superficial_loss=jurisdiction.superficial_loss,
        gift_at_market_value=GIFTS_RECEIVED[jurisdiction.gift_received][0],
        per_wallet_from=day_start(jurisdiction.per_wallet_from, ZoneInfo(settings.timezone))
        if jurisdiction.per_wallet_from else None,
    )


@dataclass(frozen=True, slots=True)
class Analysis:
    """The engine's result with the ledger and the transfers it was computed from (for the holdings check)."""

    result: TaxResult
    transactions: list[Transaction]
    transfers: list[Transfer]
    prices: list[PricePoint]  # the market prices and rates valuation used
    opening: tuple[Holding, ...] = ()  # holdings at the start of the local day ``opening`` (when asked for)


def analyze(ws: Workspace, settings: Settings, *, through: date | None = None) -> TaxResult:
    """Run the pipeline over the whole history, up to the end of the local day ``through`` if given."""
    return _analyze(ws, settings, through=through).result


def matched_ledger(ws: Workspace) -> tuple[list[Transaction], list[Problem], Decisions, list[Transaction],
                                           list[Transfer]]:
    """The ledger, its problems, the user's transfer decisions (links, unlinks, deposit costs), and the ledger
    split into what is left and the transfers matched over all time (a move may straddle a period's end)."""
    refresh_stale_ledgers(ws)
    with Session(ws.engine) as session:
        transactions, problems = load_ledger(session)
        decisions = load_decisions(session)
    remaining, transfers = match_transfers(transactions, links=decisions.links, unlinks=decisions.unlinks)
    return transactions, problems, decisions, remaining, transfers


def refresh_stale_ledgers(ws: Workspace) -> None:
    """Rebuild the ledgers that new raw records or another release left stale, before they are read (after an
    upgrade whose normalizers read some rows better, the first report rebuilds once). Reading needs no lock;
    rebuilding takes the workspace's, and looks again under it. While an import holds the workspace, the
    stored ledgers are read as they are: that import rebuilds what it adds to."""
    with Session(ws.engine) as session:
        if not stale_ledgers(session):
            return
    try:
        with workspace_lock(ws.home, wait=0, command="taxsync (ledger rebuild)"), Session(ws.engine) as session, \
                session.begin():
            refresh_ledgers(session)
    except BusyError:
        return


def _analyze(ws: Workspace, settings: Settings, *, through: date | None = None,
             opening: date | None = None) -> Analysis:
    jurisdiction = JURISDICTIONS[settings.jurisdiction]
    rules = rules_for(settings, jurisdiction)
    transactions, ledger_problems, decisions, remaining, transfers = matched_ledger(ws)
    link_issues = link_problems(transactions, decisions.links, decisions.unlinks)
    end = day_start(through + timedelta(days=1), rules.zone) if through is not None else None
    if end is not None:  # value what happened up to the period's end only (so its problems are the period's)
        remaining = [tx for tx in remaining if tx.timestamp < end]
        transfers = [t for t in transfers if t.withdrawal.timestamp < end]
    valued = valuation(remaining, transfers, rules.currency, FIAT, decisions.costs, _oracle(ws, rules.currency),
                       value_gifts=rules.gift_at_market_value)
    events, price_problems = valued.events, valued.problems
    if end is not None:
        events = [event for event in events if event.timestamp < end]
    result = compute(events, rules, opening_at=day_start(opening, rules.zone) if opening is not None else None)
    problems: list[Problem] = [*ledger_problems, *decisions.problems, *link_issues, *price_problems,
                               *result.problems]
    return Analysis(replace(result, problems=tuple(problems)), transactions, transfers, valued.prices,
                    result.opening)


def _oracle(ws: Workspace, currency: str) -> Oracle:
    """Market values from what is at hand offline: the price cache, ECB rates and stablecoin pegs."""
    with Session(ws.engine) as session:
        book, attempts = load_book(session), load_attempts(session)
    return Oracle(currency, FIAT, book, ecb_rate, attempts)


def _settings(ws: Workspace, jurisdiction: str | None, method: str | None, tracking: str | None = None) -> Settings:
    settings = with_overrides(ws.settings, jurisdiction=jurisdiction, method=method, tracking=tracking)
    if jurisdiction and jurisdiction != ws.settings.jurisdiction:
        settings = replace(settings, timezone=JURISDICTIONS[jurisdiction].timezone)
    return settings


def methodology(settings: Settings, jurisdiction: Jurisdiction) -> tuple[str, ...]:
    return (
        "Fees: acquisition fees are added to the cost of what was acquired; fees of sales and swaps reduce the "
        "proceeds; a fee paid in crypto is also a disposal of those units at their value.",
        "Transfers: a withdrawal is matched to a deposit into another of your accounts by transaction hash, or "
        "by the same asset arriving within 7 days for no more than was sent less its network fee, or as you "
        "linked them by hand; matched transfers are not disposals and the units keep their cost and dates. "
        f"Transfer fees ({jurisdiction.name}): {TRANSFER_FEES[jurisdiction.transfer_fee][1]}.",
        f"Gifts received ({jurisdiction.name}): {GIFTS_RECEIVED[jurisdiction.gift_received][1]}.",
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
) -> list[Path]:
    """Write the report for one tax year in the asked formats; returns the files written. ``summary_only``
    makes the PDF and HTML the summary report (totals of the capital gains detail without its lines), quick at
    any size; the other formats are written in full. ``audit`` adds the lot-matching section to the PDF and
    HTML."""
    settings = _settings(ws, jurisdiction, method, tracking)
    rules = JURISDICTIONS[settings.jurisdiction]
    try:
        year_end = rules.parse_year(year)
    except ValueError as error:
        raise UsageError(str(error)) from None
    start, end = rules.period(year_end)
    analysis = _analyze(ws, settings, through=end, opening=start)
    result = analysis.result
    with Session(ws.engine) as session:
        accounts = tuple(session.scalars(select(Account.name).order_by(Account.name)))
        sources = data_sources(session)
        # the exchanges' balances stored at the last import or doctor run against the ledger: no network
        balance_differences = balance_problems(session, analysis.transactions)
    # The holdings check counts the units again from the ledger, without the engine (taxsync.integrity), with
    # the transfers the analysis matched (the user's links and unlinks included).
    integrity = check_holdings(
        analysis.transactions, analysis.transfers, result.holdings, period_end=end,
        zone=ZoneInfo(settings.timezone), fiat=FIAT, tracking=settings.tracking,
        per_wallet_from=rules_for(settings, rules).per_wallet_from, method=settings.method,
    )
    result = replace(result, problems=(*result.problems, *integrity.problems, *balance_differences))
    context = ReportContext(
        workspace=settings.name, jurisdiction=settings.jurisdiction, jurisdiction_name=rules.name,
        tax_year=rules.year_label(year_end), period_start=start, period_end=end, currency=settings.currency,
        method=settings.method, tracking=settings.tracking, timezone=settings.timezone, accounts=accounts,
        generated_at=datetime.now(UTC), version=taxsync.__version__, notes=methodology(settings, rules),
        sources=sources, detail=not summary_only, audit=audit,
    )
    model = build_report_model(result, context, integrity, analysis.prices, opening=analysis.opening)
    with owner_only():  # reports are the owner's only (0600 files, a new folder 0700)
        private_dir(out)
        return write_report(model, out, formats)


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


def export_ledger(ws: Workspace, *, fmt: str, year: str | None = None, out: Path | None = None,
                  method: str | None = None) -> list[Path]:
    """Write the ledger after transfer matching for another tool (``taxsync.export.EXPORTERS``), the whole history
    or one tax year's; returns the files written."""
    if fmt not in EXPORTERS:
        raise UsageError(f"unknown export format '{fmt}': choose {', '.join(EXPORTERS)}")
    settings = _settings(ws, None, method)
    jurisdiction = JURISDICTIONS[settings.jurisdiction]
    rules = rules_for(settings, jurisdiction)
    start = end = None
    if year is not None:
        try:
            first, last = jurisdiction.period(jurisdiction.parse_year(year))
        except ValueError as error:
            raise UsageError(str(error)) from None
        start, end = day_start(first, rules.zone), day_start(last + timedelta(days=1), rules.zone)
    transactions, _, decisions, remaining, transfers = matched_ledger(ws)
    if end is not None:  # value and book what happened up to the period's end, as the report does
        remaining = [tx for tx in remaining if tx.timestamp < end]
        transfers = [t for t in transfers if t.withdrawal.timestamp < end]
    valued = valuation(remaining, transfers, rules.currency, FIAT, decisions.costs, _oracle(ws, rules.currency),
                       value_gifts=rules.gift_at_market_value)
    events = [event for event in valued.events if end is None or event.timestamp < end]
    journal: list[LotEntry] = []
    result = compute(events, rules, journal)
    data = LedgerExport(tuple(transactions), tuple(transfers), tuple(events), result, tuple(journal),
                        settings.currency, FIAT, settings.method, rules.zone, start, end)
    name = f"taxsync-export-{fmt}{'-' + jurisdiction.year_label(jurisdiction.parse_year(year)) if year else ''}"
    return EXPORTERS[fmt](data, out or Path(name + SUFFIXES[fmt]))


def holdings(ws: Workspace, *, at: date | None = None) -> tuple[Holding, ...]:
    return analyze(ws, ws.settings, through=at).holdings


def problems(ws: Workspace) -> tuple[Problem, ...]:
    analysis = _analyze(ws, ws.settings)
    with Session(ws.engine) as session:
        balance_differences = balance_problems(session, analysis.transactions)
    return (*analysis.result.problems, *balance_differences)
