"""What every page builder shares: datasets (a chart, its table and its CSV), headline tiles
that compare a period with the one before, and the formatting of values by unit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from core.catalog import METRICS
from core.periods import PACE_MIN_ELAPSED, period_label
from kpis.selectors import Agg, KpiTable

MINUS = "−"


def _compact(value: Decimal | float) -> str:
    number = float(value)
    size = abs(number)
    for limit, unit, suffix in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if size >= limit:
            text = f"{number / unit:,.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}".replace("-", MINUS)
    return f"{number:,.0f}".replace("-", MINUS)


def format_value(value: Decimal | float | int | None, unit: str = "count", none: str = "—") -> str:
    """A value in its unit: 1,234 · 48.2k · 42.1 % · 3.5 h · 41 d; `none` when there is none."""
    if value is None or value == "":
        return none
    if not isinstance(value, Decimal | float | int):
        return str(value)
    if unit == "ratio":
        return f"{float(value) * 100:.1f} %".replace("-", MINUS)
    if unit == "currency":
        return _compact(value)
    if unit == "hours":
        return f"{float(value):.1f} h"
    if unit == "days":
        return f"{float(value):.0f} d"
    if unit == "per_week":
        return f"{float(value):.2f}"
    if unit == "count":
        number = float(value)
        return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"
    return str(value)


def duration_words(delta: timedelta) -> str:
    """'3 d', '1 d 4 h', '2 h 5 min', '12 min' (the sign left out)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours and days < 3 else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes and hours < 4 else f"{hours} h"
    return f"{minutes} min"


