"""What every command shares: the consoles, the ``--home``/``--json``/period options, the error handler and
the progress display.

Nothing heavy is imported here (no database, no ccxt, no pandas, no WeasyPrint): ``taxsync --help`` and
``taxsync --version`` load this module and the command modules only; each command imports the application
code it needs when it runs.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from taxsync.errors import ExitCode, TaxsyncError
from taxsync.progress import Progress, silent

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Home = Annotated[
    Path | None,
    typer.Option("--home", envvar="TAXSYNC_HOME", file_okay=False,
                 help="Workspace folder (default: nearest folder upward with taxsync.toml, else user data)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Show no progress while it works.")]

F = TypeVar("F", bound=Callable[..., Any])


def _is_database_error(error: BaseException) -> bool:
    """A DBAPI error of SQLAlchemy's, told without importing SQLAlchemy (no command that never opened a
    database can raise one)."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.DBAPIError)


def handles_errors(function: F) -> F:
    """Turn domain errors into a one-line message on stderr and the matching exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TaxsyncError as error:
            err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
            raise typer.Exit(int(error.exit_code)) from None
        except Exception as error:  # a full or read-only disk: said plainly, exit code 3
            if not isinstance(error, OSError) and not _is_database_error(error):
                raise
            from taxsync.safety import storage_message

            if (message := storage_message(error)) is None:
                raise
            err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
            raise typer.Exit(int(ExitCode.CONFIG)) from None

    return wrapper  # type: ignore[return-value]


def parse_day(value: str | None, option: str, example: str = "2024-12-31") -> date | None:
    """A local calendar day given as YYYY-MM-DD, or a usage error naming the option."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date such as {example}", param_hint=option) from None


RICH_ROWS = 2_000  # a longer table is printed as plain aligned text: rich lays out every cell (a minute for 30,000)


def print_rows(title: str, columns: list[str], rows: list[list[str]], numeric: set[str]) -> None:
    if len(rows) > RICH_ROWS:  # on a terminal wrapped to its width; into a file or a pipe one line a row
        sys.stdout.write(plain_table(title, columns, rows, numeric, out.width if out.is_terminal else None))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def plain_table(title: str, columns: list[str], rows: list[list[str]], numeric: set[str],
                width: int | None) -> str:
    """The table as aligned text: each column as wide as its longest cell, the widest column wrapped to what
    a screen ``width`` wide leaves it (not wrapped without a width)."""
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    widest = max(range(len(columns)), key=lambda i: widths[i])
    if width is not None:
        room = width - sum(widths) + widths[widest] - 2 * (len(columns) - 1)
        widths[widest] = max(20, min(widths[widest], room))

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(w) if columns[i] in numeric else cell.ljust(w)
                         for i, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    lines = [title, line(columns), line(["-" * w for w in widths])]
    for row in rows:
        wrapped = _wrap(row[widest], widths[widest])
        lines.append(line([*row[:widest], wrapped[0], *row[widest + 1:]]))
        lines.extend(line(["" if i != widest else part for i in range(len(columns))]) for part in wrapped[1:])
    return "\n".join(lines) + "\n"


class _Lines:
    """Progress as plain lines on stderr, at most one per task every ``every`` seconds (a cron mail stays
    readable), and the last one of each task when the work ends."""

    def __init__(self, every: float = 10.0) -> None:
        self.every, self.lock = every, threading.Lock()
        self.shown: dict[str, float] = {}
        self.latest: dict[str, str] = {}

    def __call__(self, task: str, done: int, total: int | None = None) -> None:
        line = f"{task}: {done:,}" + (f" of {total:,}" if total is not None else "")
        with self.lock:
            now = time.monotonic()
            if now - self.shown.get(task, -self.every) >= self.every:
                self.shown[task] = now
                self.latest.pop(task, None)
                err.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} {line}", highlight=False, markup=False)
            else:
                self.latest[task] = line

    def close(self) -> None:
        for line in self.latest.values():
            err.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} {line}", highlight=False, markup=False)


@contextmanager
def progress_display(quiet: bool = False) -> Iterator[Progress]:
    """A ``Progress`` for the application to call while the block runs: a rich progress bar per task on a
    terminal (stderr, so the command's output stays clean), throttled plain lines on stderr otherwise, and
    nothing with ``--quiet``."""
    if quiet:
        yield silent
        return
    if not err.is_terminal:
        lines = _Lines()
        try:
            yield lines
        finally:
            lines.close()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    bars = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err)
    tasks: dict[str, Any] = {}
    guard = threading.Lock()

    def show(task: str, done: int, total: int | None = None) -> None:
        with guard:
            if task not in tasks:
                tasks[task] = bars.add_task(task, total=total)
            bars.update(tasks[task], completed=done, total=total)

    with bars:
        yield show


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces (a longer word on a line of its own)."""
    if len(text) <= width:
        return [text]
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def prepare_figures(ws: Any, quiet: bool) -> None:
    """After a command that changed the data: compute what `holdings`, `problems` and the newest year's report
    show, once, so that the commands that follow answer at once (``taxsync.app.prepare``)."""
    from taxsync.app.prepare import prepare

    with progress_display(quiet) as progress:
        prepare(ws, progress)
