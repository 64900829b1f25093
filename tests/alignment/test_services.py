"""Alignment services on a real database: sign-offs, deadlines, breach alerts, goals, forecasts."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends import locmem
from django.db import IntegrityError, transaction
from django.utils import timezone

from alignment.models import (
    Goal,
    LeadDefinition,
    SalPaceAlert,
    ServiceLevelAgreement,
    SlaBreach,
    TeamHead,
)
from alignment.roles import Role, Team
from alignment.selectors import sla_in_effect
from alignment.services.accounts import team_head_set
from alignment.services.forecasts import revenue_forecast_set
from alignment.services.goals import goal_create, goal_update
from alignment.services.lead_definitions import (
    lead_definition_approve,
    lead_definition_create,
    lead_definition_update,
)
from alignment.services.payout_curves import payout_curve_set
from alignment.services.sla import sla_approve, sla_create, sla_update
from kpis.alerts import sal_commitment_check
from kpis.goals import goal_progress
from kpis.services import kpis_recompute
from leads.breaches import sla_breaches_detect, sla_breaches_notify
from leads.models import FunnelChange, Handoff
from leads.tasks import sla_apply_task
from tests.conftest import SLA_TERMS, World

pytestmark = pytest.mark.django_db


def draft(by: object, **terms: object) -> ServiceLevelAgreement:
    return sla_create(
        by=by, **{"effective_from": datetime(2026, 1, 1, tzinfo=UTC), **SLA_TERMS, **terms}
    )


# --- heads ----------------------------------------------------------------------------------


def test_the_head_of_a_team_is_one_of_its_managers(
    marketing_manager: object, sales_manager: object, sales_rep: object
) -> None:
    team_head_set(team=Team.SALES, user=sales_manager)
    assert TeamHead.objects.get(team="sales").user == sales_manager
    with pytest.raises(ValidationError, match="sales manager"):
        team_head_set(team=Team.SALES, user=sales_rep)
    with pytest.raises(ValidationError, match="marketing manager"):
        team_head_set(team=Team.MARKETING, user=sales_manager)


def test_appointing_a_new_head_replaces_the_old_one(
    make_user: Callable[..., object], heads: tuple[object, object]
) -> None:
    tom = make_user("tom", Role.SALES_MANAGER)
    team_head_set(team="sales", user=tom)
    assert TeamHead.objects.get(team="sales").user == tom
    assert TeamHead.objects.count() == 2


# --- dual sign-off --------------------------------------------------------------------------


def test_the_default_sla_counts_as_signed_by_both_heads() -> None:
    v1 = ServiceLevelAgreement.objects.get(version=1)
    assert v1.status == "approved"
    assert v1.marketing_approved_at is not None and v1.sales_approved_at is not None
    assert sla_in_effect(at=timezone.now()) == v1


def test_approval_by_only_one_head_leaves_the_old_version_in_effect(
    heads: tuple[object, object],
) -> None:
    marketing_head, sales_head = heads
    v2 = draft(marketing_head, first_contact_hours=Decimal(2))
    v2 = sla_approve(sla=v2, by=marketing_head)
    assert (v2.status, v2.marketing_approved_by, v2.sales_approved_at) == (
        "draft",
        marketing_head,
        None,
    )
    assert sla_in_effect(at=timezone.now()).version == 1

    v2 = sla_approve(sla=v2, by=sales_head)
    assert v2.status == "approved"
    assert v2.sales_approved_by == sales_head and v2.approved_at is not None
    assert sla_in_effect(at=timezone.now()) == v2
    assert sla_in_effect(at=datetime(2025, 6, 1, tzinfo=UTC)).version == 1  # history stays


def test_an_edit_after_one_approval_resets_it(heads: tuple[object, object]) -> None:
    marketing_head, sales_head = heads
    v2 = sla_approve(sla=draft(marketing_head), by=marketing_head)
    v2 = sla_update(sla=v2, by=sales_head, monthly_sal_commitment=60)
    assert (v2.marketing_approved_by, v2.marketing_approved_at) == (None, None)
    v2 = sla_approve(sla=v2, by=sales_head)
    assert v2.status == "draft"  # marketing has to sign the changed version again
    assert sla_in_effect(at=timezone.now()).version == 1


def test_an_edit_that_changes_nothing_keeps_the_approvals(heads: tuple[object, object]) -> None:
    v2 = sla_approve(sla=draft(heads[0]), by=heads[0])
    v2 = sla_update(sla=v2, by=heads[1], monthly_sal_commitment=SLA_TERMS["monthly_sal_commitment"])
    assert v2.marketing_approved_by == heads[0]


def test_it_refuses_approval_by_a_rep_or_a_manager_who_is_not_a_head(
    heads: tuple[object, object], sales_rep: object, make_user: Callable[..., object]
) -> None:
    v2 = draft(heads[0])
    with pytest.raises(PermissionDenied):
        sla_approve(sla=v2, by=sales_rep)
    with pytest.raises(PermissionDenied):
        sla_approve(sla=v2, by=make_user("other", Role.SALES_MANAGER))
    v2.refresh_from_db()
    assert (v2.marketing_approved_at, v2.sales_approved_at) == (None, None)


def test_an_approved_version_is_history_and_never_changes(heads: tuple[object, object]) -> None:
    v2 = draft(heads[0])
    for head in heads:
        v2 = sla_approve(sla=v2, by=head)
    with pytest.raises(ValidationError, match="create a new version"):
        sla_update(sla=v2, by=heads[0], attempts=9)
    with pytest.raises(ValidationError, match="create a new version"):
        sla_approve(sla=v2, by=heads[0])
    v2.refresh_from_db()
    assert v2.attempts == SLA_TERMS["attempts"]


def test_it_refuses_unusable_business_hours(heads: tuple[object, object]) -> None:
    with pytest.raises(ValidationError) as error:
        draft(heads[0], business_days="1,2,3,4,5", business_start=time(17), business_end=time(9))
    assert "business_days" in error.value.message_dict
    with pytest.raises(ValidationError):
        draft(heads[0], business_days="1,9", business_start=time(9), business_end=time(17))
    assert ServiceLevelAgreement.objects.count() == 1


def test_the_database_refuses_a_version_signed_by_both_that_is_not_approved(
    heads: tuple[object, object],
) -> None:
    v2 = draft(heads[0])
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevelAgreement.objects.filter(pk=v2.pk).update(
            marketing_approved_at=now, sales_approved_at=now
        )


def test_a_rule_change_after_approval_resets_the_lead_definition(
    heads: tuple[object, object],
) -> None:
    marketing_head, sales_head = heads
    definition = lead_definition_create(
        by=marketing_head,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        criteria="Fit and engagement.",
        mql_threshold=50,
        rules=[{"field": "company.size", "operator": "gte", "value": 500, "points": 50}],
    )
    definition = lead_definition_approve(definition=definition, by=sales_head)
    definition = lead_definition_update(
        definition=definition,
        by=marketing_head,
        rules=[{"field": "company.size", "operator": "gte", "value": 200, "points": 50}],
    )
    assert (definition.sales_approved_by, definition.status) == (None, "draft")
    assert definition.rules.get().value == 200


def test_it_refuses_a_lead_definition_with_a_broken_rule(heads: tuple[object, object]) -> None:
    with pytest.raises(ValidationError) as error:
        lead_definition_create(
            by=heads[0],
            effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            criteria="x",
            mql_threshold=10,
            rules=[{"field": "company.size", "operator": "gte", "value": "big", "points": 5}],
        )
    assert error.value.message_dict["rules"] == ["Rule 1, value: `gte` needs a number."]
    assert not LeadDefinition.objects.exists()


# --- a new SLA version re-derives deadlines and marks periods ---------------------------------


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
    monkeypatch.setattr(sla_apply_task, "delay", queued.append)
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


# --- deadlines ------------------------------------------------------------------------------


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


# --- breach alerts --------------------------------------------------------------------------


@pytest.fixture
def sales_floor(
    make_user: Callable[..., object], heads: tuple[object, object]
) -> tuple[object, object]:
    rep = make_user("rita", Role.SALES_REP, email="rita@example.com")
    heads[1].email = "sally@example.com"
    heads[1].save()
    return rep, heads[1]


def test_a_missed_first_contact_is_e_mailed_once_to_the_owner_and_the_sales_manager(
    world: World, sales_floor: tuple[object, object]
) -> None:
    late = world.lead("2026-03-01T08:00:00+00:00", owner="rita", external_id="late")
    on_time = world.lead("2026-03-01T08:00:00+00:00", owner="rita", external_id="on-time")
    for lead in (late, on_time):
        world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")  # due 13:00 (v1: 4 hours)
    world.attempt(on_time, "2026-03-02T10:00:00+00:00")
    deadline = datetime(2026, 3, 2, 13, tzinfo=UTC)

    assert sla_breaches_detect(now=deadline - timedelta(minutes=1)) == 0
    assert sla_breaches_detect(now=deadline + timedelta(minutes=5)) == 1
    assert sla_breaches_notify() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["rita@example.com", "sally@example.com"]
    assert "late" in mail.outbox[0].body and "on-time" not in mail.outbox[0].body

    assert sla_breaches_detect(now=deadline + timedelta(hours=1)) == 0
    assert sla_breaches_notify() == 0
    assert len(mail.outbox) == 2
    breach = SlaBreach.objects.get()
    assert (breach.kind, breach.attempt, breach.due_at) == ("first_contact", 1, deadline)
    assert breach.notified_at is not None


def test_no_e_mail_for_a_handoff_decided_in_time(
    world: World, sales_floor: tuple[object, object]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(lead, "rejected", "2026-03-02T10:00:00+00:00", reason="bad_fit")
    assert sla_breaches_detect(now=datetime(2026, 3, 9, tzinfo=UTC)) == 0
    assert sla_breaches_notify() == 0
    assert mail.outbox == []


def test_a_missed_next_attempt_is_its_own_breach(
    world: World, sales_floor: tuple[object, object]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.attempt(lead, "2026-03-02T10:00:00+00:00")  # v1: the next one 2 days later
    assert sla_breaches_detect(now=datetime(2026, 3, 4, 11, tzinfo=UTC)) == 1
    breach = SlaBreach.objects.get()
    assert (breach.kind, breach.attempt) == ("next_attempt", 2)
    assert breach.due_at == datetime(2026, 3, 4, 10, tzinfo=UTC)
    sla_breaches_notify()
    assert "attempt 2 was due" in mail.outbox[0].body


def test_the_database_keeps_one_breach_per_deadline(
    world: World, sales_floor: tuple[object, object]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    handoff = Handoff.objects.get()
    now = timezone.now()
    SlaBreach.objects.create(
        handoff=handoff, kind="first_contact", attempt=1, due_at=now, detected_at=now
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaBreach.objects.create(
            handoff=handoff, kind="first_contact", attempt=1, due_at=now, detected_at=now
        )


def test_marketing_managers_hear_once_a_month_when_sals_are_off_pace(
    world: World, marketing_manager: object, marketing_rep: object
) -> None:
    marketing_manager.email = "max@example.com"
    marketing_manager.save()
    marketing_rep.email = "mia@example.com"
    marketing_rep.save()
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(lead, "sal", "2026-03-02T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])  # the alert reads the `sals` metric
    # Mid-March: 1 SAL in half a month projects 2 against a commitment of 100 (SLA v1).
    assert sal_commitment_check(now=datetime(2026, 3, 3, tzinfo=UTC)) is None  # too early
    alert = sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC))
    assert (alert.sals, alert.commitment, alert.projected) == (1, 100, Decimal("2.00"))
    assert [m.to for m in mail.outbox] == [["max@example.com"]]
    assert sal_commitment_check(now=datetime(2026, 3, 20, tzinfo=UTC)) is None
    assert len(mail.outbox) == 1 and SalPaceAlert.objects.count() == 1


def test_the_sal_pace_alert_waits_as_long_as_the_dashboard_tiles_do(
    world: World, marketing_manager: object
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    # A quarter of March (PACE_MIN_ELAPSED) is 7.75 days: before it a pace says nothing.
    assert sal_commitment_check(now=datetime(2026, 3, 8, 12, tzinfo=UTC)) is None
    assert sal_commitment_check(now=datetime(2026, 3, 8, 18, tzinfo=UTC)) is not None


class FlakyBackend(locmem.EmailBackend):
    """The test mailbox, except that the mail server refuses the addresses in `FAILING`."""

    FAILING: set[str] = set()

    def send_messages(self, messages: list) -> int:
        for message in messages:
            refused = set(message.recipients()) & self.FAILING
            if refused:
                raise smtplib.SMTPRecipientsRefused({a: (550, b"no") for a in refused})
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings: object) -> Iterator[set[str]]:
    settings.EMAIL_BACKEND = "tests.alignment.test_services.FlakyBackend"
    yield FlakyBackend.FAILING
    FlakyBackend.FAILING.clear()


def test_a_breach_e_mail_that_failed_for_one_recipient_is_retried_without_re_sending_the_others(
    world: World, sales_floor: tuple[object, object], flaky_mail: set[str]
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00", owner="rita", external_id="late")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    assert sla_breaches_detect(now=datetime(2026, 3, 2, 14, tzinfo=UTC)) == 1
    flaky_mail.add("sally@example.com")
    with pytest.raises(Exception, match="next run"):
        sla_breaches_notify()
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]
    assert SlaBreach.objects.get().notified_at is None  # sally still has to hear of it

    flaky_mail.clear()
    assert sla_breaches_notify() == 1
    assert [m.to for m in mail.outbox] == [["rita@example.com"], ["sally@example.com"]]
    assert SlaBreach.objects.get().notified_at is not None
    assert sla_breaches_notify() == 0
    assert len(mail.outbox) == 2


def test_a_sal_alert_whose_e_mail_failed_is_sent_on_the_next_run(
    world: World, marketing_manager: object, flaky_mail: set[str]
) -> None:
    marketing_manager.email = "max@example.com"
    marketing_manager.save()
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")
    flaky_mail.add("max@example.com")
    with pytest.raises(smtplib.SMTPException):
        sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC))
    assert not SalPaceAlert.objects.exists() and mail.outbox == []

    flaky_mail.clear()
    assert sal_commitment_check(now=datetime(2026, 3, 16, 13, tzinfo=UTC)) is not None
    assert sal_commitment_check(now=datetime(2026, 3, 16, 14, tzinfo=UTC)) is None
    assert [m.to for m in mail.outbox] == [["max@example.com"]]


def test_no_sal_alert_when_the_month_is_on_pace(
    world: World, signed_sla: Callable[..., ServiceLevelAgreement], marketing_manager: object
) -> None:
    signed_sla(monthly_sal_commitment=2)
    for n in range(2):
        lead = world.lead("2026-03-01T08:00:00+00:00")
        world.stage(lead, "mql", f"2026-03-0{n + 2}T09:00:00+00:00")
        world.stage(lead, "sal", f"2026-03-0{n + 2}T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])  # the alert reads the `sals` metric
    assert sal_commitment_check(now=datetime(2026, 3, 16, 12, tzinfo=UTC)) is None
    assert mail.outbox == []


# --- goals and forecasts --------------------------------------------------------------------

BEFORE_MARCH = datetime(2026, 2, 20, tzinfo=UTC)


def goal(by: object, now: datetime = BEFORE_MARCH, **fields: object) -> Goal:
    values = {
        "name": "SALs in March",
        "metric": "sals",
        "target": Decimal(10),
        "period": "month",
        "period_start": date(2026, 3, 1),
        "specific": "Sales accepts 10 leads from marketing in March.",
        **fields,
    }
    return goal_create(by=by, now=now, **values)


def test_a_goal_takes_its_direction_from_the_metric_and_belongs_to_both_teams(
    marketing_manager: object,
) -> None:
    created = goal(marketing_manager, metric="speed_to_lead_median_hours", target=Decimal(4))
    assert created.direction == "lower"
    assert created.owner_teams == ["marketing", "sales"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"metric": ""}, "metric", "measurable"),
        ({"metric": "no_such_metric"}, "metric", "measurable"),
        ({"metric": "scorecard_attainment"}, "metric", "measurable"),
        ({"target": None}, "target", "measurable"),
        ({"target": Decimal(0)}, "target", "above zero"),
        ({"period": ""}, "period", "time-bound"),
        ({"period_start": None}, "period", "time-bound"),
        ({"period_start": date(2026, 3, 2)}, "period_start", "does not start"),
        ({"weight": Decimal(0)}, "weight", "above zero"),
        ({"dimension": "reason"}, "dimension", "no dimension"),
        ({"dimension": "owner"}, "key", "both"),
        ({"model": "linear"}, "model", "not attributed"),
    ],
)
def test_it_refuses_a_goal_that_is_not_smart(
    marketing_manager: object, fields: dict, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        goal(marketing_manager, **fields)
    assert message in " ".join(error.value.message_dict[field])
    assert not Goal.objects.exists()


def test_it_refuses_goals_for_a_period_that_is_over(marketing_manager: object) -> None:
    with pytest.raises(ValidationError, match="over"):
        goal(marketing_manager, now=datetime(2026, 4, 2, tzinfo=UTC))
    created = goal(marketing_manager)
    with pytest.raises(ValidationError, match="over"):
        goal_update(
            goal=created, by=marketing_manager, now=datetime(2026, 4, 2, tzinfo=UTC), target=5
        )


def test_goal_progress_comes_from_the_snapshots_with_a_pace(
    world: World, marketing_manager: object
) -> None:
    target = goal(marketing_manager, target=Decimal(4))
    for n in range(1, 3):
        lead = world.lead("2026-03-01T08:00:00+00:00")
        world.stage(lead, "mql", f"2026-03-0{n}T09:00:00+00:00")
        world.stage(lead, "sal", f"2026-03-0{n}T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    mid_march = timezone.make_aware(datetime(2026, 3, 16, 12))  # half of March (31 days) gone
    (progress,) = goal_progress(goals=[target], now=mid_march)
    assert (progress.actual, progress.attainment) == (2, Decimal("0.5"))
    assert progress.projected == Decimal(4)
    assert progress.pace.value == "on_track"
    (later,) = goal_progress(goals=[target], now=timezone.make_aware(datetime(2026, 3, 26)))
    assert later.pace.value == "off_track"  # 2 of 4 with 4/5 of the month gone


def test_a_forecast_is_entered_before_its_period_starts(marketing_manager: object) -> None:
    forecast = revenue_forecast_set(
        period="month",
        period_start=date(2026, 4, 1),
        amount=Decimal(50000),
        by=marketing_manager,
        now=datetime(2026, 3, 20, tzinfo=UTC),
    )
    assert forecast.amount == 50000
    with pytest.raises(ValidationError, match="before its period starts"):
        revenue_forecast_set(
            period="month",
            period_start=date(2026, 4, 1),
            amount=Decimal(1),
            by=marketing_manager,
            now=datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC),
        )
    forecast.refresh_from_db()
    assert forecast.amount == 50000


def test_a_payout_curve_applies_from_today_on(marketing_manager: object) -> None:
    today = timezone.localdate()
    curve = payout_curve_set(effective_from=today, by=marketing_manager, threshold=Decimal("0.6"))
    assert (curve.threshold, curve.target, curve.cap) == (Decimal("0.6"), 1, Decimal("1.5"))
    with pytest.raises(ValidationError, match="not back"):
        payout_curve_set(effective_from=today - timedelta(days=1), by=marketing_manager)
    with pytest.raises(ValidationError):
        payout_curve_set(effective_from=today, by=marketing_manager, cap=Decimal("0.8"))


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
