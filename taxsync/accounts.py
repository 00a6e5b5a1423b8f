"""Exchange accounts: add, list, remove, check their keys, and import their history (the API behind
``taxsync account ...`` and ``taxsync import``).

Accounts sync concurrently, one thread each (ccxt throttles each client to its exchange's rate limit); one
failing account never stops the others, and every error message is redacted of secrets before it is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import ccxt
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from importer import credentials
from importer.adapters import adapter_for
from importer.exchanges import known_exchange, make_exchange
from importer.permissions import check_key, enforce
from importer.store import now_ms
from importer.sync import AccountResult, Progress, SyncContext, run_adapter
from taxsync.db import Account, RawRecord, SyncState
from taxsync.db import Transaction as TransactionRow
from taxsync.errors import ConfigError, TaxsyncError, UsageError
from taxsync.ledger.store import rebuild_ledger
from taxsync.lock import workspace_lock
from taxsync.runs import record_imports
from taxsync.workspace import Workspace

DEFAULT_SINCE = date(2017, 7, 1)  # before the oldest exchange history most users can have


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    kind: str
    exchange: str | None
    options: dict[str, Any]
    records: int
    last_sync: int | None


def add_account(ws: Workspace, name: str, *, exchange: str, api_key_env: str | None = None,
                secret_env: str | None = None, password_env: str | None = None,
                keyring_values: dict[str, str | None] | None = None, api_url: str | None = None,
                sandbox: bool = False, allow_trading_key: bool = False, since: date | None = None) -> None:
    """Record an exchange account: where its secrets are (never the secrets), and how to reach it."""
    known_exchange(exchange)
    if keyring_values is None and not (api_key_env and secret_env):
        raise UsageError("give --api-key-env VAR and --secret-env VAR, or --keyring")
    if api_url and not api_url.startswith(("http://", "https://")):
        raise UsageError(f"--api-url must start with http:// or https://, not '{api_url}'")
    options: dict[str, Any] = {
        "keyring": keyring_values is not None, "api_key_env": api_key_env, "secret_env": secret_env,
        "password_env": password_env, "api_url": api_url, "sandbox": sandbox,
        "allow_trading_key": allow_trading_key, "since": (since or DEFAULT_SINCE).isoformat(),
    }
    with Session(ws.engine) as session, session.begin():
        if session.scalar(select(Account).where(Account.name == name)):
            raise UsageError(f"an account named '{name}' exists already (see `taxsync account list`)")
        if keyring_values is not None:
            credentials.store_in_keyring(str(ws.home), name, keyring_values)
        session.add(Account(name=name, kind="exchange", exchange=exchange, created_at=now_ms(),
                            options=json.dumps({k: v for k, v in options.items() if v not in (None, False)})))


def list_accounts(ws: Workspace) -> list[AccountInfo]:
    with Session(ws.engine) as session:
        counts = dict(session.execute(select(RawRecord.account_id, func.count()).group_by(RawRecord.account_id))
                      .all())
        synced = dict(session.execute(select(SyncState.account_id, func.max(SyncState.updated_at))
                                      .group_by(SyncState.account_id)).all())
        return [AccountInfo(a.name, a.kind, a.exchange, json.loads(a.options), counts.get(a.id, 0),
                            synced.get(a.id))
                for a in session.scalars(select(Account).order_by(Account.name))]


def remove_account(ws: Workspace, name: str) -> None:
    """Delete an account with everything imported for it, and its secrets in the keyring."""
    with Session(ws.engine) as session, session.begin():
        account = _account(session, name)
        if json.loads(account.options).get("keyring"):
            credentials.delete_from_keyring(str(ws.home), name)
        session.execute(delete(Account).where(Account.id == account.id))


def _account(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise UsageError(f"no account named '{name}' (see `taxsync account list`)")
    return account


def _exchange_for(ws: Workspace, account: Account) -> tuple[Any, credentials.Credentials]:
    options = json.loads(account.options)
    creds = credentials.resolve(options, workspace_id=str(ws.home), account=account.name)
    exchange = make_exchange(account.exchange or "", creds, api_url=options.get("api_url"),
                             sandbox=bool(options.get("sandbox")))
    return exchange, creds


def _check(ws: Workspace, account: Account, exchange: Any, call: Callable[..., Any] | None = None) -> str:
    """Ask the exchange what the key may do and refuse unsafe keys; remember that it was checked.
    ``call`` wraps the request (the sync's retrying caller during an import)."""
    options = json.loads(account.options)
    permissions = (call or (lambda f, *a: f(*a)))(check_key, account.exchange or "", exchange)
    verdict = enforce(account.name, permissions, allow_trading=bool(options.get("allow_trading_key")))
    options["key_checked_at"] = now_ms()
    with Session(ws.engine) as session, session.begin():
        session.get_one(Account, account.id).options = json.dumps(options)
    return verdict


def _message(error: Exception, secrets: Sequence[str]) -> str:
    if isinstance(error, ccxt.AuthenticationError):
        text = f"the exchange refused the API key ({type(error).__name__}): check the key and its permissions"
    elif isinstance(error, ccxt.BaseError):
        text = f"{type(error).__name__}: {error}"
    else:
        text = str(error)
    return credentials.redact(text, secrets)[:500]


def check_accounts(ws: Workspace, names: Sequence[str] = ()) -> list[tuple[str, str | None, str | None]]:
    """(account, verdict, error) for each exchange account asked for (all by default)."""
    results = []
    for account in _exchange_accounts(ws, names):
        secrets: tuple[str, ...] = ()
        try:
            exchange, creds = _exchange_for(ws, account)
            secrets = creds.values()
            results.append((account.name, _check(ws, account, exchange), None))
        except (TaxsyncError, ccxt.BaseError) as error:
            results.append((account.name, None, _message(error, secrets)))
    return results


def _exchange_accounts(ws: Workspace, names: Sequence[str]) -> list[Account]:
    with Session(ws.engine) as session:
        if names:
            return [_account(session, n) for n in names]
        return list(session.scalars(select(Account).where(Account.kind == "exchange").order_by(Account.name)))


def _sync_one(ws: Workspace, account: Account, since: date | None, full: bool, progress: Progress | None,
              retry_delay: float) -> AccountResult:
    result = AccountResult(account.name)
    secrets: tuple[str, ...] = ()
    try:
        if account.kind != "exchange":
            raise UsageError(f"account '{account.name}' is a file account: use `taxsync import-file`")
        exchange, creds = _exchange_for(ws, account)
        secrets = creds.values()
        options = json.loads(account.options)
        start = since or date.fromisoformat(options.get("since", DEFAULT_SINCE.isoformat()))
        ctx = SyncContext(ws.engine, account.name, account.id, account.exchange or "", exchange,
                          int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000),
                          full=full, progress=progress, retry_delay=retry_delay)
        try:
            if not options.get("key_checked_at"):  # before the first import
                result.notes.append(_check(ws, account, exchange, ctx.call))
            run_adapter(adapter_for(account.exchange or ""), ctx, result)
        finally:
            result.requests, result.notes = ctx.requests, result.notes + ctx.notes
        result.transactions = _refresh_ledger(ws, account.id)
    except (TaxsyncError, ccxt.BaseError) as error:
        result.error = _message(error, secrets)
        result.config_error = isinstance(error, (ConfigError, UsageError, ccxt.AuthenticationError))
    return result


