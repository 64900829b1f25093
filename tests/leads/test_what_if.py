"""The lead-definition what-if (leads.what_if): the hand-computed fixture, the window, resuming,
who may start one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from alignment.models import LeadDefinition
from alignment.roles import Role
from alignment.services.lead_definitions import lead_definition_update
from leads import what_if as what_if_module
from leads.models import Handoff, Lead, WhatIfRun
from leads.tasks import what_if_task
from leads.what_if import (
    DRAFT_CHANGED,
    WhatIfReport,
    what_if_fail,
    what_if_report,
    what_if_run,
    what_if_start,
)
from tests.conftest import World
from tests.leads.what_if_fixture import (
    EXPECTED,
    EXPECTED_NO_BASELINE,
    SUMMARY,
    build_definitions,
    build_draft,
    build_leads,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
SIGNED = datetime(2026, 1, 1, tzinfo=UTC)


def numbers(report: WhatIfReport) -> dict[str, tuple[int, ...]]:
    return {
        row.key: (row.leads, row.decided, row.accepted, row.handed_off, row.won)
        for row in report.rows
    }


@pytest.fixture
def fixture(
    world: World,
    heads: tuple[object, object],
    signed_definition: Callable[..., LeadDefinition],
) -> tuple[LeadDefinition, LeadDefinition]:
    build_leads(world, NOW)
    return build_definitions(signed_definition, heads[0], SIGNED)


def test_the_what_if_gives_the_hand_computed_numbers_of_every_group(
    fixture: tuple[LeadDefinition, LeadDefinition],
    heads: tuple[object, object],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    baseline, draft = fixture
    handoffs = list(Handoff.objects.values_list("pk", "status"))
    with django_capture_on_commit_callbacks(execute=True):
        run = what_if_start(definition=draft, by=heads[1], now=NOW)
    run.refresh_from_db()
    assert (run.status, run.baseline, run.total, run.done, run.progress) == (
        "done", baseline, 8, 8, 1.0,
    )  # fmt: skip
    assert (run.since, run.until) == (NOW - timedelta(days=90), NOW)
    report = what_if_report(run=run)
    assert numbers(report) == EXPECTED
    assert report.summary == SUMMARY
    assert report.row("new").acceptance == pytest.approx(1 / 3)
    assert report.row("dropped").won_rate == 0
    # Nothing but the run is written: the handoffs stay as they were.
    assert list(Handoff.objects.values_list("pk", "status")) == handoffs


def test_without_a_definition_in_effect_the_draft_is_compared_with_the_actual_handoffs(
    world: World, heads: tuple[object, object]
) -> None:
    build_leads(world, NOW)
    draft = build_draft(heads[0])
    run = what_if_run(run_id=str(what_if_start(definition=draft, by=heads[0], now=NOW).pk))
    assert run.baseline is None
    report = what_if_report(run=run)
    assert numbers(report) == EXPECTED_NO_BASELINE
    assert report.summary[0] == (
        "Under the draft (v1), 5 of the 8 leads created in the last 90 days would have become "
        "MQLs, against 6 that were actually handed off (no other definition was in effect): "
        "1 new, 2 dropped."
    )
    assert report.summary[1] == "The new ones (1) were never actually handed off: no evidence yet."


def test_the_version_in_effect_is_compared_with_the_actual_handoffs_not_with_itself(
    fixture: tuple[LeadDefinition, LeadDefinition], heads: tuple[object, object]
) -> None:
    baseline, _ = fixture
    run = what_if_run(run_id=str(what_if_start(definition=baseline, by=heads[0], now=NOW).pk))
    assert run.baseline is None
    # v1's MQLs are A E F G (B and C were handed off, but v1 would not have): A B C E F G.
    assert numbers(what_if_report(run=run))["dropped"] == (2, 3, 1, 2, 1)


def test_leads_outside_the_90_days_and_outcomes_after_the_run_are_left_out(
    world: World,
    heads: tuple[object, object],
    signed_definition: Callable[..., LeadDefinition],
) -> None:
    old = world.lead((NOW - timedelta(days=90, seconds=1)).isoformat(), company={"size": 900})
    edge = world.lead((NOW - timedelta(days=90)).isoformat(), company={"size": 900})
    late = world.lead((NOW - timedelta(days=5)).isoformat(), company={"size": 900})
    world.lead((NOW + timedelta(hours=1)).isoformat(), company={"size": 900})  # after the run
    for lead in (old, edge, late):
        world.stage(lead, "mql", (NOW - timedelta(days=4)).isoformat())
    world.stage(late, "sal", (NOW + timedelta(days=1)).isoformat())  # decided after the run
    world.deal(late, 100, (NOW - timedelta(days=3)).isoformat(), status="won",
               closed_at=(NOW + timedelta(days=2)).isoformat())  # fmt: skip
    world.stage(edge, "sal", (NOW - timedelta(days=3)).isoformat())
    _, draft = build_definitions(signed_definition, heads[0], SIGNED)
    run = what_if_run(run_id=str(what_if_start(definition=draft, by=heads[0], now=NOW).pk))
    assert (run.total, run.done) == (2, 2)
    # Size 900 alone: 30 points under v1 (threshold 50), 40 under the draft: both are new.
    assert numbers(what_if_report(run=run))["new"] == (2, 1, 1, 2, 0)


def test_a_run_stopped_midway_resumes_from_its_last_lead_and_gives_the_same_result(
    fixture: tuple[LeadDefinition, LeadDefinition],
    heads: tuple[object, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, draft = fixture
    run = what_if_start(definition=draft, by=heads[0], now=NOW)
    window = list(
        Lead.objects.filter(created_at__gte=run.since).order_by("pk").values_list("pk", flat=True)
    )
    real = what_if_module._chunk_counts
    scored: list[list[int]] = []

    def stop_at_the_third_chunk(run: WhatIfRun, ids: list[int], *args: object) -> object:
        if len(scored) == 2:
            raise RuntimeError("worker lost")
        scored.append(ids)
        return real(run, ids, *args)

    monkeypatch.setattr(what_if_module, "_chunk_counts", stop_at_the_third_chunk)
    with pytest.raises(RuntimeError):
        what_if_run(run_id=str(run.pk), chunk=3)
    run.refresh_from_db()
    assert (run.status, run.done, run.last_lead_id) == ("running", 6, window[5])
    assert 0 < run.progress < 1
    assert scored == [window[:3], window[3:6]]
    monkeypatch.setattr(what_if_module, "_chunk_counts", real)
    resumed: list[list[int]] = []
    monkeypatch.setattr(
        what_if_module,
        "_chunk_counts",
        lambda run, ids, *args: resumed.append(ids) or real(run, ids, *args),
    )
    run = what_if_run(run_id=str(run.pk), chunk=3)
    assert resumed == [window[6:]]  # only the leads not yet scored
    assert (run.status, run.done) == ("done", 8)
    assert numbers(what_if_report(run=run)) == EXPECTED


def test_a_second_worker_on_the_same_run_never_counts_a_chunk_twice(
    fixture: tuple[LeadDefinition, LeadDefinition],
    heads: tuple[object, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, draft = fixture
    run = what_if_start(definition=draft, by=heads[0], now=NOW)
    real = what_if_module._chunk_counts

    def the_other_worker_saves_this_chunk_first(
        run: WhatIfRun, ids: list[int], *args: object
    ) -> object:
        counts = real(run, ids, *args)
        WhatIfRun.objects.filter(pk=run.pk).update(done=len(ids), last_lead_id=ids[-1])
        return counts

    monkeypatch.setattr(what_if_module, "_chunk_counts", the_other_worker_saves_this_chunk_first)
    stopped = what_if_run(run_id=str(run.pk), chunk=3)
    assert (stopped.status, stopped.done) == ("running", 3)
    assert stopped.result["cells"] == what_if_module._zero_cells()  # this worker added nothing


def test_a_finished_run_is_not_run_again(
    fixture: tuple[LeadDefinition, LeadDefinition], heads: tuple[object, object]
) -> None:
    _, draft = fixture
    run = what_if_run(run_id=str(what_if_start(definition=draft, by=heads[0], now=NOW).pk))
    result, finished_at = run.result, run.finished_at
    again = what_if_run(run_id=str(run.pk))
    assert (again.result, again.finished_at, again.done) == (result, finished_at, 8)


def test_a_draft_edited_before_its_run_ran_fails_the_run_instead_of_mixing_rules(
    fixture: tuple[LeadDefinition, LeadDefinition], heads: tuple[object, object]
) -> None:
    _, draft = fixture
    run = what_if_start(definition=draft, by=heads[0], now=NOW)
    lead_definition_update(definition=draft, by=heads[0], mql_threshold=45)
    run = what_if_run(run_id=str(run.pk))
    assert (run.status, run.error, run.done) == ("failed", DRAFT_CHANGED, 0)
    assert run.finished_at is not None
    assert what_if_report(run=run) is None


def test_a_draft_edited_while_its_run_is_under_way_fails_the_run_at_the_next_chunk(
    fixture: tuple[LeadDefinition, LeadDefinition],
    heads: tuple[object, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, draft = fixture
    run = what_if_start(definition=draft, by=heads[0], now=NOW)
    real = what_if_module._chunk_counts

    def count_then_edit(run: WhatIfRun, ids: list[int], *args: object) -> object:
        counts = real(run, ids, *args)
        lead_definition_update(definition=draft, by=heads[0], mql_threshold=45)
        return counts

    monkeypatch.setattr(what_if_module, "_chunk_counts", count_then_edit)
    run = what_if_run(run_id=str(run.pk), chunk=3)
    assert (run.status, run.error, run.done) == ("failed", DRAFT_CHANGED, 3)


def test_the_task_retries_a_failed_run_and_marks_it_failed_once_its_retries_are_spent(
    fixture: tuple[LeadDefinition, LeadDefinition],
    heads: tuple[object, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from celery.exceptions import Retry

    _, draft = fixture
    run = what_if_start(definition=draft, by=heads[0], now=NOW)

    def broken(**kwargs: object) -> WhatIfRun:
        raise RuntimeError("database went away")

    monkeypatch.setattr(what_if_module, "what_if_run", broken)
    with pytest.raises(Retry):
        what_if_task.apply(args=[str(run.pk)], throw=True)
    run.refresh_from_db()
    assert run.status == "queued"
    with pytest.raises(RuntimeError):
        what_if_task.apply(args=[str(run.pk)], retries=what_if_task.max_retries, throw=True)
    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "database went away")


def test_failing_a_finished_run_changes_nothing(
    fixture: tuple[LeadDefinition, LeadDefinition], heads: tuple[object, object]
) -> None:
    _, draft = fixture
    run = what_if_run(run_id=str(what_if_start(definition=draft, by=heads[0], now=NOW).pk))
    assert what_if_fail(run_id=run.pk, error="late").status == "done"


def test_a_second_click_while_a_run_is_under_way_shows_that_run(
    fixture: tuple[LeadDefinition, LeadDefinition], heads: tuple[object, object]
) -> None:
    _, draft = fixture
    first = what_if_start(definition=draft, by=heads[0], now=NOW)
    assert what_if_start(definition=draft, by=heads[1], now=NOW) == first
    what_if_run(run_id=str(first.pk))
    assert what_if_start(definition=draft, by=heads[1], now=NOW) != first


@pytest.mark.parametrize(
    "role", [Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN], ids=lambda r: r.value
)
def test_managers_who_are_not_heads_and_the_admin_may_start_a_what_if(
    fixture: tuple[LeadDefinition, LeadDefinition], make_user: Callable[..., object], role: Role
) -> None:
    _, draft = fixture
    run = what_if_start(definition=draft, by=make_user("someone", role), now=NOW)
    assert run.status == "queued" and run.total == 8


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.SALES_REP], ids=lambda r: r.value)
def test_a_rep_cannot_start_a_what_if(
    fixture: tuple[LeadDefinition, LeadDefinition], make_user: Callable[..., object], role: Role
) -> None:
    _, draft = fixture
    with pytest.raises(PermissionDenied):
        what_if_start(definition=draft, by=make_user("rep", role), now=NOW)
    assert not WhatIfRun.objects.exists()
