"""``taxsync account rotate`` and ``remove``: a key is replaced in place (checked first, history and sync state
kept) and a removed account leaves no secret in the keyring; an unused account is flagged by the audit."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from importer.simulator.history import generate_history
from importer.simulator.kraken_history import generate_kraken_history
from importer.simulator.kraken_server import KrakenSimulator
from importer.simulator.server import SimKey, Simulator
from taxsync.app import accounts
from taxsync.app.key_audit import KeyVerdict, audit_accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.cli import app
from taxsync.db import Account, RawRecord, SyncState
from taxsync.errors import ConfigError, UsageError
from taxsync.types import DAY_MS
from tests.accounts.test_credentials_and_keys import MemoryKeyring

OLD = SimKey("rotate-old-key", "rotate-old-secret")
NEW = SimKey("rotate-new-key", "rotate-new-secret")
WITHDRAWING = SimKey("rotate-bad-key", "rotate-bad-secret", can_withdraw=True)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    history = generate_history(seed=6, trades=40, markets=6, traded=2, years=1, deposits=3, withdrawals=1)
    with Simulator(history, [OLD, NEW, WITHDRAWING], weight_limit_per_minute=10**9) as running:
        yield running


@pytest.fixture
def ws(tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    for tag, key in (("OLD", OLD), ("NEW", NEW), ("BAD", WITHDRAWING)):
        monkeypatch.setenv(f"KEY_{tag}", key.api_key)
        monkeypatch.setenv(f"SECRET_{tag}", key.secret)
    workspace = init_workspace(tmp_path / "ws")
    accounts.add_account(workspace, "main", exchange="binance", api_key_env="KEY_OLD", secret_env="SECRET_OLD",
                         api_url=sim.url)
    yield workspace
    workspace.engine.dispose()


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


def stored(ws: Workspace) -> tuple[int, list[tuple[str, str, str | None]], dict[str, object]]:
    with Session(ws.engine) as session:
        records = session.scalar(select(func.count()).select_from(RawRecord)) or 0
        states = sorted((s.stream, s.symbol, s.cursor) for s in session.scalars(select(SyncState)))
        options = json.loads(session.scalars(select(Account)).one().options)
    return records, states, options


def test_rotation_keeps_history_and_sync_state(ws: Workspace) -> None:
    (first,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert first.ok and first.new_records
    records, states, before = stored(ws)
    verdict = accounts.rotate_key(ws, "main", api_key_env="KEY_NEW", secret_env="SECRET_NEW")
    assert verdict == "main: key is read-only"
    after_records, after_states, after = stored(ws)
    assert (after_records, after_states) == (records, states)
    assert (after["api_key_env"], after["secret_env"]) == ("KEY_NEW", "SECRET_NEW")
    assert after["key_since"] >= before["key_since"] and after["since"] == before["since"]
    (second,) = accounts.import_accounts(ws, retry_delay=0.001)  # the new key syncs on from where the old stopped
    assert second.ok and sum(second.new_records.values()) == 0


def test_an_unsafe_new_key_is_refused_and_nothing_changes(ws: Workspace) -> None:
    before = stored(ws)
    with pytest.raises(ConfigError, match="can withdraw"):
        accounts.rotate_key(ws, "main", api_key_env="KEY_BAD", secret_env="SECRET_BAD")
    assert stored(ws) == before
    with pytest.raises(UsageError, match="both --api-key-env"):
        accounts.rotate_key(ws, "main", api_key_env="KEY_NEW")


def test_without_options_the_same_variables_are_read_again(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY_OLD", WITHDRAWING.api_key)  # the user put a new (unsafe) key in the same variables
    monkeypatch.setenv("SECRET_OLD", WITHDRAWING.secret)
    with pytest.raises(ConfigError, match="can withdraw"):
        accounts.rotate_key(ws, "main")
    monkeypatch.setenv("KEY_OLD", NEW.api_key)
    monkeypatch.setenv("SECRET_OLD", NEW.secret)
    assert accounts.rotate_key(ws, "main") == "main: key is read-only"
    assert stored(ws)[2]["api_key_env"] == "KEY_OLD"


def test_keyring_rotation_and_removal(ws: Workspace, sim: Simulator, memory_keyring: MemoryKeyring) -> None:
    accounts.add_account(ws, "vault", exchange="binance", api_url=sim.url,
                         keyring_values={"api_key": OLD.api_key, "secret": OLD.secret, "password": "old-pass"})
    runner, home = CliRunner(), ["--home", str(ws.home)]
    result = runner.invoke(app, ["account", "rotate", "vault", *home], input=f"{NEW.api_key}\n{NEW.secret}\n\n")
    assert result.exit_code == 0, result.output
    assert "Replaced the key of 'vault'" in result.output and NEW.secret not in result.output
    values = {user.rsplit("/", 1)[1]: v for (_, user), v in memory_keyring.items.items()}
    assert values == {"api_key": NEW.api_key, "secret": NEW.secret}  # the old passphrase is gone too
    refused = runner.invoke(app, ["account", "rotate", "vault", *home],
                            input=f"{WITHDRAWING.api_key}\n{WITHDRAWING.secret}\n\n")
    assert refused.exit_code == 3 and "can withdraw" in refused.output
    assert {v for v in memory_keyring.items.values()} == {NEW.api_key, NEW.secret}
    removed = runner.invoke(app, ["account", "remove", "vault", *home])
    assert removed.exit_code == 0 and "and its key in the OS keyring" in removed.output
    assert memory_keyring.items == {}


def test_moving_a_key_from_the_keyring_to_variables_clears_the_keyring(ws: Workspace, sim: Simulator,
                                                                       memory_keyring: MemoryKeyring) -> None:
    accounts.add_account(ws, "vault", exchange="binance", api_url=sim.url,
                         keyring_values={"api_key": OLD.api_key, "secret": OLD.secret, "password": None})
    with pytest.raises(UsageError, match="keeps its key in the OS keyring"):
        accounts.rotate_key(ws, "vault")
    accounts.rotate_key(ws, "vault", api_key_env="KEY_NEW", secret_env="SECRET_NEW")
    assert memory_keyring.items == {}


def test_a_file_account_has_no_key_to_rotate(ws: Workspace, tmp_path: Path) -> None:
    from taxsync.app import service
    from tests.conftest import write_koinly

    service.import_files(ws, [write_koinly(tmp_path / "h.csv", "2024-01-01 10:00:00 UTC,,,1,BTC,,,,,,,")],
                         account="wallet")
    with pytest.raises(UsageError, match="file account"):
        accounts.rotate_key(ws, "wallet", api_key_env="KEY_NEW", secret_env="SECRET_NEW")
    with pytest.raises(UsageError, match="file accounts have no API key"):
        audit_accounts(ws, ["wallet"])


def test_an_account_not_synced_for_30_days_is_flagged(ws: Workspace) -> None:
    (result,) = accounts.import_accounts(ws, retry_delay=0.001)
    assert result.ok
    synced_at = stored(ws)[2]["last_synced_at"]
    assert isinstance(synced_at, int)
    soon = {f.check: f for f in audit_accounts(ws, now=synced_at + 29 * DAY_MS)}
    assert soon["last_sync"].verdict is KeyVerdict.OK and "(29 days ago)" in soon["last_sync"].found
    late = {f.check: f for f in audit_accounts(ws, now=synced_at + 31 * DAY_MS)}
    assert late["last_sync"].verdict is KeyVerdict.WARNING
    assert late["last_sync"].advice.startswith("if the account is no longer used, delete the key on binance")


def test_a_key_of_another_exchange_account_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kraken names the account a key belongs to (its IIBAN); taxsync keeps a hash of it and refuses to rotate
    to a key of a different account, whose history would be mixed into this one."""
    first = SimKey("A" * 56, base64.b64encode(b"kraken-owner-a" * 5).decode())
    second = SimKey("B" * 56, base64.b64encode(b"kraken-owner-b" * 5).decode())
    history = generate_kraken_history(seed=9, trades=5, pairs=1, years=1, deposits=3, withdrawals=0,
                                      staking_rewards=1)
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    for tag, key in (("A", first), ("B", second)):
        monkeypatch.setenv(f"KRAKEN_KEY_{tag}", key.api_key)
        monkeypatch.setenv(f"KRAKEN_SECRET_{tag}", key.secret)
    with KrakenSimulator(history, [first, second], tier=None) as sim:
        ws = init_workspace(tmp_path / "kraken-ws")
        accounts.add_account(ws, "main", exchange="kraken", api_key_env="KRAKEN_KEY_A", secret_env="KRAKEN_SECRET_A",
                             api_url=sim.url)
        ((_, verdict, error),) = accounts.check_accounts(ws)
        assert error is None and verdict == "main: key is read-only"
        options = stored(ws)[2]
        assert isinstance(options["key_owner"], str) and len(options["key_owner"]) == 16
        assert history.iban not in json.dumps(options)  # only a hash of the account id is kept
        accounts.rotate_key(ws, "main", api_key_env="KRAKEN_KEY_B", secret_env="KRAKEN_SECRET_B")  # same account
        with Session(ws.engine) as session, session.begin():  # as if the history had come from another account
            row = session.scalars(select(Account)).one()
            row.options = json.dumps({**json.loads(row.options), "key_owner": "0" * 16})
        before = stored(ws)
        with pytest.raises(ConfigError, match="belongs to another kraken account"):
            accounts.rotate_key(ws, "main", api_key_env="KRAKEN_KEY_A", secret_env="KRAKEN_SECRET_A")
        assert stored(ws) == before
        ws.engine.dispose()
