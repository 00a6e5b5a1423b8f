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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from taxsync.app.lock import workspace_lock
from taxsync.app.results import keeping
from taxsync.app.resume import (
    Cut,
    Cuts,
    Segment,
    context,
    read_cuts,
    segments,
    straddling,
    usable,
    write_cuts,
    year_starts,
)
from taxsync.app.transfers import Decisions, load_decisions
from taxsync.app.workspace import Settings, Workspace, with_overrides
from taxsync.assets import FIAT
from taxsync.errors import BusyError
from taxsync.ledger.records import GivenCost, Transaction, Transfer
from taxsync.ledger.store import load_ledger, refresh_ledgers, stale_ledgers
from taxsync.ledger.transfers import link_problems, match_transfers
from taxsync.perf import collector_paused
from taxsync.prices.attempts import load_attempts
from taxsync.prices.fx import ecb_rate
from taxsync.prices.oracle import Oracle
from taxsync.prices.records import PricePoint
from taxsync.prices.store import load_book
from taxsync.prices.valuation import Valuation, price_order, valuation
from taxsync.problems import Problem
from taxsync.progress import Progress, silent
from taxsync.tax.engine import Checkpoint, LotEntry, Rules, compute, look_ahead_days, resumable
from taxsync.tax.jurisdictions import GIFTS_RECEIVED, JURISDICTIONS, TRANSFER_FEES, Jurisdiction
from taxsync.tax.period import TaxPeriod
from taxsync.tax.records import Event, Holding, TaxResult
from taxsync.types import Asset, TimestampMs, day_start


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
        gift_dual_basis=jurisdiction.gift_dual_basis,
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
    since: TimestampMs | None = None  # resumed here: disposals, income and events before it are left out


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
ANYWHERE = TimestampMs(2**62)  # resume_before for a caller that reads only holdings and problems


def analyze(ws: Workspace, settings: Settings, period: TaxPeriod | None = None, *, opening: bool = False,
            journal: bool = False, progress: Progress = silent, resume_before: TimestampMs | None = None
            ) -> Analysis:
    """The whole pipeline over the history up to the end of ``period`` (everything when None). ``opening``
    adds the holdings at the period's start, ``journal`` every lot the engine took and returned; ``progress``
    hears of each stage (``STAGES``) as it starts. ``resume_before``: the caller reads no disposal, income or
    event before this moment, so the pipeline may resume from a tax year's start at or before it where nothing
    before changed (``taxsync.app.resume``); what came before that start is then left out of those."""
    with collector_paused():  # a million acyclic records: the cyclic collector would only walk them again
        return _analyze(ws, settings, period, opening=opening, journal=journal, progress=progress,
                        resume_before=resume_before)


def _analyze(ws: Workspace, settings: Settings, period: TaxPeriod | None, *, opening: bool, journal: bool,
             progress: Progress, resume_before: TimestampMs | None) -> Analysis:
    rules = rules_for(settings, JURISDICTIONS[settings.jurisdiction])
    progress(STAGES[0], 0, len(STAGES))
    matched = load_matched(ws)
    remaining, transfers = matched.remaining, matched.transfers
    end = horizon = period.end_ms if period is not None else None
    if period is not None and (ahead := look_ahead_days(rules)):  # the rules look past the period's end
        horizon = day_start(period.last + timedelta(days=1 + ahead), rules.zone)
    if horizon is not None:  # value what happened up to then only (so its problems are the period's)
        remaining = [tx for tx in remaining if tx.timestamp < horizon]
        transfers = [t for t in transfers if t.withdrawal.timestamp < horizon]
    entries: list[LotEntry] | None = [] if journal else None
    opening_at = period.start_ms if opening and period is not None else None
    if resume_before is not None and opening_at is not None:
        resume_before = min(resume_before, opening_at)
    run = _Run(ws, settings, rules, matched.decisions.costs, progress,
               resume_before if entries is None and resumable(rules) else None)
    events, valued_problems, prices = run.value(remaining, transfers, horizon)
    progress(STAGES[2], 2, len(STAGES))
    result = run.compute(events, entries, opening_at, end)
    link_issues = link_problems(matched.transactions, matched.decisions.links, matched.decisions.unlinks)
    found = (*valued_problems, *result.problems)
    if end != horizon:  # what the days after the period found belongs to the next period's report
        later = {event.ref for event in events if event.timestamp >= end} - {
            event.ref for event in events if event.timestamp < end}
        found = tuple(problem for problem in found if problem.source not in later)
        transfers = [t for t in transfers if t.withdrawal.timestamp < end]  # type: ignore[operator]
    problems = (*matched.problems, *matched.decisions.problems, *link_issues, *found)
    progress("figures ready", len(STAGES), len(STAGES))
    return Analysis(replace(result, problems=problems), matched.transactions, transfers, prices,
                    tuple(events), tuple(entries or ()), result.opening, run.since)


