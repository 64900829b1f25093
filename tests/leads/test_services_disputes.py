"""Disputes of rejections: who raises them and when, how the two heads settle them, what an
overturn does to the lead, and the one e-mail to the head it awaits."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from alignment.roles import Role
from leads.models import Dispute, Handoff, Lead, StageEvent
from leads.services_disputes import (
    dispute_can_read,
    dispute_confirm,
    dispute_notify,
    dispute_raise,
    dispute_record_outcome,
)
from tests.conftest import World, ago
from tests.leads.disputes_fixture import COMMENT, READERS

pytestmark = pytest.mark.django_db
NOTE = "Sam never reached them: one call, no voicemail."


def _settle(
    dispute: Dispute, cast: dict, outcome: str = "overturned", *, first: str = "head_of_marketing"
) -> Dispute:
    second = "head_of_sales" if first == "head_of_marketing" else "head_of_marketing"
    note = NOTE if outcome == "overturned" else ""
    dispute = dispute_record_outcome(dispute=dispute, by=cast[first], outcome=outcome, note=note)
    return dispute_confirm(dispute=dispute, by=cast[second])


# --- raising a dispute ---------------------------------------------------------------------


def test_a_rejection_can_be_disputed_until_the_very_end_of_its_window(
    rejected: Handoff, cast: dict, settings: object
) -> None:
    end = rejected.decided_at + timedelta(days=settings.DISPUTE_WINDOW_DAYS)
    dispute = dispute_raise(handoff=rejected, by=cast["disputer"], comment=COMMENT, now=end)
    assert dispute.status == Dispute.Status.OPEN
    assert (dispute.raised_by, dispute.raised_at, dispute.comment) == (
        cast["disputer"],
        end,
        COMMENT,
    )


def test_a_dispute_after_the_window_is_refused_with_the_day_it_closed(
    rejected: Handoff, cast: dict, settings: object
) -> None:
    late = rejected.decided_at + timedelta(days=settings.DISPUTE_WINDOW_DAYS, seconds=1)
    with pytest.raises(ValidationError) as refused:
        dispute_raise(handoff=rejected, by=cast["disputer"], comment=COMMENT, now=late)
    message = " ".join(refused.value.messages)
    assert "Too late to dispute" in message
    assert f"within {settings.DISPUTE_WINDOW_DAYS} days of the decision" in message
    assert "window closed on" in message
    assert not Dispute.objects.exists()


def test_one_rejection_is_disputed_once(disputed: Dispute, rejected: Handoff, cast: dict) -> None:
    with pytest.raises(ValidationError, match="already disputed"):
        dispute_raise(handoff=rejected, by=cast["marketing_manager"], comment="Me too.")
    assert Dispute.objects.get() == disputed


@pytest.mark.parametrize("then", ["pending", "sal", "recycled"])
def test_only_a_rejection_can_be_disputed(world: World, cast: dict, then: str) -> None:
    """A pending, an accepted and a withdrawn handoff are no rejections."""
    world.lead(ago(days=5), external_id="L-x", owner="sam")
    world.stage("L-x", "mql", ago(days=4))
    if then != "pending":
        world.stage("L-x", then, ago(days=3), actor="sam")
    handoff = Handoff.objects.get(lead__external_id="L-x")
    assert (
        handoff.status == {"pending": "pending", "sal": "accepted", "recycled": "withdrawn"}[then]
    )
    with pytest.raises(ValidationError, match="Only a rejection can be disputed"):
        dispute_raise(handoff=handoff, by=cast["disputer"], comment=COMMENT)
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("who", ["rejecter", "other_sales_rep", "sales_manager", "admin"])
def test_only_marketing_disputes_a_rejection(rejected: Handoff, cast: dict, who: str) -> None:
    with pytest.raises(PermissionDenied, match="Only marketing"):
        dispute_raise(handoff=rejected, by=cast[who], comment=COMMENT)
    assert not Dispute.objects.exists()


def test_a_dispute_says_why(rejected: Handoff, cast: dict) -> None:
    with pytest.raises(ValidationError) as refused:
        dispute_raise(handoff=rejected, by=cast["disputer"], comment="  ")
    assert "comment" in refused.value.message_dict
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("who", list(READERS))
def test_who_reads_a_disputes_comment_and_names(disputed: Dispute, cast: dict, who: str) -> None:
    assert dispute_can_read(dispute=disputed, user=cast[who]) is READERS[who]


# --- the two heads settle it ---------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["disputer", "marketing_manager", "rejecter", "sales_manager", "admin"]
)
def test_only_a_head_records_an_outcome(disputed: Dispute, cast: dict, who: str) -> None:
    with pytest.raises(PermissionDenied, match="head of marketing and the head of sales"):
        dispute_record_outcome(dispute=disputed, by=cast[who], outcome="upheld")
    disputed.refresh_from_db()
    assert (disputed.status, disputed.outcome) == (Dispute.Status.OPEN, "")


def test_an_overturn_says_why(disputed: Dispute, cast: dict) -> None:
    with pytest.raises(ValidationError) as refused:
        dispute_record_outcome(
            dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=" "
        )
    assert "note" in refused.value.message_dict
    disputed.refresh_from_db()
    assert (disputed.status, disputed.outcome) == (Dispute.Status.OPEN, "")


def test_an_outcome_awaits_the_other_head(disputed: Dispute, cast: dict) -> None:
    dispute = dispute_record_outcome(
        dispute=disputed, by=cast["head_of_sales"], outcome="upheld", note="They had no budget."
    )
    assert (dispute.status, dispute.outcome, dispute.awaiting_team) == (
        Dispute.Status.AWAITING,
        "upheld",
        "marketing",
    )
    assert dispute.outcome_by == cast["head_of_sales"]


def test_the_head_who_recorded_the_outcome_cannot_confirm_it(disputed: Dispute, cast: dict) -> None:
    dispute = dispute_record_outcome(
        dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
    )
    with pytest.raises(ValidationError, match="You recorded this outcome: the head of sales"):
        dispute_confirm(dispute=dispute, by=cast["head_of_marketing"])
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.AWAITING and dispute.resolved_at is None


def test_nothing_is_confirmed_before_an_outcome(disputed: Dispute, cast: dict) -> None:
    with pytest.raises(ValidationError, match="No outcome to confirm yet"):
        dispute_confirm(dispute=disputed, by=cast["head_of_sales"])
    disputed.refresh_from_db()
    assert disputed.status == Dispute.Status.OPEN


def test_only_a_head_confirms(disputed: Dispute, cast: dict) -> None:
    dispute = dispute_record_outcome(
        dispute=disputed, by=cast["head_of_marketing"], outcome="upheld"
    )
    with pytest.raises(PermissionDenied):
        dispute_confirm(dispute=dispute, by=cast["sales_manager"])
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.AWAITING


def test_the_other_head_recording_another_outcome_turns_it_back_to_the_first(
    disputed: Dispute, cast: dict
) -> None:
    first = dispute_record_outcome(
        dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
    )
    assert first.awaiting_team == "sales"
    second = dispute_record_outcome(dispute=first, by=cast["head_of_sales"], outcome="upheld")
    assert (second.outcome, second.outcome_note, second.awaiting_team) == (
        "upheld",
        "",
        "marketing",
    )
    assert second.outcome_by == cast["head_of_sales"]
    with pytest.raises(ValidationError, match="the head of marketing confirms it"):
        dispute_confirm(dispute=second, by=cast["head_of_sales"])
    settled = dispute_confirm(dispute=second, by=cast["head_of_marketing"])
    assert (settled.status, settled.outcome, settled.resolved_by) == (
        Dispute.Status.RESOLVED,
        "upheld",
        cast["head_of_marketing"],
    )


def test_a_settled_dispute_stays_settled(disputed: Dispute, cast: dict) -> None:
    settled = _settle(disputed, cast, "upheld")
    with pytest.raises(ValidationError, match="already settled"):
        dispute_record_outcome(
            dispute=settled, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
        )
    with pytest.raises(ValidationError, match="already settled"):
        dispute_confirm(dispute=settled, by=cast["head_of_sales"])
    settled.refresh_from_db()
    assert settled.outcome == "upheld"


# --- what an overturn does -------------------------------------------------------------------


def test_an_overturn_hands_the_lead_to_another_rep_and_keeps_the_rejection(
    disputed: Dispute, rejected: Handoff, cast: dict
) -> None:
    Handoff.objects.filter(pk=rejected.pk).update(
        matched_rules=[{"field": "segment", "operator": "equals", "value": "smb", "points": 60}]
    )
    settled = _settle(disputed, cast)
    rejected.refresh_from_db()
    assert rejected.status == Handoff.Status.REJECTED  # as it happened, in the numbers too
    assert rejected.reason.code == "no_budget" and rejected.decided_by == cast["rejecter"]
    event = settled.reopen_event
    assert (event.stage, event.source, event.actor) == ("mql", StageEvent.Source.SYSTEM, None)
    reopened = Handoff.objects.get(opening_event=event)
    assert reopened.status == Handoff.Status.PENDING
    assert reopened.owner == cast["other_sales_rep"]  # not sam, who rejected it
    assert reopened.handed_at == event.occurred_at == settled.resolved_at
    assert reopened.matched_rules == [
        {"field": "segment", "operator": "equals", "value": "smb", "points": 60}
    ]
    lead = Lead.objects.get(external_id="L-d")
    assert (lead.stage, lead.owner) == ("mql", cast["other_sales_rep"])
    assert list(Handoff.objects.filter(lead=lead).order_by("handed_at")) == [rejected, reopened]


def test_an_overturn_goes_past_both_the_owner_and_whoever_rejected(
    world: World, cast: dict, make_user: Callable[..., object]
) -> None:
    """The CRM says rita rejected sam's handoff: the lead goes to ron, the third rep."""
    ron = make_user("ron", Role.SALES_REP)
    world.lead(ago(days=5), external_id="L-r", owner="sam")
    world.stage("L-r", "mql", ago(days=4))
    world.stage("L-r", "rejected", ago(days=3), reason="bad_fit", actor="rita")
    handoff = Handoff.objects.get(lead__external_id="L-r")
    assert (handoff.owner, handoff.decided_by) == (cast["rejecter"], cast["other_sales_rep"])
    dispute = dispute_raise(handoff=handoff, by=cast["disputer"], comment=COMMENT)
    settled = _settle(dispute, cast)
    assert Handoff.objects.get(opening_event=settled.reopen_event).owner == ron


