"""OKX deposit and withdrawal history rows (importer/files/okx.py) into deposits and withdrawals.

``Type`` Deposit or Withdrawal; ``Amount`` is what moved (OKX may sign a withdrawal's amount negative; the sign
is taken from the type). ``Before Balance`` and ``After Balance`` give the whole change of the row: a withdrawal
that took more than its amount paid the difference as its network fee (a FEE leg), since OKX's withdrawal
amount does not include the fee ("Withdrawal fee is not included in withdrawal amount", OKX API). A balance
change that cannot be the amount (or the amount and a fee) is reported as a warning and the amount is booked.
``id`` is the exchange id.
"""

from __future__ import annotations

from collections.abc import Mapping

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources import FieldError, Normalized, register
from taxsync.ledger.sources.fields import amount, asset, moment, text
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Role

KINDS = {"deposit": TxKind.DEPOSIT, "withdrawal": TxKind.WITHDRAWAL}


@register("okx-movements", exchange="okx")
def normalize_okx_movement(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    timestamp = moment(row, "Time")
    kind = KINDS.get(text(row, "Type").lower())
    if kind is None:
        raise FieldError("Type", f"'{text(row, 'Type')}' is neither Deposit nor Withdrawal")
    coin = asset(row, "Symbol")
    moved = amount(row, "Amount")
    if moved is None:
        raise FieldError("Amount", "the amount is empty")
    moved = abs(moved)
    before, after = amount(row, "Before Balance"), amount(row, "After Balance")
    problems: tuple[Problem, ...] = ()
    fee = None
    if before is not None and after is not None:
        change = after - before
        expected = moved if kind is TxKind.DEPOSIT else -moved
        if kind is TxKind.WITHDRAWAL and change < expected:
            fee = expected - change
        elif change != expected:
            problems = (Problem(ProblemKind.INTEGRITY, Severity.WARNING,
                                f"OKX balance went from {before} to {after} for a {kind.value} of {moved} {coin}: "
                                "the amount is booked; check the row against OKX", ref),)
    legs = [Leg(coin, moved if kind is TxKind.DEPOSIT else -moved, Role.IN if kind is TxKind.DEPOSIT else Role.OUT)]
    if fee:
        legs.append(Leg(coin, -fee, Role.FEE))
    return Normalized(Transaction(ref=ref, account=account, timestamp=timestamp, kind=kind, legs=tuple(legs),
                                  description=f"OKX {kind.value}", exchange_id=text(row, "id")), problems)
