"""Writes of the funnel that the rep views call: reassigning a pending handoff, rejecting
with a reason that needs feedback, and who may read a lead; and the replay of stage events into
handoffs (withdrawn ones, events in any order)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from alignment.roles import Role
from leads.models import FunnelChange, Handoff, HandoffReassignment, Lead
from leads.services import (
    DerivedHandoff,
    derive_handoffs,
    handoff_accept,
    handoff_reassign,
    handoff_reject,
    lead_can_view,
    stage_events_upsert,
)
from tests.conftest import World, ago

pytestmark = pytest.mark.django_db


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


# --- the replay: withdrawn handoffs, events in any order ------------------------------------

#: A lead's history in March 2026: (stage, day, reason). It opens four handoffs: rejected,
#: withdrawn by the disqualification, accepted (the later `lost` withdraws nothing), pending.
HISTORY = [
    ("mql", 1, ""),
    ("rejected", 2, "bad_fit"),
    ("recycled", 3, ""),
    ("mql", 5, ""),
    ("disqualified", 6, ""),
    ("mql", 8, ""),
    ("sal", 9, ""),
    ("sql", 10, ""),
    ("lost", 12, ""),
    ("mql", 20, ""),
]
#: (status, handed day, decided day, opening event, closing event), events by their position.
REPLAYED = [
    ("rejected", 1, 2, 0, 1),
    ("withdrawn", 5, 6, 3, 4),
    ("accepted", 8, 9, 5, 6),
    ("pending", 20, None, 9, None),
]


def march(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def replayed(lead: str, positions: dict[str, int]) -> list[tuple]:
    """The lead's handoffs, their events named by position in HISTORY."""
    return [
        (
            h.status,
            h.handed_at.day,
            h.decided_at.day if h.decided_at else None,
            positions[h.opening_event.external_id],
            positions[h.closing_event.external_id] if h.closing_event else None,
        )
        for h in Handoff.objects.filter(lead__external_id=lead)
        .select_related("opening_event", "closing_event")
        .order_by("handed_at")
    ]


@pytest.mark.parametrize("seed", [None, -1, 1, 2, 3])
def test_events_in_any_order_replay_into_the_same_handoffs_withdrawn_ones_included(
    world: World, seed: int | None
) -> None:
    """One at a time: in time order (None), newest first (-1), or shuffled."""
    order = list(range(len(HISTORY)))
    if seed == -1:
        order.reverse()
    elif seed is not None:
        random.Random(seed).shuffle(order)
    world.lead("2026-02-20T09:00:00+00:00", external_id="L-7")
    positions = {}
    for n in order:
        stage, day, reason = HISTORY[n]
        positions[world.stage("L-7", stage, march(day).isoformat(), reason=reason)] = n
    assert replayed("L-7", positions) == REPLAYED
    assert Lead.objects.get(external_id="L-7").stage == "mql"


def test_events_sent_in_one_shuffled_batch_replay_into_the_same_handoffs(world: World) -> None:
    world.lead("2026-02-20T09:00:00+00:00", external_id="L-7")
    order = list(range(len(HISTORY)))
    random.Random(7).shuffle(order)
    rows = [
        {"external_id": f"SE-{n}", "lead": "L-7", "stage": HISTORY[n][0],
         "occurred_at": march(HISTORY[n][1]), "reason": HISTORY[n][2], "actor": None, "note": ""}
        for n in order
    ]  # fmt: skip
    stage_events_upsert(rows=rows)
    assert replayed("L-7", {f"SE-{n}": n for n in order}) == REPLAYED


@pytest.mark.parametrize("stage", ["recycled", "disqualified", "lost"])
def test_a_withdrawn_handoff_is_decided_at_the_events_time_by_its_actor_with_it_as_cause(
    world: World, sales_rep: object, stage: str
) -> None:
    world.lead("2026-02-20T09:00:00+00:00", external_id="L-8", owner="sam")
    opening = world.stage("L-8", "mql", march(2).isoformat())
    closing = world.stage("L-8", stage, march(4, 15).isoformat(), actor="sam")
    handoff = Handoff.objects.select_related("opening_event", "closing_event").get()
    assert (handoff.status, handoff.decided_at, handoff.decided_by, handoff.reason) == (
        "withdrawn",
        march(4, 15),
        sales_rep,
        None,
    )
    assert (handoff.opening_event.external_id, handoff.closing_event.external_id) == (
        opening,
        closing,
    )
    assert handoff.next_attempt_due_at is None  # no longer in anyone's inbox
    # The lead comes back: a new MQL opens a new handoff, pending.
    again = world.stage("L-8", "mql", march(20).isoformat())
    latest = Handoff.objects.order_by("-handed_at").first()
    assert (latest.status, latest.opening_event.external_id, latest.closing_event) == (
        "pending",
        again,
        None,
    )
    assert Handoff.objects.count() == 2


def test_a_withdrawal_arriving_late_withdraws_a_decided_handoff_in_its_row(world: World) -> None:
    world.lead("2026-02-20T09:00:00+00:00", external_id="L-8")
    world.stage("L-8", "mql", march(2).isoformat())
    world.stage("L-8", "sal", march(6).isoformat())
    accepted = Handoff.objects.get()
    recycled = world.stage("L-8", "recycled", march(4).isoformat())  # sent late by the CRM
    handoff = Handoff.objects.get()
    # The acceptance came after the lead had left the funnel: it accepts nothing.
    assert (handoff.pk, handoff.status, handoff.decided_at, handoff.closing_event.external_id) == (
        accepted.pk,
        "withdrawn",
        march(4),
        recycled,
    )


