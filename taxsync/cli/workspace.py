"""``taxsync init``: a new workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from taxsync.cli.common import Home, handles_errors, out
from taxsync.tax.jurisdictions import JURISDICTIONS


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
    from taxsync.app.workspace import init_workspace, resolve_home

    ws = init_workspace(resolve_home(home), jurisdiction=jurisdiction, currency=currency, method=method,
                        tracking=tracking, timezone=timezone)
    s = ws.settings
    out.print(f"Created workspace {ws.home} ({s.jurisdiction}, {s.currency}, {s.method}, {s.timezone})")
