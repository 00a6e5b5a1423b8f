"""``taxsync account ...``: exchange accounts and their keys (``taxsync.app.accounts``, ``taxsync.app.key_audit``)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from taxsync.cli.common import AsJson, Home, err, handles_errors, out, parse_day
from taxsync.errors import ExitCode

if TYPE_CHECKING:
    from taxsync.app import key_audit

HELP = "Exchange accounts and their read-only API keys."




@handles_errors
def account_add_cli(
    name: Annotated[str, typer.Argument(help="A name for the account, e.g. binance-main.")],
    exchange: Annotated[str, typer.Option("--exchange", help="ccxt exchange id, e.g. binance, kraken.")],
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the API key.")] = None,
    secret_env: Annotated[str | None, typer.Option(help="Environment variable holding the API secret.")] = None,
    password_env: Annotated[str | None, typer.Option(help="Environment variable holding the passphrase.")] = None,
    use_keyring: Annotated[bool, typer.Option("--keyring", help="Keep the key in the OS keyring (prompted).")] = False,
    api_url: Annotated[str | None, typer.Option(help="Send every request to this base URL instead.")] = None,
    sandbox: Annotated[bool, typer.Option(help="Use the exchange's testnet.")] = False,
    allow_trading_key: Annotated[bool, typer.Option(help="Accept a key that can trade (never one that can "
                                                          "withdraw).")] = False,
    since: Annotated[str | None, typer.Option(help="Date the account was opened (history starts there).")] = None,
    home: Home = None,
) -> None:
    """Add an exchange account. Secrets are read from environment variables at run time or kept in the OS
    keyring; taxsync never writes them anywhere else. Use a read-only key.

    Example: taxsync account add binance-main --exchange binance --api-key-env BINANCE_KEY --secret-env BINANCE_SECRET
    """
    from taxsync.app import accounts
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    values = _prompt_key() if use_keyring else None
    accounts.add_account(ws, name, exchange=exchange, api_key_env=api_key_env, secret_env=secret_env,
                         password_env=password_env, keyring_values=values, api_url=api_url, sandbox=sandbox,
                         allow_trading_key=allow_trading_key, since=parse_day(since, "--since", "2021-01-31"))
    out.print(f"Added account '{name}' ({exchange}). Run `taxsync account check {name}` to test the key.")


@handles_errors
def account_list_cli(as_json: AsJson = False, home: Home = None) -> None:
    """List accounts with how many records each holds and when it last synced.

    Example: taxsync account list
    """
    from taxsync.app import accounts
    from taxsync.app.workspace import open_workspace

    rows = accounts.list_accounts(open_workspace(home))
    if as_json:
        import json

        sys.stdout.write(json.dumps([{"name": r.name, "kind": r.kind, "exchange": r.exchange, "records": r.records,
                                      "last_sync": r.last_sync, "options": r.options} for r in rows], indent=2) + "\n")
        return
    table = Table(title="Accounts")
    for column in ("Name", "Kind", "Exchange", "Records", "Last sync (UTC)", "Key"):
        table.add_column(column)
    for r in rows:
        key = "keyring" if r.options.get("keyring") else (f"${r.options['api_key_env']}"
                                                          if r.options.get("api_key_env") else "")
        synced = datetime.fromtimestamp(r.last_sync / 1000, UTC).strftime("%Y-%m-%d %H:%M") if r.last_sync else ""
        table.add_row(r.name, r.kind, r.exchange or "", str(r.records), synced, key)
    out.print(table)


@handles_errors
def account_remove_cli(name: Annotated[str, typer.Argument(help="Account to remove.")], home: Home = None) -> None:
    """Remove an account, everything imported for it and its secrets in the keyring. Delete (revoke) the key
    on the exchange too.

    Example: taxsync account remove binance-old
    """
    from taxsync.app import accounts
    from taxsync.app.workspace import open_workspace

    in_keyring = accounts.remove_account(open_workspace(home), name)
    out.print(f"Removed account '{name}'" + (" and its key in the OS keyring" if in_keyring else ""))


@handles_errors
def account_check_cli(names: Annotated[list[str] | None, typer.Argument(help="Accounts (default: all).")] = None,
                      home: Home = None) -> None:
    """Ask each exchange what the account's key may do; refuse keys that can withdraw (or trade).

    Example: taxsync account check binance-main
    """
    from taxsync.app import accounts
    from taxsync.app.workspace import open_workspace

    failed = False
    for name, verdict, error in accounts.check_accounts(open_workspace(home), names or ()):
        if error:
            failed = True
            err.print(f"[red]{name}: {error}[/]", highlight=False)
        else:
            out.print(verdict, highlight=False)
    if failed:
        raise typer.Exit(int(ExitCode.CONFIG))


def _prompt_key() -> dict[str, str | None]:
    from importer.credentials import usable_keyring

    usable_keyring()  # fail before prompting on a machine without one
    return {"api_key": typer.prompt("API key", hide_input=True),
            "secret": typer.prompt("API secret", hide_input=True),
            "password": typer.prompt("Passphrase (empty if none)", default="", hide_input=True,
                                     show_default=False) or None}


@handles_errors
def account_rotate_cli(
    name: Annotated[str, typer.Argument(help="Account whose key to replace.")],
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the new API key.")] = None,
    secret_env: Annotated[str | None, typer.Option(help="Environment variable holding the new secret.")] = None,
    password_env: Annotated[str | None, typer.Option(help="Environment variable holding the passphrase.")] = None,
    use_keyring: Annotated[bool, typer.Option("--keyring", help="Keep the new key in the OS keyring (prompted).")
                           ] = False,
    allow_trading_key: Annotated[bool | None, typer.Option(
        "--allow-trading-key/--read-only-key", help="Accept a key that can trade (default: as when added).")] = None,
    home: Home = None,
) -> None:
    """Replace an account's API key in place: the new key is checked with the exchange first (a key that can
    withdraw or transfer is refused and nothing changes); imported history and sync state are kept. Without
    options the account's environment variables are read again; a keyring account is prompted for the new key.
    Afterwards delete the old key on the exchange.

    Example: taxsync account rotate binance-main --api-key-env BINANCE_KEY_2025 --secret-env BINANCE_SECRET_2025
    """
    from taxsync.app import accounts
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    prompt = use_keyring or (api_key_env is None and any(
        a.name == name and a.options.get("keyring") for a in accounts.list_accounts(ws)))
    verdict = accounts.rotate_key(ws, name, api_key_env=api_key_env, secret_env=secret_env,
                                  password_env=password_env, keyring_values=_prompt_key() if prompt else None,
                                  allow_trading_key=allow_trading_key)
    out.print(f"{verdict}. Replaced the key of '{name}'; now delete the old key on the exchange.", highlight=False)


@handles_errors
def account_audit_cli(
    names: Annotated[list[str] | None, typer.Argument(help="Accounts (default: all exchange accounts).")] = None,
    max_age_days: Annotated[int | None, typer.Option(min=1, help="Warn about keys older than this many days "
                                                     "(default: keys.max_age_days in taxsync.toml, 365).")] = None,
    as_json: AsJson = False,
    home: Home = None,
) -> None:
    """Review each account's API key as a security reviewer would: may it read, trade, withdraw, transfer; is it
    restricted to IP addresses; how old is it, when does it expire; (Kraken) may it query the whole history;
    has the account synced in the last 30 days. Each finding says what to change on the exchange, and says so
    where the exchange cannot tell. Exits 3 if a key should be refused.

    Example: taxsync account audit --max-age-days 180
    """
    from taxsync.app import key_audit
    from taxsync.app.workspace import open_workspace

    ws = open_workspace(home)
    now, policy = int(time.time() * 1000), key_audit.policy_for(ws, max_age_days)
    states = key_audit.gather(ws, names or ())
    findings = key_audit.audit(states, policy, now)
    if as_json:
        import json

        sys.stdout.write(json.dumps(key_audit.as_json(states, findings, policy, now), indent=2) + "\n")
    else:
        _print_findings(states, findings)
    if any(f.verdict == key_audit.KeyVerdict.REFUSE for f in findings):
        raise typer.Exit(int(ExitCode.CONFIG))


def _print_findings(states: list[key_audit.KeyState], findings: list[key_audit.Finding]) -> None:
    for state in states:
        out.print(f"{state.account} ({state.exchange})", highlight=False, markup=False)
        for f in (f for f in findings if f.account == state.account):
            line = f"  {f.verdict.value.upper():8} {f.check}: {f.found}"  # says itself what the exchange cannot tell
            out.print(line + (f". Change: {f.advice}" if f.advice else ""), highlight=False, markup=False)
    counts = {v: sum(f.verdict.value == v for f in findings) for v in ("refuse", "warning", "ok")}
    out.print(f"audit: {counts['refuse']} refuse, {counts['warning']} warning, {counts['ok']} ok", highlight=False)




