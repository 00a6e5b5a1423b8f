"""Workspace settings and location, and the database: migrations, SQLite settings, exact decimals."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

from taxsync.app.workspace import Workspace, _database_url, init_workspace, open_workspace, resolve_home
from taxsync.db import Account, Base, Leg, Transaction
from taxsync.db.session import HEAD
from taxsync.errors import ConfigError


def test_migrations_build_exactly_the_models(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert connection.execute(text("select version_num from alembic_version")).scalar() == HEAD


def test_sqlite_runs_in_wal_with_foreign_keys(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("pragma foreign_keys").scalar() == 1


def test_decimals_are_stored_as_exact_text(workspace: Workspace) -> None:
    amount = D("0.1000000000000000000000000001")
    with Session(workspace.engine) as session, session.begin():
        account = Account(name="a", kind="file", options="{}", created_at=0)
        session.add(account)
        session.flush()
        session.add(Transaction(account_id=account.id, ref="r", timestamp=0, kind="deposit", subkind="", label="",
                                description="", txhash="", legs=[Leg(position=0, asset="BTC", amount=amount,
                                                                     role="in")]))
    with workspace.engine.connect() as connection:
        assert connection.exec_driver_sql("select amount from legs").scalar() == "0.1000000000000000000000000001"
    with Session(workspace.engine) as session:
        assert session.query(Leg).one().amount == amount


def test_opening_an_existing_workspace_keeps_it_and_reads_settings(workspace: Workspace) -> None:
    again = open_workspace(workspace.home)
    assert again.settings == workspace.settings
    assert (again.settings.currency, again.settings.method, again.settings.timezone) == (
        "USD", "fifo", "America/New_York")
    again.engine.dispose()


def test_init_defaults_follow_the_jurisdiction(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "uk", jurisdiction="au")
    assert (ws.settings.currency, ws.settings.timezone) == ("AUD", "Australia/Sydney")
    ws.engine.dispose()


def test_bad_settings_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="timezone"):
        init_workspace(tmp_path / "x", timezone="Mars/Olympus")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "taxsync.toml").write_text('jurisdiction = "us"\ncurrency = "USD"\nmethod = "guess"\n')
    with pytest.raises(ConfigError, match="unknown method 'guess'"):
        open_workspace(tmp_path / "y")


def test_home_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, from_env, parent = tmp_path / "explicit", tmp_path / "env", tmp_path / "parent"
    (parent / "deep" / "er").mkdir(parents=True)
    (parent / "taxsync.toml").write_text("")
    monkeypatch.chdir(parent / "deep" / "er")
    assert resolve_home() == parent
    monkeypatch.setenv("TAXSYNC_HOME", str(from_env))
    assert resolve_home() == from_env
    assert resolve_home(explicit) == explicit
    monkeypatch.delenv("TAXSYNC_HOME")
    monkeypatch.chdir(tmp_path)
    assert resolve_home() == tmp_path / "xdg-data" / "taxsync"  # the platform's user data folder


def test_database_urls_relative_to_the_workspace(tmp_path: Path) -> None:
    assert _database_url("sqlite:///taxsync.db", tmp_path) == f"sqlite:///{tmp_path / 'taxsync.db'}"
    assert _database_url("sqlite:////var/db/t.db", tmp_path) == "sqlite:////var/db/t.db"
    assert _database_url("postgresql://u@localhost/tax", tmp_path) == "postgresql://u@localhost/tax"


def test_the_head_a_database_is_checked_against_is_the_newest_migration(workspace: Workspace) -> None:
    from alembic.script import ScriptDirectory

    from taxsync.db.session import HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config(workspace.engine)).get_heads() == [HEAD]
