"""The balance audit, offline: what each exchange said an account holds against what its history adds up to.

The fastest way to find missing history: a deposit, a trade pair or an earn product the import never saw
shows up as an asset whose balance on the exchange differs from the sum of the ledger's legs. Each import (and
``taxsync doctor``, which asks the exchange afresh) stores the exchange's balances of the moment as the
account's ``balances`` stream state (a JSON map of asset to exact decimal text, taken at ``covered_until``).
The audit compares that snapshot with the ledger's legs up to the same moment, asset by asset, exactly; it
needs no network, so reports list the differences offline. Every difference is shown, however small.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.db import Account, Leg, SyncState, Transaction
from taxsync.ledger.records import Transaction as LedgerTransaction
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import decimal_text

BALANCES = "balances"  # the stream whose state holds the exchange's balances (importer.adapters.common)


@dataclass(frozen=True, slots=True)
class BalanceDifference:
    account: str
    asset: str
    ledger: Decimal  # what the imported history adds up to at ``taken_at``
    exchange: Decimal  # what the exchange reported at ``taken_at``
    taken_at: int  # ms UTC

    @property
    def difference(self) -> Decimal:
        """What the exchange holds beyond the ledger (negative: the ledger counts more than is there)."""
        return self.exchange - self.ledger

    def describe(self) -> str:
        gap = self.difference
        if gap > 0:
            hint = (f"{decimal_text(gap)} more on the exchange than the history explains: a deposit, a trade or "
                    "income is probably missing")
        else:
            hint = (f"{decimal_text(-gap)} less on the exchange than the history counts: a withdrawal, a sale or a "
                    "fee is probably missing")
        return (f"{self.account}: {self.asset} on the exchange {decimal_text(self.exchange)}, in the imported history "
                f"{decimal_text(self.ledger)} ({hint})")


@dataclass(frozen=True, slots=True)
class AccountAudit:
    account: str
    taken_at: int | None  # when the exchange's balances were taken; None: never (not imported yet)
    compared: int  # assets compared
    differences: tuple[BalanceDifference, ...]


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _snapshots(session: Session) -> dict[int, tuple[int, dict[str, Decimal]]]:
    found: dict[int, tuple[int, dict[str, Decimal]]] = {}
    for row in session.scalars(select(SyncState).where(SyncState.stream == BALANCES)):
        try:
            held = {str(k): Decimal(str(v)) for k, v in json.loads(row.cursor or "{}").items()}
        except (ValueError, ArithmeticError, AttributeError):
            continue  # an unreadable snapshot is as good as none: the next import writes a new one
        found[row.account_id] = (row.covered_until or row.updated_at, held)
    return found


def _ledger_totals(session: Session, account_id: int, until: int) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    rows = session.execute(select(Leg.asset, Leg.amount).join(Transaction, Leg.transaction_id == Transaction.id)
                           .where(Transaction.account_id == account_id, Transaction.timestamp <= until))
    for asset, amount in rows:
        totals[asset] += amount
    return totals


def _stored_totals(session: Session, account_id: int, _account: str, until: int) -> dict[str, Decimal]:
    return _ledger_totals(session, account_id, until)


def _totals_from(ledger: Sequence[LedgerTransaction]) -> Callable[[Session, int, str, int], dict[str, Decimal]]:
    """Ledger totals from transactions already loaded (a report has them), without reading the legs again."""
    by_account: dict[str, list[LedgerTransaction]] = defaultdict(list)
    for tx in ledger:
        by_account[tx.account].append(tx)

    def totals(_session: Session, _account_id: int, account: str, until: int) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for tx in by_account.get(account, ()):
            if tx.timestamp <= until:
                for leg in tx.legs:
                    sums[leg.asset] += leg.amount
        return sums

    return totals


def audit_balances(session: Session, names: Sequence[str] = (), *,
                   ledger: Sequence[LedgerTransaction] | None = None) -> list[AccountAudit]:
    """The audit of each exchange account (the named ones, or all) from the stored balances: no network.
    ``ledger``: the whole ledger when the caller has it loaded already (else it is read from the database)."""
    snapshots = _snapshots(session)
    totals_of = _totals_from(ledger) if ledger is not None else _stored_totals
    query = select(Account).where(Account.kind == "exchange").order_by(Account.name)
    audits = []
    for account in session.scalars(query):
        if names and account.name not in names:
            continue
        if account.id not in snapshots:
            audits.append(AccountAudit(account.name, None, 0, ()))
            continue
        taken_at, held = snapshots[account.id]
        counted = totals_of(session, account.id, account.name, taken_at)
        assets = sorted(set(held) | {a for a, v in counted.items() if v})
        differences = tuple(BalanceDifference(account.name, a, counted.get(a, Decimal(0)), held.get(a, Decimal(0)),
                                              taken_at)
                            for a in assets if counted.get(a, Decimal(0)) != held.get(a, Decimal(0)))
        audits.append(AccountAudit(account.name, taken_at, len(assets), differences))
    return audits


def balance_problems(session: Session, ledger: Sequence[LedgerTransaction] | None = None) -> list[Problem]:
    """Each difference of the last stored balances as a problem of the report (offline)."""
    return [Problem(ProblemKind.BALANCE_DIFFERENCE, Severity.WARNING,
                    f"{d.describe()}; import the exchange's export for what its API does not return",
                    f"account {d.account}, exchange balances of {when(d.taken_at)}")
            for audit in audit_balances(session, ledger=ledger) for d in audit.differences]
