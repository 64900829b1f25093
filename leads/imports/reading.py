"""Reading CSV files as people really have them, a block at a time (memory stays flat in the
file's size): the encoding (UTF-8 with or without a BOM, else Windows-1252), the delimiter
(comma, semicolon or tab, sniffed), quoted newlines, blank rows skipped, a header row naming
every column; and the cells: dates in ISO form or day-first / month-first local forms, numbers
as accountants and spreadsheets write them, yes/no.

Rows are numbered as a spreadsheet shows them: the header is row 1, a record with a quoted
newline is one row. Pure: no database; naive times are read in the zone the caller passes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from config.csv_export import FORMULA_STARTS

BLOCK = 1 << 16  # bytes read at a time
SNIFF_CHARS = 1 << 16  # text the delimiter is sniffed from
DATE_SNIFF_ROWS = 200  # rows that tell the date columns from the others
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
ENCODING_NAMES = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "cp1252": "Windows-1252"}
DAY_FIRST, MONTH_FIRST, AMBIGUOUS = "dmy", "mdy", "ambiguous"
#: The longest cell read, in characters. The `csv` module's own limit (128 KB) would refuse a
#: whole export for one long note or description, even in a column the mapping leaves out.
CELL_MAX = 32 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), CELL_MAX))  # for the process: only raised

#: Opens the file afresh, from its first byte (a context manager of a binary stream).
Opener = Callable[[], AbstractContextManager[BinaryIO]]


class FileError(ValueError):
    """The file cannot be read as a table; the message says why and what to do."""


class CellError(ValueError):
    """A cell cannot be read as what its column holds; the message quotes it (the caller adds
    the row and the column)."""


def cell_problem(row: int, column: str, message: str) -> str:
    """One problem as the pages and the command print it."""
    return f'Row {row}, column "{column}": {message}' if column else f"Row {row}: {message}"


@dataclass(frozen=True)
class FileRow:
    """A data row: `index` counts the data rows from 0 (blank ones too), `cells` as read."""

    index: int
    cells: list[str]

    @property
    def number(self) -> int:
        """The row as a spreadsheet numbers it (the header is row 1)."""
        return self.index + 2


@dataclass(frozen=True)
class FileShape:
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int  # data rows that are not blank
    date_order: str  # DAY_FIRST, MONTH_FIRST, or "" (none seen, or ambiguous)
    dates_ambiguous: bool


# --- the file -----------------------------------------------------------------------------------


def file_shape(opener: Opener) -> FileShape:
    """Read the whole file once (twice if it is not UTF-8): its encoding, delimiter, header,
    how many data rows it has and how it writes its dates. FileError if it is no CSV table."""
    with opener() as stream:
        head = stream.read(BLOCK)
    _refuse_binary(head)
    first = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return _scan(opener, first)
    except UnicodeDecodeError:
        pass
    try:
        return _scan(opener, "cp1252")
    except UnicodeDecodeError as exc:
        raise FileError(
            "The file is neither UTF-8 nor Windows-1252 text (byte "
            f"0x{exc.object[exc.start]:02X} cannot be read): save it as “CSV UTF-8”."
        ) from exc


def file_rows(opener: Opener, *, encoding: str, delimiter: str, skip: int = 0) -> Iterator[FileRow]:
    """The data rows after the header that are not blank, from data row `skip` (0: the first)."""
    with opener() as stream:
        reader = csv.reader(_lines(stream, encoding), delimiter=delimiter)
        try:
            next(reader, None)  # the header
            for index, cells in enumerate(reader):
                if index >= skip and any(c.strip() for c in cells):
                    yield FileRow(index, [_unneutralised(c) for c in cells])
        except csv.Error as exc:
            raise _csv_problem(exc, reader.line_num) from exc


def _csv_problem(exc: csv.Error, line: int) -> FileError:
    if "field larger than field limit" in str(exc):
        return FileError(
            f"Row {line} has a cell of more than {CELL_MAX // (1024 * 1024)} MB: "
            "shorten it, or leave its column out of the export."
        )
    return FileError(f"Row {line}: {exc}.")


def _unneutralised(cell: str) -> str:
    """A cell as it was before a download neutralised it (`config.csv_export.csv_safe_cell`
    writes `'=...` for `=...`): the rejected rows, fixed and imported again, read as they were
    in the first file."""
    if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    return cell


def file_preview(
    opener: Opener, *, encoding: str, delimiter: str, rows: int = 5
) -> list[list[str]]:
    """The first data rows, for the mapping page."""
    found: list[list[str]] = []
    for row in file_rows(opener, encoding=encoding, delimiter=delimiter):
        found.append(row.cells)
        if len(found) >= rows:
            break
    return found


def column_letter(number: int) -> str:
    """A spreadsheet's name of column `number` (1 → A, 27 → AA)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _refuse_binary(head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError("The file is UTF-16 text, not UTF-8: save it as “CSV UTF-8”.")
    if head.startswith(b"PK\x03\x04"):
        raise FileError(
            "The file is an Excel workbook (or a zip), not CSV: save it as “CSV UTF-8”."
        )
    if b"\x00" in head:
        raise FileError(
            "The file is not text (it has NUL bytes: UTF-16, or a binary file): "
            "save it as “CSV UTF-8”."
        )
    if not head.strip():
        raise FileError("The file is empty: the first row must name the columns.")