def ago_words(moment: datetime | None) -> str:
    """'40 s ago', '3 min ago', '2 h ago', '3 d ago'; 'never' without a moment."""
    if moment is None:
        return "never"
    seconds = int((timezone.now() - moment).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s ago"
    return f"{duration_words(timedelta(seconds=seconds))} ago"


def whole_label(value: Decimal | None) -> str:
    return "no" if value is None else f"{int(value):,}"


@dataclass(frozen=True)
class Column:
    label: str
    unit: str = "text"  # text | period | count | currency | ratio | hours | days


@dataclass(frozen=True)
class Dataset:
    """The data of one chart or table: what the figure draws, the table shows, the CSV holds."""

    slug: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple]
    summary: str = ""
    chart: str = ""  # funnel | lines | bars | hbar | revenue; empty: a table only
    teams: tuple[str, ...] = ()  # the colour of each value column
    note: str = ""
    x: tuple[date, ...] = ()  # period starts of the rows, for a time axis
    period: str = ""
    partial: bool = False  # the last row is a period still in progress ("so far")
    benchmarks: tuple[tuple[str, float], ...] = ()  # (label, value): level lines on a chart
    # Beside each row, the numerator and denominator of its ratio cells (an `Agg` where the
    # column is a ratio, None elsewhere): what the CSV carries next to the rounded value.
    parts: tuple[tuple[Agg | None, ...], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.rows


#: How a CSV names the unit of values it gives in theirs (`csv_value`): a ratio in percent.
UNIT_WORDS = {"ratio": "%", "per_week": "per week"}


def csv_value(value: object, unit: str) -> object:
    """A value rounded as the pages show it (`format_value`), as a number a spreadsheet
    reads: a ratio in percent to one decimal (42.1 for "42.1 %"), hours to one decimal, days
    whole, meetings a week to two decimals, counts whole (one decimal when not whole),
    currency in whole units (where a page abbreviates 48.2k, the CSV keeps 48,213). Anything
    that is not a number, as it is."""
    if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
        return value
    number = float(value)
    if unit == "ratio":
        return Decimal(f"{number * 100:.1f}")
    places = {"currency": 0, "hours": 1, "days": 0, "per_week": 2}.get(unit)
    if unit == "count":
        places = 0 if number == int(number) else 1
    return value if places is None else Decimal(f"{number:.{places}f}")


def dataset_table(ds: Dataset) -> tuple[list[str], Iterator[list[object]]]:
    """A dataset as its CSV holds it: the header and the rows, each value rounded as the
    table shows it (`csv_value`) and each ratio followed by its raw numerator and denominator
    ("Acceptance rate (%)", "Acceptance rate numerator", "Acceptance rate denominator")."""
    ratios = [c.unit == "ratio" for c in ds.columns]
    header: list[str] = []
    for column, ratio in zip(ds.columns, ratios, strict=True):
        if ratio:
            header += [f"{column.label} (%)", f"{column.label} numerator",
                       f"{column.label} denominator"]  # fmt: skip
        else:
            header.append(column.label)

    def rows() -> Iterator[list[object]]:
        for i, row in enumerate(ds.rows):
            parts = ds.parts[i] if i < len(ds.parts) else ()
            out: list[object] = []
            for j, (column, ratio) in enumerate(zip(ds.columns, ratios, strict=True)):
                value = row[j] if j < len(row) else None
                out.append(csv_value(value, column.unit))
                if ratio:
                    part = parts[j] if j < len(parts) else None
                    out += [part.numerator, part.denominator] if part else [None, None]
            yield out

    return header, rows()


def as_float(agg: Agg) -> float | None:
    return None if agg.value is None else float(agg.value)


@dataclass(frozen=True)
class Tile:
    metric: str
    label: str
    unit: str
    team: str
    direction: str
    current: Agg
    previous: Agg
    basis: Decimal | None  # what the change compares with: the previous value, maybe pro-rated
    prorated: bool
    change: Decimal | None  # percent for amounts, percentage points for ratios
    change_unit: str
    verdict: str  # good | bad | flat | "" (nothing to compare)
    spark: tuple[float | None, ...]
    partial: bool = False  # the period is in progress: the value is the value so far
    too_early: bool = False  # too little of the period has gone by to compare (no verdict)


def change_of(
    metric: str, current: Agg, previous: Agg, elapsed: Decimal = Decimal(1)
) -> tuple[Decimal | None, str, str]:
    """The change from `previous` to `current`: (amount, "%" or "pts", good | bad | flat).

    A metric that accumulates compares with the previous period pro-rated to `elapsed`, the
    share of the current period gone by, so a period in progress compares like with like.
    """
    definition = METRICS[metric]
    if current.value is None or previous.value is None:
        return None, "", ""
    basis = previous.value * elapsed if definition.accumulates else previous.value
    if definition.unit == "ratio":
        change, unit = (current.value - basis) * 100, "pts"
    elif basis == 0:
        return None, "", ""
    else:
        change, unit = (current.value - basis) / abs(basis) * 100, "%"
    if abs(change) < Decimal("0.05"):
        return change, unit, "flat"
    better = (change > 0) == definition.higher_is_better
    return change, unit, "good" if better else "bad"


def tile(
    table: KpiTable, metric: str, current: date, previous: date, elapsed: Decimal = Decimal(1)
) -> Tile:
    """The headline of `metric` for the period `current` against `previous`, `elapsed` being
    the share of `current` gone by (`core.periods.elapsed_share`): a period in progress is
    "so far", compares pro-rated, and gives no verdict before `PACE_MIN_ELAPSED`."""
    definition = METRICS[metric]
    now, before = table.get(metric, current), table.get(metric, previous)
    prorated = definition.accumulates and elapsed < 1
    too_early = elapsed < PACE_MIN_ELAPSED
    change, unit, verdict = (
        (None, "", "")
        if too_early
        else change_of(metric, now, before, elapsed if prorated else Decimal(1))
    )
    basis = None if before.value is None else before.value * (elapsed if prorated else 1)
    return Tile(
        metric=metric,
        label=definition.label,
        unit=definition.unit,
        team=definition.team,
        direction=definition.direction,
        current=now,
        previous=before,
        basis=basis,
        prorated=prorated,
        change=change,
        change_unit=unit,
        verdict=verdict,
        spark=tuple(as_float(a) for a in table.series(metric)),
        partial=elapsed < 1,
        too_early=too_early,
    )


def period_rows(
    table: KpiTable, kind: str, metrics: Sequence[str], *, partial: bool = False
) -> list[tuple]:
    """One row a period: its label, then each metric's value. With `partial` the last period
    is one in progress, labelled "(so far)"."""
    rows = [
        (period_label(kind, p), *(table.get(m, p).value for m in metrics)) for p in table.periods
    ]
    if partial and rows:
        rows[-1] = (f"{rows[-1][0]} (so far)", *rows[-1][1:])
    return rows


def period_parts(table: KpiTable, metrics: Sequence[str]) -> tuple[tuple[Agg | None, ...], ...]:
    """Beside each row of `period_rows`, the `Agg` of each ratio metric (None elsewhere)."""
    ratios = [METRICS[m].unit == "ratio" for m in metrics]
    return tuple(
        (None, *(table.get(m, p) if r else None for m, r in zip(metrics, ratios, strict=True)))
        for p in table.periods
    )


def series_dataset(
    table: KpiTable,
    kind: str,
    metrics: Sequence[str],
    rows: list[tuple],
    *,
    slug: str,
    title: str,
    summary: str,
    chart: str = "lines",
    partial: bool = False,
) -> Dataset:
    """A chart of metrics over the table's periods (rows from `period_rows`), each metric in
    its unit and its team's colour, as the catalog says."""
    return Dataset(
        slug=slug,
        title=title,
        columns=(
            Column("Period", "period"),
            *(Column(METRICS[m].label, METRICS[m].unit) for m in metrics),
        ),
        rows=rows,
        summary=summary,
        chart=chart,
        teams=tuple(METRICS[m].team for m in metrics),
        x=tuple(table.periods),
        period=kind,
        partial=partial and bool(rows),
        parts=period_parts(table, metrics),
    )
