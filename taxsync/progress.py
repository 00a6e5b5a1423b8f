"""Progress of long work, told by the code doing it to whoever shows it.

A ``Progress`` is called with what is being done, how much of it is done and how much there is in all (None
when that is not known ahead, as for an exchange's history). The application calls it from its loops; the
command line shows it (``taxsync.cli.common.progress_display``: a bar on a terminal, a line now and then
otherwise, nothing with ``--quiet``). Code that nobody watches passes ``silent``.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, "int | None"], None]  # (task, done, total or None)


def silent(task: str, done: int, total: int | None = None) -> None:
    """Shows nothing."""