def test_a_late_mql_before_a_handoff_opens_its_own_and_the_existing_row_keeps_its_facts(
    world: World, sales_rep: object, nina: object, sales_manager: object, marketing_rep: object
) -> None:
    from leads.services_disputes import dispute_raise

    world.lead("2026-02-20T09:00:00+00:00", external_id="L-9", owner="sam")
    recycled = world.stage("L-9", "recycled", march(5).isoformat())  # nothing pending yet
    opening = world.stage("L-9", "mql", march(10).isoformat())
    handoff_reassign(handoff=Handoff.objects.get(), to=nina, by=sales_manager)
    world.stage("L-9", "rejected", march(11).isoformat(), reason="bad_fit", note="Too small")
    existing = Handoff.objects.get()
    dispute = dispute_raise(
        handoff=existing, by=marketing_rep, comment="They are growing.", now=march(12)
    )
    late = world.stage("L-9", "mql", march(1).isoformat())  # an older MQL, sent late
    kept = Handoff.objects.select_related("opening_event").get(pk=existing.pk)
    assert (kept.opening_event.external_id, kept.status, kept.handed_at, kept.decided_at) == (
        opening,
        "rejected",
        march(10),
        march(11),
    )
    assert (kept.owner, kept.feedback, kept.dispute) == (nina, "Too small", dispute)
    # The late MQL's handoff was pending when the lead was recycled on 5 March: withdrawn.
    new = Handoff.objects.select_related("opening_event", "closing_event").exclude(pk=kept.pk)
    assert [
        (h.status, h.handed_at, h.decided_at, h.opening_event.external_id,
         h.closing_event.external_id, h.feedback)
        for h in new
    ] == [("withdrawn", march(1), march(5), late, recycled, "")]  # fmt: skip


def test_a_late_mql_while_a_handoff_is_pending_moves_its_start_in_the_same_row(
    world: World, sales_rep: object, nina: object, sales_manager: object
) -> None:
    world.lead("2026-02-20T09:00:00+00:00", external_id="L-9", owner="sam")
    world.stage("L-9", "mql", march(10).isoformat())
    handoff = handoff_reassign(handoff=Handoff.objects.get(), to=nina, by=sales_manager)
    late = world.stage("L-9", "mql", march(8).isoformat())
    moved = Handoff.objects.select_related("opening_event").get()
    assert (moved.pk, moved.owner, moved.handed_at, moved.opening_event.external_id) == (
        handoff.pk,
        nina,
        march(8),
        late,
    )


# --- derive_handoffs, pure ------------------------------------------------------------------


def event(n: int, stage: str, day: int, *, actor: int | None = None, reason: str = "") -> dict:
    return {"id": n, "stage": stage, "occurred_at": march(day), "actor_id": actor,
            "reason": reason, "note": ""}  # fmt: skip


@pytest.mark.parametrize("stage", ["recycled", "disqualified", "lost"])
def test_derive_withdraws_the_pending_handoff_and_a_later_mql_opens_another(stage: str) -> None:
    derived = derive_handoffs(
        [event(1, "mql", 1), event(2, stage, 3, actor=42), event(3, "mql", 5),
         event(4, "sal", 6, actor=7)]
    )  # fmt: skip
    assert derived == [
        DerivedHandoff(handed_at=march(1), status="withdrawn", decided_at=march(3),
                       decided_by_id=42, opening_event_id=1, closing_event_id=2),
        DerivedHandoff(handed_at=march(5), status="accepted", decided_at=march(6),
                       decided_by_id=7, opening_event_id=3, closing_event_id=4),
    ]  # fmt: skip


def test_derive_withdraws_nothing_when_nothing_is_pending() -> None:
    derived = derive_handoffs(
        [event(1, "lost", 1), event(2, "mql", 2), event(3, "rejected", 3, reason="bad_fit"),
         event(4, "recycled", 4), event(5, "disqualified", 5)]
    )  # fmt: skip
    assert [(h.status, h.decided_at, h.closing_event_id, h.reason_code) for h in derived] == [
        ("rejected", march(3), 3, "bad_fit")
    ]


def test_derive_keeps_a_handoff_pending_through_an_mql_and_withdraws_it_once() -> None:
    derived = derive_handoffs(
        [event(1, "mql", 1), event(2, "mql", 2), event(3, "inquiry", 3), event(4, "lost", 4),
         event(5, "recycled", 5)]
    )  # fmt: skip
    assert [(h.opening_event_id, h.status, h.closing_event_id) for h in derived] == [
        (1, "withdrawn", 4)
    ]


def test_derive_without_stored_events_links_none() -> None:
    events = [{k: v for k, v in e.items() if k != "id"} for e in
              (event(1, "mql", 1), event(2, "recycled", 2))]  # fmt: skip
    (handoff,) = derive_handoffs(events)
    assert (handoff.status, handoff.opening_event_id, handoff.closing_event_id) == (
        "withdrawn",
        None,
        None,
    )