def test_an_upheld_rejection_reopens_nothing(disputed: Dispute, cast: dict) -> None:
    settled = _settle(disputed, cast, "upheld")
    assert settled.reopen_event is None
    assert Handoff.objects.filter(lead__external_id="L-d").count() == 1
    assert Lead.objects.get(external_id="L-d").stage == "rejected"


def test_an_overturn_after_the_lead_was_handed_off_again_opens_no_second_handoff(
    world: World, disputed: Dispute, cast: dict
) -> None:
    world.stage("L-d", "mql", ago(days=1))  # marketing nurtured it and handed it over again
    assert Handoff.objects.filter(lead__external_id="L-d").count() == 2
    settled = _settle(disputed, cast)
    assert settled.status == Dispute.Status.RESOLVED and settled.outcome == "overturned"
    assert settled.reopen_event is None
    assert Handoff.objects.filter(lead__external_id="L-d").count() == 2
    assert not StageEvent.objects.filter(source=StageEvent.Source.SYSTEM).exists()


def test_an_overturn_after_the_lead_was_won_in_the_crm_opens_no_handoff(
    world: World, disputed: Dispute, cast: dict
) -> None:
    world.stage("L-d", "won", ago(days=1))  # the CRM closed it without another handoff
    settled = _settle(disputed, cast)
    assert (settled.outcome, settled.reopen_event) == ("overturned", None)
    assert Handoff.objects.filter(lead__external_id="L-d").count() == 1
    assert Lead.objects.get(external_id="L-d").stage == "won"


