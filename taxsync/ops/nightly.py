"""The nightly job: import every exchange account, fetch the prices reports need, audit the balances; log it.

Run by the schedule (``taxsync schedule install``) as ``taxsync nightly``. It holds the workspace lock for the
whole run, logs every step to ``logs/taxsync.log`` in the workspace (rotated at 1 MB, five old files kept, mode
0600; ``--json`` makes each line a JSON object), prints warnings and errors, and ends with one summary line,
so a cron mail says in its first line whether anything needs attention. Because an import commits batch by
batch and the ledger is rebuilt whenever raw records changed, a run that was killed is simply completed by
the next one; the record of runs marks it as interrupted.

Exit code: 0 everything went well; 1 an account failed to import or prices could not be fetched (the
summary names them); 3 no account could be imported because of the configuration or a key (fix it); 5 another
run holds the workspace. Prices that do not exist anywhere (not found) and balance differences are data problems
for the report, not failures of the night: they are logged and counted in the summary.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any

from taxsync.app import accounts, price_sync, runs
from taxsync.app.lock import workspace_lock
from taxsync.app.workspace import Workspace
from taxsync.errors import BusyError, ConfigError, ExitCode, TaxsyncError
from taxsync.ledger.balances import audit_balances
from taxsync.safety import PRIVATE_FILE, private_dir

LOG_DIR = "logs"
LOG_NAME = "taxsync.log"
LOG_BYTES = 1_000_000
LOG_FILES = 5


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose files (the current one and each new one after a rotation) are 0600."""

    def _open(self) -> IO[Any]:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{stamp} {record.levelname.lower():7} {record.getMessage()}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, event, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "event": getattr(record, "event", "log"),
                "message": record.getMessage(), **getattr(record, "fields", {})}
        return json.dumps(line, ensure_ascii=False, default=str)


def log_path(ws: Workspace) -> Path:
    return ws.home / LOG_DIR / LOG_NAME


