"""Writes of the funnel that the rep views call: reassigning a pending handoff, rejecting
with a reason that needs feedback, and who may read a lead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from alignment.roles import Role
from leads.models import FunnelChange, Handoff, HandoffReassignment, Lead
from leads.services import handoff_accept, handoff_reassign, handoff_reject, lead_can_view
from tests.conftest import World

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


@pytest.fixture
def nina(make_user: Callable[..., object]) -> object:
    return make_user(
        "nina", Role.SALES_REP, first_name="Nina", last_name="Kowalski", email="nina@example.com"
    )


@pytest.fixture
def pending(world: World, sales_rep: object, nina: object) -> Handoff:
    """Sam's pending handoff of a lead created two days ago, handed an hour ago."""
    world.campaign("Webinar", external_id="web")
    world.lead(ago(days=2), external_id="L-1", owner="sam", campaign="web")
    world.touch("L-1", "web", ago(days=1))
    world.stage("L-1", "mql", ago(hours=1))
    return Handoff.objects.get(lead__external_id="L-1")


# --- reassigning ----------------------------------------------------------------------------


def test_reassigning_moves_the_handoff_and_its_lead_and_keeps_the_history(
    pending: Handoff, nina: object, sales_manager: object, sales_rep: object
) -> None:
    due = pending.first_contact_due_at
    handoff_reassign(handoff=pending, to=nina, by=sales_manager, note="Nina knows them")
    pending.refresh_from_db()
    assert pending.owner == nina
    assert Lead.objects.get(external_id="L-1").owner == nina
    assert pending.first_contact_due_at == due  # the SLA clock started at the handoff
    row = HandoffReassignment.objects.get()
    assert (row.handoff, row.from_owner, row.to_owner, row.by, row.note) == (
        pending,
        sales_rep,
        nina,
        sales_manager,
        "Nina knows them",
    )


def test_reassigning_logs_the_days_of_the_leads_records_for_the_owner_numbers(
    pending: Handoff, nina: object, sales_manager: object
) -> None:
    FunnelChange.objects.all().delete()
    handoff_reassign(handoff=pending, to=nina, by=sales_manager)
    parts = set(FunnelChange.objects.values_list("part", flat=True))
    assert {"leads", "handoffs", "stages"} <= parts  # every record the owner is a dimension of


