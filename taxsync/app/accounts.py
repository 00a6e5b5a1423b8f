"""Exchange accounts: add, list, remove, check their keys, and import their history (the API behind
``taxsync account ...`` and ``taxsync import``).

Accounts sync concurrently, one thread each (ccxt throttles each client to its exchange's rate limit); one
failing account never stops the others, and every error message is redacted of secrets before it is kept.
"""

from __future__ import annotations

import hashlib
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
from importer.key_facts import fetch_key_facts
from importer.permissions import enforce, permissions_of
from importer.sync import AccountResult, SyncContext, run_adapter
from taxsync.app.lock import workspace_lock
from taxsync.app.runs import record_imports
from taxsync.app.workspace import Workspace
from taxsync.db import Account, RawRecord, SyncState
from taxsync.db import Transaction as TransactionRow
from taxsync.errors import ConfigError, TaxsyncError, UsageError
from taxsync.ledger.store import LEDGER_MARK, refresh_ledgers
from taxsync.progress import Progress
from taxsync.types import now_ms

DEFAULT_SINCE = date(2017, 7, 1)  # before the oldest exchange history most users can have
DEFAULT_SINCE_MS = 1_498_867_200_000  # DEFAULT_SINCE at 00:00 UTC


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
        "key_since": now_ms(),
    }
    with Session(ws.engine) as session, session.begin():
        if session.scalar(select(Account).where(Account.name == name)):
            raise UsageError(f"an account named '{name}' exists already (see `taxsync account list`)")
        if keyring_values is not None:
            credentials.store_in_keyring(str(ws.home), name, keyring_values)
        session.add(Account(name=name, kind="exchange", exchange=exchange, created_at=now_ms(),
                            options=json.dumps({k: v for k, v in options.items() if v not in (None, False)})))


def last_synced(session: Session) -> dict[int, int]:
    """When each account's import last wrote a stream (UTC ms); rebuilding a ledger is no sync."""
    return dict(session.execute(select(SyncState.account_id, func.max(SyncState.updated_at))
                                .where(SyncState.stream != LEDGER_MARK).group_by(SyncState.account_id)).all())


def list_accounts(ws: Workspace) -> list[AccountInfo]:
    with Session(ws.engine) as session:
        counts = dict(session.execute(select(RawRecord.account_id, func.count()).group_by(RawRecord.account_id))
                      .all())
        synced = last_synced(session)
        return [AccountInfo(a.name, a.kind, a.exchange, json.loads(a.options), counts.get(a.id, 0),
                            synced.get(a.id))
                for a in session.scalars(select(Account).order_by(Account.name))]


def remove_account(ws: Workspace, name: str) -> bool:
    """Delete an account with everything imported for it, and its secrets in the keyring (True if it had some
    there). The keyring is cleared last, inside the database transaction: if it fails, nothing is removed."""
    with Session(ws.engine) as session, session.begin():
        account = _account(session, name)
        in_keyring = bool(json.loads(account.options).get("keyring"))
        session.execute(delete(Account).where(Account.id == account.id))
        session.flush()
        if in_keyring:
            credentials.delete_from_keyring(str(ws.home), name)
        return in_keyring


def rotate_key(ws: Workspace, name: str, *, api_key_env: str | None = None, secret_env: str | None = None,
               password_env: str | None = None, keyring_values: dict[str, str | None] | None = None,
               allow_trading_key: bool | None = None) -> str:
    """Replace an account's API key in place: the new key is checked with its exchange first (a key that can
    withdraw, or trade unless allowed, is refused and nothing changes); history and sync state are kept.

    Without new variable names or keyring values, the account's current environment variables are read again
    (their values changed). Returns the permission verdict of the new key."""
    with Session(ws.engine) as session:
        account = _account(session, name)
    if account.kind != "exchange":
        raise UsageError(f"account '{name}' is a file account: it has no API key")
    old = json.loads(account.options)
    if (api_key_env is None) != (secret_env is None):
        raise UsageError("give both --api-key-env VAR and --secret-env VAR (or --keyring)")
    new = {k: v for k, v in old.items() if k not in ("keyring", "api_key_env", "secret_env", "password_env")}
    if keyring_values is not None:
        new["keyring"] = True
        creds = credentials.Credentials(keyring_values.get("api_key") or "", keyring_values.get("secret") or "",
                                        keyring_values.get("password"))
        if not creds.api_key or not creds.secret:
            raise UsageError("the new API key and secret must not be empty")
    else:
        if api_key_env is None and old.get("keyring"):
            raise UsageError(f"account '{name}' keeps its key in the OS keyring: give --keyring to enter the new "
                             "one, or --api-key-env VAR --secret-env VAR")
        names = {"api_key_env": api_key_env or old.get("api_key_env"),
                 "secret_env": secret_env or old.get("secret_env"),
                 "password_env": password_env or (None if api_key_env else old.get("password_env"))}
        new.update({k: v for k, v in names.items() if v})
        creds = credentials.resolve(new, workspace_id=str(ws.home), account=name)
    if allow_trading_key is not None:
        new["allow_trading_key"] = allow_trading_key
    new = {k: v for k, v in new.items() if v not in (None, False)}
    exchange = make_exchange(account.exchange or "", creds, api_url=new.get("api_url"),
                             sandbox=bool(new.get("sandbox")))
    try:
        verdict, checked = _vet_key(name, account.exchange or "", exchange, new)
    except ccxt.BaseError as error:
        raise ConfigError(f"{name}: the new key could not be checked, nothing was changed: "
                          f"{error_message(error, creds.values())}") from None
    new.update(checked, key_since=checked["key_checked_at"])
    with Session(ws.engine) as session, session.begin():
        session.get_one(Account, account.id).options = json.dumps(new)
        session.flush()
        if keyring_values is not None:
            credentials.replace_in_keyring(str(ws.home), name, keyring_values)
    if old.get("keyring") and keyring_values is None:  # the key moved to environment variables
        credentials.delete_from_keyring(str(ws.home), name)
    return verdict


