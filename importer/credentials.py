"""API credentials: read at run time from environment variables or the OS keyring, never stored by taxsync.

An account records only *where* its secrets are (variable names, or "keyring"); the values are looked up when
an exchange is contacted and live only in memory. ``redact`` strips them (and signed query strings) from any
text that may reach a message, a log or a report.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from taxsync.errors import ConfigError

FIELDS = ("api_key", "secret", "password")
KEYRING_SERVICE = "taxsync"


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: str
    password: str | None = None

    def __repr__(self) -> str:  # never print the values, not even in a traceback
        return "Credentials(<redacted>)"

    def values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.api_key, self.secret, self.password) if v)


def usable_keyring() -> KeyringBackend:
    """The OS keyring, or a ConfigError saying there is none (typical of a headless server)."""
    backend = keyring.get_keyring()
    if getattr(backend, "priority", 0) <= 0 or type(backend).__module__.startswith("keyring.backends.fail"):
        raise ConfigError(
            "no usable OS keyring on this machine (a headless server?): add the account with "
            "--api-key-env VAR --secret-env VAR and set those environment variables for the nightly job instead"
        )
    return backend


def keyring_user(workspace_id: str, account: str, field: str) -> str:
    return f"{workspace_id}/{account}/{field}"


def store_in_keyring(workspace_id: str, account: str, values: Mapping[str, str | None]) -> None:
    backend = usable_keyring()
    for field, value in values.items():
        if value:
            backend.set_password(KEYRING_SERVICE, keyring_user(workspace_id, account, field), value)


def replace_in_keyring(workspace_id: str, account: str, values: Mapping[str, str | None]) -> None:
    """Put a new key in place of the old one (fields without a value are deleted); if the keyring fails midway,
    the old values are put back, so an account never ends up with half of each key."""
    backend = usable_keyring()
    users = {f: keyring_user(workspace_id, account, f) for f in FIELDS}
    previous = {f: backend.get_password(KEYRING_SERVICE, user) for f, user in users.items()}

    def write(state: Mapping[str, str | None]) -> None:
        for field, user in users.items():
            if state.get(field):
                backend.set_password(KEYRING_SERVICE, user, str(state[field]))
            else:
                with contextlib.suppress(keyring.errors.PasswordDeleteError):
                    backend.delete_password(KEYRING_SERVICE, user)

    try:
        write(values)
    except Exception:
        write(previous)
        raise


def delete_from_keyring(workspace_id: str, account: str) -> None:
    backend = usable_keyring()
    for field in FIELDS:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            backend.delete_password(KEYRING_SERVICE, keyring_user(workspace_id, account, field))


def resolve(options: Mapping[str, object], *, workspace_id: str, account: str,
            environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials an account's options point at; a ConfigError names what is missing, never a value."""
    env = os.environ if environ is None else environ
    if options.get("keyring"):
        backend = usable_keyring()
        found = {f: backend.get_password(KEYRING_SERVICE, keyring_user(workspace_id, account, f)) for f in FIELDS}
        if not found["api_key"] or not found["secret"]:
            raise ConfigError(f"account '{account}': its key is not in the OS keyring any more; "
                              f"run `taxsync account add {account} ... --keyring` again")
        return Credentials(found["api_key"] or "", found["secret"] or "", found["password"])
    values: dict[str, str | None] = {}
    for field in FIELDS:
        variable = options.get(f"{field}_env")
        if not variable:
            values[field] = None
            continue
        value = env.get(str(variable), "")
        if not value:
            raise ConfigError(f"account '{account}': the environment variable {variable} is not set "
                              f"(it should hold the {field.replace('_', ' ')})")
        values[field] = value
    if not values["api_key"] or not values["secret"]:
        raise ConfigError(f"account '{account}' has no API key configured: use --api-key-env and --secret-env "
                          "or --keyring")
    return Credentials(values["api_key"] or "", values["secret"] or "", values["password"])


_SIGNED_QUERY = re.compile(r"\?[^\s\"']*")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any secret value and without query strings (they carry signatures and keys)."""
    cleaned = _SIGNED_QUERY.sub("?…", text)
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        cleaned = cleaned.replace(value, "<redacted>")
    return cleaned
