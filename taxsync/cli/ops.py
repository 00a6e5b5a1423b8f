"""Unattended operation: ``taxsync nightly``, ``schedule``, ``status``, ``doctor`` and ``backup``, thin wrappers
over the modules of ``taxsync.ops`` and ``taxsync.db.backup``."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from taxsync.cli.common import AsJson, Home, err, handles_errors, out
from taxsync.errors import ExitCode, TaxsyncError

SCHEDULE_HELP = ("Run `taxsync nightly` every night (systemd user timer, else crontab).")

LockWait = Annotated[float | None, typer.Option("--lock-wait", min=0, help="Seconds to wait while another run "
                                                "holds the workspace (default: $TAXSYNC_LOCK_WAIT, else 30).")]


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M") if ms else ""


@handles_errors
def nightly_cli(
    as_json: Annotated[bool, typer.Option("--json", help="Log lines as JSON objects (screen and log file).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="Print every step, not only warnings.")] = False,
    skip_prices: Annotated[bool, typer.Option("--skip-prices", help="Import only; fetch no prices.")] = False,
    keep_backups: Annotated[int, typer.Option("--keep-backups", min=0, help="Back the database up after the run "
                                              "and keep this many nightly backups (0: no backup).")] = 0,
    lock_wait: LockWait = None,
    home: Home = None,
) -> None:
    """The unattended job: import every exchange account, fetch the prices reports need, audit the balances.
    Logs to logs/taxsync.log in the workspace (rotated). Prints one summary line first (what a cron mail shows
    at the top), then the warnings and errors; with --json, JSON lines as they happen and the summary last.
    Exit code 0 all well, 1 something failed (the summary names it), 3 configuration or key to fix, 5
    workspace busy.

    Example: taxsync nightly --home ~/taxes
    """
    from taxsync.app.workspace import open_workspace
    from taxsync.ops.nightly import close_logger, make_logger, run_nightly

    ws = open_workspace(home)
    details = None if as_json else io.StringIO()  # text: held back until the summary line is printed
    logger = make_logger(ws, json_lines=as_json, verbose=verbose, stream=details)
    try:
        result = run_nightly(ws, logger=logger, prices=not skip_prices, lock_wait=lock_wait, keep_backups=keep_backups)
    finally:
        close_logger(logger)
    if details is None:
        sys.stdout.write(json.dumps({"event": "summary", "summary": result.summary(), "exit_code": result.exit_code,
                                     "failed": result.failed}) + "\n")
    else:
        out.print(result.summary(), highlight=False, markup=False)
        sys.stdout.write(details.getvalue())
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@handles_errors
def schedule_install_cli(
    at: Annotated[str, typer.Option("--at", help="Time of day, 24-hour clock, the machine's local time.")] = "02:30",
    env_file: Annotated[Path | None, typer.Option("--env-file", dir_okay=False, help="File of NAME=value lines with "
                                                  "the API keys' environment variables (chmod 600).")] = None,
    home: Home = None,
) -> None:
    """Run `taxsync nightly` for this workspace every day at --at: a systemd user timer where systemd runs
    (a missed night runs at the next boot), else a crontab line. Installing again replaces the schedule.

    Example: taxsync schedule install --at 02:30 --env-file ~/.config/taxsync/keys.env
    """
    from taxsync.app.workspace import open_workspace
    from taxsync.ops import schedule

    ws = open_workspace(home)
    from taxsync.app.accounts import list_accounts

    needs_env = [a.name for a in list_accounts(ws) if a.options.get("api_key_env")]
    installed = schedule.install(ws.home, at=at, env_file=env_file)
    out.print(f"Scheduled `taxsync nightly` every day at {installed.at} ({installed.scheduler}: {installed.where})",
              highlight=False)
    if needs_env and env_file is None:
        err.print(f"note: {', '.join(needs_env)} read their API keys from environment variables, which a "
                  f"{installed.scheduler} job does not inherit from your shell: install again with --env-file",
                  highlight=False)


@handles_errors
def schedule_show_cli(home: Home = None) -> None:
    """Show this workspace's schedule and how the last nightly run went.

    Example: taxsync schedule show
    """
    from taxsync.app.workspace import open_workspace, resolve_home
    from taxsync.ops import schedule

    folder = resolve_home(home)
    installed = schedule.show(folder)
    if installed is None:
        out.print("No schedule: `taxsync schedule install --at 02:30` makes one", highlight=False)
    else:
        out.print(f"{installed.scheduler}: every day at {installed.at} ({installed.where})\n  {installed.command}",
                  highlight=False, markup=False)
    from taxsync.ops.status import workspace_status

    try:
        last = workspace_status(open_workspace(folder)).last_nightly
    except TaxsyncError as error:  # the schedule is shown even when the workspace cannot be opened
        err.print(f"(no record of runs: {error})", highlight=False, markup=False)
        return
    if last is not None:
        out.print(f"last nightly run: {_when(last.started_at)} UTC, {last.outcome}: {last.summary}", highlight=False,
                  markup=False)


@handles_errors
def schedule_remove_cli(home: Home = None) -> None:
    """Remove this workspace's nightly schedule (timer and service, or crontab line).

    Example: taxsync schedule remove
    """
    from taxsync.app.workspace import resolve_home
    from taxsync.ops import schedule

    removed = schedule.remove(resolve_home(home))
    out.print("Removed the nightly schedule" if removed else "There was no schedule to remove", highlight=False)


def _status_json(status: Any) -> dict[str, Any]:
    return status.as_json()


@handles_errors
def status_cli(as_json: AsJson = False, home: Home = None) -> None:
    """Per account and stream: last successful sync, records, the time covered, and anything failing.
    Reads the database only (no network).

    Example: taxsync status --json
    """
    from taxsync.app.workspace import open_workspace
    from taxsync.ops.status import workspace_status

    status = workspace_status(open_workspace(home))
    if as_json:
        sys.stdout.write(json.dumps(_status_json(status), indent=2) + "\n")
        return
    if status.running:
        out.print(f"Running now: {status.running}", highlight=False, markup=False)
    if status.last_nightly:
        n = status.last_nightly
        out.print(f"Last nightly run: {_when(n.started_at)} UTC, {n.outcome}", highlight=False)
    table = Table(title="Accounts")
    for column in ("Account", "Stream", "Records", "Last sync (UTC)", "Covered from", "Covered until", "Markets"):
        table.add_column(column, justify="right" if column in ("Records", "Markets") else "left")
    for a in status.accounts:
        table.add_row(a.name, f"({a.exchange or a.kind})", str(a.records),
                      _when(a.last_success.finished_at) if a.last_success else "", _when(a.first_transaction)[:10],
                      _when(a.last_transaction)[:10], "")
        for s in a.streams:
            table.add_row("", s.stream, str(s.records), _when(s.last_sync), _when(s.covered_from)[:10],
                          _when(s.covered_until), str(s.markets or ""))
    out.print(table)
    for line in status.failing:
        out.print(f"FAILING: {line}", highlight=False, markup=False)
    if not status.failing:
        out.print("Nothing failing.", highlight=False)


_MARK = {"ok": "ok", "warning": "WARNING", "error": "ERROR"}


@handles_errors
def doctor_cli(
    offline: Annotated[bool, typer.Option("--offline", help="Ask no exchange: keys and balances as last stored.")
                       ] = False,
    sections: Annotated[list[str] | None, typer.Option("--section", help="Only this section (repeatable).")] = None,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """Check that the workspace can run unattended and that its history is complete: environment, keyring,
    database health, file permissions, read-only status of every key, coverage gaps (streams or markets never
    fetched, history the exchange's API no longer returns) and the balance audit (each exchange's balances
    against the imported history, every difference shown). Exit code 1 when a check found an error.

    Example: taxsync doctor --offline
    """
    from taxsync.app.workspace import open_workspace, resolve_home
    from taxsync.ops.doctor import DoctorContext, Health, run_doctor, worst

    folder = resolve_home(home)
    try:
        ctx = DoctorContext(folder, open_workspace(folder), online=not offline)
    except TaxsyncError as error:
        ctx = DoctorContext(folder, None, online=not offline, open_error=str(error))
    results = run_doctor(ctx, sections or ())
    verdict = worst(results)
    if as_json:
        sys.stdout.write(json.dumps({"verdict": verdict.value, "sections": [
            {"name": r.name, "title": r.title, "findings": [
                {"verdict": f.verdict.value, "subject": f.subject, "message": f.message, "advice": f.advice}
                for f in r.findings]} for r in results]}, indent=2) + "\n")
    else:
        for r in results:
            out.print(f"[bold]{r.title}[/]")
            for f in r.findings:
                advice = f" -> {f.advice}" if f.advice and f.verdict is not Health.OK else ""
                out.print(f"  {_MARK[f.verdict.value]:7} {f.subject}: {f.message}{advice}", highlight=False,
                          markup=False)
        counts = {v: sum(f.verdict is v for r in results for f in r.findings) for v in Health}
        out.print(f"doctor: {counts[Health.ERROR]} error(s), {counts[Health.WARNING]} warning(s)", highlight=False)
    if verdict is Health.ERROR:
        raise typer.Exit(int(ExitCode.PARTIAL))


@handles_errors
def backup_cli(
    to: Annotated[Path | None, typer.Option("--to", dir_okay=False, help="Backup file to write (default: "
                                            "backups/taxsync-YYYYmmdd-HHMMSS.db beside the database).")] = None,
    home: Home = None,
) -> None:
    """Copy the workspace database with SQLite's online backup (safe while an import runs), check the copy,
    and keep it readable by its owner only. An automatic backup is also made before any schema upgrade.

    Example: taxsync backup --to /mnt/usb/taxsync-2025.db
    """
    from taxsync.app.workspace import open_workspace
    from taxsync.db.backup import backup_database

    path = backup_database(open_workspace(home).engine, to.expanduser().resolve() if to else None)
    out.print(f"Backed up the database to {path} ({path.stat().st_size // 1000:,} kB)", highlight=False)
