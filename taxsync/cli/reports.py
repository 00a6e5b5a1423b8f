"""``taxsync report`` and ``taxsync export``: the tax report of a year, and the ledger for another tool."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taxsync.cli.common import Home, Quiet, err, handles_errors, out, progress_display

REPORT_FORMATS = ("pdf", "csv", "json", "html", "form8949-boxes", "turbotax", "taxact")  # reports.WRITERS' keys
EXPORT_FORMATS = ("koinly", "turbotax-universal", "beancount")  # reports.exports.EXPORTERS' keys


def _formats(value: str) -> list[str]:
    chosen = [part.strip().lower() for part in value.split(",") if part.strip()]
    known = set(REPORT_FORMATS)
    if not chosen or set(chosen) - known:
        raise typer.BadParameter(f"choose from {', '.join(sorted(known))}, separated by commas")
    return chosen


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
    quiet: Quiet = False,
    home: Home = None,
) -> None:
    """Write the tax report of one year.

    Example: taxsync report --year 2024 --format pdf,csv,json --out ./reports
    """
    from taxsync.app.report import build_report
    from taxsync.app.workspace import open_workspace

    ws, formats = open_workspace(home), _formats(fmt)
    with progress_display(quiet) as progress:
        written = build_report(ws, year=year, jurisdiction=jurisdiction, method=method, tracking=tracking,
                               formats=formats, out=out_dir, summary_only=summary, audit=audit, progress=progress)
    out.print(written.period, highlight=False)
    if not written.transactions:
        err.print("warning: no transactions in this period: the report has nothing to show (is the year right, "
                  "and is the history imported?)", highlight=False)
    for path in written.paths:
        out.print(f"wrote {path}", highlight=False)
    found = f"{written.errors} error{'s' if written.errors != 1 else ''}, {written.warnings} warning" + (
        "s" if written.warnings != 1 else "")
    out.print(f"{found} in the data (listed under Problems in the report, and by `taxsync problems`)"
              if written.errors or written.warnings else "no problems found in the data", highlight=False)


@handles_errors
def export_cli(
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(EXPORT_FORMATS)}.")],
    year: Annotated[str | None, typer.Option("--year", help="Only this tax year (2024, or 2024-25); beancount "
                                                            "keeps the history before it for its lots.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Only from this local day (YYYY-MM-DD), with --to; "
                                                             "instead of --year.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Only up to this local day (YYYY-MM-DD), included.")
                   ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", dir_okay=False, help="File to write (default "
                                                  "taxsync-export-FORMAT[-PERIOD] in the current folder); Koinly "
                                                  "writes one file per account, named FILE-ACCOUNT.csv.")] = None,
    method: Annotated[str | None, typer.Option(help="Override the workspace's cost-basis method (beancount needs "
                                                    "fifo, lifo or hifo).")] = None,
    home: Home = None,
) -> None:
    """Write the ledger, after transfer matching, for another tool: Koinly universal CSV, TurboTax universal CSV,
    or beancount with taxsync's lots and gains.

    Example: taxsync export --format beancount --year 2024 --out taxes-2024.beancount
    """
    if fmt not in EXPORT_FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    from taxsync.app.export import export_ledger
    from taxsync.app.workspace import open_workspace

    for path in export_ledger(open_workspace(home), fmt=fmt, year=year, start=start, end=end, out=out_file,
                              method=method):
        out.print(f"wrote {path}")
