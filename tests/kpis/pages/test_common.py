"""What a dataset's CSV holds: values rounded as its table shows them (`format_value`), each
ratio beside its raw numerator and denominator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpis.pages.common import Column, Dataset, csv_value, dataset_table, format_value
from kpis.selectors import Agg


@pytest.mark.parametrize(
    ("value", "unit", "cell", "shown"),
    [
        (Decimal(1) / Decimal(3), "ratio", Decimal("33.3"), "33.3 %"),
        (Decimal("-0.0125"), "ratio", Decimal("-1.2"), "−1.2 %"),
        (Decimal("48213.4"), "currency", Decimal("48213"), "48.2k"),
        (Decimal("3.46"), "hours", Decimal("3.5"), "3.5 h"),
        (Decimal("40.6"), "days", Decimal("41"), "41 d"),
        (Decimal("1.755"), "per_week", Decimal(f"{1.755:.2f}"), f"{1.755:.2f}"),
        (Decimal("1234"), "count", Decimal("1234"), "1,234"),
        (Decimal("2.25"), "count", Decimal("2.2"), "2.2"),
    ],
)
def test_a_value_is_rounded_as_its_table_shows_it(
    value: Decimal, unit: str, cell: Decimal, shown: str
) -> None:
    assert csv_value(value, unit) == cell
    assert format_value(value, unit) == shown


@pytest.mark.parametrize("value", [None, "Webinar", True])
def test_what_is_not_a_number_is_left_as_it_is(value: object) -> None:
    assert csv_value(value, "ratio") is value


def test_each_ratio_column_is_followed_by_its_numerator_and_denominator() -> None:
    ds = Dataset(
        slug="x",
        title="X",
        columns=(
            Column("Period", "period"),
            Column("Acceptance rate", "ratio"),
            Column("MQLs", "count"),
        ),
        rows=[("W1", Decimal(34) / Decimal(80), Decimal(80)), ("W2", None, Decimal(0))],
        parts=(
            (None, Agg(Decimal(34), Decimal(80), Decimal(34) / Decimal(80)), None),
            (None, Agg(Decimal(0), Decimal(0), None), None),
        ),
    )
    header, rows = dataset_table(ds)
    assert header == ["Period", "Acceptance rate (%)", "Acceptance rate numerator",
                      "Acceptance rate denominator", "MQLs"]  # fmt: skip
    assert list(rows) == [
        ["W1", Decimal("42.5"), Decimal(34), Decimal(80), Decimal(80)],
        ["W2", None, Decimal(0), Decimal(0), Decimal(0)],
    ]


def test_a_ratio_without_its_parts_leaves_them_empty_and_the_rows_keep_their_width() -> None:
    ds = Dataset("x", "X", (Column("Reason"), Column("Share", "ratio")), [("Bad fit", 0.5)])
    header, rows = dataset_table(ds)
    assert len(header) == 4
    assert list(rows) == [["Bad fit", Decimal("50.0"), None, None]]
