"""``taxsync prices ...``: thin wrappers over the price cache (``taxsync.prices.store``, ``.user_file``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from taxsync.cli import AsJson, Home, app, handles_errors, out
from taxsync.prices.store import PriceSummary, summarize_prices
from taxsync.prices.user_file import import_price_file
from taxsync.types import to_datetime
from taxsync.workspace import open_workspace

prices_app = typer.Typer(
    help="The price cache that values your trades offline: exchange candles, your own price files. "
         "Fiat currencies are converted at the ECB reference rates, which ship with taxsync.",
    no_args_is_help=True,
)
app.add_typer(prices_app, name="prices")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _when(timestamp: int, resolution: str) -> str:
    moment = to_datetime(timestamp)
    return moment.strftime({"1d": "%Y-%m-%d", "exact": "%Y-%m-%d %H:%M:%S"}.get(resolution, "%Y-%m-%d %H:%M"))


def _iso(timestamp: int) -> str:
    return to_datetime(timestamp).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _summary_json(row: PriceSummary) -> dict[str, Any]:
    return {"base": row.base, "quote": row.quote, "resolution": row.resolution, "source": row.source,
            "count": row.count, "first": _iso(row.first), "last": _iso(row.last)}


@prices_app.command("import")
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
    ws = open_workspace(home)
    with Session(ws.engine) as session, session.begin():
        result = import_price_file(session, path, now=_now_ms())
    out.print(f"Imported {result.prices} price(s) from {path.name}: {result.added} new, {result.changed} changed, "
              f"{result.unchanged} unchanged, {result.removed} removed (no longer in the file)")


@prices_app.command("list")
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

