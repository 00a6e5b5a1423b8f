"""``taxsync status``: per account and stream, when it last synced, how many records, what time it covers,
and anything failing (the last import of an account, the last nightly job, prices that could not be fetched,
balances that disagree). Read from the database only: no network, quick at any size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxsync.app.lock import is_locked, read_holder
from taxsync.app.runs import FAILED as RUN_FAILED
from taxsync.app.runs import INTERRUPTED, OK, PARTIAL, RUNNING, RunInfo, account_runs, last_runs
from taxsync.app.workspace import Workspace
from taxsync.db import Account, RawRecord, SyncState, Transaction
from taxsync.db.models import PriceAttempt
from taxsync.ledger.balances import BALANCES, audit_balances, when
from taxsync.ledger.store import LEDGER_MARK
from taxsync.prices.attempts import FAILED, NOT_FOUND

INTERNAL = {LEDGER_MARK, BALANCES}


@dataclass(frozen=True, slots=True)
class StreamStatus:
    stream: str
    records: int
    markets: int  # streams kept per market (Binance trades): how many markets; else 0
    last_sync: int | None  # ms UTC of the last batch stored
    covered_from: int | None  # the earliest moment fetched (of every market: the earliest)
    covered_until: int | None  # fetched up to here (of every market: the least advanced one)


@dataclass(frozen=True, slots=True)
class AccountStatus:
    name: str
    kind: str
    exchange: str | None
    records: int
    transactions: int
    first_transaction: int | None
    last_transaction: int | None
    streams: tuple[StreamStatus, ...]
    last_import: RunInfo | None
    last_success: RunInfo | None
    balances_taken_at: int | None
    balance_differences: int
    failing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkspaceStatus:
    home: str
    running: str | None  # who holds the workspace now
    last_nightly: RunInfo | None
    accounts: tuple[AccountStatus, ...]
    prices_failed: int
    prices_not_found: int
    failing: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _streams(session: Session, account_id: int, counts: dict[str, int]) -> tuple[StreamStatus, ...]:
    grouped: dict[str, list[SyncState]] = defaultdict(list)
    for row in session.scalars(select(SyncState).where(SyncState.account_id == account_id)):
        if row.stream not in INTERNAL:
            grouped[row.stream].append(row)
    for stream in counts:
        grouped.setdefault(stream, [])
    result = []
    for stream, rows in sorted(grouped.items()):
        froms = [r.covered_from for r in rows if r.covered_from is not None]
        untils = [r.covered_until for r in rows if r.covered_until is not None]
        result.append(StreamStatus(stream, counts.get(stream, 0), sum(1 for r in rows if r.symbol),
                                   max((r.updated_at for r in rows), default=None), min(froms, default=None),
                                   min(untils, default=None)))
    return tuple(result)


def _failing(account: str, last: RunInfo | None, differences: int) -> tuple[str, ...]:
    problems = []
    if last is not None and last.outcome != OK:
        problems.append(f"{account}: the last import ({when(last.started_at)}) failed: {last.summary}")
    if differences:
        problems.append(f"{account}: {differences} asset balance(s) differ from the exchange's "
                        "(`taxsync doctor` shows them)")
    return tuple(problems)


def workspace_status(ws: Workspace) -> WorkspaceStatus:
    with Session(ws.engine) as session:
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        for account_id, stream, n in session.execute(select(RawRecord.account_id, RawRecord.stream, func.count())
                                                     .group_by(RawRecord.account_id, RawRecord.stream)):
            counts[account_id][stream] = n
        spans = {a: (n, lo, hi) for a, n, lo, hi in session.execute(
            select(Transaction.account_id, func.count(), func.min(Transaction.timestamp),
                   func.max(Transaction.timestamp)).group_by(Transaction.account_id))}
        audits = {a.account: a for a in audit_balances(session)}
        runs = account_runs(session)
        accounts = []
        for account in session.scalars(select(Account).order_by(Account.name)):
            n, first, last = spans.get(account.id, (0, None, None))
            last_run, last_ok = runs.get(account.name, (None, None))
            audit = audits.get(account.name)
            differences = len(audit.differences) if audit else 0
            accounts.append(AccountStatus(
                account.name, account.kind, account.exchange, sum(counts[account.id].values()), n, first, last,
                _streams(session, account.id, counts[account.id]), last_run, last_ok,
                audit.taken_at if audit else None, differences, _failing(account.name, last_run, differences)))
        attempts = dict(session.execute(select(PriceAttempt.outcome, func.count()).group_by(PriceAttempt.outcome))
                        .all())
        nightly = next(iter(last_runs(session, "nightly")), None)
    locked = is_locked(ws.home)
    holder = read_holder(ws.home) if locked else None
    failing = [line for a in accounts for line in a.failing]
    if nightly is not None and nightly.outcome == RUNNING and not locked:  # its process is gone: killed
        nightly = replace(nightly, outcome=INTERRUPTED, summary="interrupted: the process ended before it "
                                                                "finished (the next run completes it)")
    if nightly is not None and nightly.outcome in (PARTIAL, RUN_FAILED, INTERRUPTED):
        failing.insert(0, f"the last nightly run ({when(nightly.started_at)}) ended {nightly.outcome}: "
                          f"{nightly.summary}")
    if attempts.get(FAILED):
        failing.append(f"{attempts[FAILED]} price(s) could not be fetched (exchange unreachable or rate-limited): "
                       "run `taxsync prices sync` again")
    return WorkspaceStatus(str(ws.home), holder.describe() if holder else ("a taxsync run" if locked else None),
                           nightly, tuple(accounts), attempts.get(FAILED, 0), attempts.get(NOT_FOUND, 0),
                           tuple(failing))
