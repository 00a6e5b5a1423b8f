"""Reading an exported file into verbatim rows, all or nothing.

``read_file`` decodes, splits and checks a whole file before anything is stored: every row must parse with
its format's normalizer, else an ``InputError`` names the file, the line and the column. Each row gets a
natural key, the hash of its content plus its occurrence number among identical rows of the file, so the same
file imported twice adds nothing while two identical fills in one file stay two records.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from taxsync.errors import InputError
from taxsync.ledger.sources import NORMALIZERS, FieldError


@dataclass(frozen=True, slots=True)
class FileFormat:
    name: str  # registry key; also the raw records' source, which picks the normalizer
    title: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Other names the exchange has used for a column over time: (name in the file, name the normalizer reads).
    aliases: tuple[tuple[str, str], ...] = ()

    def canonical(self, header: Sequence[str]) -> list[str]:
        """The header with every known older or alternative column name replaced by the one normalizers read.

        A name the header repeats is told apart by position: its second occurrence is ``NAME#2``, the third
        ``NAME#3`` (CoinTracking's three ``Cur.`` columns), which aliases can then rename."""
        renamed, seen = dict(self.aliases), Counter[str]()
        canonical = []
        for column in header:
            seen[column] += 1
            key = column if seen[column] == 1 else f"{column}#{seen[column]}"
            canonical.append(renamed.get(key, key))
        return canonical

    def matches(self, header: Sequence[str]) -> bool:
        return set(self.required) <= set(self.canonical(header))

    def missing(self, header: Sequence[str]) -> list[str]:
        present = set(self.canonical(header))
        return [column for column in self.required if column not in present]


@dataclass(frozen=True, slots=True)
class RawRow:
    line: int
    values: Mapping[str, str]
    external_id: str


@dataclass(frozen=True, slots=True)
class ReadFile:
    path: Path
    format: FileFormat
    rows: tuple[RawRow, ...]
    sha256: str


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(str(path), f"not UTF-8 text (byte 0x{data[error.start]:02x}): save the file as UTF-8",
                         line=line) from None


def _choose_format(path: Path, header: list[str], formats: Mapping[str, FileFormat], wanted: str) -> FileFormat:
    if wanted != "auto":
        fmt = formats[wanted]
        if missing := fmt.missing(header):
            raise InputError(str(path), f"not a {fmt.title} file: the header lacks {', '.join(missing)}", line=1)
        return fmt
    for fmt in formats.values():
        if fmt.matches(header):
            return fmt
    closest = min(formats.values(), key=lambda f: len(f.missing(header)))
    raise InputError(
        str(path),
        f"unknown header {', '.join(header) or '(empty)'}; closest known format is {closest.title} "
        f"(missing {', '.join(closest.missing(header))}); see `taxsync import-file --help`",
        line=1,
    )


def _names_in_file(header: Sequence[str], canonical: Sequence[str]) -> dict[str, str]:
    """Each column as the file names it, by the name the normalizer reads (``size`` for ``Filled Amount``), with its
    position when the file repeats the name (``Cur. (column 5)``), so errors point at what the user sees."""
    counts = Counter(header)
    return {name: original if counts[original] == 1 else f"{original} (column {index})"
            for index, (original, name) in enumerate(zip(header, canonical, strict=True), start=1)}


def read_file(path: Path, formats: Mapping[str, FileFormat], wanted: str = "auto") -> ReadFile:
    """Read and check ``path`` completely; raise ``InputError`` at the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(str(path), f"cannot read the file: {error.strerror}") from None
    reader = csv.reader(io.StringIO(_decode(path, data), newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise InputError(str(path), "the file is empty", line=1) from None
    except csv.Error as error:
        raise InputError(str(path), f"not a CSV file: {error}", line=1) from None
    fmt = _choose_format(path, header, formats, wanted)
    named = _names_in_file(header, fmt.canonical(header))
    header = fmt.canonical(header)
    normalize = NORMALIZERS[fmt.name]
    rows: list[RawRow] = []
    seen: Counter[str] = Counter()
    line = reader.line_num
    try:
        for fields in reader:
            start, line = line + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise InputError(str(path), f"expected {len(header)} fields as in the header, found {len(fields)}",
                                 line=start)
            values = dict(zip(header, fields, strict=True))
            try:
                normalize(values, "", f"{path.name}:{start}")
            except FieldError as error:
                raise InputError(str(path), str(error), line=start,
                                 column=named.get(error.column, error.column)) from None
            digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:40]
            seen[digest] += 1
            rows.append(RawRow(start, values, f"{digest}#{seen[digest]}"))
    except csv.Error as error:
        raise InputError(str(path), f"malformed CSV: {error}", line=line + 1) from None
    return ReadFile(path, fmt, tuple(rows), hashlib.sha256(data).hexdigest())
