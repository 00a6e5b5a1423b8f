"""Reading an exported file into verbatim records, all or nothing.

``read_file`` decodes, splits and checks a whole file before anything is stored: every record must parse with
its format's normalizer, else an ``InputError`` names the file, the line and the column and what the format
expects. The text layer (``importer.files.text``) reads UTF-16 and byte-order marks, finds the delimiter and
the header (after a preamble where a format has one) and settles the file's number style; stored rows have
the format's column names and plain decimal numbers, and otherwise the file's text.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from importer.files.text import decode, delimiters, first_lines, may_need_numbers, settle_numbers
from taxsync.errors import InputError
from taxsync.ledger.sources import NORMALIZERS, FieldError, Normalized

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
    values: Mapping[str, Any]  # the row, or {"rows": [...]} for a group
    external_id: str
    payload: str = ""  # ``values`` as the JSON stored (keys sorted), also what the natural key hashes
    normalized: Normalized | None = None  # what the check made of it (for the account "" and the ref file:line)


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


def read_file(path: Path, formats: Mapping[str, FileFormat], wanted: str = "auto") -> ReadFile:
    """Read and check ``path`` completely; raise ``InputError`` at the first bad line."""
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
    records: list[tuple[int, Mapping[str, Any], Sequence[int]]]
    if fmt.group is None:
        records = [(line, dict(zip(columns, fields, strict=True)), (line,)) for line, fields in rows]
    else:
        lines: list[Line] = [(line, dict(zip(columns, fields, strict=True))) for line, fields in rows]
        records = [(group[0][0], {"rows": [values for _, values in group]}, [line for line, _ in group])
                   for group in fmt.group(lines)]
    return ReadFile(path, fmt, tuple(_check(path, fmt, records, named)), hashlib.sha256(data).hexdigest())


def _check(path: Path, fmt: FileFormat, records: list[tuple[int, Mapping[str, Any], Sequence[int]]],
           named: Mapping[str, str]) -> list[RawRow]:
    """Each record normalized once (a bad field names its line and column) and given its natural key."""
    normalize = NORMALIZERS[fmt.name]
    checked: list[RawRow] = []
    seen: dict[str, int] = {}  # occurrences of each content so far
    sha256, name = hashlib.sha256, path.name
    if not records:
        return []
    first = records[0][1]
    dumps = _flat_json(list(first["rows"][0] if fmt.group is not None else first), grouped=fmt.group is not None)
    for line, payload, numbers in records:
        try:
            normalized = normalize(payload, "", f"{name}:{line}")
        except FieldError as error:
            at = numbers[min(error.row, len(numbers) - 1)]
            raise InputError(str(path), f"{error}. {fmt.expected()}", line=at,
                             column=named.get(error.column, error.column)) from None
        stored = dumps(payload, sort_keys=True)
        digest = sha256(stored.encode()).hexdigest()[:40]
        seen[digest] = count = seen.get(digest, 0) + 1
        checked.append(RawRow(line, payload, f"{digest}#{count}", stored, normalized))
    return checked


def _flat_json(keys: list[str], *, grouped: bool) -> Callable[..., str]:
    """``json.dumps(record, sort_keys=True)`` for rows of text under ``keys`` (or ``{"rows": [...]}`` of them),
    character for character, without the encoder's generality (a third of a big import's time went there)."""
    order = sorted(keys)
    # One %-template per layout, its values quoted by the JSON string encoder in C: no per-key Python step.
    template = "{" + ", ".join(encode_basestring_ascii(key).replace("%", "%%") + ": %s" for key in order) + "}"
    values = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
    encode = encode_basestring_ascii

    def row_json(row: Mapping[str, str]) -> str:
        return template % tuple(map(encode, values(row)))

    def dumps(record: Mapping[str, Any], sort_keys: bool = True) -> str:
        if not grouped:
            return row_json(record)
        return '{"rows": [' + ", ".join([row_json(row) for row in record["rows"]]) + "]}"

    return dumps
