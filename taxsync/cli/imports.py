"""``taxsync import-file`` and ``taxsync import``: history from exported files and from exchange APIs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taxsync.cli.common import Home, Quiet, handles_errors, out, parse_day, prepare_figures, progress_display


@handles_errors
def import_file_cli(
    paths: Annotated[list[Path] | None, typer.Argument(help="CSV files to import.", dir_okay=False)] = None,
    account: Annotated[str | None, typer.Option(
        "--account", help="Account these files belong to (default: the file's exchange, else its name).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="File format: auto (detect by header) or one of "
                                                      "--list-formats.")] = "auto",
    list_formats: Annotated[bool, typer.Option("--list-formats", help="List the formats and their headers.")
                            ] = False,
    quiet: Quiet = False,
    home: Home = None,
) -> None:
    """Import exported history files into an account. All files are checked first: a bad line stops the
    import with nothing stored. Importing the same file again adds nothing; a trade also imported from the
    exchange's API counts once.

    Example: taxsync import-file binance-2023.csv kraken-ledgers.csv --account binance-main
    """
    from taxsync.app.file_import import file_formats, import_files
    from taxsync.app.workspace import open_workspace

    if list_formats:
        for name, title, variants in file_formats():
            out.print(f"{name}: {title}", highlight=False)
            for variant in variants:
                out.print(f"    {variant}", highlight=False, markup=False)
        return
    ws = open_workspace(home)
    with progress_display(quiet) as progress:
        summary = import_files(ws, paths or [], account=account, fmt=fmt, progress=progress)
    out.print(f"Imported {summary.files} file(s) into {', '.join(repr(a) for a in summary.accounts)}: "
              f"{summary.rows} records read, {summary.new_records} new; now {summary.transactions} transactions")
    prepare_figures(ws, quiet)


@handles_errors
def import_cli(
    names: Annotated[list[str] | None, typer.Argument(help="Accounts to import (default: all exchange ones).")] = None,
    since: Annotated[str | None, typer.Option(help="Start of history to fetch (YYYY-MM-DD).")] = None,
    full: Annotated[bool, typer.Option(help="Fetch everything again, ignoring what was fetched before.")] = False,
    quiet: Quiet = False,
    home: Home = None,
) -> None:
    """Import the history of exchange accounts over their APIs, incrementally: run it as often as you like
    (nightly, say); what was imported before is not fetched again.

    Example: taxsync import binance-main --since 2021-01-01
    """
    from taxsync.app.accounts import import_accounts
    from taxsync.app.runs import import_exit_code
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    with progress_display(quiet) as progress:
        results = import_accounts(ws, names or (), since=parse_day(since, "--since", "2021-01-31"), full=full,
                                  progress=progress)
    for r in results:
        streams = ", ".join(f"{stream} +{n}" for stream, n in sorted(r.new_records.items())) or "nothing new"
        status = "ok" if r.ok else f"FAILED: {r.error}"
        out.print(f"{r.account}: {status}; {streams}; {r.requests} requests; {r.transactions} transactions",
                  highlight=False)
        for note in r.notes:
            out.print(f"  note: {note}", highlight=False)
    failed = [r.account for r in results if not r.ok]
    summary = f"import: {len(results) - len(failed)} of {len(results)} accounts ok"
    out.print(summary + (f"; failed: {', '.join(failed)}" if failed else ""), highlight=False)
    if any(r.ok for r in results):
        prepare_figures(ws, quiet)
    if code := import_exit_code(results):
        raise typer.Exit(code)
