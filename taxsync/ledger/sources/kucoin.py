"""KuCoin spot export rows (importer/files/kucoin.py) into trades.

One row is one order (today's export) or one fill (the older one): a buy brings ``Filled Amount`` of the base in
and sends ``Filled Volume`` of the quote out, a sell the reverse; ``Fee`` in ``Fee Currency`` is paid on top, as
KuCoin's API reports it. An order that filled nothing (cancelled before any fill) moves nothing and gives no
transaction. The time is the fill's, else the order's, in the zone the column's name says (UTC by default).
The exchange id is the fill's ``Trade ID`` where the export has one, else the ``Order ID``.
"""

from __future__ import annotations

from collections.abc import Mapping

from taxsync.ledger.records import Transaction, TxKind
from taxsync.ledger.sources import FieldError, Normalized, register
from taxsync.ledger.sources.fields import asset, find_column, moment, pair, positive, required, text, trade_legs


@register("kucoin")
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
