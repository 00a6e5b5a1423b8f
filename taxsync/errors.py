"""Domain errors and the exit codes the CLI maps them to.

Exit codes (documented in the README): 0 success, 1 partial failure, 2 usage error, 3 configuration or
authentication error, 4 bad input data, 5 workspace busy (another run holds its lock; try again later).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PARTIAL = 1
    USAGE = 2
    CONFIG = 3
    INPUT = 4
    BUSY = 5


class TaxsyncError(Exception):
    """An error the user can act on; its message is shown as is."""

    exit_code = ExitCode.PARTIAL


class ConfigError(TaxsyncError):
    exit_code = ExitCode.CONFIG


class UsageError(TaxsyncError):
    exit_code = ExitCode.USAGE


class BusyError(TaxsyncError):
    """Another taxsync run holds the workspace (see ``taxsync.app.lock``)."""

    exit_code = ExitCode.BUSY


class StorageError(TaxsyncError):
    """The disk refused a write (full, read-only, no permission); what was stored before is intact."""

    exit_code = ExitCode.CONFIG


class InputError(TaxsyncError):
    """Bad input data: names the file, the line and the column (field) at fault."""

    exit_code = ExitCode.INPUT

    def __init__(self, path: str, message: str, *, line: int | None = None, column: str | None = None):
        self.path, self.line, self.column = path, line, column
        where = path
        if line is not None:
            where += f", line {line}"
        if column:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")
