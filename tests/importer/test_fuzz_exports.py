"""Fuzz: realistic exports mutated as files get damaged (lines dropped, doubled or cut, bytes flipped,
delimiters changed, quotes inserted). Whatever the damage, an import either succeeds or is refused with an
InputError, and a refusal leaves the database exactly as it was."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importer.files.checking as checking
from taxsync.app import service
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.errors import InputError
from tests.conftest import SAMPLE, dump

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"
FILES = [*sorted(EXPORTS.glob("*.csv")), SAMPLE / "coinbase.csv"]
CONTENTS = [path.read_bytes() for path in FILES]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def drop_line(data: bytes, n: int, _: int) -> bytes:
    lines = _lines(data)
    del lines[n % len(lines)]
    return b"".join(lines)


def duplicate_line(data: bytes, n: int, _: int) -> bytes:
    lines = _lines(data)
    lines.insert(n % len(lines), lines[n % len(lines)])
    return b"".join(lines)


def cut(data: bytes, n: int, _: int) -> bytes:
    return data[: n % (len(data) + 1)]


def flip_byte(data: bytes, n: int, bit: int) -> bytes:
    if not data:
        return data
    at = n % len(data)
    return data[:at] + bytes([data[at] ^ (1 << (bit % 8))]) + data[at + 1:]


def change_delimiter(data: bytes, n: int, which: int) -> bytes:
    new = [b";", b"\t", b"|", b", "][which % 4]
    lines = _lines(data)
    if n % 2:
        return data.replace(b",", new)  # the whole file
    lines[n % len(lines)] = lines[n % len(lines)].replace(b",", new)  # one line only
    return b"".join(lines)


def insert_quote(data: bytes, n: int, which: int) -> bytes:
    at = n % (len(data) + 1)
    return data[:at] + [b'"', b'""', b"'", b'\r'][which % 4] + data[at:]


def regional(data: bytes, n: int, _: int) -> bytes:
    lines = _lines(data)
    at = n % len(lines)
    lines[at] = lines[at].replace(b".", b",")
    return b"".join(lines)


MUTATIONS = [drop_line, duplicate_line, cut, flip_byte, change_delimiter, insert_quote, regional]


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One workspace for all examples (each refusal is checked against the state just before it)."""
    ws = init_workspace(tmp_path_factory.mktemp("fuzz-ws") / "ws", jurisdiction="us")
    service.import_files(ws, [SAMPLE / "ledger.csv"], account="ledger")
    yield ws
    ws.engine.dispose()


OUTCOMES: Counter[str] = Counter()


EXAMPLE = given(
    which=st.integers(min_value=0, max_value=len(FILES) - 1),
    steps=st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 10**6), st.integers(0, 7)),
                   min_size=1, max_size=3),
)


def import_or_refuse(ws: Workspace, folder: Path, which: int,
                     steps: list[tuple[Callable[[bytes, int, int], bytes], int, int]], account: str) -> str:
    data = CONTENTS[which]
    for mutate, n, k in steps:
        data = mutate(data, n, k)
    path = folder / FILES[which].name
    path.write_bytes(data)
    before = dump(ws.home / "taxsync.db")
    try:
        service.import_files(ws, [path], account=account)
    except InputError as error:
        assert str(path) in str(error)
        assert dump(ws.home / "taxsync.db") == before
        return "refused"
    return "imported"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@EXAMPLE
def test_damaged_exports_import_or_are_refused_without_a_trace(
    fuzz_ws: Workspace, tmp_path_factory: pytest.TempPathFactory, which: int,
    steps: list[tuple[Callable[[bytes, int, int], bytes], int, int]],
) -> None:
    OUTCOMES[import_or_refuse(fuzz_ws, tmp_path_factory.mktemp("fuzz"), which, steps, "fuzzed")] += 1


def test_the_fuzzing_saw_both_outcomes() -> None:
    """Runs after the fuzz test (file order): damage that is harmless imports, the rest is refused."""
    assert OUTCOMES["imported"] > 10 and OUTCOMES["refused"] > 10, OUTCOMES


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@EXAMPLE
def test_damaged_exports_checked_by_workers_are_refused_without_a_trace(
    fuzz_ws: Workspace, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, which: int,
    steps: list[tuple[Callable[[bytes, int, int], bytes], int, int]],
) -> None:
    """The same, with each file's records checked by two workers in blocks of three, each import into a new
    account (whose ledger is written as its records are stored)."""
    monkeypatch.setattr(checking, "BLOCK", 3)
    monkeypatch.setattr(checking, "PARALLEL_FROM", 1)
    monkeypatch.setattr(checking, "worker_count", lambda: 2)
    monkeypatch.setattr(checking, "can_fork", lambda: True)
    WORKER_OUTCOMES[import_or_refuse(fuzz_ws, tmp_path_factory.mktemp("fuzz"), which, steps,
                                     f"workers-{sum(WORKER_OUTCOMES.values())}")] += 1


WORKER_OUTCOMES: Counter[str] = Counter()


def test_the_workers_fuzzing_saw_both_outcomes() -> None:
    assert WORKER_OUTCOMES["imported"] > 2 and WORKER_OUTCOMES["refused"] > 2, WORKER_OUTCOMES
