"""The record of runs: each account's imports and each nightly job, with how they ended.

``taxsync status`` and ``taxsync doctor`` read it to say what is failing and since when. A run is written when
it starts (outcome ``running``) and again when it ends; a run the next one finds unfinished, while no process
holds the workspace lock, was interrupted (killed, or the machine went down) and is marked so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from importer.sync import AccountResult
from taxsync.app.workspace import Workspace
from taxsync.db import Account
from taxsync.db.models import Run
from taxsync.errors import ExitCode
from taxsync.types import now_ms

RUNNING, OK, PARTIAL, FAILED, INTERRUPTED = "running", "ok", "partial", "failed", "interrupted"


@dataclass(frozen=True, slots=True)
class RunInfo:
    command: str
    account: str | None
    started_at: int
    finished_at: int | None
    outcome: str
    exit_code: int | None
    summary: str


def start_run(ws: Workspace, command: str, account_id: int | None = None) -> int:
    with Session(ws.engine) as session, session.begin():
        run = Run(command=command, account_id=account_id, pid=os.getpid(), started_at=now_ms(), outcome=RUNNING,
                  summary="")
        session.add(run)
        session.flush()
        return run.id


def finish_run(ws: Workspace, run_id: int, outcome: str, exit_code: int, summary: str) -> None:
    with Session(ws.engine) as session, session.begin():
        run = session.get_one(Run, run_id)
        run.finished_at, run.outcome, run.exit_code, run.summary = now_ms(), outcome, exit_code, summary[:2000]


def mark_interrupted(ws: Workspace) -> int:
    """Mark runs left unfinished as interrupted; call only while holding the workspace lock."""
    with Session(ws.engine) as session, session.begin():
        result = session.execute(update(Run).where(Run.finished_at.is_(None))
                                 .values(outcome=INTERRUPTED, finished_at=now_ms(),
                                         summary="interrupted: the process ended before it finished"))
        return int(result.rowcount)  # type: ignore[attr-defined]


def record_imports(ws: Workspace, started_at: int, results: Sequence[AccountResult]) -> None:
    """One finished run per account of an import, with its outcome and its (redacted) error."""
    with Session(ws.engine) as session, session.begin():
        ids = dict(session.execute(select(Account.name, Account.id)).all())
        for r in results:
            new = sum(r.new_records.values())
            summary = f"+{new} records, {r.requests} requests" if r.ok else str(r.error)
            session.add(Run(command="import", account_id=ids.get(r.account), pid=os.getpid(), started_at=started_at,
                            finished_at=now_ms(), outcome=OK if r.ok else FAILED,
                            exit_code=int(ExitCode.OK) if r.ok else import_exit_code([r]), summary=summary[:2000]))


def import_exit_code(results: Sequence[AccountResult]) -> int:
    """0 when every account imported; 3 when none did and each failure is the configuration's or the key's (a
    missing environment variable, a refused key: nothing to retry, something to fix); else 1 (partial)."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return int(ExitCode.OK)
    if len(failed) == len(results) and all(r.config_error for r in failed):
        return int(ExitCode.CONFIG)
    return int(ExitCode.PARTIAL)


def last_runs(session: Session, command: str, limit: int = 1) -> list[RunInfo]:
    names = dict(session.execute(select(Account.id, Account.name)).all())
    rows = session.scalars(select(Run).where(Run.command == command).order_by(Run.started_at.desc(), Run.id.desc())
                           .limit(limit))
    return [_info(r, names) for r in rows]


def account_runs(session: Session) -> dict[str, tuple[RunInfo | None, RunInfo | None]]:
    """Per account name: its last import run and its last successful one."""
    names = dict(session.execute(select(Account.id, Account.name)).all())
    found: dict[str, tuple[RunInfo | None, RunInfo | None]] = {}
    for run in session.scalars(select(Run).where(Run.command == "import", Run.account_id.is_not(None))
                               .order_by(Run.started_at, Run.id)):
        info = _info(run, names)
        name = info.account or ""
        _, last_ok = found.get(name, (None, None))
        found[name] = (info, info if info.outcome == OK else last_ok)
    return found


def _info(run: Run, names: dict[int, str]) -> RunInfo:
    return RunInfo(run.command, names.get(run.account_id) if run.account_id else None, run.started_at,
                   run.finished_at, run.outcome, run.exit_code, run.summary)
