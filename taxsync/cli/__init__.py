"""The command line: Typer commands, one module per command group, registered in ``taxsync.cli.main``.

Loading it imports Typer and rich only; every command imports the application code it needs when it runs.
"""

from taxsync.cli.main import app, main

__all__ = ["app", "main"]
