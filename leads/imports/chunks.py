"""One chunk of a file's rows, from cells to records written: each row read through its preset
(a row with a problem is rejected whole, naming the column), its records validated by the API's
serializers, then written by the ingest services in the order their references need. When a
service refuses some records (`RowsInvalid`), their rows are rejected, with the service's field
named as the file's column, and the chunk is written again without them. The caller holds the
transaction (`services.import_job_run`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from alignment.selectors import lead_definition_in_effect
from leads.errors import RowError, RowsInvalid
from leads.imports.presets import SERIALIZERS
from leads.imports.reading import FileRow
from leads.imports.rows import KIND_ORDER, Cells, Context, Preset, Problem, Record, RowRejected
from leads.models import Lead, StageEvent
from leads.services import (
    UpsertResult,
    attempts_upsert,
    campaigns_upsert,
    deals_upsert,
    leads_score,
    leads_upsert,
    stage_events_upsert,
    touches_upsert,
)

UPSERTS: dict[str, Callable[..., UpsertResult]] = {
    "campaigns": campaigns_upsert,
    "leads": partial(leads_upsert, score=False),  # scored once their past stages are in
    "touches": touches_upsert,
    "stage_events": partial(stage_events_upsert, source=StageEvent.Source.IMPORT),
    "attempts": attempts_upsert,
    "deals": deals_upsert,
}

#: The kinds whose service applies the sender's rights (`by=`): a `rejected` stage event decides
#: a handoff only as sales would, whether the API or an import sends it.
TAKES_SENDER = {"stage_events"}

SINGULAR = {
    "campaigns": "campaign",
    "leads": "lead",
    "touches": "touch",
    "stage_events": "stage event",
    "attempts": "contact attempt",
    "deals": "deal",
}


@dataclass
class ChunkOutcome:
    """What a chunk did: its rows that were written (or would be, in a check), the rejected
    ones with their problems, and the records of the job's kind created and updated."""

    rows: int = 0
    rejected: dict[int, tuple[FileRow, list[Problem]]] = field(default_factory=dict)
    created: int = 0
    updated: int = 0

    @property
    def valid(self) -> int:
        return self.rows - len(self.rejected)

    def reject(self, row: FileRow, problems: Sequence[Problem]) -> bool:
        """Reject `row` with these problems; False if it was rejected already."""
        if row.number in self.rejected:
            self.rejected[row.number][1].extend(problems)
            return False
        self.rejected[row.number] = (row, list(problems))
        return True


@dataclass
class _Plan:
    """The records of a chunk's rows that were read, by kind, with each row by number."""

    rows: dict[int, FileRow]
    records: dict[str, list[Record]]


def chunk_import(
    *,
    preset: Preset,
    rows: Sequence[FileRow],
    columns: Sequence[str],
    mapping: Mapping[str, str],
    context: Context,
    kind: str,
) -> ChunkOutcome:
    """Read, validate and write a chunk (in the caller's transaction)."""
    outcome = ChunkOutcome(rows=len(rows))
    plan = _read(preset, rows, columns, mapping, context, outcome)
    _validate(plan, outcome)
    results = _write(plan, outcome, sender=context.sender)
    if kind in results:
        outcome.created, outcome.updated = results[kind].created, results[kind].updated
    return outcome


def _read(
    preset: Preset,
    rows: Sequence[FileRow],
    columns: Sequence[str],
    mapping: Mapping[str, str],
    context: Context,
    outcome: ChunkOutcome,
) -> _Plan:
    positions = {column: index for index, column in enumerate(columns)}
    all_cells = [Cells(r, positions=positions, mapping=mapping, context=context) for r in rows]
    context.found = {}
    preset.prepare(all_cells, context)
    by_kind: dict[str, list[Record]] = {kind: [] for kind in KIND_ORDER}
    implicit: dict[str, Record] = {}
    seen: dict[tuple[str, str], int] = {}
    for cells in all_cells:
        cells.extra_cells(len(columns))
        try:
            records = preset.records(cells)
        except RowRejected as exc:
            outcome.reject(cells.row, exc.problems)
            continue
        repeated = _repeats(records, seen, cells.number)
        if repeated:
            outcome.reject(cells.row, [repeated])
            continue
        for record in records:
            record.rows = [cells.number]
            if record.implicit:
                _merge_implicit(implicit, record)
            else:
                by_kind[record.kind].append(record)
    by_kind["campaigns"] = list(implicit.values()) + by_kind["campaigns"]
    _against_existing_campaigns(by_kind, context)
    return _Plan(rows={r.number: r for r in rows}, records=by_kind)


def _repeats(records: list[Record], seen: dict[tuple[str, str], int], row: int) -> Problem | None:
    """A record the chunk had from an earlier row already: the later row is rejected."""
    for record in records:
        if record.implicit:
            continue
        key = (record.kind, record.external_id)
        if key in seen:
            return Problem(
                record.columns.get("external_id", ""),
                f"repeats row {seen[key]} (the same {SINGULAR[record.kind]})",
            )
    for record in records:
        if not record.implicit:
            seen[(record.kind, record.external_id)] = row
    return None


