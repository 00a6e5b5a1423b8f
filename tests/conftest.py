"""Shared fixtures: a fresh workspace in a temporary folder, the CLI runner, the bundled sample files."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taxsync.app.workspace import Workspace, init_workspace
from taxsync.cli import app
from taxsync.resources import data_dir

SAMPLE = data_dir() / "sample"
KOINLY_HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
                 "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")


@pytest.fixture(autouse=True)
def _no_ambient_workspace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may find or touch the developer's own workspace."""
    monkeypatch.delenv("TAXSYNC_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def workspace(home: Path) -> Iterator[Workspace]:
    ws = init_workspace(home, jurisdiction="us")
    yield ws
    ws.engine.dispose()


@pytest.fixture
def cli() -> Callable[..., object]:
    runner = CliRunner()

    def run(*args: str | Path, code: int = 0) -> object:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
        return result

    return run


def dump(database: Path) -> list[str]:
    """Every statement needed to rebuild the database: equal dumps mean equal databases."""
    with sqlite3.connect(database) as connection:
        return list(connection.iterdump())


def write_koinly(path: Path, *rows: str, header: str = KOINLY_HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
