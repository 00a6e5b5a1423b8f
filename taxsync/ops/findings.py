"""What ``taxsync doctor``'s checks are made of: a ``Finding`` with its ``Health``, the ``DoctorContext`` a check
reads, and the small readers several checks share."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app.workspace import Workspace
from taxsync.db import Account, SyncState


class Health(StrEnum):
    """A doctor finding's verdict (key hygiene has its own: ``taxsync.app.key_audit.KeyHealth``)."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    verdict: Health
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
