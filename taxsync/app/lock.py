"""The workspace lock: one writing run at a time (an import, a prices sync, the nightly job).

A real OS file lock (``fcntl.flock``) on ``taxsync.app.lock`` in the workspace folder. The OS drops it when the
process ends, however it ends (even SIGKILL), so a crashed run never leaves a stale lock behind. A second run
waits up to ``wait`` seconds (``TAXSYNC_LOCK_WAIT``, default 30) for the first to finish, then stops with a
message that says who holds the workspace. The lock is re-entrant within a process: the nightly job holds it
and calls the import, which asks for it again.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from taxsync.errors import BusyError, ConfigError, StorageError, UsageError
from taxsync.types import now_ms

LOCK_NAME = "taxsync.app.lock"
DEFAULT_WAIT = 30.0
POLL = 0.1

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (file descriptor, depth), for re-entry in this process
_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the lock, as the holder wrote it into the lock file."""

    pid: int
    command: str
    since: int  # ms UTC

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.since / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"`{self.command}` (process {self.pid}, since {when})"


def lock_wait(value: float | None = None) -> float:
    """Seconds to wait for a busy workspace: ``value``, else ``TAXSYNC_LOCK_WAIT``, else 30."""
    if value is not None:
        if value < 0:
            raise UsageError("the lock wait must be 0 seconds or more")
        return value
    text = os.environ.get("TAXSYNC_LOCK_WAIT", "")
    if not text:
        return DEFAULT_WAIT
    try:
        seconds = float(text)  # float-ok: seconds to wait, not money
    except ValueError:
        raise ConfigError(f"TAXSYNC_LOCK_WAIT must be a number of seconds, not '{text}'") from None
    if seconds < 0:
        raise ConfigError(f"TAXSYNC_LOCK_WAIT must be 0 seconds or more, not '{text}'")
    return seconds


def read_holder(home: Path) -> Holder | None:
    """What the lock file says about its holder (None when nobody wrote there or it cannot be read)."""
    try:
        data = json.loads((home / LOCK_NAME).read_text(encoding="utf-8") or "null")
        return Holder(int(data["pid"]), str(data["command"]), int(data["since"])) if data else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_locked(home: Path) -> bool:
    """Whether some process holds the workspace right now (this one included)."""
    path = (home / LOCK_NAME).resolve()
    if path in _held:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise StorageError(f"cannot open the workspace lock {path}: {error.strerror}. The workspace folder must be "
                           "writable: is the disk read-only, or the folder not yours? Nothing was changed") from None


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                holder = read_holder(path.parent)
                who = holder.describe() if holder else "another taxsync run"
                raise BusyError(
                    f"the workspace {path.parent} is busy: {who} is using it; waited {wait:g} s. Try again when "
                    "it has finished (or wait longer: TAXSYNC_LOCK_WAIT=SECONDS)") from None
            time.sleep(POLL)


def _describe_self(command: str | None) -> str:
    if command:
        return command
    args = [os.path.basename(sys.argv[0]) if sys.argv else "taxsync", *sys.argv[1:3]]
    return " ".join(a for a in args if not a.startswith("-"))[:100]


@contextmanager
def workspace_lock(home: Path, *, wait: float | None = None, command: str | None = None) -> Iterator[None]:
    """Hold the workspace for a writing run; raises BusyError after waiting ``wait`` seconds for another."""
    path = (home / LOCK_NAME).resolve()
    seconds = lock_wait(wait)
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            fresh = False
        else:
            fresh = True
    if fresh:
        fd = _open(path)
        _acquire(fd, path, seconds)
        holder = {"pid": os.getpid(), "command": _describe_self(command), "since": now_ms()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        with _guard:
            _held[path] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[path]
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                del _held[path]
                os.ftruncate(fd, 0)  # nobody holds it now; the lock file itself stays
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
