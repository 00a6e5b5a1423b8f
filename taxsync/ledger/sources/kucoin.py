"""KuCoin spot export rows (importer/files/kucoin.py) into trades.

One row is one order (today's export) or one fill (the older one): a buy brings ``Filled Amount`` of the base in
and sends ``Filled Volume`` of the quote out, a sell the reverse; ``Fee`` in ``Fee Currency`` is paid on top, as
KuCoin's API reports it. An order that filled nothing (cancelled before any fill) moves nothing and gives no
transaction. The time is the fill's, else the order's, in the zone the column's name says (UTC by default).
The exchange id is the fill's ``Trade ID`` where the export has one, else the ``Order ID``.

Deposit and withdrawal histories: one row per movement, booked once its ``Status`` is SUCCESS (failed,
cancelled and pending ones give nothing: a later export books them once done). ``Hash`` is the transaction hash,
so a withdrawal to another of your accounts is matched as a transfer.
"""

from __future__ import annotations

from collections.abc import Mapping

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import asset, find_column, moment, pair, positive, required, text, trade_legs
from taxsync.types import Role


def normalize_kucoin(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    base, quote = pair(row, "Symbol")
    filled = required(row, "Filled Amount")
    volume = required(row, "Filled Volume")
    time_column = find_column(row, "Filled Time(UTC")
    if not text(row, time_column):
        time_column = find_column(row, "Order Time(UTC")
    if not time_column:
        raise FieldError("Filled Time(UTC)", "the row has no fill or order time")
    timestamp = moment(row, time_column)
    fee = positive(row, "Fee")
    fee_asset = asset(row, "Fee Currency", needed=bool(fee))
    if not filled and not volume:
        return Normalized(None)
    legs = trade_legs(base, quote, text(row, "Side"), filled, volume, fee, fee_asset, "Side")
    details = [text(row, "Order Type"), text(row, "Account Type"), text(row, "Status")]
    return Normalized(Transaction(
        ref=ref, account=account, timestamp=timestamp, kind=TxKind.TRADE, legs=legs,
        description=" ".join(["KuCoin", text(row, "Side").lower(), f"{base}-{quote}", *filter(None, details)]),
        exchange_id=text(row, "Trade ID") or text(row, "Order ID"),
    ))


# Statuses of a movement that is final and moved its amount; failed or cancelled ones moved nothing and pending
# ones are booked when a later export shows them done.
SUCCEEDED = frozenset({"success", "succeeded", "completed", "complete", "done"})
NOT_BOOKED = frozenset({"failure", "failed", "cancel", "cancelled", "canceled", "processing", "pending",
                        "wallet_processing", "review", "reject", "rejected"})


def _movement(row: Mapping[str, str], account: str, ref: str, *, deposit: bool) -> Normalized:
    status = text(row, "Status")
    time_column = find_column(row, "Time(UTC") or "Time(UTC)"
    timestamp = moment(row, time_column)
    coin = asset(row, "Coin")
    value = required(row, "Amount")
    fee = positive(row, "Fee")
    if status.lower() not in SUCCEEDED:
        if status.lower() in NOT_BOOKED:
            return Normalized(None)
        raise FieldError("Status", f"'{status}' is not a status taxsync knows (SUCCESS, FAILURE, PROCESSING)")
    legs = [Leg(coin, value if deposit else -value, Role.IN if deposit else Role.OUT)]
    if fee:
        legs.append(Leg(coin, -fee, Role.FEE))
    where = text(row, "Deposit Address" if deposit else "Withdrawal Address/Account")
    details = [text(row, "Transfer Network"), where, text(row, "Remarks")]
    return Normalized(Transaction(
        ref=ref, account=account, timestamp=timestamp, kind=TxKind.DEPOSIT if deposit else TxKind.WITHDRAWAL,
        legs=tuple(legs), description=" ".join(["KuCoin", "deposit" if deposit else "withdrawal",
                                                *filter(None, details)]),
        txhash=text(row, "Hash"),
    ))


def normalize_kucoin_deposit(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    """A deposit: IN ``Amount`` of ``Coin``, a ``Fee`` (rare) paid from it; ``Hash`` lets transfers match."""
    return _movement(row, account, ref, deposit=True)


def normalize_kucoin_withdrawal(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    """A withdrawal: OUT ``Amount`` (what was sent), the ``Fee`` on top, as KuCoin's API reports them."""
    return _movement(row, account, ref, deposit=False)
