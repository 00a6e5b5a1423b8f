"""``taxsync prices ...``: thin wrappers over the price cache (``taxsync.prices.store``, ``.user_file``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from taxsync.cli.common import AsJson, Home, Quiet, err, handles_errors, out, prepare_figures, progress_display
from taxsync.errors import ExitCode
from taxsync.types import now_ms, to_datetime

if TYPE_CHECKING:
    from taxsync.prices.store import PriceSummary

HELP = ("The price cache that values your trades offline: exchange candles, your own price files. "
         "Fiat currencies are converted at the ECB reference rates, which ship with taxsync.")


def _when(timestamp: int, resolution: str) -> str:
    moment = to_datetime(timestamp)
    return moment.strftime({"1d": "%Y-%m-%d", "exact": "%Y-%m-%d %H:%M:%S"}.get(resolution, "%Y-%m-%d %H:%M"))


def _iso(timestamp: int) -> str:
    return to_datetime(timestamp).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _summary_json(row: PriceSummary) -> dict[str, Any]:
    return {"base": row.base, "quote": row.quote, "resolution": row.resolution, "source": row.source,
            "count": row.count, "first": _iso(row.first), "last": _iso(row.last)}


@handles_errors
def prices_import_cli(
    path: Annotated[Path, typer.Argument(help="CSV file with the header date,base,quote,price (and optionally "
                                              "source).", dir_okay=False)],
    home: Home = None,
) -> None:
    """Import your own prices from a CSV file.

    The header is date,base,quote,price with an optional source column (a note); each line is one price of
    one base in quote. A date (2024-03-01) prices the whole UTC day; a time with Z (2024-03-01T14:30:00Z)
    prices that moment only. Your price wins over exchange candles of the same or a coarser resolution. The
    whole file is checked first: a bad line stops the import with nothing stored. Importing a file of the same
    name again replaces the prices it gave before.

    Example: taxsync prices import my-prices.csv
    """
    from sqlalchemy.orm import Session

    from taxsync.app.workspace import open_workspace
    from taxsync.prices.user_file import import_price_file

    ws = open_workspace(home)
    with Session(ws.engine) as session, session.begin():
        result = import_price_file(session, path, now=now_ms())
    out.print(f"Imported {result.prices} price(s) from {path.name}: {result.added} new, {result.changed} changed, "
              f"{result.unchanged} unchanged, {result.removed} removed (no longer in the file)")


@handles_errors
def prices_list_cli(
    asset: Annotated[str | None, typer.Option("--asset", help="Only pairs with this asset as base or quote, "
                                                              "e.g. BTC.")] = None,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """Show what the price cache holds.

    How many prices per pair, resolution and source, from when to when (the start of the first and of the
    last period, UTC). A price file counts as one source.

    Example: taxsync prices list --asset BTC
    """
    from sqlalchemy.orm import Session

    from taxsync.app.workspace import open_workspace
    from taxsync.prices.store import summarize_prices

    ws = open_workspace(home)
    with Session(ws.engine) as session:
        rows = summarize_prices(session, asset=asset)
    if as_json:
        sys.stdout.write(json.dumps([_summary_json(row) for row in rows], indent=2) + "\n")
        return
    if not rows:
        out.print(f"No prices cached{' for ' + asset.upper() if asset else ''}. Import your own with "
                  "`taxsync prices import FILE`.")
        return
    table = Table(title=f"{sum(row.count for row in rows):,} cached price(s)")
    for column in ("Pair", "Resolution", "Source", "Prices", "First (UTC)", "Last (UTC)"):
        table.add_column(column, justify="right" if column == "Prices" else "left")
    for row in rows:
        table.add_row(f"{row.base}/{row.quote}", row.resolution, row.source, f"{row.count:,}",
                      _when(row.first, row.resolution), _when(row.last, row.resolution))
    out.print(table)


@handles_errors
def prices_sync_cli(
    year: Annotated[str | None, typer.Option("--year", help="Only what the report of this tax year needs (2024, "
                                                            "or 2024-25); default: every year.")] = None,
    quiet: Quiet = False,
    home: Home = None,
) -> None:
    """Fetch the exchange prices your reports will need, ahead of time, into the price cache.

    For each moment a transaction cannot value itself (a crypto-to-crypto trade, income, a fee), the close of
    the candle that contains it: the minute, else the hour, else the day, of the asset against your currency
    or USDT/USDC, from the account's own exchange (public data, no key needed). Each batch is stored at once,
    so an interrupted run resumes; what is cached is never fetched again. Exit code 1 when a price could not
    be found or the exchange could not be asked (the lines say which).

    Example: taxsync prices sync --year 2024
    """
    from taxsync.app import price_sync
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    with progress_display(quiet) as progress:
        summary = price_sync.sync_report_prices(ws, year=year, progress=progress)
    if summary.stored:
        prepare_figures(ws, quiet)
    shown = 20
    for kind, missing in (("not found", summary.not_found), ("failed", summary.failed)):
        for item in missing[:shown]:
            err.print(f"{kind}: {price_sync.describe(item)}", highlight=False)
        if len(missing) > shown:
            err.print(f"{kind}: ... and {len(missing) - shown} more", highlight=False)
    out.print(f"prices sync: {summary.needed} needed, {summary.cached} already cached, {summary.fetched} fetched "
              f"({summary.stored} new prices stored), {len(summary.not_found)} not found, "
              f"{len(summary.failed)} failed; {summary.requests} requests", highlight=False)
    if summary.not_found or summary.failed:
        raise typer.Exit(int(ExitCode.PARTIAL))