# --- the e-mail to the head it awaits --------------------------------------------------------


def test_the_awaited_head_is_e_mailed_once_after_the_commit(
    disputed: Dispute, cast: dict, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        dispute = dispute_record_outcome(
            dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
        )
        assert mail.outbox == []
    (message,) = mail.outbox
    assert message.to == ["sally@example.com"]
    assert "awaits your confirmation" in message.subject
    assert NOTE in message.body and f"/leads/disputes/{dispute.pk}/" in message.body
    assert dispute_notify(dispute_id=dispute.pk) is False  # run twice: still one mail
    assert len(mail.outbox) == 1
    dispute.refresh_from_db()
    assert dispute.notified_at is not None


def test_recording_the_same_outcome_again_mails_no_one_twice(
    disputed: Dispute, cast: dict, django_capture_on_commit_callbacks: Callable
) -> None:
    for _ in range(2):  # the form sent twice
        with django_capture_on_commit_callbacks(execute=True):
            dispute_record_outcome(
                dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
            )
    assert len(mail.outbox) == 1


def test_another_outcome_mails_the_head_it_awaits_now(
    disputed: Dispute, cast: dict, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        dispute_record_outcome(
            dispute=disputed, by=cast["head_of_marketing"], outcome="overturned", note=NOTE
        )
    with django_capture_on_commit_callbacks(execute=True):
        dispute_record_outcome(dispute=disputed, by=cast["head_of_sales"], outcome="upheld")
    assert [m.to for m in mail.outbox] == [["sally@example.com"], ["max@example.com"]]


def test_a_failing_mail_server_gives_the_notice_back_for_the_retry(
    disputed: Dispute, cast: dict, flaky_mail: set[str]
) -> None:
    dispute = dispute_record_outcome(dispute=disputed, by=cast["head_of_sales"], outcome="upheld")
    flaky_mail.add("max@example.com")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        dispute_notify(dispute_id=dispute.pk)
    dispute.refresh_from_db()
    assert dispute.notified_at is None and mail.outbox == []
    flaky_mail.clear()
    assert dispute_notify(dispute_id=dispute.pk) is True
    assert [m.to for m in mail.outbox] == [["max@example.com"]]


def test_events_that_would_turn_a_disputed_rejection_into_an_acceptance_are_refused(
    world: World, disputed: Dispute
) -> None:
    # A late `sal` before the rejection would accept the handoff: the dispute would be about
    # nothing. The whole batch is refused and nothing changes.
    with pytest.raises(ValidationError, match="rejection is disputed"):
        world.stage("L-d", "sal", ago(days=9))
    handoff = Handoff.objects.get(pk=disputed.handoff_id)
    assert handoff.status == Handoff.Status.REJECTED
    assert not StageEvent.objects.filter(lead__external_id="L-d", stage="sal").exists()