def _lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """The decoded text, a line at a time (each with its line end), a block read at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    rest = ""
    while block := stream.read(BLOCK):
        if b"\x00" in block:
            raise FileError("The file is not text (it has NUL bytes): save it as “CSV UTF-8”.")
        lines = (rest + decoder.decode(block)).split("\n")
        rest = lines.pop()
        for line in lines:
            yield line + "\n"
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def _scan(opener: Opener, encoding: str) -> FileShape:
    with opener() as stream:
        lines = _lines(stream, encoding)
        sample: list[str] = []
        size = 0
        for line in lines:
            sample.append(line)
            size += len(line)
            if size >= SNIFF_CHARS:
                break
        delimiter = _sniff_delimiter(sample, truncated=size >= SNIFF_CHARS)
        reader = csv.reader(_chain(sample, lines), delimiter=delimiter)
        try:
            columns = header_columns([_unneutralised(c) for c in next(reader, [])])
            dates = DateOrderSniff(len(columns))
            rows = 0
            for cells in reader:
                if any(c.strip() for c in cells):
                    rows += 1
                    if not dates.decided:
                        dates.feed(cells)
        except csv.Error as exc:
            raise _csv_problem(exc, reader.line_num) from exc
    order = dates.order()
    return FileShape(
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        rows=rows,
        date_order="" if order == AMBIGUOUS else order,
        dates_ambiguous=order == AMBIGUOUS,
    )


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _sniff_delimiter(sample: list[str], *, truncated: bool) -> str:
    """The delimiter that gives the header the most columns and the most rows of its width."""
    text = "".join(sample)
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if truncated and len(rows) > 2:
            rows = rows[:-1]  # the sample may end inside a row
        if not rows:
            continue
        width = len(rows[0])
        body = rows[1:101]
        fits = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (fits, width) if width > 1 else (0.0, 1)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def header_columns(header: list[str]) -> list[str]:
    """The header's column names (trailing empty cells dropped); FileError if a name is missing
    or repeated."""
    names = [cell.replace("\ufeff", "").strip() for cell in header]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise FileError("Row 1 is empty: the first row must name the columns.")
    for number, name in enumerate(names, start=1):
        if not name:
            raise FileError(
                f"Row 1 gives column {column_letter(number)} no name: "
                "the first row must name every column."
            )
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name in seen:
            raise FileError(
                f'Row 1 names two columns "{name}" ({column_letter(seen[name])} and '
                f"{column_letter(number)}): give each column its own name."
            )
        seen[name] = number
    return names


# --- dates --------------------------------------------------------------------------------------

_TIME = r"(?:(?:\s+|T|,\s*)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?"
_LOCAL = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME + r"\s*")
_YEAR_FIRST = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})" + _TIME + r"\s*")


def _quoted(text: str) -> str:
    return f"'{text}'"


def _iso(text: str) -> datetime | date | None:
    if len(text) < 10 or not (text[:4].isdigit() and text[4] == "-"):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _clock(match: re.Match, first: int) -> time | None:
    hour, minute, second, half = match.group(first, first + 1, first + 2, first + 3)
    if hour is None:
        return None
    h, m, s = int(hour), int(minute), int(second or 0)
    if half:
        if not 1 <= h <= 12:
            raise ValueError
        h = h % 12 + (12 if half.lower() == "p" else 0)
    return time(h, m, s)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # as strptime's %y: 69-99 are 1900s
        year += 1900 if year >= 69 else 2000
    return year


def _local(text: str, order: str, what: str) -> tuple[date, time | None] | None:
    """A local form read in `order`; None when it is no local form; CellError when it can't be
    read."""
    unreadable = CellError(f"cannot read {_quoted(text)} as {what}")
    match = _YEAR_FIRST.fullmatch(text)
    if match:
        try:
            return date(int(match[1]), int(match[3]), int(match[4])), _clock(match, 5)
        except ValueError:
            raise unreadable from None
    match = _LOCAL.fullmatch(text)
    if not match:
        return None
    try:
        clock = _clock(match, 5)
    except ValueError:
        raise unreadable from None
    a, b, year = int(match[1]), int(match[3]), _year(match[4])
    if not order:
        if a <= 12 and b <= 12 and a != b:
            raise CellError(
                f"cannot tell whether {_quoted(text)} is day first or month first: "
                "choose the file's date order"
            )
        order = DAY_FIRST if a > 12 else MONTH_FIRST
    day, month = (a, b) if order == DAY_FIRST else (b, a)
    try:
        return date(year, month, day), clock
    except ValueError:
        pass
    try:
        date(year, day, month)  # it reads the other way
    except ValueError:
        raise unreadable from None
    raise CellError(
        f"cannot read {_quoted(text)} as {what} ({_order_name(order)}); it reads "
        f"{_order_name(MONTH_FIRST if order == DAY_FIRST else DAY_FIRST)}: check the file's "
        "date order"
    )


def _order_name(order: str) -> str:
    return "day first" if order == DAY_FIRST else "month first"


def date_read(text: str, *, order: str = "") -> date:
    """A calendar day: ISO (`2018-03-15`, a time is dropped), year first (`2018/03/15`), or a
    local form (`15/03/2018`, `3.15.18`) read in `order` (DAY_FIRST, MONTH_FIRST; "" reads only
    what is unambiguous)."""
    text = text.strip()
    parsed = _iso(text)
    if isinstance(parsed, datetime):
        return parsed.date()
    if isinstance(parsed, date):
        return parsed
    local = _local(text, order, "a date")
    if local is None:
        raise CellError(f"cannot read {_quoted(text)} as a date")
    return local[0]


def datetime_read(text: str, *, order: str = "", zone: tzinfo) -> datetime:
    """A moment: ISO (date or date and time, `T` or a space, optional seconds and offset) or a
    local form with an optional `HH:MM[:SS] [AM/PM]`; naive ones are read in `zone`, a date
    alone is its midnight."""
    text = text.strip()
    parsed = _iso(text)
    if isinstance(parsed, datetime):
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    if isinstance(parsed, date):
        return datetime.combine(parsed, time(), tzinfo=zone)
    local = _local(text, order, "a date")
    if local is None:
        raise CellError(f"cannot read {_quoted(text)} as a date")
    day, clock = local
    return datetime.combine(day, clock or time(), tzinfo=zone)


@dataclass
class DateOrderSniff:
    """Which order a file's local dates are written in, fed row by row: a first number past 12
    says day first, a second one past 12 month first; dates that read both ways (every number
    up to 12) leave it ambiguous. A column stops being watched at its first cell that is not a
    local date (text, or ISO dates, which read one way only)."""

    width: int
    watched: set[int] = field(default_factory=set)
    evidence: str = ""
    both_ways: bool = False
    rows: int = 0

    def __post_init__(self) -> None:
        self.watched = set(range(self.width))

    @property
    def decided(self) -> bool:
        return bool(self.evidence) or not self.watched

    def feed(self, cells: list[str]) -> None:
        self.rows += 1
        for index in list(self.watched):
            text = cells[index].strip() if index < len(cells) else ""
            if not text:
                continue
            match = _LOCAL.fullmatch(text)
            if match is None:  # ISO dates, or no dates: nothing to tell from this column
                self.watched.discard(index)
                continue
            a, b = int(match[1]), int(match[3])
            if a > 12 >= b:
                self.evidence = DAY_FIRST
                return
            if b > 12 >= a:
                self.evidence = MONTH_FIRST
                return
            if a != b and a <= 12 and b <= 12:  # 05/05 reads the same both ways; 31/31 neither
                self.both_ways = True

    def order(self) -> str:
        if self.evidence:
            return self.evidence
        return AMBIGUOUS if self.both_ways else ""


def date_order_of(values: Iterable[str]) -> str:
    """DAY_FIRST, MONTH_FIRST, AMBIGUOUS (local dates that read both ways), or "" (no local
    dates) for a column's values."""
    sniff = DateOrderSniff(1)
    for value in values:
        sniff.feed([value])
        if sniff.evidence:
            break
    return sniff.order()


