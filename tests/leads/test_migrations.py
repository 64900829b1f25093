"""The data steps of the funnel's migrations, run on rows written as the migration before them
left the schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leads.models import Handoff

BEFORE, WITHDRAWN = ("leads", "0011_workbench"), ("leads", "0013_link_and_withdraw_handoffs")


def march(day: int) -> datetime:
    return datetime(2026, 3, day, 9, tzinfo=UTC)


@pytest.fixture
def old_apps(restore_base_data: None) -> Iterator[object]:
    """The models as of 0011 (the schema migrated back to it, outside a transaction, as the
    schema editor needs on SQLite); migrated forward again after the test whatever happens, so
    that the tests after it find the whole schema. (`restore_base_data`: the flush after this
    test leaves the next one what the migrations wrote.)"""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        yield executor.loader.project_state([BEFORE]).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _history(apps: object, name: str, events: list[tuple[str, int]], handoff: dict) -> None:
    """A lead, its stage events (stage, day of March) and the handoff 0011's replay derived."""
    lead = apps.get_model("leads", "Lead").objects.create(
        external_id=name, created_at=march(1), stage=events[-1][0], stage_changed_at=march(1)
    )
    stage_event = apps.get_model("leads", "StageEvent")
    for n, (stage, day) in enumerate(events):
        stage_event.objects.create(
            external_id=f"{name}-{n}", lead=lead, stage=stage, occurred_at=march(day)
        )
    apps.get_model("leads", "Handoff").objects.create(lead=lead, **handoff)


def _replayed(name: str) -> list[tuple]:
    return [
        (
            h.status,
            h.handed_at.day,
            h.decided_at.day if h.decided_at else None,
            h.opening_event.external_id if h.opening_event else None,
            h.closing_event.external_id if h.closing_event else None,
        )
        for h in Handoff.objects.filter(lead__external_id=name)
        .select_related("opening_event", "closing_event")
        .order_by("handed_at")
    ]


def test_0013_withdraws_what_a_withdrawing_event_left_and_links_every_handoff_to_its_events(
    old_apps: object,
) -> None:
    # Recycled while pending, then an MQL again: 0011 left one handoff pending for ever.
    _history(old_apps, "L-1", [("mql", 1), ("recycled", 3), ("mql", 10)],
             {"handed_at": march(1), "status": "pending"})  # fmt: skip
    # Lost while pending, then accepted by a later `sal`: 0011 accepted it at the `sal`.
    _history(old_apps, "L-2", [("mql", 1), ("lost", 4), ("sal", 6)],
             {"handed_at": march(1), "status": "accepted", "decided_at": march(6)})  # fmt: skip
    # Accepted, then disqualified: nothing changes but the links and the outcome after it.
    _history(old_apps, "L-3", [("mql", 2), ("sal", 3), ("disqualified", 8)],
             {"handed_at": march(2), "status": "accepted", "decided_at": march(3)})  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate([WITHDRAWN])

    assert _replayed("L-1") == [
        ("withdrawn", 1, 3, "L-1-0", "L-1-1"),
        ("pending", 10, None, "L-1-2", None),
    ]
    assert _replayed("L-2") == [("withdrawn", 1, 4, "L-2-0", "L-2-1")]
    assert _replayed("L-3") == [("accepted", 2, 3, "L-3-0", "L-3-1")]
    assert Handoff.objects.get(lead__external_id="L-3").disqualified_after_decision
