"""Bybit spot trade history rows (importer/files/bybit.py) into trades.

``Direction`` BUY brings ``Filled Quantity`` of the pair's base in and sends ``Filled Value`` of its quote out;
SELL the reverse. ``Fees`` is paid on top. The unified account's export does not name the fee's asset: Bybit
charges a spot fee in the asset received (the base on a buy, the quote on a sell), which its sample rows show
(BUY 10 ICP, fee 0.01 = 0.1 % of 10; SELL 49.97 USDT, fee 0.04997 = 0.1 % of 49.97). The pre-UTA export writes
the asset after each amount (``2.24718 NEIRO``), and that asset is taken. ``Timestamp (UTC)`` is the time;
``Transaction ID`` (the fill's id) is the exchange id.
"""

from __future__ import annotations

from collections.abc import Mapping

from taxsync.ledger.records import Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import amount_with_unit, moment, pair, required, text, trade_legs
from taxsync.types import Asset


def normalize_bybit(row: Mapping[str, str], account: str, ref: str) -> Normalized:
    base, quote = pair(row, "Spot Pairs")
    side = text(row, "Direction")
    if side.lower() not in ("buy", "sell"):
        raise FieldError("Direction", f"'{side}' is neither BUY nor SELL")
    quantity = required(row, "Filled Quantity", unit=base)
    value = required(row, "Filled Value", unit=quote)
    fees = text(row, "Fees")
    fee_asset = Asset(base if side.lower() == "buy" else quote)
    if " " in fees:
        stated = amount_with_unit(row, "Fees")
        fee, fee_asset = stated if stated else (None, fee_asset)
    else:
        fee = required(row, "Fees") if fees else None
    if not quantity and not value:
        return Normalized(None)
    return Normalized(Transaction(
        ref=ref, account=account, timestamp=moment(row, "Timestamp (UTC)"), kind=TxKind.TRADE,
        legs=trade_legs(base, quote, side, quantity, value, fee, fee_asset, "Direction"),
        description=" ".join(filter(None, ["Bybit", side.lower(), f"{base}-{quote}", text(row, "Order Type").lower(),
                                           f"order {text(row, 'Order No.')}" if text(row, "Order No.") else ""])),
        exchange_id=text(row, "Transaction ID"),
    ))
