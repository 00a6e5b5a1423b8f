"""Match withdrawals to deposits between the user's own accounts, so a move is not taken for a sale.

A withdrawal and a deposit form a transfer when they move the same asset between two different accounts and
either carry the same transaction hash, or the deposit arrives within ``WINDOW`` of the withdrawal for no more
than was sent and no less than sent minus its network fee (or ``TOLERANCE`` of it when no fee is recorded).
Hash matches are made first; then each withdrawal, oldest first, takes the earliest fitting deposit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from taxsync.ledger.records import Transaction, Transfer, TxKind
from taxsync.types import Role

WINDOW_BEFORE_MS = 60 * 60 * 1000  # exchanges' clocks and booking times differ: allow an hour early
WINDOW_AFTER_MS = 7 * 24 * 60 * 60 * 1000
TOLERANCE = Decimal("0.005")


def _principal(tx: Transaction) -> tuple[str, Decimal] | None:
    leg = tx.main_leg()
    return (leg.asset, abs(leg.amount)) if leg else None


def _fits(withdrawal: Transaction, deposit: Transaction) -> bool:
    sent, received = _principal(withdrawal), _principal(deposit)
    if sent is None or received is None or sent[0] != received[0] or withdrawal.account == deposit.account:
        return False
    if not -WINDOW_BEFORE_MS <= deposit.timestamp - withdrawal.timestamp <= WINDOW_AFTER_MS:
        return False
    fee = sum((-leg.amount for leg in withdrawal.legs if leg.role is Role.FEE and leg.asset == sent[0]),
              Decimal(0))
    allowance = max(fee, sent[1] * TOLERANCE)
    return Decimal(0) <= sent[1] - received[1] <= allowance


def match_transfers(transactions: Iterable[Transaction]) -> tuple[list[Transaction], list[Transfer]]:
    """Split ``transactions`` into those left as they are and the transfers found among them."""
    everything = list(transactions)
    withdrawals = sorted((t for t in everything if t.kind is TxKind.WITHDRAWAL), key=lambda t: t.timestamp)
    deposits = sorted((t for t in everything if t.kind is TxKind.DEPOSIT), key=lambda t: t.timestamp)
    used: set[int] = set()
    transfers: list[Transfer] = []

    by_hash: dict[tuple[str, str], list[Transaction]] = defaultdict(list)
    for deposit in deposits:
        if deposit.txhash and (principal := _principal(deposit)):
            by_hash[(principal[0], deposit.txhash)].append(deposit)
    for withdrawal in withdrawals:
        principal = _principal(withdrawal)
        if not withdrawal.txhash or principal is None:
            continue
        for deposit in by_hash.get((principal[0], withdrawal.txhash), []):
            if id(deposit) not in used and deposit.account != withdrawal.account:
                used.update((id(withdrawal), id(deposit)))
                transfers.append(Transfer(withdrawal, deposit, "txhash"))
                break

    for withdrawal in withdrawals:
        if id(withdrawal) in used:
            continue
        for deposit in deposits:
            if id(deposit) not in used and _fits(withdrawal, deposit):
                used.update((id(withdrawal), id(deposit)))
                transfers.append(Transfer(withdrawal, deposit, "amount and time"))
                break

    remaining = [t for t in everything if id(t) not in used]
    return remaining, transfers
