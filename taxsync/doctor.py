"""``taxsync doctor``: is this workspace ready to run unattended, and is its history complete?

Doctor is a registry of checks. Each check is a function of a ``DoctorContext`` returning ``Finding``s, each
with a verdict (ok, warning, error), the thing it is about, one sentence on what was found and one sentence
of advice. A module adds a section with ``@register_check("name", "Title")`` (sections run in the order they
were registered; importing the module registers it) — e.g. an audit of key age and IP restrictions::

    @register_check("key-audit", "API key audit")
    def key_audit(ctx: DoctorContext) -> Iterable[Finding]:
        yield Finding(Verdict.WARNING, "binance-main", "the key is 400 days old", "rotate it")

A check that fails unexpectedly becomes one error finding of its section; the other sections still run. The
sections here: environment, keyring, database, file permissions, keys (read-only status, asked of each
exchange), coverage (streams or markets never fetched, history an exchange's API no longer returns) and the
balance audit (each exchange asked for its balances now, unless offline).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.db import Account, SyncState
from taxsync.workspace import Workspace

DAY_MS = 86_400_000


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    verdict: Verdict
    subject: str
    message: str
    advice: str = ""


@dataclass
class DoctorContext:
    home: Path
    ws: Workspace | None  # None when the workspace could not be opened (``open_error`` says why)
    online: bool = True  # ask exchanges (keys, balances); False: only what is stored
    open_error: str | None = None
    retry_delay: float = 1.0
    cache: dict[str, Any] = field(default_factory=dict)  # for checks that share work


Check = Callable[[DoctorContext], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    title: str
    check: Check
    needs_workspace: bool


SECTIONS: dict[str, Section] = {}


def register_check(name: str, title: str, *, needs_workspace: bool = True) -> Callable[[Check], Check]:
    """Add a doctor section (a later registration under the same name replaces the earlier one)."""

    def add(check: Check) -> Check:
        SECTIONS[name] = Section(name, title, check, needs_workspace)
        return check

    return add


@dataclass(frozen=True, slots=True)
class SectionResult:
    name: str
    title: str
    findings: tuple[Finding, ...]


def run_doctor(ctx: DoctorContext, only: Iterable[str] = ()) -> list[SectionResult]:
    wanted = list(only)
    unknown = [name for name in wanted if name not in SECTIONS]
    if unknown:
        from taxsync.errors import UsageError

        raise UsageError(f"unknown doctor section(s) {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    results = []
    for section in SECTIONS.values():
        if wanted and section.name not in wanted:
            continue
        if section.needs_workspace and ctx.ws is None:
            findings: tuple[Finding, ...] = (Finding(Verdict.ERROR, "workspace", f"not checked: {ctx.open_error}",
                                                     "fix the workspace first (see the database section)"),)
        else:
            try:
                findings = tuple(section.check(ctx))
            except Exception as error:
                findings = (Finding(Verdict.ERROR, section.name, f"the check itself failed: "
                                    f"{type(error).__name__}: {error}", "report this as a bug of taxsync"),)
        results.append(SectionResult(section.name, section.title, findings))
    return results


def worst(results: Iterable[SectionResult]) -> Verdict:
    verdicts = {f.verdict for r in results for f in r.findings}
    return Verdict.ERROR if Verdict.ERROR in verdicts else Verdict.WARNING if Verdict.WARNING in verdicts \
        else Verdict.OK


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def exchange_accounts(ws: Workspace) -> list[tuple[int, str, str, dict[str, Any]]]:
    with Session(ws.engine) as session:
        return [(a.id, a.name, a.exchange or "", json.loads(a.options or "{}"))
                for a in session.scalars(select(Account).where(Account.kind == "exchange").order_by(Account.name))]


def sync_states(ws: Workspace, account_id: int) -> list[SyncState]:
    with Session(ws.engine) as session:
        return list(session.scalars(select(SyncState).where(SyncState.account_id == account_id)))


# -- environment ---------------------------------------------------------------------------------------------------
def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


@register_check("environment", "Environment", needs_workspace=False)
def check_environment(ctx: DoctorContext) -> Iterable[Finding]:
    import taxsync

    python = ".".join(map(str, sys.version_info[:3]))
    yield Finding(Verdict.OK if sys.version_info >= (3, 11) else Verdict.ERROR, "python",
                  f"Python {python} at {sys.executable}", "" if sys.version_info >= (3, 11) else "use Python 3.11+")
    yield Finding(Verdict.OK, "taxsync", f"taxsync {taxsync.__version__}, ccxt {_package('ccxt')}, SQLAlchemy "
                  f"{_package('SQLAlchemy')}")
    try:
        import weasyprint  # noqa: F401

        yield Finding(Verdict.OK, "pdf", "WeasyPrint loads: PDF reports can be written")
    except Exception as error:
        yield Finding(Verdict.WARNING, "pdf", f"WeasyPrint does not load ({type(error).__name__}): PDF reports "
                      "will fail", "install WeasyPrint's system libraries (Pango), or use --format csv,json")
    if not ctx.home.is_dir():
        yield Finding(Verdict.ERROR, "workspace", f"{ctx.home} does not exist", "run `taxsync init` or pass --home")
        return
    free = shutil.disk_usage(ctx.home).free
    megabytes = free // 1_000_000
    verdict = Verdict.ERROR if megabytes < 50 else Verdict.WARNING if megabytes < 500 else Verdict.OK
    yield Finding(verdict, "disk", f"{megabytes:,} MB free where the workspace is",
                  "" if verdict is Verdict.OK else "free some space: an import or a backup may not fit")
    from taxsync.lock import is_locked, read_holder

    if is_locked(ctx.home):
        holder = read_holder(ctx.home)
        yield Finding(Verdict.OK, "lock", f"a run holds the workspace now: "
                      f"{holder.describe() if holder else 'taxsync'}")


from taxsync import doctor_checks  # noqa: E402,F401  (registers the other sections, in order)
