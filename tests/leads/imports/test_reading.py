"""Reading files as people have them (leads.imports.reading): encodings, delimiters, quoted
newlines, blank rows, the header, dates, numbers; memory flat in the file's size."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.imports.reading import (
    AMBIGUOUS,
    CELL_MAX,
    DAY_FIRST,
    MONTH_FIRST,
    CellError,
    FileError,
    Opener,
    bool_read,
    cell_problem,
    date_order_of,
    date_read,
    datetime_read,
    decimal_read,
    file_rows,
    file_shape,
)
from tests.leads.imports.samples import fixture_path

BERLIN = ZoneInfo("Europe/Berlin")


def opener(data: bytes | Path) -> Opener:
    if isinstance(data, Path):
        return lambda: data.open("rb")
    return lambda: io.BytesIO(data)


def rows_of(data: bytes | Path) -> list[tuple[int, list[str]]]:
    shape = file_shape(opener(data))
    return [
        (row.number, row.cells)
        for row in file_rows(opener(data), encoding=shape.encoding, delimiter=shape.delimiter)
    ]


# --- the file -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "rows"),
    [
        ("hubspot-contacts.csv", "utf-8", ",", 6),
        ("contacts-utf8-bom.csv", "utf-8-sig", ",", 2),
        ("contacts-cp1252.csv", "cp1252", ";", 3),
        ("contacts-tab.tsv", "utf-8", "\t", 2),
        ("campaigns-semicolon.csv", "utf-8", ";", 3),
        ("contacts-quoted-newlines.csv", "utf-8", ",", 3),
    ],
)
def test_the_encoding_the_delimiter_and_the_rows_of_each_sample_are_found(
    name: str, encoding: str, delimiter: str, rows: int
) -> None:
    shape = file_shape(opener(fixture_path(name)))
    assert (shape.encoding, shape.delimiter, shape.rows) == (encoding, delimiter, rows)
    assert shape.columns[0] in {"Record ID", "External ID"}  # no BOM left in the first name


def test_cp1252_text_reads_with_its_accents_and_umlauts() -> None:
    cells = [cells for _, cells in rows_of(fixture_path("contacts-cp1252.csv"))]
    assert [c[2] for c in cells] == ["Jürgen", "Renée", "Bjørn"]
    assert cells[0][4] == "Café Zürich GmbH"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad-utf16.csv", "The file is UTF-16 text, not UTF-8"),
        ("bad-workbook.csv", "The file is an Excel workbook"),
        ("bad-encoding.csv", "neither UTF-8 nor Windows-1252 text (byte 0x81"),
        ("bad-no-header.csv", "Row 1 is empty: the first row must name the columns."),
        ("bad-duplicate-header.csv", 'Row 1 names two columns "Email" (B and D)'),
    ],
)
def test_a_file_that_is_no_readable_table_gets_a_message_that_says_why(
    name: str, message: str
) -> None:
    with pytest.raises(FileError) as caught:
        file_shape(opener(fixture_path(name)))
    assert message in str(caught.value)


def test_utf16_without_a_bom_and_an_empty_file_are_refused() -> None:
    with pytest.raises(FileError, match="NUL bytes"):
        file_shape(opener("Email,Create Date\r\n".encode("utf-16-le")))
    with pytest.raises(FileError, match="The file is empty"):
        file_shape(opener(b"  \r\n"))


def test_a_header_cell_without_a_name_is_refused_but_trailing_empty_ones_are_dropped() -> None:
    with pytest.raises(FileError, match="Row 1 gives column B no name"):
        file_shape(opener(b"Email,,Create Date\nx@example.com,,2018-01-01\n"))
    shape = file_shape(opener(b"Email,Create Date,,\nx@example.com,2018-01-01,,\n"))
    assert shape.columns == ["Email", "Create Date"]


def test_a_quoted_newline_is_part_of_its_cell_and_rows_are_numbered_as_a_spreadsheet_does() -> None:
    rows = rows_of(fixture_path("contacts-quoted-newlines.csv"))
    assert [number for number, _ in rows] == [2, 3, 4]
    assert rows[0][1][4] == "Nordlicht\nDesign Studio"
    assert rows[1][1][4] == 'Marsh, Lowe & "Partners"'
    assert rows[2][1][4] == "Birch\r\nand\r\nBark"


def test_blank_rows_are_skipped_where_they_are_and_still_count_in_the_numbering() -> None:
    rows = rows_of(b"a,b\r\n1,2\r\n\r\n , \r\n3,4\r\n\r\n,\r\n")
    assert rows == [(2, ["1", "2"]), (5, ["3", "4"])]
    assert file_shape(opener(b"a,b\r\n1,2\r\n\r\n , \r\n3,4\r\n\r\n,\r\n")).rows == 2


def test_reading_resumes_at_a_data_row() -> None:
    data = b"a\n1\n\n3\n4\n"
    resumed = file_rows(opener(data), encoding="utf-8", delimiter=",", skip=2)
    assert [(r.index, r.cells) for r in resumed] == [(2, ["3"]), (3, ["4"])]


def test_the_delimiter_is_the_one_that_gives_every_row_the_header_s_width() -> None:
    text = 'Name;Company;Amount\n"Lowe, Ann";"Marsh, Lowe & Co";"1,5"\nBo;Acme;2\n'
    assert file_shape(opener(text.encode())).delimiter == ";"
    assert file_shape(opener(b"Name\nAnn\n")).columns == ["Name"]


def test_a_cell_of_several_megabytes_is_read_whole_and_the_delimiter_still_sniffed() -> None:
    note = "x" * 3_000_000  # a long note in a column the mapping may leave out
    data = f"Record ID;Email;Notes\n1;a@example.com;{note}\n2;b@example.com;short\n".encode()
    shape = file_shape(opener(data))
    assert (shape.delimiter, shape.columns, shape.rows) == (";", ["Record ID", "Email", "Notes"], 2)
    assert [cells for _, cells in rows_of(data)] == [
        ["1", "a@example.com", note],
        ["2", "b@example.com", "short"],
    ]


def test_a_cell_longer_than_any_import_takes_is_refused_naming_its_row() -> None:
    data = b"Record ID,Notes\n1,short\n2," + b"x" * (CELL_MAX + 1) + b"\n"
    with pytest.raises(FileError, match="Row 3 has a cell of more than 32 MB"):
        file_shape(opener(data))


def _peak_reading(path: Path) -> tuple[int, int]:
    """Rows read and the peak of memory allocated to read the file twice (shape, then rows)."""
    tracemalloc.start()
    try:
        shape = file_shape(opener(path))
        count = sum(1 for _ in file_rows(opener(path), encoding="utf-8", delimiter=","))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert shape.rows == count
    return count, peak


def test_memory_stays_flat_in_the_size_of_the_file(tmp_path: Path) -> None:
    line = "hubspot-{n},person{n}@example.com,Person {n},2018-03-05 09:15,ORGANIC_SEARCH\n"
    peaks = {}
    for rows in (20_000, 100_000):
        path = tmp_path / f"{rows}.csv"
        with path.open("w") as out:
            out.write("Record ID,Email,Name,Create Date,Original Source\n")
            out.writelines(line.format(n=n) for n in range(rows))
        count, peaks[rows] = _peak_reading(path)
        assert count == rows
    assert path.stat().st_size > 7_000_000
    assert peaks[100_000] < peaks[20_000] * 1.25  # five times the rows, about the same memory
    assert peaks[100_000] < 2_000_000  # a block and a few rows, not the 7 MB of the file


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-03-15", datetime(2018, 3, 15, tzinfo=BERLIN)),
        ("2018-03-15 10:30", datetime(2018, 3, 15, 10, 30, tzinfo=BERLIN)),
        ("2018-03-15T10:30:45", datetime(2018, 3, 15, 10, 30, 45, tzinfo=BERLIN)),
        ("2018-03-15T10:30:00Z", datetime(2018, 3, 15, 10, 30, tzinfo=UTC)),
        ("2018-03-15 10:30:00+05:30", datetime(2018, 3, 15, 5, tzinfo=UTC)),
        ("2018/03/15 10:30", datetime(2018, 3, 15, 10, 30, tzinfo=BERLIN)),
    ],
)
def test_iso_dates_and_times_read_whatever_the_date_order(text: str, expected: datetime) -> None:
    for order in ("", DAY_FIRST, MONTH_FIRST):
        assert datetime_read(text, order=order, zone=BERLIN) == expected


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("15/03/2018", DAY_FIRST, datetime(2018, 3, 15)),
        ("15.03.2018 10:30", DAY_FIRST, datetime(2018, 3, 15, 10, 30)),
        ("15-03-2018, 10:30:05", DAY_FIRST, datetime(2018, 3, 15, 10, 30, 5)),
        ("3/15/2018 2:05 PM", MONTH_FIRST, datetime(2018, 3, 15, 14, 5)),
        ("3/15/18 12:00 AM", MONTH_FIRST, datetime(2018, 3, 15, 0, 0)),
        ("03/04/2018", DAY_FIRST, datetime(2018, 4, 3)),
        ("03/04/2018", MONTH_FIRST, datetime(2018, 3, 4)),
        ("15/03/2018", "", datetime(2018, 3, 15)),  # reads one way only
        ("05/05/2018", "", datetime(2018, 5, 5)),  # the same both ways
    ],
)
def test_local_dates_read_day_first_or_month_first_in_the_zone_given(
    text: str, order: str, expected: datetime
) -> None:
    assert datetime_read(text, order=order, zone=BERLIN) == expected.replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "order", "message"),
    [
        ("31/31/2018", DAY_FIRST, "cannot read '31/31/2018' as a date"),
        ("2018-02-30 10:00", "", "cannot read '2018-02-30 10:00' as a date"),
        ("soon", "", "cannot read 'soon' as a date"),
        ("3/4/2018 13:00 PM", MONTH_FIRST, "cannot read '3/4/2018 13:00 PM' as a date"),
        ("03/04/2018", "", "cannot tell whether '03/04/2018' is day first or month first"),
        ("12/31/2018", DAY_FIRST, "as a date (day first); it reads month first"),
    ],
)
def test_a_date_that_cannot_be_read_says_what_it_was(text: str, order: str, message: str) -> None:
    with pytest.raises(CellError) as caught:
        datetime_read(text, order=order, zone=BERLIN)
    assert message in str(caught.value)


def test_a_problem_names_the_row_and_the_column() -> None:
    assert (
        cell_problem(7, "Create Date", "cannot read '31/31/2018' as a date")
        == "Row 7, column \"Create Date\": cannot read '31/31/2018' as a date"
    )
    assert cell_problem(7, "", "the row has 3 cells") == "Row 7: the row has 3 cells"


def test_a_day_drops_the_time_of_a_moment() -> None:
    assert date_read("2018-03-15 10:30") == date(2018, 3, 15)
    assert date_read("01.03.2018", order=DAY_FIRST) == date(2018, 3, 1)


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["03/04/2018", "25/04/2018"], DAY_FIRST),
        (["03/04/2018", "4/25/2018 10:00 AM"], MONTH_FIRST),
        (["03/04/2018", "05/06/2018"], AMBIGUOUS),
        (["05/05/2018", "31/31/2018"], ""),  # one reads the same both ways, one neither
        (["2018-03-04", "2018-12-25"], ""),
    ],
)
def test_the_date_order_of_a_column(values: list[str], order: str) -> None:
    assert date_order_of(values) == order


def test_the_date_order_of_a_file_is_found_in_any_of_its_date_columns() -> None:
    assert file_shape(opener(fixture_path("salesforce-leads.csv"))).date_order == MONTH_FIRST
    assert file_shape(opener(fixture_path("contacts-cp1252.csv"))).date_order == DAY_FIRST
    ambiguous = file_shape(opener(fixture_path("contacts-ambiguous-dates.csv")))
    assert (ambiguous.date_order, ambiguous.dates_ambiguous) == ("", True)
    iso = file_shape(opener(fixture_path("hubspot-contacts-two-bad-rows.csv")))
    assert (iso.date_order, iso.dates_ambiguous) == ("", False)


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2099, 12, 31)))
def test_a_day_written_either_way_reads_back_in_that_order(day: date) -> None:
    assert date_read(f"{day.day:02}/{day.month:02}/{day.year}", order=DAY_FIRST) == day
    assert date_read(f"{day.month}/{day.day}/{day.year}", order=MONTH_FIRST) == day
    if 1969 <= day.year <= 2068:  # two-digit years, as strptime's %y reads them
        assert date_read(f"{day.day}.{day.month}.{day.year % 100:02}", order=DAY_FIRST) == day


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)))
def test_a_naive_local_time_reads_in_the_zone(moment: datetime) -> None:
    moment = moment.replace(second=0, microsecond=0)
    text = f"{moment:%d/%m/%Y %H:%M}"
    assert datetime_read(text, order=DAY_FIRST, zone=BERLIN) == moment.replace(tzinfo=BERLIN)
    assert datetime_read(moment.isoformat(), zone=UTC) - moment.replace(tzinfo=UTC) == timedelta()


# --- numbers and yes/no -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", "1234"),
        ("1234.5", "1234.5"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("€ 1 234", "1234"),
        ("1 234,50 €", "1234.50"),
        ("1\u202f234,50", "1234.50"),
        ("$1,234,567.89", "1234567.89"),
        ("1.234.567", "1234567"),
        ("1'234.50", "1234.50"),
        ("1,234", "1234"),
        ("12,5", "12.5"),
        ("0,75", "0.75"),
        ("EUR 99", "99"),
        ("-12", "-12"),
        ("(12.50)", "-12.50"),
    ],
)
def test_numbers_read_as_spreadsheets_and_accountants_write_them(text: str, expected: str) -> None:
    assert decimal_read(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["12abc", "1e5", "1,2,3.4,5", "..", "€", "twelve"])
def test_a_number_that_cannot_be_read_says_what_it_was(text: str) -> None:
    with pytest.raises(CellError, match=f"cannot read '{text}' as a number"):
        decimal_read(text)


@given(st.decimals(min_value=0, max_value=10**11, places=2))
def test_an_amount_written_with_either_convention_reads_back(amount: Decimal) -> None:
    english = f"{amount:,.2f}"
    german = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert decimal_read(english) == amount
    assert decimal_read(german) == amount


def test_yes_and_no() -> None:
    assert [bool_read(t) for t in ("true", "TRUE", "1", "yes", "x")] == [True] * 5
    assert [bool_read(t) for t in ("false", "0", "no", "", "FALSE")] == [False] * 5
    with pytest.raises(CellError, match="cannot read 'maybe' as yes or no"):
        bool_read("maybe")
