"""``taxsync export``: a thin wrapper over ``taxsync.service.export_ledger``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taxsync import service
from taxsync.cli import Home, app, handles_errors, out
from taxsync.export import EXPORTERS
from taxsync.workspace import open_workspace


@app.command("export")
@handles_errors
def export_cli(
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(EXPORTERS)}.")],
    year: Annotated[str | None, typer.Option("--year", help="Only this tax year (2024, or 2024-25); beancount "
                                                            "keeps the history before it for its lots.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", dir_okay=False, help="File to write (default "
                                                  "taxsync-export-FORMAT[-YEAR] in the current folder); Koinly "
                                                  "writes one file per account, named FILE-ACCOUNT.csv.")] = None,
    method: Annotated[str | None, typer.Option(help="Override the workspace's cost-basis method (beancount needs "
                                                    "fifo, lifo or hifo).")] = None,
    home: Home = None,
) -> None:
    """Write the ledger, after transfer matching, for another tool: Koinly universal CSV, TurboTax universal CSV,
    or beancount with taxsync's lots and gains.

    Example: taxsync export --format beancount --year 2024 --out taxes-2024.beancount
    """
    if fmt not in EXPORTERS:
        raise typer.BadParameter(f"choose from {', '.join(EXPORTERS)}", param_hint="--format")
    for path in service.export_ledger(open_workspace(home), fmt=fmt, year=year, out=out_file, method=method):
        out.print(f"wrote {path}")
