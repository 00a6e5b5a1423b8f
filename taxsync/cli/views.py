"""``taxsync holdings`` and ``taxsync problems``."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from taxsync.cli.common import AsJson, Home, handles_errors, parse_day, print_rows
from taxsync.problems import ProblemKind, Severity
from taxsync.types import decimal_text


@handles_errors
def holdings_cli(
    at: Annotated[str | None, typer.Option("--at", help="Local date YYYY-MM-DD (default: everything).")] = None,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """Show what is held, with its remaining cost basis.

    Example: taxsync holdings --at 2024-12-31
    """
    from taxsync.app.views import holdings
    from taxsync.app.workspace import open_workspace

    day = parse_day(at, "--at")
    ws = open_workspace(home)
    rows = [{"asset": h.asset, "amount": decimal_text(h.amount), "cost": decimal_text(h.cost), "account": h.account}
            for h in holdings(ws, at=day)]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    print_rows(f"Holdings{' at ' + at if at else ''} ({ws.settings.currency})", ["Asset", "Amount", "Cost", "Account"],
                [list(r.values()) for r in rows], {"Amount", "Cost"})


_SEVERITIES = (Severity.INFO, Severity.WARNING, Severity.ERROR)


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
    from taxsync.app.views import problems
    from taxsync.app.workspace import open_workspace

    least = _SEVERITIES.index(severity)
    rows = [{"kind": p.kind.value, "severity": p.severity.value, "message": p.message, "source": p.source}
            for p in problems(open_workspace(home))
            if _SEVERITIES.index(p.severity) >= least and kind in (None, p.kind)]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    print_rows(f"{len(rows)} problem(s)", ["Severity", "Kind", "Message", "Source"],
                [[r["severity"], r["kind"], r["message"], r["source"]] for r in rows], set())
