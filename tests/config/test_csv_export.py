from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.http import StreamingHttpResponse

from config.csv_export import (
    BOM,
    CHUNK,
    batches,
    csv_filename,
    csv_lines,
    csv_response,
    csv_safe_cell,
)


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "-"],
)
def test_text_that_starts_a_formula_is_prefixed_to_stay_text(text: str) -> None:
    assert csv_safe_cell(text) == f"'{text}"


@pytest.mark.parametrize("text", ["Webinar", "a=b", "1-2", " =1", "", "'quoted"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert csv_safe_cell(text) == text


@pytest.mark.parametrize(
    ("number", "cell"),
    [(-5, "-5"), (Decimal("-5"), "-5"), (Decimal("-0.25"), "-0.25"), (-2.5, "-2.5")],
)
def test_a_negative_number_stays_a_number(number: object, cell: str) -> None:
    assert csv_safe_cell(number) == cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (Decimal("1E+3"), "1000"),
        (Decimal("12.50"), "12.5"),
        (Decimal(1) / Decimal(3), "0.333333"),
        (Decimal("NaN"), ""),
        (Decimal("Infinity"), ""),
        (float("nan"), ""),
        (0.1, "0.1"),
        (True, "yes"),
        (False, "no"),
        (date(2026, 3, 1), "2026-03-01"),
    ],
)
def test_numbers_are_plain_and_nothing_is_none(value: object, cell: str) -> None:
    assert csv_safe_cell(value) == cell


def test_a_moment_reads_in_the_sites_time_zone(settings: object) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    assert csv_safe_cell(datetime(2026, 3, 1, 8, 5, tzinfo=UTC)) == "2026-03-01 09:05:00"


def test_a_name_with_quotes_slashes_and_line_breaks_gives_a_safe_file_name() -> None:
    name = csv_filename("tandem", "campaign", 'a/b"c\r\nd', date(2026, 3, 1))
    assert name.ascii == name.utf8 == "tandem-campaign-a-b-c-d-2026-03-01.csv"
    assert name.content_disposition == (
        'attachment; filename="tandem-campaign-a-b-c-d-2026-03-01.csv"'
    )


def test_a_name_outside_ascii_gets_an_rfc_5987_name_beside_its_ascii_slug() -> None:
    name = csv_filename("Café Été", "東京")
    assert name.ascii == "Cafe-Ete.csv"
    disposition = name.content_disposition
    assert disposition.startswith('attachment; filename="Cafe-Ete.csv"; ')
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == "Café-Été-東京.csv"
    assert all(c.isascii() and c not in "\"'\\ ;" for c in encoded)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("..", "///", ""), "export.csv"),
        ((".hidden",), "hidden.csv"),
        (("report.CSV",), "report.csv"),
        (("x" * 500,), "x" * 100 + ".csv"),
        (("a\\b\x00c\u202ed",), "a-b-c-d.csv"),
    ],
)
def test_a_file_name_is_never_empty_hidden_doubled_or_long(
    parts: tuple[str, ...], expected: str
) -> None:
    name = csv_filename(*parts)
    assert (name.ascii, name.utf8) == (expected, expected)


def test_the_file_starts_with_a_byte_order_mark_and_neutralises_every_cell() -> None:
    text = "".join(csv_lines(["Name", "=Header"], [["=cmd", -1], ["line\r\nbreak", None]]))
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows == [["Name", "'=Header"], ["'=cmd", "-1"], ["line\r\nbreak", ""]]


def test_the_file_is_handed_on_in_chunks_as_the_rows_come() -> None:
    read = []

    def rows() -> object:
        for n in range(3000):
            read.append(n)
            yield [n, "x" * 40]

    stream = csv_lines(["n", "text"], rows())
    first = next(stream)
    assert len(first) >= CHUNK and len(read) < 3000  # the rest is not read yet
    assert len((first + "".join(stream)).splitlines()) == 3001


def test_the_response_streams_utf8_csv_as_an_attachment() -> None:
    response = csv_response(["Campaign"], iter([["Café"]]), csv_filename("tandem", "Café"))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"tandem-Cafe.csv\"; filename*=UTF-8''tandem-Caf%C3%A9.csv"
    )
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig") == "Campaign\r\nCafé\r\n"


def test_a_plain_string_file_name_is_made_safe_too() -> None:
    response = csv_response(["a"], [], 'x"\r\n.csv')
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


def test_batches_hold_every_item_once_in_order() -> None:
    assert list(batches(range(7), size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], size=3)) == []
