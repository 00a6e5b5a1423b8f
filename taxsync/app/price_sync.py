"""Fetch ahead of time the exchange prices a report will need (the API behind ``taxsync prices sync``).

Valuation never goes to the network: it reads the price cache. This module fills the cache. For each asset and
moment valuation could not value (a ``PriceNeed``), it asks the exchange of the account the need comes from
(an account without an exchange, such as a file account, borrows the workspace's first exchange account) for
the candle that contains the moment: the minute candle, else the hour, else the day, for exchanges that keep
only recent fine candles. Nearby moments of one asset share one request. Each fetched batch is stored at once
in its own transaction, so an interrupted run loses nothing and the next run resumes where it stopped; what
the cache covers already is never asked for again, so a second run makes no request at all.

The outcome of each need is counted, and a need without a price says why, in one of two ways that call for
different actions: *not found* (the exchange has no market or no candle for it: import a price file or use
another exchange) and *failed* (the exchange was unreachable, rate-limited or refused: run again later).
Once an exchange is found unreachable, it is not asked again in the same run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.exchanges import make_exchange
from importer.price_fetch import (
    BRIDGES,
    TIMEFRAMES,
    Caller,
    MarketNotFound,
    PriceSourceError,
    SourceUnavailable,
    choose_market,
    fetch_candles,
    page_size,
)
from taxsync.app.lock import workspace_lock
from taxsync.app.pipeline import load_matched, period_of
from taxsync.app.workspace import Workspace
from taxsync.assets import FIAT
from taxsync.db import Account
from taxsync.prices.attempts import FAILED, NOT_FOUND, Attempt, record_attempts
from taxsync.prices.book import PriceBook
from taxsync.prices.needs import price_needs
from taxsync.prices.oracle import Oracle
from taxsync.prices.records import RESOLUTION_MS, PriceNeed, PricePoint
from taxsync.prices.store import load_book, save_prices
from taxsync.progress import Progress
from taxsync.tax.jurisdictions import GIFTS_RECEIVED, JURISDICTIONS
from taxsync.types import now_ms

ExchangeFor = Callable[[str], Any]  # account name -> a ccxt client to price its assets with, or None


@dataclass(frozen=True, slots=True)
class Missing:
    """A need left without a price: the asset, the moment (ms UTC), the exchange asked ('' if none), why."""

    asset: str
    timestamp: int
    exchange: str
    reason: str


@dataclass
class SyncSummary:
    needed: int = 0  # distinct (asset, moment) pairs asked for
    cached: int = 0  # already in the price cache: not asked for
    fetched: int = 0  # priced by candles fetched in this run
    stored: int = 0  # price points newly written to the cache
    requests: int = 0  # requests made to exchanges (retries included)
    not_found: list[Missing] = field(default_factory=list)  # no market or no candle: no price exists there
    failed: list[Missing] = field(default_factory=list)  # unreachable, rate-limited or refused: try again later

    @property
    def settled(self) -> int:
        return self.cached + self.fetched + len(self.not_found) + len(self.failed)

    @property
    def complete(self) -> bool:
        """Every need is priced (nothing failed and nothing was not found)."""
        return not self.failed and not self.not_found


def _covers(point: PricePoint | None, t: int) -> bool:
    """A cached point answers the moment ``t`` when its period contains it (a user's exact price always)."""
    if point is None:
        return False
    if point.resolution == "exact":
        return True
    return point.timestamp <= t < point.timestamp + RESOLUTION_MS.get(point.resolution, 1)


def _uncached(book: PriceBook, needs: list[PriceNeed], currency: str) -> list[PriceNeed]:
    """The needs no cached price of the asset in ``currency``, USDT or USDC covers (one lookup per pair)."""
    by_asset: dict[str, list[PriceNeed]] = {}
    for need in needs:
        by_asset.setdefault(need.asset, []).append(need)
    left: list[PriceNeed] = []
    for asset, group in by_asset.items():
        times = [need.timestamp for need in group]
        covered = [False] * len(group)
        for quote in (currency, *BRIDGES):
            if quote != asset:
                for i, point in enumerate(book.lookup_many(asset, quote, times)):
                    covered[i] = covered[i] or _covers(point, times[i])
        left.extend(need for need, done in zip(group, covered, strict=True) if not done)
    return left


def workspace_exchanges(ws: Workspace) -> ExchangeFor:
    """Public (keyless) ccxt clients for the workspace's exchange accounts, one per exchange and base URL;
    an account that has no exchange is priced on the workspace's price exchange (``[prices]`` in
    taxsync.toml) if one is set, else on the first exchange account by name (None if there is none)."""
    with Session(ws.engine) as session:
        rows = [(a.name, a.exchange, json.loads(a.options or "{}"))
                for a in session.scalars(select(Account).where(Account.kind == "exchange").order_by(Account.name))]
    clients: dict[tuple[str, str, bool], Any] = {}

    def client(exchange_id: str, options: dict[str, Any]) -> Any:
        key = (exchange_id, options.get("api_url") or "", bool(options.get("sandbox")))
        if key not in clients:
            clients[key] = make_exchange(exchange_id, None, api_url=options.get("api_url"),
                                         sandbox=bool(options.get("sandbox")))
        return clients[key]

    by_name = {name: (exchange_id, options) for name, exchange_id, options in rows if exchange_id}
    settings = ws.settings
    configured = (settings.price_exchange, {"api_url": settings.price_api_url or None})
    fallback = configured if settings.price_exchange else next(iter(by_name.values()), None)

    def exchange_for(account: str) -> Any:
        chosen = by_name.get(account, fallback)
        return client(*chosen) if chosen is not None else None

    return exchange_for


def _distinct(needs: Iterable[PriceNeed]) -> list[PriceNeed]:
    seen: dict[tuple[str, int], PriceNeed] = {}
    for need in needs:
        seen.setdefault((need.asset, need.timestamp), need)
    return sorted(seen.values(), key=lambda n: (n.asset, n.timestamp))


def _batches(times: Sequence[int], timeframe: str, page: int) -> list[list[int]]:
    """Sorted moments cut into runs whose candles fit in one request (``page`` candles)."""
    step = RESOLUTION_MS[timeframe]
    batches: list[list[int]] = []
    for t in times:
        if batches and (t - t % step) - (batches[-1][0] - batches[-1][0] % step) < page * step:
            batches[-1].append(t)
        else:
            batches.append([t])
    return batches


@dataclass
class _Run:
    """The state of one sync: the summary being filled, exchanges found down, how to report progress."""

    ws: Workspace
    currency: str
    caller: Caller
    progress: Progress | None
    summary: SyncSummary
    down: dict[int, str] = field(default_factory=dict)  # id(client) -> why it is not asked again

    def report(self, label: str) -> None:
        self.summary.requests = self.caller.requests
        if self.progress is not None:
            self.progress(label, self.summary.settled, self.summary.needed)

    def miss(self, kind: list[Missing], asset: str, times: Iterable[int], exchange: str, reason: str) -> None:
        kind.extend(Missing(asset, t, exchange, reason) for t in times)

    def store(self, points: list[PricePoint]) -> None:
        if not points:
            return
        with Session(self.ws.engine) as session, session.begin():
            self.summary.stored += save_prices(session, points, now_ms())


def sync_prices(ws: Workspace, needs: Sequence[PriceNeed], *, currency: str, exchange_for: ExchangeFor | None = None,
                progress: Progress | None = None, caller: Caller | None = None) -> SyncSummary:
    """Fetch and store the candles that price ``needs`` in ``currency`` (or in USDT/USDC, which valuation
    converts), skipping what the cache covers; returns what happened to every need. Never raises for an
    exchange's failure: it is counted in ``failed`` with its reason."""
    distinct = _distinct(needs)
    run = _Run(ws, currency.upper(), caller or Caller(), progress, SyncSummary(needed=len(distinct)))
    pairs = {(n.asset, quote) for n in distinct for quote in (run.currency, *BRIDGES) if quote != n.asset}
    with Session(ws.engine) as session:
        book = load_book(session, pairs)
    todo = _uncached(book, distinct, run.currency)
    run.summary.cached = len(distinct) - len(todo)
    resolve = exchange_for or workspace_exchanges(ws)
    groups: dict[tuple[int, str], list[int]] = {}
    clients: dict[int, Any] = {}
    for need in todo:
        client = resolve(need.account)
        if client is None:
            run.miss(run.summary.not_found, need.asset, [need.timestamp], "",
                     f"no exchange to ask: account '{need.account}' has none and no exchange account exists")
            continue
        clients[id(client)] = client
        groups.setdefault((id(client), need.asset), []).append(need.timestamp)
    for (key, asset), times in groups.items():
        _sync_asset(run, clients[key], asset, times)
    _remember(ws, distinct, run.summary)
    run.report("done")
    return run.summary


def _remember(ws: Workspace, needs: Sequence[PriceNeed], summary: SyncSummary) -> None:
    """Keep what this run found for the moments it could not price, for the report's missing-price problems."""
    at = now_ms()
    misses = [Attempt(m.asset, m.timestamp, outcome, m.exchange, m.reason, at)
              for outcome, found in ((NOT_FOUND, summary.not_found), (FAILED, summary.failed)) for m in found]
    with Session(ws.engine) as session, session.begin():
        record_attempts(session, [(n.asset, n.timestamp) for n in needs], misses)


def _sync_asset(run: _Run, client: Any, asset: str, times: list[int]) -> None:
    """Price one asset's moments on one exchange: market, then minute, hour and day candles."""
    down = run.down.get(id(client))
    if down is not None and not client.markets:
        run.miss(run.summary.failed, asset, times, client.id, f"not asked: {down}")
        return run.report(f"{client.id} {asset}")
    try:
        market = choose_market(client, asset, run.currency, call=run.caller)
    except PriceSourceError as error:
        _give_up(run, client, asset, times, error)
        return run.report(f"{client.id} {asset}")
    if market is None:  # known from the markets loaded, even when the exchange is down now
        quotes = ", ".join(f"{asset}/{q}" for q in (run.currency, *BRIDGES) if q != asset)
        run.miss(run.summary.not_found, asset, times, client.id, f"{client.id} lists no market {quotes}")
        return run.report(f"{client.id} {asset}")
    if down is not None:
        run.miss(run.summary.failed, asset, times, client.id, f"not asked: {down}")
        return run.report(f"{client.id} {asset}")
    _, quote = market
    pending = sorted(times)
    for timeframe in TIMEFRAMES:
        pending = _fetch_timeframe(run, client, asset, quote, pending, timeframe)
        if pending is None:
            return None
    minute = RESOLUTION_MS["1m"]
    open_now = client.milliseconds() - minute  # a moment after this is in a minute that has not ended
    run.miss(run.summary.failed, asset, [t for t in pending if t - t % minute > open_now], client.id,
             f"the minute has not ended yet on {client.id}: run again later")
    run.miss(run.summary.not_found, asset, [t for t in pending if t - t % minute <= open_now], client.id,
             f"{client.id} has no {', '.join(TIMEFRAMES)} candle of {asset}/{quote} at that time")
    return run.report(f"{client.id} {asset}/{quote}")


def _fetch_timeframe(run: _Run, client: Any, asset: str, quote: str, pending: list[int],
                     timeframe: str) -> list[int] | None:
    """Fetch ``timeframe`` candles for the pending moments, batch by batch, storing each batch at once;
    returns the moments still without a candle, or None when the exchange gave up on the asset."""
    step = RESOLUTION_MS[timeframe]
    batches = _batches(pending, timeframe, page_size(client))
    left: list[int] = []
    for i, batch in enumerate(batches):
        try:
            points = fetch_candles(client, asset, quote, batch[0], batch[-1], timeframe, call=run.caller)
        except PriceSourceError as error:
            rest = [t for later in batches[i:] for t in later] + left
            _give_up(run, client, asset, rest, error)
            run.report(f"{client.id} {asset}/{quote} {timeframe}")
            return None
        by_open = {p.timestamp: p for p in points}
        keep: dict[int, PricePoint] = {}
        for t in batch:
            point = by_open.get(t - t % step)
            if point is None:
                left.append(t)
            else:
                keep[point.timestamp] = point
                run.summary.fetched += 1
        run.store(list(keep.values()))
        run.report(f"{client.id} {asset}/{quote} {timeframe}")
    return left


def _give_up(run: _Run, client: Any, asset: str, times: list[int], error: PriceSourceError) -> None:
    if isinstance(error, MarketNotFound):
        run.miss(run.summary.not_found, asset, times, client.id, error.reason)
        return
    if isinstance(error, SourceUnavailable):
        run.down[id(client)] = error.reason
    run.miss(run.summary.failed, asset, times, client.id, error.reason)


def report_needs(ws: Workspace, *, year: str | None = None) -> list[PriceNeed]:
    """What a report cannot value with the price cache as it is: every need up to the end of tax year
    ``year`` (earlier years too, since lots bought then are sold in it), or of the whole history."""
    period = period_of(ws.settings, year=year)
    currency = ws.settings.currency
    matched = load_matched(ws)  # as the report matches them, over all time
    with Session(ws.engine) as session:
        book = load_book(session)
    gifts = GIFTS_RECEIVED[JURISDICTIONS[ws.settings.jurisdiction].gift_received][0]
    needs = price_needs(matched.remaining, currency, FIAT, matched.transfers, Oracle(currency, FIAT, book),
                        value_gifts=gifts)
    return needs if period is None else [need for need in needs if need.timestamp < period.end_ms]


def sync_report_prices(ws: Workspace, *, year: str | None = None, progress: Progress | None = None,
                       exchange_for: ExchangeFor | None = None, caller: Caller | None = None) -> SyncSummary:
    """``taxsync prices sync``: fetch what a report (of ``year``, or of any year) will need (holding the
    workspace lock)."""
    with workspace_lock(ws.home, command="taxsync prices sync"):
        needs = report_needs(ws, year=year)
        return sync_prices(ws, needs, currency=ws.settings.currency, exchange_for=exchange_for, progress=progress,
                           caller=caller)


def describe(missing: Missing) -> str:
    """One line for a need left without a price."""
    when = datetime.fromtimestamp(missing.timestamp // 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{missing.asset} at {when}: {missing.reason}"