def _merge_implicit(implicit: dict[str, Record], record: Record) -> None:
    """Campaigns made up from rows: one per id, spanning the days of all its rows."""
    known = implicit.get(record.external_id)
    if known is None:
        implicit[record.external_id] = Record(
            kind=record.kind,
            data=dict(record.data),
            columns=record.columns,
            rows=list(record.rows),
            implicit=True,
        )
        return
    known.data["starts_on"] = min(known.data["starts_on"], record.data["starts_on"])
    known.data["ends_on"] = max(known.data["ends_on"], record.data["ends_on"])
    known.rows.extend(record.rows)


def _against_existing_campaigns(by_kind: dict[str, list[Record]], context: Context) -> None:
    """A made-up campaign that exists keeps what it has (someone may have named it or given
    it a cost); it is written only to widen its dates to its leads'."""
    implicit = [r for r in by_kind["campaigns"] if r.implicit]
    if not implicit:
        return
    existing = context.lookups.campaigns_existing([r.external_id for r in implicit])
    kept = []
    for record in by_kind["campaigns"]:
        found = existing.get(record.external_id) if record.implicit else None
        if found is None:
            kept.append(record)
            continue
        starts = min(found["starts_on"], record.data["starts_on"])
        ends = max(found["ends_on"], record.data["ends_on"])
        if (starts, ends) != (found["starts_on"], found["ends_on"]):
            record.data = {**found, "starts_on": starts, "ends_on": ends}
            kept.append(record)
    by_kind["campaigns"] = kept


def _errors(detail: Any, name: str = "") -> list[tuple[str, str]]:
    """A serializer's errors as (field, message); a nested field's stay on its top field."""
    if isinstance(detail, dict):
        return [e for key, value in detail.items() for e in _errors(value, name or str(key))]
    if isinstance(detail, list):
        return [e for item in detail for e in _errors(item, name)]
    return [(name or "non_field_errors", str(detail))]


def _problems(record: Record, errors: list[tuple[str, str]]) -> list[Problem]:
    return [Problem(record.columns.get(name, ""), message) for name, message in errors]


def _validate(plan: _Plan, outcome: ChunkOutcome) -> None:
    """Each record through its kind's API serializer (as the API validates a request); a
    record that fails rejects the rows that need it."""
    for kind, records in plan.records.items():
        if not records:
            continue
        child = SERIALIZERS[kind]()
        for record in records:
            if all(row in outcome.rejected for row in record.rows):
                continue
            try:
                record.data = child.run_validation(record.data)
            except serializers.ValidationError as exc:
                problems = _problems(record, _errors(exc.detail))
                for row in record.rows:
                    outcome.reject(plan.rows[row], problems)


class _Refused(Exception):
    def __init__(self, kind: str, records: list[Record], errors: list[RowError]) -> None:
        super().__init__(kind)
        self.kind, self.records, self.errors = kind, records, errors


def _live(records: list[Record], outcome: ChunkOutcome) -> list[Record]:
    return [r for r in records if any(row not in outcome.rejected for row in r.rows)]


def _write(plan: _Plan, outcome: ChunkOutcome, *, sender: Any) -> dict[str, UpsertResult]:
    """Write the chunk's records kind by kind in a savepoint, as `sender` (who imports them);
    when a service refuses some, roll back, reject their rows and write the rest again."""
    while True:
        try:
            with transaction.atomic():
                results = {}
                for kind in KIND_ORDER:
                    records = _live(plan.records.get(kind, []), outcome)
                    if not records:
                        continue
                    try:
                        extra = {"by": sender} if kind in TAKES_SENDER else {}
                        results[kind] = UPSERTS[kind](rows=[r.data for r in records], **extra)
                    except RowsInvalid as exc:
                        raise _Refused(kind, records, exc.errors) from exc
                _score(_live(plan.records.get("leads", []), outcome))
                return results
        except _Refused as refused:
            rejected_any = False
            for error in refused.errors:
                record = refused.records[error.index]
                problem = Problem(record.columns.get(error.field, ""), error.message)
                for row in record.rows:
                    if row not in outcome.rejected:
                        rejected_any = outcome.reject(plan.rows[row], [problem]) or rejected_any
            if not rejected_any:  # nothing left to drop: a fault, not a row's
                raise RowsInvalid(refused.errors) from refused


def _score(leads: list[Record]) -> None:
    """Score the chunk's leads under the lead definition in effect, as the API does, but once
    their stage events are written: a lead imported with its past (an MQL in 2018, won since)
    is not handed off today; one that never got that far and reaches the threshold is."""
    definition = lead_definition_in_effect(at=timezone.now()) if leads else None
    if definition is None:
        return
    ids = Lead.objects.filter(external_id__in=[r.external_id for r in leads]).values_list(
        "pk", flat=True
    )
    leads_score(lead_ids=list(ids), definition=definition)
