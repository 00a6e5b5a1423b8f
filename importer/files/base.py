"""Reading an exported file into verbatim records, all or nothing.

``open_file`` decodes and splits a file into records; checking them (``check_block``, by worker processes for a
large file: ``importer.files.checking``) normalizes each: a field that does not parse with its format's
normalizer raises an ``InputError`` naming the file, the line and the column and what the format expects, and
the import stores nothing. ``read_file`` does both at once. The text layer (``importer.files.text``) reads
UTF-16 and byte-order marks, finds the delimiter and the header (after a preamble where a format has one) and
settles the file's number style; stored rows have the format's column names and plain decimal numbers, and
otherwise the file's text.

A format may say which rows form one transaction (``FileFormat.group``: Binance writes a trade as a row per
coin, Kraken its ledger as a row per asset with a shared refid); a group is then one raw record whose payload
is ``{"rows": [...]}``. Each record gets a natural key, the hash of its content plus its occurrence number among
identical records of the file, so the same file imported twice adds nothing while two identical fills in one
file stay two records.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from importer.files.text import decode, delimiters, first_lines, may_need_numbers, settle_numbers
from taxsync.errors import InputError
from taxsync.ledger.rows import LedgerRows, ledger_rows
from taxsync.ledger.sources import NORMALIZERS, FieldError

Line = tuple[int, dict[str, str]]  # (line number in the file, the row under the format's column names)
Grouper = Callable[[Sequence[Line]], list[list[Line]]]
MAX_PREAMBLE = 20


@dataclass(frozen=True, slots=True)
class FileFormat:
    name: str  # registry key; also the raw records' source, which picks the normalizer
    title: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Other names the exchange has used for a column over time: (name in the file, name the normalizer reads).
    aliases: tuple[tuple[str, str], ...] = ()
    exchange: str = ""  # the exchange whose export this is ("" for interchange formats), see ledger.duplicates
    numbers: tuple[str, ...] = ()  # columns holding amounts (their number style is settled for the whole file)
    preamble: int = 0  # how many lines may come before the header
    group: Grouper | None = None  # which rows form one transaction; None: each row is one
    layout: str = "dates like 2024-03-01 14:25:00 (UTC), numbers like 1234.5"  # how values are written
    variants: tuple[str, ...] = ()  # the header lines the exchange has used (documentation and tests)

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

    def expected(self) -> str:
        return f"Expected a {self.title} file: {self.layout}."


class RawRow(NamedTuple):  # a tuple: a million of them are made quickly
    line: int  # the first line of the record
    external_id: str
    payload: str  # the row (or ``{"rows": [...]}`` for a group) as the JSON stored (keys sorted), as hashed for the key
    ledger: LedgerRows  # the ledger rows the check made of it (taxsync.ledger.rows)


@dataclass(frozen=True, slots=True)
class ReadFile:
    path: Path
    format: FileFormat
    rows: tuple[RawRow, ...]
    sha256: str


@dataclass(frozen=True, slots=True)
class _Header:
    format: FileFormat
    line: int  # line number of the header
    offset: int  # where the data after it starts
    delimiter: str
    columns: list[str]


def _find_header(path: Path, text: str, formats: Mapping[str, FileFormat], wanted: str) -> _Header:
    """The first line that is a known header (within its format's preamble), under the delimiter it uses."""
    candidates = [formats[wanted]] if wanted != "auto" else list(formats.values())
    closest: dict[str, tuple[int, int, list[str]]] = {}  # format name -> (missing, line, missing columns)
    depth = max(fmt.preamble for fmt in candidates) + 1
    for index, (offset, line) in enumerate(first_lines(text, min(depth, MAX_PREAMBLE + 1))):
        if not line.strip():
            continue
        for delimiter in delimiters(line):
            try:
                header = [column.strip().strip("\ufeff") for column in next(csv.reader([line], delimiter=delimiter))]
            except (csv.Error, StopIteration):
                continue
            for fmt in candidates:
                if index > fmt.preamble:
                    continue
                missing = fmt.missing(header)
                if not missing:
                    return _Header(fmt, index + 1, offset, delimiter, header)
                if fmt.name not in closest or len(missing) < closest[fmt.name][0]:
                    closest[fmt.name] = (len(missing), index + 1, missing)
    if not text.strip():
        raise InputError(str(path), "the file is empty", line=1)
    ranked = sorted(closest.items(), key=lambda item: (item[1][0], list(formats).index(item[0])))
    near = "; ".join(f"{formats[name].title} (lacks {', '.join(missing)})" for name, (_, _, missing) in ranked[:3])
    first = next((line for _, line in first_lines(text, 1)), "")
    if wanted != "auto":
        fmt = formats[wanted]
        missing = closest.get(fmt.name, (0, 0, list(fmt.required)))[2]
        raise InputError(str(path), f"not a {fmt.title} file: the header lacks {', '.join(missing)}. "
                         f"{fmt.expected()}", line=1)
    raise InputError(str(path), f"unknown header '{first[:200]}'. Closest known formats: {near or 'none'}. "
                     "See `taxsync import-file --list-formats`", line=1)


def _rows(path: Path, text: str, header: _Header) -> list[tuple[int, list[str]]]:
    """Every non-blank data row as (line, fields), each with as many fields as the header."""
    reader = csv.reader(io.StringIO(text[header.offset:], newline=""), delimiter=header.delimiter, strict=True)
    width, expected = len(header.columns), header.format.expected()
    rows: list[tuple[int, list[str]]] = []
    line = header.line
    try:
        for fields in reader:
            start, line = line + 1, header.line + reader.line_num
            if len(fields) == width:
                rows.append((start, fields))
                continue
            if not any(field.strip() for field in fields):
                continue
            if next(reader, None) is None and not text.endswith(("\n", "\r")):
                raise InputError(str(path), f"the last line is cut short ({len(fields)} of {width} fields): the "
                                 "file looks truncated; export or download it again", line=start)
            raise InputError(str(path), f"expected {width} fields as in the header, found {len(fields)} "
                             f"({'extra' if len(fields) > width else 'missing'} columns). {expected}", line=start)
    except csv.Error as error:
        hint = "; the file looks truncated" if "end of data" in str(error) else ""
        raise InputError(str(path), f"malformed CSV: {error}{hint}. {expected}", line=line + 1) from None
    return rows


def _names_in_file(header: Sequence[str], canonical: Sequence[str]) -> dict[str, str]:
    """Each column as the file names it, by the name the normalizer reads (``size`` for ``Filled Amount``), with its
    position when the file repeats the name (``Cur. (column 5)``), so errors point at what the user sees."""
    counts = Counter(header)
    return {name: original if counts[original] == 1 else f"{original} (column {index})"
            for index, (original, name) in enumerate(zip(header, canonical, strict=True), start=1)}


Record = tuple[int, Mapping[str, Any], Sequence[int]]  # (first line, values, the lines of its rows)


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """A file decoded and split into records under its format's column names; not yet checked.

    A record of one row is made into a mapping only when it is checked (in a worker, for a large file)."""

    path: Path
    format: FileFormat
    columns: Sequence[str]  # the header under the names the normalizer reads
    rows: list[tuple[int, list[str]]]  # each data row: (line, fields)
    groups: list[Record] | None  # for a format that groups rows into records: the records
    named: Mapping[str, str]  # each column as the file names it, by the name the normalizer reads
    sha256: str

    def __len__(self) -> int:
        return len(self.rows) if self.groups is None else len(self.groups)

    def block(self, start: int, stop: int) -> Iterator[tuple[int, int, Mapping[str, Any]]]:
        """Records ``start`` to ``stop``: (index, first line, values)."""
        if self.groups is not None:
            for index in range(start, stop):
                line, values, _ = self.groups[index]
                yield index, line, values
            return
        columns = self.columns
        for index, (line, fields) in enumerate(self.rows[start:stop], start):
            yield index, line, dict(zip(columns, fields, strict=True))

    def dumps(self) -> Callable[[Mapping[str, Any]], str]:
        """``json.dumps(record, sort_keys=True)`` for this file's records, made quickly (``_flat_json``)."""
        if self.groups is None:  # the keys of a row's mapping: each column once
            return _flat_json(list(dict.fromkeys(self.columns)), grouped=False)
        return _flat_json(list(self.groups[0][1]["rows"][0]) if self.groups else [], grouped=True)

    def failure(self, index: int, row: int, column: str, message: str) -> InputError:
        """The message for a field of record ``index`` that cannot be read (in its ``row``-th row)."""
        lines = (self.rows[index][0],) if self.groups is None else self.groups[index][2]
        return InputError(str(self.path), f"{message}. {self.format.expected()}", line=lines[min(row, len(lines) - 1)],
                          column=self.named.get(column, column))


def open_file(path: Path, formats: Mapping[str, FileFormat], wanted: str = "auto") -> OpenedFile:
    """Decode ``path``, find its format by header and split it into records; raise ``InputError`` at the first
    line that does not fit the layout (the fields themselves are read when the records are checked)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(str(path), f"cannot read the file: {error.strerror}") from None
    text = decode(str(path), data)
    header = _find_header(path, text, formats, wanted)
    fmt = header.format
    columns = fmt.canonical(header.columns)
    named = _names_in_file(header.columns, columns)  # errors name a column as the file does
    rows = _rows(path, text, header)
    if fmt.numbers and may_need_numbers(text[header.offset:], header.delimiter):
        settle_numbers(str(path), rows, [(columns.index(c), c) for c in fmt.numbers if c in columns], fmt.expected())
    groups: list[Record] | None = None
    if fmt.group is not None:
        lines: list[Line] = [(line, dict(zip(columns, fields, strict=True))) for line, fields in rows]
        groups = [(group[0][0], {"rows": [values for _, values in group]}, [line for line, _ in group])
                  for group in fmt.group(lines)]
    return OpenedFile(path, fmt, columns, rows, groups, named, hashlib.sha256(data).hexdigest())


Checked = tuple[int, str, str, LedgerRows]  # a record's first line, the digest of its stored JSON, the JSON, its rows
Failure = tuple[int, int, str, str]  # the record's index, the row in it, the column and what is wrong


def check_block(file: OpenedFile, start: int, stop: int) -> tuple[list[Checked], Failure | None]:
    """Records ``start`` to ``stop`` of the file normalized (each once), until the first that fails."""
    normalize = NORMALIZERS[file.format.name]
    dumps, name, sha256 = file.dumps(), file.path.name, hashlib.sha256
    checked: list[Checked] = []
    for index, line, payload in file.block(start, stop):
        try:
            normalized = normalize(payload, "", f"{name}:{line}")
        except FieldError as error:
            return checked, (index, error.row, error.column, str(error))
        stored = dumps(payload)
        checked.append((line, sha256(stored.encode()).hexdigest()[:40], stored, ledger_rows(normalized)))
    return checked, None


def raw_rows(checked: Sequence[Checked], seen: dict[str, int]) -> list[RawRow]:
    """Checked records, each with its natural key: the digest of its content and its occurrence among identical
    records of the file so far (``seen``: the count of each, carried from block to block)."""
    keys = {digest for _, digest, _, _ in checked}
    if len(keys) == len(checked) and seen.keys().isdisjoint(keys):  # the usual case: each the first of its kind
        seen.update(dict.fromkeys(keys, 1))
        return [RawRow(line, digest + "#1", stored, ledger) for line, digest, stored, ledger in checked]
    rows = []
    for line, digest, stored, ledger in checked:
        seen[digest] = count = seen.get(digest, 0) + 1
        rows.append(RawRow(line, f"{digest}#{count}", stored, ledger))
    return rows


def read_file(path: Path, formats: Mapping[str, FileFormat], wanted: str = "auto") -> ReadFile:
    """Read and check ``path`` completely; raise ``InputError`` at the first bad line."""
    file = open_file(path, formats, wanted)
    checked, failure = check_block(file, 0, len(file))
    if failure is not None:
        raise file.failure(*failure)
    return ReadFile(path, file.format, tuple(raw_rows(checked, {})), file.sha256)


def _flat_json(keys: list[str], *, grouped: bool) -> Callable[[Mapping[str, Any]], str]:
    """``json.dumps(record, sort_keys=True)`` for rows of text under ``keys`` (or ``{"rows": [...]}`` of them),
    character for character, without the encoder's generality (a third of a big import's time went there)."""
    order = sorted(keys)
    # One %-template per layout, its values quoted by the JSON string encoder in C: no per-key Python step.
    template = "{" + ", ".join(encode_basestring_ascii(key).replace("%", "%%") + ": %s" for key in order) + "}"
    values = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
    encode = encode_basestring_ascii

    def row_json(row: Mapping[str, str]) -> str:
        return template % tuple(map(encode, values(row)))

    def dumps(record: Mapping[str, Any]) -> str:
        if not grouped:
            return row_json(record)
        return '{"rows": [' + ", ".join([row_json(row) for row in record["rows"]]) + "]}"

    return dumps
