"""Secrets: where they are read from, what is said when they are missing, and that they are redacted."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

from importer import credentials
from importer.permissions import KeyPermissions, enforce
from taxsync.errors import ConfigError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def test_environment_variables_are_read_at_run_time() -> None:
    options = {"api_key_env": "K", "secret_env": "S"}
    creds = credentials.resolve(options, workspace_id="w", account="a", environ={"K": "key-1", "S": "sec-1"})
    assert (creds.api_key, creds.secret, creds.password) == ("key-1", "sec-1", None)
    assert "sec-1" not in repr(creds)


def test_missing_variable_names_the_variable_never_a_value() -> None:
    with pytest.raises(ConfigError, match="environment variable S is not set"):
        credentials.resolve({"api_key_env": "K", "secret_env": "S"}, workspace_id="w", account="a",
                            environ={"K": "key-1"})


def test_keyring_round_trip_and_removal(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    credentials.store_in_keyring("w", "a", {"api_key": "k", "secret": "s", "password": None})
    assert credentials.resolve({"keyring": True}, workspace_id="w", account="a").secret == "s"
    credentials.delete_from_keyring("w", "a")
    assert backend.items == {}


def test_headless_machine_points_to_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    with pytest.raises(ConfigError, match="--api-key-env VAR --secret-env VAR"):
        credentials.usable_keyring()


def test_redact_removes_secrets_and_signed_queries() -> None:
    text = 'binance GET http://x/api/v3/myTrades?symbol=BTCUSDT&signature=abc {"apiKey": "key-123456"}'
    cleaned = credentials.redact(text, ["key-123456"])
    assert "signature" not in cleaned and "key-123456" not in cleaned and "myTrades" in cleaned


@pytest.mark.parametrize(
    ("perms", "allow", "words"),
    [
        (KeyPermissions(True, False, True), True, "can withdraw"),
        (KeyPermissions(True, True, False), False, "can trade"),
        (KeyPermissions(False, False, False), False, "cannot read"),
    ],
)
def test_unsafe_keys_are_refused(perms: KeyPermissions, allow: bool, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        enforce("acct", perms, allow_trading=allow)


def test_verdicts_for_safe_keys() -> None:
    assert "read-only" in enforce("a", KeyPermissions(True, False, False), allow_trading=False)
    assert "allowed" in enforce("a", KeyPermissions(True, True, False), allow_trading=True)
    assert "cannot tell" in enforce("a", None, allow_trading=False)


def test_account_add_with_keyring_prompts_and_stores_nothing_else(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from taxsync.cli import app

    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    home = str(tmp_path / "ws")
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--home", home]).exit_code == 0
    added = runner.invoke(app, ["account", "add", "kr", "--exchange", "kraken", "--keyring", "--home", home],
                          input="key-in-keyring\nsecret-in-keyring-123\n\n")
    assert added.exit_code == 0, added.output
    assert sorted(backend.items.values()) == ["key-in-keyring", "secret-in-keyring-123"]
    for path in (tmp_path / "ws").iterdir():
        assert b"secret-in-keyring-123" not in path.read_bytes()
    assert "secret-in-keyring-123" not in added.output
    listed = runner.invoke(app, ["account", "list", "--home", home])
    assert "keyring" in listed.output
    assert runner.invoke(app, ["account", "remove", "kr", "--home", home]).exit_code == 0
    assert backend.items == {}


def test_account_add_keyring_on_headless_machine_points_to_env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import fail
    from typer.testing import CliRunner

    from taxsync.cli import app

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    home = str(tmp_path / "ws")
    runner = CliRunner()
    runner.invoke(app, ["init", "--home", home])
    result = runner.invoke(app, ["account", "add", "kr", "--exchange", "kraken", "--keyring", "--home", home])
    assert result.exit_code == 3 and "--api-key-env" in result.output


def test_a_keyring_failing_midway_keeps_the_old_key_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    class Flaky(MemoryKeyring):
        fail = False

        def set_password(self, service: str, username: str, password: str) -> None:
            if self.fail and username.endswith("/secret") and password == "new-secret":
                raise keyring.errors.PasswordSetError("locked")
            super().set_password(service, username, password)

    backend = Flaky()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    credentials.store_in_keyring("w", "a", {"api_key": "old-key", "secret": "old-secret", "password": "old-pass"})
    backend.fail = True
    with pytest.raises(keyring.errors.PasswordSetError):
        credentials.replace_in_keyring("w", "a", {"api_key": "new-key", "secret": "new-secret", "password": None})
    old = credentials.resolve({"keyring": True}, workspace_id="w", account="a")
    assert (old.api_key, old.secret, old.password) == ("old-key", "old-secret", "old-pass")
    backend.fail = False
    credentials.replace_in_keyring("w", "a", {"api_key": "new-key", "secret": "new-secret", "password": None})
    new = credentials.resolve({"keyring": True}, workspace_id="w", account="a")
    assert (new.api_key, new.secret, new.password) == ("new-key", "new-secret", None)
