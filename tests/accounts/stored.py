"""What an import stored, for comparing with a simulator's history."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app.workspace import Workspace
from taxsync.db import Leg, RawRecord


def raw_counts(ws: Workspace) -> Counter[str]:
    """Raw records per stream."""
    with Session(ws.engine) as session:
        return Counter(session.scalars(select(RawRecord.stream)))


def ledger_sums(ws: Workspace) -> dict[str, Decimal]:
    """Per-asset sum of every ledger leg (what the imported history says is held), zeros left out."""
    sums: dict[str, Decimal] = {}
    with Session(ws.engine) as session:
        for asset, amount in session.execute(select(Leg.asset, Leg.amount)):
            sums[asset] = sums.get(asset, Decimal(0)) + amount
    return {a: v for a, v in sums.items() if v}