def _refresh_ledger(ws: Workspace, account_id: int) -> int:
    """Rebuild the account's ledger when raw records arrived since the last rebuild (also after a crash)."""
    with Session(ws.engine) as session, session.begin():
        newest = str(session.scalar(select(func.max(RawRecord.id)).where(RawRecord.account_id == account_id)))
        mark = session.scalar(select(SyncState).where(SyncState.account_id == account_id,
                                                      SyncState.stream == "_ledger"))
        if mark is None or mark.cursor != newest:
            rebuild_ledger(session, [account_id])
            if mark is None:
                mark = SyncState(account_id=account_id, stream="_ledger", symbol="")
                session.add(mark)
            mark.cursor, mark.updated_at = newest, now_ms()
        return session.scalar(select(func.count()).where(TransactionRow.account_id == account_id)) or 0


def import_accounts(ws: Workspace, names: Sequence[str] = (), *, since: date | None = None, full: bool = False,
                    progress: Progress | None = None, retry_delay: float = 1.0,
                    lock_wait: float | None = None) -> list[AccountResult]:
    """Sync the named exchange accounts (all by default) concurrently; never raises for one account's failure.
    Holds the workspace lock (waiting up to ``lock_wait`` seconds for another run) and records each account's
    outcome for ``taxsync status``."""
    accounts = _exchange_accounts(ws, names)
    if not accounts:
        raise ConfigError("no exchange accounts: add one with `taxsync account add NAME --exchange ID ...`")
    with workspace_lock(ws.home, wait=lock_wait, command="taxsync import"):
        started = now_ms()
        with ThreadPoolExecutor(max_workers=min(8, len(accounts))) as pool:
            futures = [pool.submit(_sync_one, ws, a, since, full, progress, retry_delay) for a in accounts]
            results = [f.result() for f in futures]
        record_imports(ws, started, results)
        return results
