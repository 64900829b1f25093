"""What a row of a file becomes: the records it gives the ingest services (`Record`), read
through the mapping a cell at a time (`Cells`, which collects every problem of the row with its
column), and what a preset is (`Preset`). Pure: the lookups a preset needs come in `Context`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from leads.imports.reading import (
    CellError,
    FileRow,
    bool_read,
    date_read,
    datetime_read,
    decimal_read,
)

#: The kinds in the order their records are written (a kind refers only to those before it).
KIND_ORDER = ("campaigns", "leads", "touches", "stage_events", "attempts", "deals")


@dataclass(frozen=True)
class ImportField:
    """A target of the mapping: what a column means to a preset (or an ingest field)."""

    name: str
    label: str
    required: bool = False
    column: str = ""  # the column a source system's export names it (a built-in preset)
    aliases: tuple[str, ...] = ()
    help: str = ""


@dataclass
class Record:
    """One record for an ingest service, as the API takes it (before its serializer), with the
    file's column behind each of its fields (to name them in errors) and the rows that need it.
    An `implicit` campaign is one a preset makes up from its rows (a source system's lead
    source): an existing one keeps its name, channel and cost and only widens its dates."""

    kind: str
    data: dict[str, Any]
    columns: dict[str, str]
    rows: list[int] = field(default_factory=list)
    implicit: bool = False

    @property
    def external_id(self) -> str:
        return str(self.data.get("external_id", ""))


@dataclass(frozen=True)
class Problem:
    column: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"column": self.column, "message": self.message}


class RowRejected(Exception):
    """The row cannot be imported; its problems say which column and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.column}: {p.message}" for p in problems))
        self.problems = list(problems)


class Lookups:
    """The database reads a preset may make for a whole chunk at once (given by the job)."""

    def leads_existing(self, external_ids: Iterable[str]) -> set[str]:
        raise NotImplementedError

    def leads_by_email(self, emails: Iterable[str]) -> dict[str, list[str]]:
        """Lower-cased e-mail → the external ids of the leads with it."""
        raise NotImplementedError

    def campaigns_existing(self, external_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """External id → the campaign as the API would send it (name, channel, dates, cost)."""
        raise NotImplementedError


@dataclass
class Context:
    """What reading a chunk's rows needs besides the rows: the zone of naive times, the file's
    date order, the users an owner may name (lower-cased username, e-mail or full name →
    username; None: several users), lookups, what `Preset.prepare` found for the chunk, and
    who imports it (`sender`: the services apply their rights, as the API's user's)."""

    zone: tzinfo
    date_order: str = ""
    owners: Mapping[str, str | None] = field(default_factory=dict)
    lookups: Lookups = field(default_factory=Lookups)
    found: dict[str, Any] = field(default_factory=dict)
    sender: Any = None


class Cells:
    """A row's cells by the field the mapping gives their column; each reader records the
    problem of a cell it cannot read (with its column) and returns None."""

    def __init__(
        self,
        row: FileRow,
        *,
        positions: Mapping[str, int],
        mapping: Mapping[str, str],
        context: Context,
    ) -> None:
        self.row = row
        self.positions = positions
        self.mapping = mapping
        self.context = context
        self.problems: list[Problem] = []

    @property
    def number(self) -> int:
        return self.row.number

    def column(self, name: str) -> str:
        return self.mapping.get(name, "")

    def text(self, name: str) -> str:
        column = self.mapping.get(name)
        if not column:
            return ""
        position = self.positions[column]
        cells = self.row.cells
        return cells[position].strip() if position < len(cells) else ""

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.column(name) or name, message))

    def _read(self, name: str, reader: Callable[[str], Any]) -> Any:
        text = self.text(name)
        if not text:
            return None
        try:
            return reader(text)
        except CellError as exc:
            self.problem(name, str(exc))
            return None

    def moment(self, name: str) -> datetime | None:
        context = self.context
        return self._read(
            name, lambda t: datetime_read(t, order=context.date_order, zone=context.zone)
        )

    def day(self, name: str) -> date | None:
        return self._read(name, lambda t: date_read(t, order=self.context.date_order))

    def decimal(self, name: str) -> Decimal | None:
        return self._read(name, decimal_read)

    def flag(self, name: str) -> bool | None:
        return self._read(name, bool_read)

    def owner(self, name: str) -> str | None:
        """The username of the user the cell names by username, e-mail or full name."""
        text = self.text(name)
        if not text:
            return None
        owners = self.context.owners
        key = " ".join(text.lower().split())
        if key not in owners:
            self.problem(name, f"no user has the username, e-mail or name '{text}'")
            return None
        username = owners[key]
        if username is None:
            self.problem(
                name, f"several users are called '{text}': give the username or e-mail instead"
            )
        return username

    def need(self, name: str, value: object) -> None:
        """A value the row must have: its column's cell is empty (or unreadable)."""
        if value in (None, "") and not any(p.column == self.column(name) for p in self.problems):
            self.problem(name, "this cell must not be empty")

    def check(self) -> None:
        if self.problems:
            raise RowRejected(self.problems)

    def extra_cells(self, width: int) -> None:
        """Cells past the header's last column must be empty."""
        cells = self.row.cells
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            self.problems.append(
                Problem("", f"the row has {len(cells)} cells; the header names {width} columns")
            )


class Preset:
    """What a file's rows mean. A built-in preset reads a source system's export by its
    documented column names; the generic one of each kind maps columns to ingest fields."""

    key: str = ""
    label: str = ""
    kind: str = ""
    fields: tuple[ImportField, ...] = ()
    builtin: bool = True
    #: The mapping may also name `attributes.<key>` (the lead's attributes) for any column.
    attributes: bool = False

    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}

    def required(self) -> list[ImportField]:
        return [f for f in self.fields if f.required]

    def prepare(self, rows: list[Cells], context: Context) -> None:
        """Look up, for the whole chunk at once, what its rows refer to (into `context.found`)."""

    def records(self, cells: Cells) -> list[Record]:
        """The row's records; RowRejected (through `cells.check()`) when it has problems."""
        raise NotImplementedError
