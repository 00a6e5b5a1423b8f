"""Checking the records of files opened for import, block by block in file order, in worker processes when
they are many.

Normalizing a record is Python work; storing it is mostly SQLite's. For a large file, forked worker processes
(which share the records already read) check the blocks while the importing process stores the blocks already
checked, so the two overlap on separate cores. A worker sends back plain text and numbers (the line, the
digest, the stored JSON, the ledger rows: ``importer.files.base.Checked``) with ``marshal``, made for exactly
such values and several times quicker than pickle (and only ever read from the worker this process forked). A
block that fails raises the ``InputError`` of its first bad record when the importer reaches it, so what the
user is told is what a check in one process would say, and the importer's database transaction is rolled back
with nothing stored.

Forking is used where it is safe and available (not on macOS or Windows, nor while other threads run); else,
and for small files, the same blocks are checked in this process.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import suppress
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from importer.files.base import Checked, Failure, OpenedFile, RawRow, check_block, raw_rows

BLOCK = 20_000  # records a worker checks and sends at once
PARALLEL_FROM = 100_000  # records: for fewer, starting workers costs more than it saves
MAX_WORKERS = 4  # beyond this the importing process, storing, is the bottleneck anyway

_FILES: Sequence[OpenedFile] = ()  # what forked workers inherit


def worker_count() -> int:
    """As many workers as cores (none on one core): a worker waits while the importer takes its block, and the
    importer waits on SQLite part of the time, so one worker per spare core would leave a core idle."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(MAX_WORKERS, cores) if cores > 1 else 0


def can_fork() -> bool:
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


class Checker:
    """Iterating gives ``(file index, checked rows)`` for every block of every file, in order; the first bad record
    raises its ``InputError``. Use it as a context manager: the workers, if any, stop when it exits."""

    def __init__(self, files: Sequence[OpenedFile], *, workers: int | None = None,
                 parallel_from: int | None = None):
        self.files = files
        self.tasks = [(n, start, min(start + BLOCK, len(file)))
                      for n, file in enumerate(files) for start in range(0, len(file), BLOCK)]
        count = sum(len(file) for file in files)
        wanted = worker_count() if workers is None else workers
        big = count >= (PARALLEL_FROM if parallel_from is None else parallel_from)
        self.workers = min(wanted, len(self.tasks)) if big and can_fork() else 0
        self.processes: list[Any] = []
        self.pipes: list[Connection] = []

    def __enter__(self) -> Checker:
        global _FILES
        if not self.workers:
            return self
        context = multiprocessing.get_context("fork")
        _FILES = self.files
        try:
            for k in range(self.workers):
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(writer, self.tasks[k::self.workers]), daemon=True,
                                          name=f"taxsync-check-{k}")
                process.start()
                writer.close()  # the worker's end: closed here, so its exit ends the pipe
                self.processes.append(process)
                self.pipes.append(reader)
        except BaseException:
            self._stop()
            raise
        finally:
            _FILES = ()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop()

    def _stop(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for pipe in self.pipes:
            pipe.close()
        self.processes, self.pipes = [], []

    def __iter__(self) -> Iterator[tuple[int, list[RawRow]]]:
        seen: list[dict[str, int]] = [{} for _ in self.files]  # each file's records by content, for their keys
        for index, (n, start, stop) in enumerate(self.tasks):
            checked, failure = self._result(index) if self.workers else check_block(self.files[n], start, stop)
            rows = raw_rows(checked, seen[n])
            if failure is not None:
                raise self.files[n].failure(*failure)
            yield n, rows

    def _result(self, index: int) -> tuple[list[Checked], Failure | None]:
        try:
            result = marshal.loads(self.pipes[index % self.workers].recv_bytes())
        except EOFError:
            raise RuntimeError("a worker checking the file stopped before it finished") from None
        if isinstance(result, str):  # a worker's own failure (a bug): its traceback
            raise RuntimeError(f"checking the file failed in a worker:\n{result}")
        return result  # type: ignore[no-any-return]


def _work(pipe: Connection, tasks: Sequence[tuple[int, int, int]]) -> None:
    """A worker: check its blocks in order and send each back; stop after the first failing block."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the importer's to handle: it stops the workers
    with suppress(OSError):
        os.nice(10)  # the importer, storing, is the bottleneck: it gets a core whenever it can use one
    try:
        for n, start, stop in tasks:
            result = check_block(_FILES[n], start, stop)
            pipe.send_bytes(marshal.dumps(result))
            if result[1] is not None:
                break
    except Exception:  # a bug, not bad input: the importer raises it with this traceback
        pipe.send_bytes(marshal.dumps(traceback.format_exc()))
    finally:
        pipe.close()
