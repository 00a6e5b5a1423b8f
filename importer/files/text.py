"""The text layer of exported files: encoding, delimiter and number style, each read only when certain.

Exports reach taxsync after spreadsheets and regional settings have had their way with them: UTF-16 or
Windows-1252 text, a byte-order mark, ``;`` between fields, ``1.234,56`` or ``1,234.56`` for numbers. What can
be told for certain is read; what cannot is refused with the file, line and column and the layout expected,
never guessed. Numbers are decided for the whole file: one value that shows the style (``0,5`` can only be a
decimal comma, ``1,234.5`` only a thousands comma) settles it, and a file whose numbers show no style but
could be read two ways (``1,234``) is refused.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from enum import Enum

from taxsync.errors import InputError

DELIMITERS = (",", ";", "\t", "|")
SAVE_AS = 'save it as UTF-8 (in Excel: "CSV UTF-8"; in LibreOffice: character set Unicode (UTF-8)) and import again'


def decode(path: str, data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark) or UTF-16 (with a byte-order mark, or told by
    its zero bytes). Anything else is refused with the encoding to save as."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(data) >= 8 and data[1:200:2].count(0) > 0.9 * len(data[1:200:2]):
        encoding = "utf-16-le"
    elif len(data) >= 8 and data[0:200:2].count(0) > 0.9 * len(data[0:200:2]):
        encoding = "utf-16-be"
    elif b"\x00" in data[:4096]:
        raise InputError(path, "the file holds binary data, not CSV text: export the history as CSV", line=1)
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        if encoding.startswith("utf-16"):
            raise InputError(path, f"damaged UTF-16 text (cut in the middle of a character?): {SAVE_AS}",
                             line=line) from None
        raise InputError(
            path, f"not UTF-8 text (byte 0x{data[error.start]:02x}; the file looks like Windows-1252 or Latin-1, "
            f"as Excel saves plain CSV): {SAVE_AS}", line=line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(path, "the file holds NUL characters: it is not a text CSV export", line=line)
    return text


def first_lines(text: str, count: int) -> list[tuple[int, str]]:
    """The first ``count`` lines with the offset just past each (cheap on a file of a million lines)."""
    lines: list[tuple[int, str]] = []
    start = 0
    while len(lines) < count and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        lines.append((end, text[start:end].rstrip("\r\n")))
        start = end
    return lines


def delimiters(line: str) -> list[str]:
    """The delimiters a header line may use, the most frequent first (a header of one column uses none)."""
    found = sorted((d for d in DELIMITERS if d in line), key=line.count, reverse=True)
    return found or [","]


# -- numbers -----------------------------------------------------------------------------------------------------
class NumberStyle(Enum):
    PLAIN = "plain: 1234.5"
    THOUSANDS_COMMA = "a comma between thousands, a dot for decimals: 1,234.5"
    DECIMAL_COMMA = "a dot (or nothing) between thousands, a comma for decimals: 1.234,5"


_CORE = re.compile(r"[\d.,]+")
_COMMA_GROUPS = re.compile(r"[1-9]\d{0,2}(,\d{3})+")  # 1,234 or 12,345,678: either style
_COMMA_GROUPS_DOT = re.compile(r"[1-9]\d{0,2}(,\d{3})+\.\d+")  # 1,234.5: thousands comma
_DECIMAL_COMMA = re.compile(r"\d+,\d+|[1-9]\d{0,2}(\.\d{3})+(,\d+)?")  # 0,5 1234,567 1.234,5 1.234.567
_DOT_GROUPS = re.compile(r"[1-9]\d{0,2}(\.\d{3}){2,}")  # 1.234.567: dots between thousands
_DOT_DECIMAL = re.compile(r"\d*\.(\d{1,2}|\d{4,})|\d{4,}\.\d*|0\.\d+")  # 0.5 12.34 1.2345 1234.5: a decimal dot


def _one_dot_decimal(value: str) -> bool:
    """A single number whose only separator is one dot (``1.234``: a decimal point or a thousands dot)."""
    cores = _CORE.findall(value)
    return len(cores) == 1 and _DOT_DECIMAL.fullmatch(cores[0]) is not None


def _style_of(value: str) -> NumberStyle | None:
    """The style a value shows for certain, None when it shows none; raises ``ValueError`` when ambiguous."""
    cores = _CORE.findall(value)
    if len(cores) != 1:
        return None  # not one number: the normalizer says what is wrong with it
    core = cores[0]
    if "," not in core:
        return NumberStyle.DECIMAL_COMMA if _DOT_GROUPS.fullmatch(core) else None
    if _COMMA_GROUPS_DOT.fullmatch(core):
        return NumberStyle.THOUSANDS_COMMA
    if _COMMA_GROUPS.fullmatch(core):
        raise ValueError(f"'{value}' could be read two ways (thousands or decimals after the comma)")
    if _DECIMAL_COMMA.fullmatch(core):
        return NumberStyle.DECIMAL_COMMA
    return None


def _convert(value: str, style: NumberStyle) -> str:
    if style is NumberStyle.THOUSANDS_COMMA:
        return value.replace(",", "")
    if style is NumberStyle.DECIMAL_COMMA:
        return value.replace(".", "").replace(",", ".")
    return value


def may_need_numbers(text: str, delimiter: str) -> bool:
    """False when no field of the file can hold a separator inside a number (the fast path of big files)."""
    commas = ("," in text) if delimiter != "," else ('"' in text)
    return commas or re.search(r"\.\d{3}\.\d", text) is not None  # 1.234.567 (a literal first: quick)


def settle_numbers(path: str, rows: Sequence[tuple[int, list[str]]], columns: Sequence[tuple[int, str]],
                   expected: str) -> None:
    """Rewrite the number columns of ``rows`` (line, fields) in place as plain decimals, in the file's one
    style; refuse a file whose style is mixed, or unknown where a value could be read two ways."""
    style: NumberStyle | None = None
    first: tuple[int, str, str] | None = None  # where the style was seen
    ambiguous: tuple[int, str, str] | None = None
    dot: tuple[int, str, str] | None = None  # a decimal dot (0.5): no decimal commas in this file then
    for line, fields in rows:
        for index, column in columns:
            if index >= len(fields):
                continue
            value = fields[index]
            if "," not in value and value.count(".") < 2:
                if dot is None and "." in value and _one_dot_decimal(value):
                    dot = (line, column, value)
                continue
            try:
                seen = _style_of(value)
            except ValueError as error:
                ambiguous = ambiguous or (line, column, str(error))
                continue
            if seen is None:
                continue
            if style is None:
                style, first = seen, (line, column, value)
            elif seen is not style and first is not None:
                raise InputError(path, f"'{value}' is written with {seen.value}, but line {first[0]} ('{first[2]}' "
                                 f"in {first[1]}) uses {style.value}; one file must use one style. {expected}",
                                 line=line, column=column)
    if style is NumberStyle.DECIMAL_COMMA and dot is not None and first is not None:
        (line, column, value), other = max(dot, first), min(dot, first)
        raise InputError(path, f"'{value}' and '{other[2]}' (line {other[0]}, {other[1]}) use the dot and the comma "
                         f"both for decimals; one file must use one style. {expected}", line=line, column=column)
    if style is None and ambiguous is not None:
        line, column, message = ambiguous
        raise InputError(path, f"{message}, and no other number in the file tells which. {expected}",
                         line=line, column=column)
    if style is None:
        return
    for _, fields in rows:
        for index, _ in columns:
            if index < len(fields):
                fields[index] = _convert(fields[index], style)