def make_logger(ws: Workspace, *, json_lines: bool = False, verbose: bool = False,
                stream: IO[str] | None = None) -> logging.Logger:
    """The nightly logger: every step to the workspace's rotating log; warnings (or all, ``verbose``) to
    ``stream`` (stdout)."""
    logger = logging.getLogger(f"taxsync.ops.nightly.{id(ws)}")
    logger.handlers.clear()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter: logging.Formatter = JsonFormatter() if json_lines else TextFormatter()
    private_dir(log_path(ws).parent)
    to_file = PrivateRotatingFileHandler(log_path(ws), maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8")
    to_file.setFormatter(formatter)
    logger.addHandler(to_file)
    to_screen = logging.StreamHandler(stream or sys.stdout)
    to_screen.setLevel(logging.INFO if verbose else logging.WARNING)
    to_screen.setFormatter(formatter)
    logger.addHandler(to_screen)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def _log(logger: logging.Logger, level: int, event: str, message: str, **fields: Any) -> None:
    logger.log(level, message, extra={"event": event, "fields": fields})


@dataclass
class NightlyResult:
    exit_code: int = int(ExitCode.OK)
    accounts: int = 0
    imported: int = 0
    new_records: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # account -> redacted error
    prices_needed: int = 0
    prices_fetched: int = 0
    prices_failed: int = 0
    prices_not_found: int = 0
    prices_error: str | None = None
    backup_error: str | None = None
    balance_differences: int = 0
    interrupted_before: int = 0
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        return {0: runs.OK}.get(self.exit_code, runs.PARTIAL if self.exit_code == ExitCode.PARTIAL else runs.FAILED)

    def summary(self) -> str:
        """One line: the verdict first, then what was done and what failed."""
        verdict = {0: "OK"}.get(self.exit_code, f"{'PARTIAL' if self.exit_code == 1 else 'FAILED'} "
                                                  f"(exit {self.exit_code})")
        parts = [f"{self.imported}/{self.accounts} accounts imported (+{self.new_records} records)"]
        if self.failed:
            parts.append("failed: " + "; ".join(f"{name}: {error}" for name, error in sorted(self.failed.items())))
        parts.append(f"prices: {self.prices_error}" if self.prices_error else
                     f"prices {self.prices_fetched} fetched, {self.prices_failed} failed, "
                     f"{self.prices_not_found} not found")
        parts.append(f"{self.balance_differences} balance difference(s)")
        if self.backup_error:
            parts.append(f"backup failed: {self.backup_error}")
        if self.interrupted_before:
            parts.append("the previous run had been interrupted and is now completed")
        return f"taxsync nightly {verdict}: " + ", ".join(parts) + f"; {self.seconds:.0f} s"


def run_nightly(ws: Workspace, *, logger: logging.Logger, prices: bool = True, lock_wait: float | None = None,
                retry_delay: float = 1.0, keep_backups: int = 0) -> NightlyResult:
    """The whole nightly job under the workspace lock; never raises for an account's or a price's failure.
    ``keep_backups`` > 0: back the database up at the end and keep that many nightly backups."""
    started = time.monotonic()
    result = NightlyResult()
    try:
        with workspace_lock(ws.home, wait=lock_wait, command="taxsync nightly"):
            _run_locked(ws, logger, result, prices=prices, retry_delay=retry_delay, started=started,
                        keep_backups=keep_backups)
    except BusyError as error:  # only the lock taken here can be busy: the import's and prices' re-enter it
        _log(logger, logging.ERROR, "busy", str(error))
        raise
    _log(logger, logging.INFO, "summary", result.summary(), exit_code=result.exit_code,
         accounts=result.accounts, imported=result.imported, new_records=result.new_records,
         failed=sorted(result.failed), prices_failed=result.prices_failed,
         balance_differences=result.balance_differences)
    return result


def _run_locked(ws: Workspace, logger: logging.Logger, result: NightlyResult, *, prices: bool, retry_delay: float,
                started: float, keep_backups: int) -> None:
    result.interrupted_before = runs.mark_interrupted(ws)
    if result.interrupted_before:
        _log(logger, logging.WARNING, "resume", "the previous run was interrupted before it finished; this run "
             "completes it", interrupted=result.interrupted_before)
    run_id = runs.start_run(ws, "nightly")
    _log(logger, logging.INFO, "start", f"nightly run of workspace {ws.home}", workspace=str(ws.home))
    try:
        _import(ws, logger, result, retry_delay)
        if prices:
            _prices(ws, logger, result)
        _balances(ws, logger, result)
        _prepare(ws, logger)
        if keep_backups > 0:
            _backup(ws, logger, result, keep_backups)
        result.exit_code = _exit_code(result)
    finally:
        result.seconds = time.monotonic() - started
        runs.finish_run(ws, run_id, result.outcome, result.exit_code, result.summary())


def _import(ws: Workspace, logger: logging.Logger, result: NightlyResult, retry_delay: float) -> None:
    try:
        results = accounts.import_accounts(ws, retry_delay=retry_delay)
    except ConfigError as error:
        if "no exchange accounts" not in str(error):
            raise
        _log(logger, logging.INFO, "import", "no exchange accounts: nothing to import")
        return
    result.accounts = len(results)
    for r in results:
        new = sum(r.new_records.values())
        if r.ok:
            result.imported += 1
            result.new_records += new
            _log(logger, logging.INFO, "import", f"{r.account}: ok, +{new} records, {r.requests} requests, "
                 f"{r.transactions} transactions", account=r.account, new_records=new, requests=r.requests)
        else:
            result.failed[r.account] = str(r.error)
            _log(logger, logging.ERROR, "import", f"{r.account}: FAILED: {r.error}", account=r.account,
                 error=r.error, config_error=r.config_error)
        for note in r.notes:
            text = note if note.startswith(f"{r.account}:") else f"{r.account}: {note}"
            _log(logger, logging.INFO, "note", text, account=r.account)
    result.exit_code = runs.import_exit_code(results)


def _prices(ws: Workspace, logger: logging.Logger, result: NightlyResult) -> None:
    try:
        summary = price_sync.sync_report_prices(ws)
    except TaxsyncError as error:
        result.prices_error = str(error)
        _log(logger, logging.ERROR, "prices", f"prices sync FAILED: {error}", error=str(error))
        return
    result.prices_needed, result.prices_fetched = summary.needed, summary.fetched
    result.prices_failed, result.prices_not_found = len(summary.failed), len(summary.not_found)
    for item in summary.failed[:20]:
        _log(logger, logging.WARNING, "price_failed", f"price failed: {price_sync.describe(item)}")
    for item in summary.not_found[:20]:
        _log(logger, logging.INFO, "price_not_found", f"price not found: {price_sync.describe(item)}")
    _log(logger, logging.INFO, "prices", f"prices: {summary.needed} needed, {summary.cached} cached, "
         f"{summary.fetched} fetched, {len(summary.failed)} failed, {len(summary.not_found)} not found",
         needed=summary.needed, fetched=summary.fetched, failed=len(summary.failed),
         not_found=len(summary.not_found), requests=summary.requests)


def _balances(ws: Workspace, logger: logging.Logger, result: NightlyResult) -> None:
    from sqlalchemy.orm import Session

    with Session(ws.engine) as session:
        audits = audit_balances(session)
    for audit in audits:
        for d in audit.differences:
            result.balance_differences += 1
            _log(logger, logging.WARNING, "balance_difference", d.describe(), account=d.account, asset=d.asset,
                 exchange=str(d.exchange), ledger=str(d.ledger))


def _prepare(ws: Workspace, logger: logging.Logger) -> None:
    """Compute and keep what `holdings`, `problems` and the newest year's report show, so that the morning's
    commands answer at once; a failure here is logged and leaves the night's work standing (the next command
    computes afresh)."""
    from taxsync.app.prepare import prepare

    started = time.monotonic()
    try:
        prepare(ws)
    except Exception as error:  # the figures are only kept ahead: the import and prices are done
        _log(logger, logging.WARNING, "prepare", f"figures not kept ahead: {type(error).__name__}: {error}",
             error=str(error))
        return
    _log(logger, logging.INFO, "prepare", f"holdings, problems and the newest year's report figures kept "
         f"({time.monotonic() - started:.1f} s)", seconds=round(time.monotonic() - started, 1))


def _backup(ws: Workspace, logger: logging.Logger, result: NightlyResult, keep: int) -> None:
    """A nightly backup in backups/; the oldest nightly ones beyond ``keep`` are deleted (no other backup)."""
    from taxsync.db.backup import backup_database, list_backups, sqlite_file

    try:
        path = backup_database(ws.engine, label="nightly")
    except TaxsyncError as error:
        result.backup_error = str(error)
        _log(logger, logging.ERROR, "backup", f"backup FAILED: {error}", error=str(error))
        return
    prefix = f"{(sqlite_file(ws.engine) or path).stem}-nightly-"
    nightly = [p for p in list_backups(ws.engine) if p.name.startswith(prefix)]
    for old in nightly[:-keep]:
        old.unlink(missing_ok=True)
    _log(logger, logging.INFO, "backup", f"backed up to {path} (keeping the newest {keep} nightly backups)",
         path=str(path), removed=len(nightly[:-keep]))


def _exit_code(result: NightlyResult) -> int:
    if result.exit_code == ExitCode.CONFIG:
        return int(ExitCode.CONFIG)
    if result.failed or result.prices_failed or result.prices_error or result.backup_error:
        return int(ExitCode.PARTIAL)
    return int(ExitCode.OK)
