"""The ledger as TurboTax's universal transaction CSV (reference/formats.md).

``Date, Type, Sent Asset, Sent Amount, Received Asset, Received Amount, Fee Asset, Fee Amount, Market Value
Currency, Market Value, Description, Transaction Hash, Transaction ID``. Types: a trade is ``Buy`` when it pays
with fiat, ``Sale`` when it is paid in fiat, else ``Convert``; income ``Income``; a spend ``Expense``; deposits
and gifts received ``Deposit``; withdrawals, gifts given and losses ``Withdrawal``; a withdrawal matched to a
deposit into another own account is one ``Transfer`` row (sent from the one, received by the other), as are
moves inside an account (staking). The market value is taxsync's value of the row in the tax currency (what
the report uses), empty where taxsync found none. Dates are UTC, ``YYYY-MM-DD HH:MM:SS``. The Transaction ID is
the exchange's own id where the source has one, else taxsync's reference of the row. TurboTax takes at most
8 decimal places and no negative numbers: amounts are written unsigned (the column says the direction) and
rounded half-even to 8 places, the market value to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from reports.exports.csv_rows import sides, utc_text, write_csv
from reports.exports.data import LedgerExport
from taxsync.ledger.records import Leg, Transaction, Transfer, TxKind
from taxsync.tax.records import Event
from taxsync.types import Role, decimal_text

HEADER = ("Date", "Type", "Sent Asset", "Sent Amount", "Received Asset", "Received Amount", "Fee Asset",
          "Fee Amount", "Market Value Currency", "Market Value", "Description", "Transaction Hash", "Transaction ID")
TYPES: dict[TxKind, str] = {
    TxKind.INCOME: "Income", TxKind.SPEND: "Expense", TxKind.DEPOSIT: "Deposit", TxKind.GIFT_IN: "Deposit",
    TxKind.WITHDRAWAL: "Withdrawal", TxKind.GIFT_OUT: "Withdrawal", TxKind.LOSS: "Withdrawal",
    TxKind.INTERNAL: "Transfer",
}


EIGHT_PLACES, CENTS = Decimal("1e-8"), Decimal("0.01")


def amount_text(value: Decimal) -> str:
    """An amount as TurboTax takes it: unsigned, at most 8 decimal places."""
    return decimal_text(abs(value).quantize(EIGHT_PLACES, ROUND_HALF_EVEN))


def market_value(event: Event | None) -> Decimal | None:
    """The value of what arrived, else of what left, in the tax currency; None when not known."""
    if event is None:
        return None
    for role in (Role.IN, Role.OUT):
        legs = [leg for leg in event.legs if leg.role is role]
        if legs and all(leg.value is not None for leg in legs):
            return sum((leg.value for leg in legs if leg.value is not None), Decimal(0))
    return None


def _type(tx: Transaction, fiat: frozenset[str]) -> str:
    if tx.kind is not TxKind.TRADE:
        return TYPES[tx.kind]
    sent, received, _ = sides(tx)
    if any(leg.asset in fiat for leg in sent):
        return "Buy"
    return "Sale" if any(leg.asset in fiat for leg in received) else "Convert"


def _row(timestamp: int, kind: str, sent: Leg | None, received: Leg | None, fee: Leg | None, currency: str,
         value: Decimal | None, description: str, txhash: str, ident: str) -> list[str]:
    return [utc_text(timestamp, suffix=""), kind,
            sent.asset if sent else "", amount_text(sent.amount) if sent else "",
            received.asset if received else "", amount_text(received.amount) if received else "",
            fee.asset if fee else "", amount_text(fee.amount) if fee else "",
            currency if value is not None else "",
            format(value.quantize(CENTS, ROUND_HALF_EVEN), "f") if value is not None else "",
            description, txhash, ident]


def _transfer_row(transfer: Transfer, data: LedgerExport, events: dict[str, Event]) -> list[str]:
    withdrawal, deposit = transfer.withdrawal, transfer.deposit
    sent, _, fees = sides(withdrawal)
    _, received, _ = sides(deposit)
    value = market_value(events.get(withdrawal.ref))
    description = f"{withdrawal.account} to {deposit.account}: {withdrawal.description}".rstrip(": ")
    return _row(withdrawal.timestamp, "Transfer", sent[0] if sent else None, received[0] if received else None,
                fees[0] if fees else None, data.currency, value, description, withdrawal.txhash or deposit.txhash,
                withdrawal.exchange_id or withdrawal.ref)


def write_turbotax_universal(data: LedgerExport, out: Path) -> list[Path]:
    events = {event.ref: event for event in data.events}
    paired = {side.ref for transfer in data.transfers for side in (transfer.withdrawal, transfer.deposit)}
    transfers = {transfer.withdrawal.ref: transfer for transfer in data.transfers}
    rows: list[list[str]] = []
    for tx in data.transactions:
        if not data.within(tx.timestamp) or not tx.legs:
            continue
        if tx.ref in transfers:
            rows.append(_transfer_row(transfers[tx.ref], data, events))
            continue
        if tx.ref in paired:  # the deposit side of a transfer: on its withdrawal's row
            continue
        sent, received, fees = sides(tx)
        rows.append(_row(tx.timestamp, _type(tx, data.fiat), sent[0] if sent else None,
                         received[0] if received else None, fees[0] if fees else None, data.currency,
                         market_value(events.get(tx.ref)), tx.description, tx.txhash, tx.exchange_id or tx.ref))
        for leg in [*sent[1:], *received[1:], *fees[1:]]:  # a second leg of the same side: a row of its own
            rows.append(_row(tx.timestamp, "Withdrawal" if leg.amount < 0 else "Deposit",
                             leg if leg.amount < 0 else None, leg if leg.amount > 0 else None, None, data.currency,
                             None, f"part of {tx.ref}", tx.txhash, tx.exchange_id or tx.ref))
    return [write_csv(out, HEADER, rows)]
