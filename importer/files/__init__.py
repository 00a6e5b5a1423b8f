"""File formats: one module per export format, registered in ``FORMATS`` and detected by header."""

from __future__ import annotations

from importer.files.base import FileFormat, RawRow, ReadFile, read_file
from importer.files.koinly import KOINLY

FORMATS: dict[str, FileFormat] = {fmt.name: fmt for fmt in (KOINLY,)}

__all__ = ["FORMATS", "FileFormat", "RawRow", "ReadFile", "read_file"]
