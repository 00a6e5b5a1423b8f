"""The pipeline, once: load the ledger, match transfers, value, compute, for a period.

Every command that needs figures goes through ``analyze``: the report, the exports, holdings, problems, the
price sync (which stops after matching, to see what valuation will need) and the audits. Its stages:

1. **load**: the stored ledger (rebuilt first where new raw records or another release left it stale), with
   its problems and the user's decisions (transfer links and unlinks, costs of deposits from outside);
2. **match**: withdrawals matched to deposits over all time (a move may straddle a period's end);
3. **value**: every leg up to the period's end in the tax currency, from what is at hand offline;
4. **compute**: the pure tax engine over the valued events, with the opening holdings at the period's start
   and the lot journal when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from taxsync.app.lock import workspace_lock
from taxsync.app.transfers import Decisions, load_decisions
from taxsync.app.workspace import Settings, Workspace, with_overrides
from taxsync.assets import FIAT
from taxsync.errors import BusyError
from taxsync.ledger.records import Transaction, Transfer
from taxsync.ledger.store import load_ledger, refresh_ledgers, stale_ledgers
from taxsync.ledger.transfers import link_problems, match_transfers
from taxsync.perf import collector_paused
from taxsync.prices.attempts import load_attempts
from taxsync.prices.fx import ecb_rate
from taxsync.prices.oracle import Oracle
from taxsync.prices.records import PricePoint
from taxsync.prices.store import load_book
from taxsync.prices.valuation import valuation
from taxsync.problems import Problem
from taxsync.progress import Progress, silent
from taxsync.tax.engine import LotEntry, Rules, compute
from taxsync.tax.jurisdictions import GIFTS_RECEIVED, JURISDICTIONS, TRANSFER_FEES, Jurisdiction
from taxsync.tax.period import TaxPeriod
from taxsync.tax.records import Event, Holding, TaxResult
from taxsync.types import Asset, day_start


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


def settings_for(ws: Workspace, jurisdiction: str | None = None, method: str | None = None,
                 tracking: str | None = None) -> Settings:
    """The workspace's settings with a command's overrides (another jurisdiction brings its time zone)."""
    settings = with_overrides(ws.settings, jurisdiction=jurisdiction, method=method, tracking=tracking)
    if jurisdiction and jurisdiction != ws.settings.jurisdiction:
        settings = replace(settings, timezone=JURISDICTIONS[jurisdiction].timezone)
    return settings


def period_of(settings: Settings, *, year: str | None = None, start: str | None = None,
              end: str | None = None) -> TaxPeriod | None:
    """The period of ``--year`` or ``--from``/``--to`` under ``settings`` (None: the whole history)."""
    return TaxPeriod.parse(JURISDICTIONS[settings.jurisdiction], ZoneInfo(settings.timezone), year=year,
                           start=start, end=end)


@dataclass(frozen=True, slots=True)
class Matched:
    """The loaded ledger, its problems, the user's decisions, and the ledger split into what is left and the
    transfers matched over all time."""

    transactions: list[Transaction]
    problems: list[Problem]
    decisions: Decisions
    remaining: list[Transaction]
    transfers: list[Transfer]


@dataclass(frozen=True, slots=True)
class Analysis:
    """The engine's result with what it was computed from (the ledger and transfers for the holdings check, the
    valued events and the lot journal for the exports)."""

    result: TaxResult
    transactions: list[Transaction]
    transfers: list[Transfer]
    prices: list[PricePoint]  # the market prices and rates valuation used
    events: tuple[Event, ...] = ()
    journal: tuple[LotEntry, ...] = ()  # every lot taken and returned (when asked for)
    opening: tuple[Holding, ...] = ()  # holdings at the period's start (when asked for)


def load_matched(ws: Workspace) -> Matched:
    """Stages 1 and 2: the ledger as stored (rebuilt where stale) with transfers matched over all time."""
    refresh_stale_ledgers(ws)
    with Session(ws.engine) as session:
        transactions, problems = load_ledger(session)
        decisions = load_decisions(session)
    remaining, transfers = match_transfers(transactions, links=decisions.links, unlinks=decisions.unlinks)
    return Matched(transactions, problems, decisions, remaining, transfers)


def refresh_stale_ledgers(ws: Workspace) -> None:
    """Rebuild the ledgers that new raw records or another release left stale, before they are read (after an
    upgrade whose normalizers read some rows better, the first report rebuilds once). Reading needs no lock;
    rebuilding takes the workspace's, and looks again under it. While an import holds the workspace, the
    stored ledgers are read as they are: that import rebuilds what it adds to."""
    with Session(ws.engine) as session:
        if not stale_ledgers(session):
            return
    try:
        lock = workspace_lock(ws.home, wait=0, command="taxsync (ledger rebuild)")
        with lock, Session(ws.engine) as session, session.begin():
            refresh_ledgers(session)
    except BusyError:
        return


def oracle(ws: Workspace, currency: str) -> Oracle:
    """Market values from what is at hand offline: the price cache, ECB rates and stablecoin pegs."""
    with Session(ws.engine) as session:
        book, attempts = load_book(session), load_attempts(session)
    return Oracle(currency, FIAT, book, ecb_rate, attempts)


STAGES = ("loading the ledger", "valuing", "computing gains")


def analyze(ws: Workspace, settings: Settings, period: TaxPeriod | None = None, *, opening: bool = False,
            journal: bool = False, progress: Progress = silent) -> Analysis:
    """The whole pipeline over the history up to the end of ``period`` (everything when None). ``opening``
    adds the holdings at the period's start, ``journal`` every lot the engine took and returned; ``progress``
    hears of each stage (``STAGES``) as it starts."""
    with collector_paused():  # a million acyclic records: the cyclic collector would only walk them again
        return _analyze(ws, settings, period, opening=opening, journal=journal, progress=progress)


def _analyze(ws: Workspace, settings: Settings, period: TaxPeriod | None, *, opening: bool, journal: bool,
             progress: Progress) -> Analysis:
    rules = rules_for(settings, JURISDICTIONS[settings.jurisdiction])
    progress(STAGES[0], 0, len(STAGES))
    matched = load_matched(ws)
    remaining, transfers = matched.remaining, matched.transfers
    end = period.end_ms if period is not None else None
    if end is not None:  # value what happened up to the period's end only (so its problems are the period's)
        remaining = [tx for tx in remaining if tx.timestamp < end]
        transfers = [t for t in transfers if t.withdrawal.timestamp < end]
    progress(STAGES[1], 1, len(STAGES))
    valued = valuation(remaining, transfers, rules.currency, FIAT, matched.decisions.costs,
                       oracle(ws, rules.currency), value_gifts=rules.gift_at_market_value)
    events = valued.events if end is None else [event for event in valued.events if event.timestamp < end]
    entries: list[LotEntry] | None = [] if journal else None
    opening_at = period.start_ms if opening and period is not None else None
    progress(STAGES[2], 2, len(STAGES))
    result = compute(events, rules, entries, opening_at=opening_at)
    link_issues = link_problems(matched.transactions, matched.decisions.links, matched.decisions.unlinks)
    problems = (*matched.problems, *matched.decisions.problems, *link_issues, *valued.problems, *result.problems)
    progress("figures ready", len(STAGES), len(STAGES))
    return Analysis(replace(result, problems=problems), matched.transactions, transfers, valued.prices,
                    tuple(events), tuple(entries or ()), result.opening)


def tax_result(ws: Workspace, settings: Settings, through: date | None = None) -> TaxResult:
    """The engine's result over the history up to the end of the local day ``through`` (everything if None)."""
    period = TaxPeriod.through(through, ZoneInfo(settings.timezone)) if through is not None else None
    return analyze(ws, settings, period).result
