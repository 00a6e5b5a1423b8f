"""The checks of ``taxsync doctor``: environment, keyring, database, file permissions, schedule, keys, key
hygiene, coverage and the balance audit (``taxsync.ops.doctor.SECTIONS`` lists them in the order they run)."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from importer import credentials
from importer.adapters.bybit import RETENTION as BYBIT_RETENTION
from importer.adapters.okx import RETENTION_MS as OKX_RETENTION
from taxsync.app.balance_audit import refresh_balances
from taxsync.app.workspace import Workspace
from taxsync.db.backup import list_backups, sqlite_file
from taxsync.errors import TaxsyncError
from taxsync.ledger.balances import BALANCES, AccountAudit, audit_balances
from taxsync.ledger.store import LEDGER_MARK
from taxsync.ops.findings import DoctorContext, Finding, Health, day, exchange_accounts, sync_states, when
from taxsync.safety import loose_mode
from taxsync.types import DAY_MS


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def check_environment(ctx: DoctorContext) -> Iterable[Finding]:
    import taxsync

    python = ".".join(map(str, sys.version_info[:3]))
    yield Finding(Health.OK if sys.version_info >= (3, 11) else Health.ERROR, "python",
                  f"Python {python} at {sys.executable}", "" if sys.version_info >= (3, 11) else "use Python 3.11+")
    yield Finding(Health.OK, "taxsync", f"taxsync {taxsync.__version__}, ccxt {_package('ccxt')}, SQLAlchemy "
                  f"{_package('SQLAlchemy')}")
    try:
        import weasyprint  # noqa: F401

        yield Finding(Health.OK, "pdf", "WeasyPrint loads: PDF reports can be written")
    except Exception as error:
        yield Finding(Health.WARNING, "pdf", f"WeasyPrint does not load ({type(error).__name__}): PDF reports "
                      "will fail", "install WeasyPrint's system libraries (Pango), or use --format csv,json")
    if not ctx.home.is_dir():
        yield Finding(Health.ERROR, "workspace", f"{ctx.home} does not exist", "run `taxsync init` or pass --home")
        return
    free = shutil.disk_usage(ctx.home).free
    megabytes = free // 1_000_000
    verdict = Health.ERROR if megabytes < 50 else Health.WARNING if megabytes < 500 else Health.OK
    yield Finding(verdict, "disk", f"{megabytes:,} MB free where the workspace is",
                  "" if verdict is Health.OK else "free some space: an import or a backup may not fit")
    from taxsync.app.lock import is_locked, read_holder

    if is_locked(ctx.home):
        holder = read_holder(ctx.home)
        yield Finding(Health.OK, "lock", f"a run holds the workspace now: "
                      f"{holder.describe() if holder else 'taxsync'}")


# What each first-class adapter fetches (importer/adapters): a stream missing after an import is a gap.
EXPECTED_STREAMS: dict[str, tuple[str, ...]] = {
    "binance": ("deposits", "withdrawals", "trades"),
    "kraken": ("trades", "ledger"),
    "coinbase": ("trades", "ledger"),
    "okx": ("trades", "ledger", "deposits", "withdrawals"),
    "bybit": ("trades", "deposits", "withdrawals"),
    "kucoin": ("deposits", "withdrawals", "ledger", "trades"),
}
# Exchanges whose API forgets old history (reference/ccxt-notes.md §2): (milliseconds kept, what to import).
RETENTION: dict[str, tuple[int, str]] = {
    "okx": (OKX_RETENTION, "OKX's API returns only the last 3 months of fills and bills: download OKX's trade "
                           "history and account statement for earlier dates and import them with "
                           "`taxsync import-file`"),
    "bybit": (BYBIT_RETENTION, "Bybit's API returns only the last 2 years of executions and transaction log: "
                               "download Bybit's trade and asset history for earlier dates and import them "
                               "with `taxsync import-file`"),
}
BACKUP_AGE_DAYS = 30


def check_keyring(ctx: DoctorContext) -> Iterable[Finding]:
    assert ctx.ws is not None
    users = [(name, options) for _, name, _, options in exchange_accounts(ctx.ws) if options.get("keyring")]
    try:
        backend = credentials.usable_keyring()
        yield Finding(Health.OK, "keyring", f"OS keyring available ({type(backend).__name__})")
    except TaxsyncError as error:
        verdict = Health.ERROR if users else Health.OK
        yield Finding(verdict, "keyring", "no usable OS keyring" + ("" if users else " (no account needs one)"),
                      str(error) if users else "")
        return
    for name, options in users:
        try:
            credentials.resolve(options, workspace_id=str(ctx.ws.home), account=name)
            yield Finding(Health.OK, name, "its key is in the keyring")
        except TaxsyncError as error:
            yield Finding(Health.ERROR, name, str(error), f"run `taxsync account add {name} ... --keyring` again")


def check_database(ctx: DoctorContext) -> Iterable[Finding]:
    if ctx.ws is None:
        yield Finding(Health.ERROR, "workspace", f"cannot be opened: {ctx.open_error}",
                      "fix what the message says; `taxsync backup` copies are in backups/ beside the database")
        return
    ws = ctx.ws
    with ws.engine.connect() as connection:
        if ws.engine.dialect.name == "sqlite":
            verdict = connection.execute(text("PRAGMA quick_check")).scalar()
            yield (Finding(Health.OK, "integrity", "SQLite's quick check finds the database sound")
                   if verdict == "ok" else
                   Finding(Health.ERROR, "integrity", f"SQLite's quick check fails: {verdict}",
                           "restore the newest copy from backups/ (taxsync backup) and import again"))
            broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
            if broken:
                yield Finding(Health.ERROR, "references", f"{len(broken)} row(s) point at rows that do not exist",
                              "restore a backup, or remove and re-add the affected account")
        revision = connection.execute(text("select version_num from alembic_version")).scalar()
    yield Finding(Health.OK, "schema", f"schema revision {revision}")
    source = sqlite_file(ws.engine)
    if source is None:
        yield Finding(Health.OK, "backups", "not a SQLite database: back it up with your database's own tools")
        return
    size = source.stat().st_size if source.exists() else 0
    backups = list_backups(ws.engine)
    if not backups:
        yield Finding(Health.WARNING, "backups", f"{source.name} ({size // 1000:,} kB) has never been backed up",
                      "run `taxsync backup` (and keep a copy on another disk)")
        return
    age = (time.time() - backups[-1].stat().st_mtime) / 86400
    yield Finding(Health.OK if age <= BACKUP_AGE_DAYS else Health.WARNING, "backups",
                  f"newest of {len(backups)} backup(s): {backups[-1].name} ({age:.0f} days old)",
                  "" if age <= BACKUP_AGE_DAYS else "run `taxsync backup`")


def _private_paths(ws: Workspace) -> list[tuple[Path, bool]]:
    """The workspace's files and folders that must be the owner's only: (path, is a folder)."""
    paths: list[tuple[Path, bool]] = [(ws.home, True), (ws.home / "taxsync.toml", False)]
    source = sqlite_file(ws.engine)
    if source is not None:
        paths += [(source.with_name(source.name + suffix), False) for suffix in ("", "-wal", "-shm")]
        paths += [(source.parent / "backups", True)]
        paths += [(p, False) for p in sorted((source.parent / "backups").glob("*.db"))]
    for folder in ("logs", "reports"):
        paths += [(ws.home / folder, True)] + [(p, False) for p in sorted((ws.home / folder).glob("*"))
                                                if p.is_file()]
    return [(p, d) for p, d in paths if p.exists()]


def check_permissions(ctx: DoctorContext) -> Iterable[Finding]:
    assert ctx.ws is not None
    loose = [(p, d, who) for p, d in _private_paths(ctx.ws) if (who := loose_mode(p))]
    for path, folder, who in loose:
        yield Finding(Health.WARNING, str(path), f"can be read by {who}: it holds financial history",
                      f"chmod {'700' if folder else '600'} '{path}'")
    if not loose:
        yield Finding(Health.OK, "files", "the workspace, its database, logs, backups and reports are readable "
                                           "by their owner only")


def check_schedule(ctx: DoctorContext) -> Iterable[Finding]:
    assert ctx.ws is not None
    from taxsync.app.runs import OK, RUNNING, last_runs
    from taxsync.ops import schedule

    try:
        installed = schedule.show(ctx.home)
    except TaxsyncError as error:
        installed = None
        yield Finding(Health.WARNING, "schedule", f"cannot be read: {error}", "")
    if installed is None:
        yield Finding(Health.WARNING, "schedule", "no nightly schedule for this workspace",
                      "run `taxsync schedule install --at 02:30` (or run `taxsync nightly` yourself)")
    else:
        yield Finding(Health.OK, "schedule", f"{installed.scheduler}, every day at {installed.at}")
    with Session(ctx.ws.engine) as session:
        last = next(iter(last_runs(session, "nightly")), None)
    if last is None:
        if installed is not None:
            yield Finding(Health.WARNING, "last run", "the nightly job has never run",
                          "check that the timer or cron job runs (`taxsync schedule show`)")
        return
    age_days = (time.time() * 1000 - last.started_at) / DAY_MS
    if last.outcome not in (OK, RUNNING):
        yield Finding(Health.WARNING, "last run", f"{when(last.started_at)} ended {last.outcome}: {last.summary}",
                      "see logs/taxsync.log and `taxsync status`")
    elif installed is not None and age_days > 2:
        yield Finding(Health.WARNING, "last run", f"{when(last.started_at)}, {age_days:.0f} days ago",
                      "is the machine off at that hour, or the timer disabled? see `taxsync schedule show`")
    else:
        yield Finding(Health.OK, "last run", f"{when(last.started_at)}: {last.outcome}")


def check_keys(ctx: DoctorContext) -> Iterable[Finding]:
    assert ctx.ws is not None
    listed = exchange_accounts(ctx.ws)
    if not listed:
        yield Finding(Health.OK, "accounts", "no exchange accounts")
        return
    if not ctx.online:
        for _, name, _, options in listed:
            checked = options.get("key_checked_at")
            yield (Finding(Health.OK, name, f"key last checked {when(int(checked))} (offline: not asked now)")
                   if checked else Finding(Health.WARNING, name, "the key was never checked",
                                           f"run `taxsync account check {name}`"))
        return
    from importer.permissions import READ_ONLY_HOWTO
    from taxsync.app.accounts import check_accounts

    for name, verdict, error in check_accounts(ctx.ws):
        if error:
            yield Finding(Health.ERROR, name, error, READ_ONLY_HOWTO if "refuses" in error else
                          "fix the key or its environment variables, then `taxsync account check`")
        elif verdict and "cannot tell" in verdict:
            yield Finding(Health.WARNING, name, verdict.split(": ", 1)[-1], "make sure the key is read-only")
        else:
            yield Finding(Health.OK, name, (verdict or "").split(": ", 1)[-1])


# What the key audit (taxsync.app.key_audit, `taxsync account audit`) says, as doctor verdicts.
_AUDIT_VERDICTS = {"ok": Health.OK, "warning": Health.WARNING, "refuse": Health.ERROR}


def check_key_hygiene(ctx: DoctorContext) -> Iterable[Finding]:
    """Every key as a careful reviewer sees it (rights, IP allowlist, age, expiry, query window, last sync):
    the findings of `taxsync account audit`, which asks each exchange; offline, nothing is asked."""
    assert ctx.ws is not None
    if not ctx.online:
        yield Finding(Health.OK, "keys", "not audited offline", "run `taxsync account audit`")
        return
    from taxsync.app.key_audit import audit_accounts

    for finding in audit_accounts(ctx.ws):  # a finding the exchange cannot tell says so in its own words
        yield Finding(_AUDIT_VERDICTS[str(finding.verdict)], f"{finding.account}: {finding.check}", finding.found,
                      finding.advice)


def _coverage(ws: Workspace, account_id: int, name: str, exchange: str, since_day: str) -> Iterable[Finding]:
    states = [s for s in sync_states(ws, account_id) if s.stream not in (LEDGER_MARK, BALANCES)]
    if not states:
        yield Finding(Health.WARNING, name, "never imported", "run `taxsync import`")
        return
    streams = {s.stream for s in states}
    for stream in EXPECTED_STREAMS.get(exchange, ()):
        if stream not in streams:
            yield Finding(Health.WARNING, name, f"its {stream} were never fetched",
                          "run `taxsync import` and read its notes; if it fails, `taxsync status` says why")
    opened = date.fromisoformat(since_day)
    since = int(datetime(opened.year, opened.month, opened.day, tzinfo=UTC).timestamp() * 1000)
    starts = [s.covered_from for s in states if s.covered_from is not None]
    first = min(starts, default=None)
    if first is not None and first > since + DAY_MS:
        keep = RETENTION.get(exchange)
        why = keep[1] if keep else (f"import again with `taxsync import {name} --since {since_day} --full`, or "
                                    "import the exchange's export for that time")
        yield Finding(Health.WARNING, name, f"history from {since_day} (the account's start) to {day(first)} "
                      "was never fetched", why)
    elif exchange in RETENTION and since < time.time() * 1000 - RETENTION[exchange][0]:
        yield Finding(Health.WARNING, name, f"the account starts {since_day}, earlier than the "
                      f"{RETENTION[exchange][0] // DAY_MS} days {exchange}'s API remembers", RETENTION[exchange][1])


def _stored_audits(ctx: DoctorContext) -> dict[str, AccountAudit]:
    """The balance audit from the stored balances, computed once per doctor run."""
    if "audits" not in ctx.cache:
        assert ctx.ws is not None
        with Session(ctx.ws.engine) as session:
            ctx.cache["audits"] = {a.account: a for a in audit_balances(session)}
    return dict(ctx.cache["audits"])


def _markets_never_fetched(ctx: DoctorContext, account_id: int, name: str) -> Iterable[Finding]:
    """Per-market trade streams (Binance): an asset whose balance differs and no market of it was fetched."""
    assert ctx.ws is not None
    markets = {s.symbol for s in sync_states(ctx.ws, account_id) if s.stream == "trades" and s.symbol}
    if not markets:
        return
    assets = {part for symbol in markets for part in symbol.split(":")[0].split("/")}
    audit = _stored_audits(ctx).get(name)
    if audit is not None:
        for d in audit.differences:
            if d.asset not in assets:
                yield Finding(Health.WARNING, name, f"no market of {d.asset} was ever fetched for its trades, "
                              f"and its balance differs from the history", f"if you traded {d.asset} there, run "
                              f"`taxsync import {name} --full`, or import the exchange's export")


def check_coverage(ctx: DoctorContext) -> Iterable[Finding]:
    assert ctx.ws is not None
    found = False
    for account_id, name, exchange, options in exchange_accounts(ctx.ws):
        findings = [*_coverage(ctx.ws, account_id, name, exchange, str(options.get("since", "2017-07-01"))),
                    *_markets_never_fetched(ctx, account_id, name)]
        found = found or bool(findings)
        yield from findings or [Finding(Health.OK, name, "every stream fetched from the account's start")]
    if not found and not exchange_accounts(ctx.ws):
        yield Finding(Health.OK, "accounts", "no exchange accounts")


def check_balances(ctx: DoctorContext) -> Iterable[Finding]:
    assert ctx.ws is not None
    errors: dict[str, str | None] = {}
    if ctx.online:
        errors = refresh_balances(ctx.ws, retry_delay=ctx.retry_delay)
        ctx.cache.pop("audits", None)  # the balances just fetched replace the stored ones
    audits = list(_stored_audits(ctx).values())
    if not audits:
        yield Finding(Health.OK, "accounts", "no exchange accounts")
    for audit in audits:
        if errors.get(audit.account):
            yield Finding(Health.WARNING, audit.account, f"the exchange could not be asked for its balances now: "
                          f"{errors[audit.account]}", "the comparison below uses the balances of the last import")
        if audit.taken_at is None:
            yield Finding(Health.WARNING, audit.account, "never compared: no balances from the exchange yet",
                          "run `taxsync import` (or doctor online)")
            continue
        for d in audit.differences:
            yield Finding(Health.WARNING, audit.account, d.describe().split(": ", 1)[1],
                          "import the exchange's export for what its API does not return (or the missing "
                          "account), then compare again")
        if not audit.differences:
            yield Finding(Health.OK, audit.account, f"all {audit.compared} asset balance(s) agree with the "
                          f"exchange's of {when(audit.taken_at)}")
