"""What the last ``prices sync`` found for the moments it could not price: no price exists there, or the source
failed (unreachable, rate-limited). Kept so that a report's missing-price problem says which, and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from taxsync.db.models import PriceAttempt

NOT_FOUND, FAILED = "not_found", "failed"


@dataclass(frozen=True, slots=True)
class Attempt:
    asset: str
    timestamp: int
    outcome: str  # NOT_FOUND or FAILED
    exchange: str
    reason: str
    attempted_at: int

    def advice(self) -> str:
        """One sentence for a missing-price problem."""
        where = f" on {self.exchange}" if self.exchange else ""
        if self.outcome == FAILED:
            return (f"the last `taxsync prices sync` could not reach a price{where} ({self.reason}): the source "
                    "failed, not the price; run it again")
        return (f"the last `taxsync prices sync` found no price{where} ({self.reason}): import one with "
                "`taxsync prices import`")


def record_attempts(session: Session, settled: Iterable[tuple[str, int]], misses: Iterable[Attempt]) -> None:
    """Forget earlier outcomes for every (asset, moment) just ``settled`` (priced or missed), then keep ``misses``."""
    keys = list(set(settled))
    for start in range(0, len(keys), 500):
        session.execute(delete(PriceAttempt).where(
            tuple_(PriceAttempt.asset, PriceAttempt.timestamp).in_(keys[start:start + 500])))
    latest = {(m.asset, m.timestamp): m for m in misses}
    rows = [{"asset": a.asset, "timestamp": a.timestamp, "outcome": a.outcome, "exchange": a.exchange,
             "reason": a.reason, "attempted_at": a.attempted_at} for a in latest.values()]
    if rows:
        session.execute(insert(PriceAttempt), rows)


def load_attempts(session: Session) -> dict[tuple[str, int], Attempt]:
    return {(row.asset, row.timestamp): Attempt(row.asset, row.timestamp, row.outcome, row.exchange, row.reason,
                                                row.attempted_at)
            for row in session.scalars(select(PriceAttempt))}
