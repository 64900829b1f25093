"""CSV downloads: every list and KPI table of the app is exported through here.

- A cell (`csv_safe_cell`) is plain text a spreadsheet never runs: numbers in plain notation
  (no exponent, at most six decimals), dates in ISO order, times in the site's time zone, and
  text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return prefixed with `'`, so
  that Excel, LibreOffice and Google Sheets read it as text, not as a formula (OWASP's "CSV
  injection"). Only text is neutralised: a negative number stays a number.
- A file name (`csv_filename`) is built from parts (a page, a record's name, a date) that may
  hold anything: quotes, slashes, line breaks, accents. Its ASCII slug goes in `filename=`,
  and, when the parts hold letters outside ASCII, the same name in UTF-8 goes in RFC 5987's
  `filename*=` (browsers prefer it, older clients take the ASCII one).
- The response (`csv_response`) is streamed: rows are written as they are read, so a list of
  any length is exported whole without being held in memory. It is UTF-8 with a byte order
  mark: without the mark Excel reads a CSV in the machine's legacy code page ("Café" opens
  as "CafÃ©"); with it Excel reads UTF-8, as LibreOffice, Google Sheets and pandas do anyway.
  A script that reads the file with Python should open it with `encoding="utf-8-sig"`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from urllib.parse import quote

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

T = TypeVar("T")

CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
#: What a spreadsheet takes for the start of a formula (or, for tab and CR, of a cell it
#: trims into one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The longest file name, `.csv` left out, in characters.
NAME_LIMIT = 100
#: How much of the file the stream hands on at once, in characters.
CHUNK = 32 * 1024

_PLACES = Decimal("0.000001")
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")
_DASHES = re.compile(r"-{2,}")


def csv_safe_cell(value: object) -> str:
    """One cell as text no spreadsheet runs: "" for None, numbers plain, dates ISO, times in
    the site's time zone, and text starting a formula prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros, at most six decimals ("" for NaN and
    infinities: no spreadsheet reads them as numbers)."""
    if not value.is_finite():
        return ""
    if value == value.to_integral_value():
        return str(int(value))
    with suppress(InvalidOperation):  # more digits than the context holds: as it is
        value = value.quantize(_PLACES)
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class CsvFilename:
    """A download's name: `ascii` for `filename=`, `utf8` for RFC 5987's `filename*=` (the
    same as `ascii` when the parts were ASCII)."""

    ascii: str
    utf8: str

    def __str__(self) -> str:
        return self.ascii

    @property
    def content_disposition(self) -> str:
        header = f'attachment; filename="{self.ascii}"'
        if self.utf8 != self.ascii:
            header += f"; filename*=UTF-8''{quote(self.utf8, safe='')}"
        return header


def csv_filename(*parts: object) -> CsvFilename:
    """A safe name for a CSV of `parts` (a page, a record's name, a date...), joined with "-":
    letters, digits, dots and underscores are kept, anything else (quotes, slashes, line
    breaks, spaces) becomes "-"; at most `NAME_LIMIT` characters, no leading dot, never empty,
    always ending in ".csv"."""
    texts = [unicodedata.normalize("NFC", str(p)) for p in parts if p is not None]
    utf8 = _name("-".join(_slug(t, _unicode_safe) for t in texts))
    plain = [_ascii(t) for t in texts]
    ascii_name = _name("-".join(_slug(t, _ascii_safe) for t in plain))
    return CsvFilename(ascii=ascii_name, utf8=utf8)


def _ascii(text: str) -> str:
    """Accents dropped ("é" → "e"), any other letter outside ASCII a separator."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        c if c.isascii() else "" if unicodedata.combining(c) else "-" for c in decomposed
    )


def _unicode_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._" else "-" for c in text)


def _ascii_safe(text: str) -> str:
    return _ASCII_UNSAFE.sub("-", text)


def _slug(text: str, safe: Callable[[str], str]) -> str:
    return _DASHES.sub("-", safe(text)).strip("-.")


def _name(stem: str) -> str:
    stem = _DASHES.sub("-", stem).strip("-.")
    if stem.lower().endswith(".csv"):
        stem = stem[:-4]
    stem = stem[:NAME_LIMIT].rstrip("-.") or "export"
    return f"{stem}.csv"


def batches(items: Iterable[T], size: int = 500) -> Iterator[list[T]]:
    """`items` in lists of `size`: what an export that completes its rows in bulk (a query
    per batch, as its page does for one page) reads from a queryset's `iterator()`."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Echo:
    """What `csv.writer` writes a row to: it hands the line back instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The file, in chunks of about `CHUNK` characters: the byte order mark and the header,
    then the rows as they come, every cell through `csv_safe_cell`."""
    writer = csv.writer(_Echo())
    chunk = [BOM, writer.writerow([csv_safe_cell(c) for c in header])]
    size = 0
    for row in rows:
        line = writer.writerow([csv_safe_cell(c) for c in row])
        chunk.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(chunk)
            chunk, size = [], 0
    yield "".join(chunk)


def csv_requested(request: HttpRequest) -> bool:
    """Whether a list page is asked for its CSV (`?format=csv`, with the page's own filters):
    the rows the page shows the user, every one of them, not a page of them."""
    return request.GET.get("format") == "csv"


def csv_response(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    filename: CsvFilename | str,
) -> StreamingHttpResponse:
    """A CSV download streamed from `rows` (any iterable: a queryset's `iterator()`, a
    generator), named `filename` (`csv_filename(...)`; a plain string is made safe the same
    way)."""
    name = filename if isinstance(filename, CsvFilename) else csv_filename(filename)
    response = StreamingHttpResponse(csv_lines(header, rows), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = name.content_disposition
    return response
