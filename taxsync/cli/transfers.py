"""``taxsync transfers ...``: thin wrappers over ``taxsync.app.transfers``."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from taxsync.cli.common import AsJson, Home, handles_errors, out
from taxsync.types import decimal_text, local_date, to_datetime

if TYPE_CHECKING:
    from taxsync.app.transfers import Side, TransferRow
    from taxsync.ledger.records import GivenCost, Transfer

HELP = ("Moves between your own accounts: see how withdrawals were matched to deposits, link or unlink pairs "
         "by hand, give a cost for a deposit from outside.")

WithdrawalRef = Annotated[str, typer.Argument(help="Ref of the withdrawal, e.g. binance-main/withdrawals:9412.")]
DepositRef = Annotated[str, typer.Argument(help="Ref of the deposit, e.g. ledger-nano/export.csv:14.")]


def _when(side: Side | None) -> str:
    return to_datetime(side.timestamp).strftime("%Y-%m-%d %H:%M") if side else ""


def _side_json(side: Side | None) -> dict[str, str] | None:
    if side is None:
        return None
    return {"ref": side.ref, "account": side.account, "amount": decimal_text(side.amount),
            "time": to_datetime(side.timestamp).isoformat().replace("+00:00", "Z")}


def _row_json(row: TransferRow) -> dict[str, Any]:
    return {"status": row.status, "matched_by": row.matched_by or None, "asset": row.asset,
            "withdrawal": _side_json(row.withdrawal), "deposit": _side_json(row.deposit),
            "cost": _cost_json(row.cost) if row.cost else None}


def _cost_json(given: GivenCost) -> dict[str, str | None]:
    return {"amount": decimal_text(given.cost.amount), "currency": given.cost.currency,
            "acquired": to_datetime(given.acquired).isoformat().replace("+00:00", "Z") if given.acquired is not None
            else None}


def _cost_text(given: GivenCost | None, zone: ZoneInfo) -> str:
    if given is None:
        return ""
    text = f"{decimal_text(given.cost.amount)} {given.cost.currency}"
    return text + (f", acquired {local_date(given.acquired, zone)}" if given.acquired is not None else "")


def _pair_text(transfer: Transfer) -> str:
    return f"{transfer.withdrawal.ref} -> {transfer.deposit.ref} ({transfer.matched_by})"


@handles_errors
def transfers_list_cli(
    year: Annotated[str | None, typer.Option("--year", help="Only rows with a side in this tax year (2024, or "
                                                            "2024-25).")] = None,
    unmatched: Annotated[bool, typer.Option("--unmatched", help="Only withdrawals and deposits that nothing "
                                                                "matched.")] = False,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """List transfers between your accounts and how each was matched (txhash, amount and time, manual), then
    the crypto withdrawals and deposits left unmatched. Times are UTC.

    Example: taxsync transfers list --year 2024 --unmatched
    """
    from taxsync.app import transfers as transfer_review
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    rows = transfer_review.list_transfers(ws, year=year, unmatched_only=unmatched)
    if as_json:
        sys.stdout.write(json.dumps([_row_json(row) for row in rows], indent=2) + "\n")
        return
    table = Table(title=f"{len(rows)} transfer(s) and unmatched move(s)")
    for column in ("Matched by", "Asset", "Withdrawal", "Sent", "Withdrawn (UTC)", "Deposit", "Received",
                   "Deposited (UTC)", f"Cost ({ws.settings.currency})"):
        table.add_column(column, justify="right" if column in ("Sent", "Received") else "left")
    for row in rows:
        w, d = row.withdrawal, row.deposit
        table.add_row(row.matched_by or "[yellow]unmatched[/]", row.asset, w.ref if w else "",
                      decimal_text(w.amount) if w else "", _when(w), d.ref if d else "",
                      decimal_text(d.amount) if d else "", _when(d),
                      _cost_text(row.cost, ZoneInfo(ws.settings.timezone)))
    out.print(table)


@handles_errors
def transfers_link_cli(withdrawal_ref: WithdrawalRef, deposit_ref: DepositRef, home: Home = None) -> None:
    """Pair a withdrawal and a deposit into another of your accounts as one transfer, even when the matching
    rules would not (a late arrival, a fee not recorded). The link holds across re-imports.

    Example: taxsync transfers link binance-main/withdrawals:9412 ledger-nano/export.csv:14
    """
    from taxsync.app import transfers as transfer_review
    from taxsync.app.workspace import open_workspace

    undone = transfer_review.link(open_workspace(home), withdrawal_ref, deposit_ref)
    out.print(f"Linked {withdrawal_ref} -> {deposit_ref}", highlight=False)
    for transfer in undone:
        out.print(f"  no longer paired: {_pair_text(transfer)}", highlight=False)


@handles_errors
def transfers_unlink_cli(withdrawal_ref: WithdrawalRef, deposit_ref: DepositRef, home: Home = None) -> None:
    """Never pair this withdrawal and deposit as a transfer (ends a manual link between them too); the rules
    may then match each to something else. Holds across re-imports.

    Example: taxsync transfers unlink binance-main/withdrawals:9412 ledger-nano/export.csv:14
    """
    from taxsync.app import transfers as transfer_review
    from taxsync.app.workspace import open_workspace

    was = transfer_review.unlink(open_workspace(home), withdrawal_ref, deposit_ref)
    out.print(f"Unlinked {withdrawal_ref} -> {deposit_ref}"
              + (f" (they were paired by {was.matched_by})" if was else " (they were not paired)"), highlight=False)


@handles_errors
def transfers_cost_cli(
    deposit_ref: Annotated[str, typer.Argument(help="Ref of the deposit or gift received, e.g. "
                                                    "ledger-nano/export.csv:27.")],
    amount: Annotated[str | None, typer.Argument(help="What the deposited units cost in total, in the "
                                                      "workspace's currency.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Where the cost comes from, for your accountant.")
                    ] = None,
    acquired: Annotated[str | None, typer.Option(
        "--acquired", metavar="YYYY-MM-DD",
        help="The day the units were acquired, if before they arrived (bought elsewhere; or the donor's day, "
             "where a gift's cost carries over): the holding period counts from it, not from the deposit.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Forget the cost given for this deposit.")] = False,
    home: Home = None,
) -> None:
    """Give the cost of a deposit that came from outside your imported accounts (bought elsewhere, say), so its
    units are not taken as acquired at zero cost; or the donor's cost of a gift received, where it carries over
    (US, DE; in the UK, Canada and Australia a gift costs its market value when received). With --acquired, the
    units are held from that day (long-term in the US and tax-free in Germany after a year of holding, the
    donor's time included for a gift). Setting it again replaces it; --clear forgets it.

    Example: taxsync transfers cost ledger-nano/export.csv:27 8500 --acquired 2023-04-30 --note "bought on
    Kraken"
    """
    from taxsync.app import transfers as transfer_review
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    if clear:
        if amount is not None:
            raise typer.BadParameter("give an amount or --clear, not both", param_hint="AMOUNT")
        transfer_review.clear_deposit_cost(ws, deposit_ref)
        out.print(f"Cleared the cost of {deposit_ref}", highlight=False)
        return
    if amount is None:
        raise typer.BadParameter("the total cost is needed (or --clear)", param_hint="AMOUNT")
    try:
        day = date.fromisoformat(acquired) if acquired is not None else None
    except ValueError:
        raise typer.BadParameter(f"'{acquired}' is not a day such as 2023-04-30", param_hint="--acquired") from None
    transfer = transfer_review.set_deposit_cost(ws, deposit_ref, amount, note or "", day)
    out.print(f"Cost of {deposit_ref}: {amount} {ws.settings.currency}"
              + (f", acquired {day}" if day is not None else ""), highlight=False)
    if transfer is not None:
        out.print(f"  note: this deposit is part of the transfer {_pair_text(transfer)}, so the moved lots keep "
                  "their cost; this one is used only if the transfer is unlinked", highlight=False)