class _Run:
    """Valuing and booking the history one tax year at a time, resumed from a kept cut where allowed
    (``resume_before`` not None) and one fits (``taxsync.app.resume``), keeping new cuts after."""

    def __init__(self, ws: Workspace, settings: Settings, rules: Rules, costs: Mapping[str, GivenCost],
                 progress: Progress, resume_before: TimestampMs | None):
        self.ws, self.settings, self.rules, self.costs, self.progress = ws, settings, rules, costs, progress
        self.resume_before = resume_before
        self.keeping = resume_before is not None and keeping()
        self.cut: Cut | None = None
        self.parts: list[Segment] = []
        self.first = 0  # the part valued and booked first: the one starting at the cut, else the first
        self.made: list[tuple[tuple[Problem, ...], frozenset[PricePoint]]] = []  # per part from ``first`` on
        self.context: str | None = None
        self.kept: Cuts | None = None

    @property
    def since(self) -> TimestampMs | None:
        return self.cut.at if self.cut is not None else None

    def value(self, remaining: list[Transaction], transfers: list[Transfer], end: TimestampMs | None
              ) -> tuple[list[Event], list[Problem], list[PricePoint]]:
        """The events to book (from the cut on, when resuming), the valuation problems and the prices used."""
        # remaining is in time order; a move belongs to the year of its withdrawal
        times = [tx.timestamp for tx in (*remaining[:1], *remaining[-1:])] + [t.withdrawal.timestamp for t in transfers]
        starts = year_starts(self.settings, min(times), end if end is not None else max(times) + 1) if times else []
        self.parts = segments(remaining, transfers, starts)
        if self.keeping:
            with Session(self.ws.engine) as session:
                self.context = context(session, self.costs)
            self.kept = read_cuts(self.ws, self.settings)
            assert self.resume_before is not None
            self.cut = usable(self.kept, self.context, self.parts, self.resume_before)
        market = oracle(self.ws, self.rules.currency)
        events: list[Event] = []
        problems: list[Problem] = list(self.cut.problems) if self.cut else []
        used: set[PricePoint] = set(self.cut.prices) if self.cut else set()
        self.first = first = 0 if self.cut is None else starts.index(self.cut.at) + 1
        if self.cut is not None:  # moves of earlier years whose receiving fee comes after the cut
            for moves in straddling(self.parts[:first], self.cut.at):
                events += [event for event in self._valuation([], moves, market).events
                           if event.timestamp >= self.cut.at]
        self.progress(STAGES[1], 1, len(STAGES))
        for part in self.parts[first:]:
            valued = self._valuation(part.transactions, part.transfers, market)
            events += valued.events
            problems += valued.problems
            used.update(valued.prices)
            self.made.append((tuple(valued.problems), frozenset(valued.prices)))
        if end is not None:
            events = [event for event in events if event.timestamp < end]
        return events, problems, sorted(used, key=price_order)

    def _valuation(self, transactions: list[Transaction], transfers: list[Transfer], market: Oracle) -> Valuation:
        return valuation(transactions, transfers, self.rules.currency, FIAT, self.costs, market,
                         value_gifts=self.rules.gift_at_market_value, gift_values=self.rules.gift_dual_basis)

    def compute(self, events: list[Event], entries: list[LotEntry] | None, opening_at: TimestampMs | None,
                closing_at: TimestampMs | None) -> TaxResult:
        """The engine over ``events`` (resumed at the cut, if any); new cuts are kept after."""
        if not self.keeping:
            return compute(events, self.rules, entries, opening_at=opening_at, closing_at=closing_at)
        checkpoints: list[Checkpoint] = []
        starts = [part.start for part in self.parts[self.first + 1:] if part.start is not None]
        result = compute(events, self.rules, opening_at=opening_at, closing_at=closing_at, checkpoints=checkpoints,
                         cuts=starts, resume=self.cut.engine if self.cut else None)
        self._keep(checkpoints)
        return result

    def _keep(self, checkpoints: list[Checkpoint]) -> None:
        """Keep the cuts still valid and those this run made. The digests run on from the history's start, so
        when the cut resumed from still fits, so does every kept cut before it."""
        if not checkpoints:
            return
        assert self.context is not None
        old = [cut for cut in self.kept.cuts if cut.at <= self.cut.at] if self.kept and self.cut else []
        first = self.first
        problems = list(self.cut.problems) if self.cut else []
        prices = set(self.cut.prices) if self.cut else set()
        made = {checkpoint.at: checkpoint for checkpoint in checkpoints}
        new = []
        for index, (part, (found, used)) in enumerate(zip(self.parts[first:], self.made, strict=True), first):
            if index > first and part.start in made:
                new.append(Cut(part.start, self.parts[index - 1].digest, made[part.start], tuple(problems),
                               frozenset(prices)))
            problems += found
            prices |= used
        write_cuts(self.ws, self.settings, Cuts(self.context, (*old, *new)))


def tax_result(ws: Workspace, settings: Settings, through: date | None = None) -> TaxResult:
    """The engine's result over the history up to the end of the local day ``through`` (everything if None)."""
    period = TaxPeriod.through(through, ZoneInfo(settings.timezone)) if through is not None else None
    return analyze(ws, settings, period).result
