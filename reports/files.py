"""Output files: their names, and writing them so that a crash never leaves half a report behind.

Each file is written to a temporary file in the destination folder, flushed to disk and then renamed over
the final name (``os.replace`` is atomic on one file system). A reader sees the old report or the new one,
never a truncated PDF or a CSV that stops mid-row. Reports are private financial data: the files are created
readable by their owner only (mode 0600).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from reports.model import ReportContext


def base_name(ctx: ReportContext) -> str:
    """``taxsync-{jurisdiction}-{tax_year}-{method}``, e.g. ``taxsync-us-2024-fifo``."""
    name = f"taxsync-{ctx.jurisdiction}-{ctx.tax_year}-{ctx.method}".lower()
    if "/" in name or "\\" in name or "\x00" in name or ".." in name:
        raise ValueError(f"report name {name!r} is not a plain file name")
    return name


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all at once: temporary file beside it, fsync, then rename."""
    with atomic_file(path) as handle:
        handle.write(data)
    return path


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` in pieces (a million rows need not be one string first): it is a temporary
    file beside ``path`` until the block ends, then flushed to disk and renamed; on any error it is removed."""
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