def test_the_new_owner_is_e_mailed_once_after_the_commit(
    pending: Handoff,
    nina: object,
    sales_manager: object,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    from leads.services import handoff_reassignment_notify

    with django_capture_on_commit_callbacks(execute=True):
        handoff_reassign(handoff=pending, to=nina, by=sales_manager, note="Call before noon")
        assert mail.outbox == []  # nothing is sent before the move is committed
    (message,) = mail.outbox
    assert message.to == ["nina@example.com"]
    assert "is yours now" in message.subject
    assert "Call before noon" in message.body and "Sam Rep" in message.body
    row = HandoffReassignment.objects.get()
    assert row.notified_at is not None
    assert handoff_reassignment_notify(reassignment_id=row.pk) is False  # never twice
    assert len(mail.outbox) == 1


def test_a_mail_server_that_fails_leaves_the_reassignment_done_and_unnotified(
    pending: Handoff,
    nina: object,
    sales_manager: object,
    flaky_mail: set[str],
    django_capture_on_commit_callbacks: Callable,
) -> None:
    flaky_mail.add("nina@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        handoff_reassign(handoff=pending, to=nina, by=sales_manager)  # does not raise
    pending.refresh_from_db()
    assert pending.owner == nina
    assert HandoffReassignment.objects.get().notified_at is None
    assert mail.outbox == []


def test_a_rep_still_reads_a_lead_they_accepted_after_the_crm_dropped_its_owner(
    world: World, pending: Handoff, sales_rep: object
) -> None:
    from leads.services import handoff_accept, lead_can_view

    handoff_accept(handoff=pending, by=sales_rep)
    world.lead(ago(days=2), external_id="L-1", campaign="web")  # sent again, with no owner
    lead = Lead.objects.get(external_id="L-1")
    assert lead.owner is None
    assert lead_can_view(lead=lead, user=sales_rep)


def test_a_new_owner_without_an_address_is_not_marked_notified(
    pending: Handoff,
    make_user: Callable[..., object],
    sales_manager: object,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    quiet = make_user("quiet", Role.SALES_REP)
    with django_capture_on_commit_callbacks(execute=True):
        handoff_reassign(handoff=pending, to=quiet, by=sales_manager)
    assert mail.outbox == []
    assert HandoffReassignment.objects.get().notified_at is None


def test_only_a_pending_handoff_can_be_reassigned(
    pending: Handoff, nina: object, sales_manager: object, sales_rep: object
) -> None:
    handoff_accept(handoff=pending, by=sales_rep)
    with pytest.raises(ValidationError, match="Only a pending handoff"):
        handoff_reassign(handoff=pending, to=nina, by=sales_manager)
    assert Handoff.objects.get().owner == sales_rep
    assert not HandoffReassignment.objects.exists()


@pytest.mark.parametrize("who", ["marketing", "inactive", "no_role", "same"])
def test_a_handoff_goes_only_to_another_active_sales_person(
    pending: Handoff,
    make_user: Callable[..., object],
    sales_manager: object,
    sales_rep: object,
    who: str,
) -> None:
    to = {
        "marketing": lambda: make_user("mara", Role.MARKETING_REP),
        "inactive": lambda: make_user("gone", Role.SALES_REP, is_active=False),
        "no_role": lambda: make_user("nobody"),
        "same": lambda: sales_rep,
    }[who]()
    with pytest.raises(ValidationError) as refused:
        handoff_reassign(handoff=pending, to=to, by=sales_manager)
    assert "owner" in refused.value.message_dict
    assert Handoff.objects.get().owner == sales_rep
    assert Lead.objects.get().owner == sales_rep
    assert not HandoffReassignment.objects.exists()


def test_a_sales_manager_can_take_a_handoff_themselves(
    pending: Handoff, sales_manager: object
) -> None:
    handoff_reassign(handoff=pending, to=sales_manager, by=sales_manager)
    assert Handoff.objects.get().owner == sales_manager


# --- a reason that needs feedback -----------------------------------------------------------


@pytest.mark.parametrize("feedback", ["", "   \n "])
def test_other_without_feedback_is_refused_on_the_feedback(
    pending: Handoff, sales_rep: object, feedback: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        handoff_reject(handoff=pending, by=sales_rep, reason="other", feedback=feedback)
    assert refused.value.message_dict == {
        "feedback": ["Say what is wrong: 'Other' needs feedback for marketing."]
    }
    assert Handoff.objects.get().status == Handoff.Status.PENDING


def test_other_with_feedback_and_other_reasons_without_it_are_accepted(
    world: World, pending: Handoff, sales_rep: object
) -> None:
    handoff_reject(handoff=pending, by=sales_rep, reason="other", feedback="Reseller, not a user")
    assert (Handoff.objects.get().reason.code, Handoff.objects.get().feedback) == (
        "other",
        "Reseller, not a user",
    )
    world.lead(ago(days=2), external_id="L-2", owner="sam")
    world.stage("L-2", "mql", ago(hours=1))
    second = Handoff.objects.get(lead__external_id="L-2")
    handoff_reject(handoff=second, by=sales_rep, reason="bad_fit")
    assert Handoff.objects.get(pk=second.pk).status == Handoff.Status.REJECTED


def test_a_crm_rejection_for_other_without_a_note_is_kept_as_sent(
    world: World, pending: Handoff
) -> None:
    """The rule is for decisions taken in Tandem; the CRM's history is recorded as it is."""
    world.stage("L-1", "rejected", ago(minutes=5), reason="other")
    assert (Handoff.objects.get().status, Handoff.objects.get().feedback) == ("rejected", "")


# --- who reads a lead -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.MARKETING_REP, True),
        (Role.MARKETING_MANAGER, True),
        (Role.SALES_MANAGER, True),
        (Role.ADMIN, True),
        (Role.SALES_REP, False),
        (None, False),
    ],
)
def test_everyone_but_other_reps_reads_a_lead(
    pending: Handoff, make_user: Callable[..., object], role: Role | None, allowed: bool
) -> None:
    lead = Lead.objects.get(external_id="L-1")
    assert lead_can_view(lead=lead, user=make_user("someone", role)) is allowed


def test_a_rep_reads_their_own_lead_and_the_lead_of_a_handoff_pending_for_them(
    pending: Handoff, sales_rep: object, nina: object
) -> None:
    lead = Lead.objects.get(external_id="L-1")
    assert lead_can_view(lead=lead, user=sales_rep)
    assert not lead_can_view(lead=lead, user=nina)
    Handoff.objects.filter(pk=pending.pk).update(owner=nina)  # the CRM moved only the lead
    assert lead_can_view(lead=lead, user=nina)
