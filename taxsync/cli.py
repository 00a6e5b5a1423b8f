"""The ``taxsync`` command line: thin Typer wrappers that parse options and make one call into the service.

Each ``*_cli`` function checks its options, calls ``taxsync.service`` and maps domain errors to a message on
stderr and an exit code (see ``taxsync.errors.ExitCode``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from reports import WRITERS
from taxsync import __version__, service
from taxsync.errors import ExitCode, TaxsyncError
from taxsync.problems import ProblemKind, Severity
from taxsync.safety import storage_message
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.types import decimal_text
from taxsync.workspace import init_workspace, open_workspace, resolve_home

app = typer.Typer(
    name="taxsync",
    help="Crypto exchange history in, an accountant-ready tax report out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Home = Annotated[
    Path | None,
    typer.Option("--home", envvar="TAXSYNC_HOME", file_okay=False,
                 help="Workspace folder (default: nearest folder upward with taxsync.toml, else user data)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(function: F) -> F:
    """Turn domain errors into a one-line message on stderr and the matching exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TaxsyncError as error:
            err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
            raise typer.Exit(int(error.exit_code)) from None
        except (OSError, DBAPIError) as error:  # a full or read-only disk: said plainly, exit code 3
            if (message := storage_message(error)) is None:
                raise
            err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
            raise typer.Exit(int(ExitCode.CONFIG)) from None

    return wrapper  # type: ignore[return-value]