# --- numbers and yes/no -------------------------------------------------------------------------

_CURRENCY = r"(?:[€$£¥₹]|CHF|EUR|USD|GBP|[A-Z]{3})"
_AROUND = re.compile(rf"^\s*([+-]?)\s*{_CURRENCY}?\s*(.*?)\s*{_CURRENCY}?\s*$")
_GROUPING = re.compile(r"[\s\u00a0\u202f\u2009'’]")
_NUMBER = re.compile(r"[+-]?(?:\d[\d.,]*|[.,]\d+)")


def decimal_read(text: str) -> Decimal:
    """A number as written: `1234.5`, `1,234.56`, `1.234,56`, `€ 1 234`, `1'234`, `(12)`. A
    single comma before three digits groups thousands (`1,234`); a single point is a decimal
    point."""
    raw = text.strip()
    body = raw
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1]
    match = _AROUND.match(body)
    if match is None:
        raise CellError(f"cannot read {_quoted(raw)} as a number")
    sign, body = match.group(1), _GROUPING.sub("", match.group(2))
    if not _NUMBER.fullmatch(body):
        raise CellError(f"cannot read {_quoted(raw)} as a number")
    if body[0] in "+-":
        sign, body = sign or body[0], body[1:]
    commas, points = body.count(","), body.count(".")
    if commas and points:
        decimal_mark = "," if body.rfind(",") > body.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        if body.count(decimal_mark) > 1:
            raise CellError(f"cannot read {_quoted(raw)} as a number")
        body = body.replace(group_mark, "").replace(",", ".")
    elif commas > 1 or points > 1:
        body = body.replace("," if commas else ".", "")
    elif commas == 1:
        whole, part = body.split(",")
        body = whole + part if len(part) == 3 and whole not in ("", "0") else f"{whole}.{part}"
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise CellError(f"cannot read {_quoted(raw)} as a number") from None
    return -value if (negative or sign == "-") else value


_TRUE = {"true", "yes", "y", "1", "x", "t", "checked", "ja", "oui", "si", "wahr", "vrai"}
_FALSE = {"false", "no", "n", "0", "f", "", "unchecked", "nein", "non", "falsch", "faux"}


def bool_read(text: str) -> bool:
    """Yes or no: true/false, yes/no, 1/0, x; an empty cell is no."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(f"cannot read {_quoted(text.strip())} as yes or no (true/false)")
