"""The ``taxsync`` command line: every command and group, registered here and nowhere else.

Each ``*_cli`` function (one module per command group) parses its options, makes one call into the
application layer (``taxsync.app``, ``taxsync.ops``) and maps domain errors to a message on stderr and an exit
code (``taxsync.cli.common.handles_errors``). The command modules import nothing heavy when loaded, so
``taxsync --help`` and ``taxsync --version`` answer at once; a command imports what it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from taxsync import __version__
from taxsync.cli import accounts, imports, ops, prices, reports, transfers, views, workspace
from taxsync.cli.common import out
from taxsync.errors import ExitCode

Command = tuple[str, Callable[..., Any]]

COMMANDS: tuple[Command, ...] = (  # in the order `taxsync --help` lists them
    ("init", workspace.init_cli),
    ("import-file", imports.import_file_cli),
    ("report", reports.report_cli),
    ("holdings", views.holdings_cli),
    ("problems", views.problems_cli),
    ("export", reports.export_cli),
    ("nightly", ops.nightly_cli),
    ("status", ops.status_cli),
    ("doctor", ops.doctor_cli),
    ("backup", ops.backup_cli),
    ("import", imports.import_cli),
)

GROUPS: tuple[tuple[str, str, tuple[Command, ...]], ...] = (
    ("schedule", ops.SCHEDULE_HELP, (
        ("install", ops.schedule_install_cli),
        ("show", ops.schedule_show_cli),
        ("remove", ops.schedule_remove_cli),
    )),
    ("account", accounts.HELP, (
        ("add", accounts.account_add_cli),
        ("list", accounts.account_list_cli),
        ("remove", accounts.account_remove_cli),
        ("check", accounts.account_check_cli),
        ("rotate", accounts.account_rotate_cli),
        ("audit", accounts.account_audit_cli),
    )),
    ("prices", prices.HELP, (
        ("import", prices.prices_import_cli),
        ("list", prices.prices_list_cli),
        ("sync", prices.prices_sync_cli),
    )),
    ("transfers", transfers.HELP, (
        ("list", transfers.transfers_list_cli),
        ("link", transfers.transfers_link_cli),
        ("unlink", transfers.transfers_unlink_cli),
        ("cost", transfers.transfers_cost_cli),
    )),
)


def _version(value: bool) -> None:
    if value:
        out.print(f"taxsync {__version__}")
        raise typer.Exit(int(ExitCode.OK))


def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """taxsync: import your exchange history, then `taxsync report --year 2024`."""


def build_app() -> typer.Typer:
    """The Typer application with every command of ``COMMANDS`` and ``GROUPS``."""
    root = typer.Typer(name="taxsync", help="Crypto exchange history in, an accountant-ready tax report out.",
                       no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    root.callback()(main_callback)
    for name, function in COMMANDS:
        root.command(name)(function)
    for group_name, help_text, commands in GROUPS:
        group = typer.Typer(help=help_text, no_args_is_help=True)
        for name, function in commands:
            group.command(name)(function)
        root.add_typer(group, name=group_name)
    return root


app = build_app()


def main() -> None:
    app()