@app.command("init")
@handles_errors
def init_cli(
    home: Home = None,
    jurisdiction: Annotated[str, typer.Option(help=f"One of: {', '.join(JURISDICTIONS)}.")] = "us",
    currency: Annotated[str | None, typer.Option(help="Tax currency (default: the jurisdiction's).")] = None,
    method: Annotated[str | None, typer.Option(help="Cost-basis method (default: the jurisdiction's).")] = None,
    tracking: Annotated[str | None, typer.Option(help="universal or per-wallet (default: the jurisdiction's).")
                        ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of calendar days (default: the jurisdiction's).")
    ] = None,
) -> None:
    """Create a workspace: taxsync.toml and its database.

    Example: taxsync init --home ~/taxes --jurisdiction us --currency USD
    """
    ws = init_workspace(resolve_home(home), jurisdiction=jurisdiction, currency=currency, method=method,
                        tracking=tracking, timezone=timezone)
    s = ws.settings
    out.print(f"Created workspace {ws.home} ({s.jurisdiction}, {s.currency}, {s.method}, {s.timezone})")


@app.command("import-file")
@handles_errors
def import_file_cli(
    paths: Annotated[list[Path] | None, typer.Argument(help="CSV files to import.", dir_okay=False)] = None,
    account: Annotated[str | None, typer.Option(
        "--account", help="Account these files belong to (default: the file's exchange, else its name).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="File format: auto (detect by header) or one of "
                                                      "--list-formats.")] = "auto",
    list_formats: Annotated[bool, typer.Option("--list-formats", help="List the formats and their headers.")
                            ] = False,
    home: Home = None,
) -> None:
    """Import exported history files into an account. All files are checked first: a bad line stops the
    import with nothing stored. Importing the same file again adds nothing; a trade also imported from the
    exchange's API counts once.

    Example: taxsync import-file binance-2023.csv kraken-ledgers.csv --account binance-main
    """
    if list_formats:
        for name, title, variants in service.file_formats():
            out.print(f"{name}: {title}", highlight=False)
            for variant in variants:
                out.print(f"    {variant}", highlight=False, markup=False)
        return
    summary = service.import_files(open_workspace(home), paths or [], account=account, fmt=fmt)
    out.print(f"Imported {summary.files} file(s) into {', '.join(repr(a) for a in summary.accounts)}: "
              f"{summary.rows} records read, {summary.new_records} new; now {summary.transactions} transactions")


def _formats(value: str) -> list[str]:
    chosen = [part.strip().lower() for part in value.split(",") if part.strip()]
    known = set(WRITERS)
    if not chosen or set(chosen) - known:
        raise typer.BadParameter(f"choose from {', '.join(sorted(known))}, separated by commas")
    return chosen


@app.command("report")
@handles_errors
def report_cli(
    year: Annotated[str, typer.Option("--year", help="Tax year, the year it ends in (2024, or 2024-25).")],
    jurisdiction: Annotated[str | None, typer.Option(help="Override the workspace's jurisdiction.")] = None,
    method: Annotated[str | None, typer.Option(help="Override the workspace's cost-basis method.")] = None,
    tracking: Annotated[str | None, typer.Option(help="Override basis tracking: universal or per-wallet.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Comma-separated: pdf, csv, json, html, form8949-boxes, "
                                                      "turbotax, taxact.")] = "pdf,csv,json",
    out_dir: Annotated[Path, typer.Option("--out", file_okay=False, help="Folder for the report files.")] = Path(
        "reports"),
    summary: Annotated[bool, typer.Option("--summary", help="PDF and HTML with the totals of the capital gains "
                                                            "detail but not its lines (quick for big years); other "
                                                            "formats in full.")] = False,
    audit: Annotated[bool, typer.Option("--audit", help="Add the lot-matching audit trail (which acquisitions "
                                                        "each disposal used) to the PDF and HTML.")] = False,
    home: Home = None,
) -> None:
    """Write the tax report of one year.

    Example: taxsync report --year 2024 --format pdf,csv,json --out ./reports
    """
    paths = service.build_report(open_workspace(home), year=year, jurisdiction=jurisdiction, method=method,
                                 tracking=tracking, formats=_formats(fmt), out=out_dir, summary_only=summary,
                                 audit=audit)
    for path in paths:
        out.print(f"wrote {path}")


def _print_rows(title: str, columns: list[str], rows: list[list[str]], numeric: set[str]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left")
    for row in rows:
        table.add_row(*row)
    out.print(table)


@app.command("holdings")
@handles_errors
def holdings_cli(
    at: Annotated[str | None, typer.Option("--at", help="Local date YYYY-MM-DD (default: everything).")] = None,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """Show what is held, with its remaining cost basis.

    Example: taxsync holdings --at 2024-12-31
    """
    try:
        day = date.fromisoformat(at) if at else None
    except ValueError:
        raise typer.BadParameter(f"'{at}' is not a date such as 2024-12-31", param_hint="--at") from None
    ws = open_workspace(home)
    rows = [{"asset": h.asset, "amount": decimal_text(h.amount), "cost": decimal_text(h.cost), "account": h.account}
            for h in service.holdings(ws, at=day)]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    _print_rows(f"Holdings{' at ' + at if at else ''} ({ws.settings.currency})", ["Asset", "Amount", "Cost", "Account"],
                [list(r.values()) for r in rows], {"Amount", "Cost"})


_SEVERITIES = (Severity.INFO, Severity.WARNING, Severity.ERROR)


@app.command("problems")
@handles_errors
def problems_cli(
    severity: Annotated[Severity, typer.Option(
        "--severity", help="The least severe to list: warning leaves out notes such as each copy of a trade "
                           "counted once; error lists only what may leave figures incomplete.")] = Severity.INFO,
    kind: Annotated[ProblemKind | None, typer.Option("--kind", help="Only problems of this kind.")] = None,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """List data problems found across the whole history, with what to do about each.

    Example: taxsync problems --severity warning --kind duplicate_suspicion
    """
    least = _SEVERITIES.index(severity)
    rows = [{"kind": p.kind.value, "severity": p.severity.value, "message": p.message, "source": p.source}
            for p in service.problems(open_workspace(home))
            if _SEVERITIES.index(p.severity) >= least and kind in (None, p.kind)]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    _print_rows(f"{len(rows)} problem(s)", ["Severity", "Kind", "Message", "Source"],
                [[r["severity"], r["kind"], r["message"], r["source"]] for r in rows], set())


def _version(value: bool) -> None:
    if value:
        out.print(f"taxsync {__version__}")
        raise typer.Exit(int(ExitCode.OK))


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """taxsync: import your exchange history, then `taxsync report --year 2024`."""


def main() -> None:
    app()


import taxsync.cli_export  # noqa: E402,F401  (registers `export`)
import taxsync.cli_ops as _ops  # noqa: E402,F401  (registers `nightly`, `schedule`, `status`, `doctor`, `backup`)
from taxsync import cli_accounts, cli_prices, cli_transfers  # noqa: E402,F401  (register `account`, `import`,
#                                                                   `prices`, `transfers`)