def _account(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise UsageError(f"no account named '{name}' (see `taxsync account list`)")
    return account


def connect(ws: Workspace, account: Account) -> tuple[Any, credentials.Credentials]:
    options = json.loads(account.options)
    creds = credentials.resolve(options, workspace_id=str(ws.home), account=account.name)
    exchange = make_exchange(account.exchange or "", creds, api_url=options.get("api_url"),
                             sandbox=bool(options.get("sandbox")))
    return exchange, creds


def _check(ws: Workspace, account: Account, exchange: Any, call: Callable[..., Any] | None = None) -> str:
    """Ask the exchange what the key may do and refuse unsafe keys; remember that it was checked.
    ``call`` wraps the request (the sync's retrying caller during an import)."""
    verdict, changes = _vet_key(account.name, account.exchange or "", exchange, json.loads(account.options), call)
    _update_options(ws, account.id, **changes)
    return verdict


def _vet_key(name: str, exchange_id: str, exchange: Any, options: dict[str, Any],
             call: Callable[..., Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Refuse a key that may withdraw (or trade, unless allowed), or that belongs to another exchange account
    than the one the history came from (compared by a hash of the owner id the exchange reports); returns the
    verdict and the options to remember."""
    facts = (call or (lambda f, *a: f(*a)))(fetch_key_facts, exchange_id, exchange)
    verdict = enforce(name, None if facts is None else permissions_of(facts),
                      allow_trading=bool(options.get("allow_trading_key")))
    owner = hashlib.sha256(facts.owner.encode()).hexdigest()[:16] if facts and facts.owner else None
    if owner and options.get("key_owner") not in (None, owner):
        raise ConfigError(f"{name}: this key belongs to another {exchange_id} account than the one whose history "
                          "taxsync has imported; add it as a new account with `taxsync account add`")
    return verdict, {"key_checked_at": now_ms(), **({"key_owner": owner} if owner else {})}


def _update_options(ws: Workspace, account_id: int, **changes: Any) -> None:
    """Merge ``changes`` into the account's stored options (read afresh, so other changes are kept)."""
    with Session(ws.engine) as session, session.begin():
        row = session.get_one(Account, account_id)
        row.options = json.dumps({**json.loads(row.options), **changes})


def error_message(error: Exception, secrets: Sequence[str]) -> str:
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
    for account in exchange_accounts(ws, names):
        secrets: tuple[str, ...] = ()
        try:
            exchange, creds = connect(ws, account)
            secrets = creds.values()
            results.append((account.name, _check(ws, account, exchange), None))
        except (TaxsyncError, ccxt.BaseError) as error:
            results.append((account.name, None, error_message(error, secrets)))
    return results


def exchange_accounts(ws: Workspace, names: Sequence[str]) -> list[Account]:
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
        exchange, creds = connect(ws, account)
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
        _update_options(ws, account.id, last_synced_at=now_ms())  # for `account audit`: is the key still used?
    except (TaxsyncError, ccxt.BaseError) as error:
        result.error = error_message(error, secrets)
        result.config_error = isinstance(error, (ConfigError, UsageError, ccxt.AuthenticationError))
    return result


def _refresh_ledger(ws: Workspace, account_id: int) -> int:
    """Rebuild the account's ledger when raw records arrived since the last rebuild (also after a crash) or
    another release derived it."""
    with Session(ws.engine) as session, session.begin():
        refresh_ledgers(session, [account_id])
        return session.scalar(select(func.count()).where(TransactionRow.account_id == account_id)) or 0


def import_accounts(ws: Workspace, names: Sequence[str] = (), *, since: date | None = None, full: bool = False,
                    progress: Progress | None = None, retry_delay: float = 1.0,
                    lock_wait: float | None = None) -> list[AccountResult]:
    """Sync the named exchange accounts (all by default) concurrently; never raises for one account's failure.
    Holds the workspace lock (waiting up to ``lock_wait`` seconds for another run) and records each account's
    outcome for ``taxsync status``."""
    accounts = exchange_accounts(ws, names)
    if not accounts:
        raise ConfigError("no exchange accounts: add one with `taxsync account add NAME --exchange ID ...`")
    with workspace_lock(ws.home, wait=lock_wait, command="taxsync import"):
        started = now_ms()
        with ThreadPoolExecutor(max_workers=min(8, len(accounts))) as pool:
            futures = [pool.submit(_sync_one, ws, a, since, full, progress, retry_delay) for a in accounts]
            results = [f.result() for f in futures]
        record_imports(ws, started, results)
        return results
