"""Files readable by their owner only, and clear messages when the disk refuses a write.

Everything taxsync creates (the database and its journal files, logs, reports, backups) holds a person's
financial history, so it is created with mode 0600 (folders 0700), whatever the umask. A full or read-only
disk is told as such, with the file concerned and what to do, instead of a traceback; SQLite's transactions
keep what was stored before intact.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


@contextmanager
def owner_only() -> Iterator[None]:
    """Files and folders created inside the block are the owner's only (umask 077)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as a 0700 folder; an existing folder is left as it is."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist yet (its folder must exist)."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    return path


def loose_mode(path: Path) -> str | None:
    """'group' or 'others' when ``path`` can be read by more than its owner, else None."""
    mode = path.stat().st_mode
    if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
        return "others"
    if mode & (stat.S_IRGRP | stat.S_IWGRP | stat.S_IXGRP):
        return "group"
    return None


_FULL = ("database or disk is full", "disk i/o error")
_READ_ONLY = ("readonly database", "read-only", "unable to open database file", "attempt to write a readonly")
_ERRNO_TEXT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EFBIG: "the file is larger than the system allows",
}


def storage_message(error: BaseException) -> str | None:
    """A clear message for a write the disk refused (full, read-only, not permitted), else None."""
    if isinstance(error, OSError) and error.errno in _ERRNO_TEXT:
        where = f" {error.filename}" if error.filename else ""
        verb = "write" if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else "open or write"
        return (f"cannot {verb}{where}: {_ERRNO_TEXT[error.errno]}. Nothing was half-written: what was stored before "
                "is intact. Free some space or fix the permissions, then run the command again")
    text = str(getattr(error, "orig", None) or error).lower()
    if any(part in text for part in _FULL):
        return ("the database could not be written: the disk is full (or failed). The last transaction was rolled "
                "back and what was stored before is intact; free some space and run the command again")
    if any(part in text for part in _READ_ONLY):
        return ("the database could not be written: its file or folder is read-only (or not yours). Nothing was "
                "changed; fix the permissions (the workspace folder must be writable) and run the command again")
    return None
