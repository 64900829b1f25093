"""Applying the agreements to the funnel: the SLA facts of handoffs and the sweep (leads.agreements)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alignment.models import (
    ServiceLevelAgreement,
)
from alignment.selectors import sla_in_effect
from alignment.services.sla import sla_approve
from leads.models import FunnelChange, Handoff
from leads.tasks import sla_apply_task
from tests.conftest import World, draft

pytestmark = pytest.mark.django_db


def test_approving_an_sla_re_derives_the_deadlines_after_its_start_and_marks_periods_dirty(
    world: World,
    signed_sla: Callable[..., ServiceLevelAgreement],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    before, after = world.lead("2026-03-01T08:00:00+00:00"), world.lead("2026-03-01T08:00:00+00:00")
    world.stage(before, "mql", "2026-03-10T09:00:00+00:00")
    world.stage(after, "mql", "2026-03-20T09:00:00+00:00")
    FunnelChange.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        sla = signed_sla(effective_from=datetime(2026, 3, 15, tzinfo=UTC), first_contact_hours=1)
    assert FunnelChange.objects.filter(period="month", period_start=date(2026, 3, 1)).exists()
    with django_capture_on_commit_callbacks(execute=True):
        from leads.tasks import sla_apply_task

        sla_apply_task.delay(sla.pk)
    early, late = Handoff.objects.order_by("handed_at")
    assert early.sla.version == 1
    assert early.first_contact_due_at == datetime(2026, 3, 10, 13, tzinfo=UTC)
    assert (late.sla, late.first_contact_due_at) == (sla, datetime(2026, 3, 20, 10, tzinfo=UTC))
    sla.refresh_from_db()
    assert sla.applied_at is not None


def test_applying_an_sla_version_twice_re_derives_its_handoffs_once(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement], monkeypatch: pytest.MonkeyPatch
) -> None:
    from leads import agreements as lead_services
    from leads.agreements import sla_apply

    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-20T09:00:00+00:00")
    sla = signed_sla(effective_from=datetime(2026, 3, 15, tzinfo=UTC))
    first = datetime(2026, 11, 1, tzinfo=UTC)
    sla_apply(sla_id=sla.pk, now=first)
    calls: list[object] = []
    monkeypatch.setattr(
        lead_services, "handoffs_refresh_sla", lambda **kwargs: calls.append(kwargs) or 0
    )
    assert sla_apply(sla_id=sla.pk, now=first + timedelta(hours=1)) == 0
    assert calls == []
    sla.refresh_from_db()
    assert sla.applied_at == first


def test_the_sweep_queues_the_application_of_an_sla_instead_of_running_it_inline(
    signed_sla: Callable[..., ServiceLevelAgreement], monkeypatch: pytest.MonkeyPatch
) -> None:
    from leads.agreements import agreements_apply_due

    sla = signed_sla()
    queued: list[int] = []
    monkeypatch.setattr(
        sla_apply_task, "apply_async", lambda args, countdown=None: queued.append(*args)
    )
    agreements_apply_due()
    assert queued == [sla.pk]
    sla.refresh_from_db()
    assert sla.applied_at is None


def test_applying_an_sla_re_derives_the_handoffs_in_chunks_by_id(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement], monkeypatch: pytest.MonkeyPatch
) -> None:
    from leads import agreements as lead_services
    from leads.agreements import sla_apply

    for n in range(3):
        lead = world.lead("2026-03-01T08:00:00+00:00")
        world.stage(lead, "mql", f"2026-03-2{n}T09:00:00+00:00")
    sla = signed_sla(effective_from=datetime(2026, 3, 15, tzinfo=UTC), first_contact_hours=1)
    refresh = lead_services.handoffs_refresh_sla
    chunks: list[list[int]] = []

    def spy(**kwargs: object) -> int:
        chunks.append(list(kwargs["handoff_ids"]))
        return refresh(**kwargs)

    monkeypatch.setattr(lead_services, "handoffs_refresh_sla", spy)
    assert sla_apply(sla_id=sla.pk, chunk=2) == 3
    assert chunks == [sorted(Handoff.objects.values_list("pk", flat=True))[:2], chunks[1]]
    assert len(chunks[1]) == 1
    assert set(Handoff.objects.values_list("sla", flat=True)) == {sla.pk}


def test_approving_today_a_version_dated_last_month_leaves_last_months_handoffs_under_the_old(
    world: World,
    heads: tuple[object, object],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    today = timezone.now()
    last_month = today - timedelta(days=30)
    lead = world.lead((last_month - timedelta(days=5)).isoformat())
    world.stage(lead, "mql", (today - timedelta(days=10)).isoformat())
    v2 = draft(heads[0], effective_from=last_month, first_contact_hours=Decimal(1))
    with django_capture_on_commit_callbacks(execute=True):
        for head in heads:
            v2 = sla_approve(sla=v2, by=head)
    v2.refresh_from_db()
    assert v2.effective_from == v2.approved_at >= today
    assert sla_in_effect(at=today - timedelta(days=10)).version == 1
    assert Handoff.objects.get().sla.version == 1
    later = world.lead(timezone.now().isoformat())
    world.stage(later, "mql", (timezone.now() + timedelta(seconds=1)).isoformat())
    assert Handoff.objects.get(lead__external_id=later).sla == v2


BERLIN_OFFICE = {
    "business_days": "1,2,3,4,5",
    "business_start": time(9),
    "business_end": time(17),
    "business_timezone": "Europe/Berlin",
}


def test_business_hours_deadlines_skip_the_weekend(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement]
) -> None:
    signed_sla(**BERLIN_OFFICE)  # X=4 h, Y=3, Z=2 days
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-06T14:00:00+00:00")  # Friday 15:00 in Berlin
    handoff = Handoff.objects.get()
    # Two business hours on Friday, two on Monday: Monday 11:00 Berlin (10:00 UTC).
    assert handoff.first_contact_due_at == datetime(2026, 3, 9, 10, tzinfo=UTC)
    assert handoff.next_attempt_due_at == handoff.first_contact_due_at
    # The cadence window ends 2 × 2 business days later: Friday 13 March, 11:00 Berlin.
    assert handoff.cadence_due_at == datetime(2026, 3, 13, 10, tzinfo=UTC)


def test_the_next_attempt_is_due_z_business_days_after_the_previous_until_y_attempts(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement]
) -> None:
    signed_sla(**BERLIN_OFFICE)
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-06T14:00:00+00:00")
    world.attempt(lead, "2026-03-09T09:00:00+00:00")  # Monday 10:00 Berlin
    assert Handoff.objects.get().next_attempt_due_at == datetime(2026, 3, 11, 9, tzinfo=UTC)
    world.attempt(lead, "2026-03-12T15:00:00+00:00")  # Thursday 16:00: due Monday 16:00
    assert Handoff.objects.get().next_attempt_due_at == datetime(2026, 3, 16, 15, tzinfo=UTC)
    world.attempt(lead, "2026-03-13T09:00:00+00:00")  # the third and last attempt
    assert Handoff.objects.get().next_attempt_due_at is None


def test_without_business_hours_days_are_calendar_days(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement]
) -> None:
    signed_sla()
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-06T14:00:00+00:00")
    world.attempt(lead, "2026-03-06T15:00:00+00:00")
    handoff = Handoff.objects.get()
    assert handoff.first_contact_due_at == datetime(2026, 3, 6, 18, tzinfo=UTC)
    assert handoff.next_attempt_due_at == datetime(2026, 3, 8, 15, tzinfo=UTC)


def test_a_connected_attempt_or_a_decision_ends_the_cadence(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement]
) -> None:
    signed_sla()
    reached, decided = (
        world.lead("2026-03-01T08:00:00+00:00"),
        world.lead("2026-03-01T08:00:00+00:00"),
    )
    for lead in (reached, decided):
        world.stage(lead, "mql", "2026-03-06T14:00:00+00:00")
    world.attempt(reached, "2026-03-06T15:00:00+00:00", outcome="connected")
    world.stage(decided, "sal", "2026-03-06T16:00:00+00:00")
    assert list(Handoff.objects.values_list("next_attempt_due_at", flat=True)) == [None, None]


def test_handoffs_built_in_memory_get_the_same_deadlines_as_the_database_derives(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement]
) -> None:
    from leads.models import ContactAttempt
    from leads.services import handoff_apply_sla, handoff_note_attempts, sla_versions

    signed_sla(**BERLIN_OFFICE)
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-06T14:00:00+00:00")
    world.attempt(lead, "2026-03-09T09:00:00+00:00")
    world.attempt(lead, "2026-03-10T09:00:00+00:00", outcome="voicemail")
    stored = Handoff.objects.get()
    attempts = ContactAttempt.objects.values_list("occurred_at", "outcome")
    built = handoff_note_attempts(handoff=Handoff(handed_at=stored.handed_at), attempts=attempts)
    starts, terms = sla_versions()
    handoff_apply_sla(handoff=built, starts=starts, terms=terms)
    assert (
        built.next_attempt_due_at
        == stored.next_attempt_due_at
        == datetime(2026, 3, 12, 9, tzinfo=UTC)
    )
    assert built.first_attempt_at == stored.first_attempt_at


def test_the_sla_fact_helpers_take_keyword_arguments_only() -> None:
    import inspect

    from leads.services import handoff_apply_sla, handoff_note_attempts, sla_versions

    for function in (handoff_apply_sla, handoff_note_attempts, sla_versions):
        kinds = {p.kind for p in inspect.signature(function).parameters.values()}
        assert kinds <= {inspect.Parameter.KEYWORD_ONLY}, function.__name__
