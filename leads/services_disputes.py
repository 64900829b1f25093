"""Disputes of rejections: marketing contests a rejection, the two team heads settle it.

Anyone in marketing disputes a rejection within `DISPUTE_WINDOW_DAYS` of the decision, with a
comment; one rejection is disputed once. One head records an outcome (upheld, or overturned
with a note) and the other head confirms it; the head whose confirmation is awaited gets one
e-mail. An overturned rejection stays in the history and the numbers as it happened: its lead is
handed off again (a system `mql` stage event, so the replay of the events stays the one source
of the handoffs) to another rep by the round robin.

Only the two heads, the rep who rejected (and the handoff's owner), the person who disputed,
and managers read a dispute's comments (`dispute_can_read`); everyone else sees counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from alignment.roles import Role, Team, user_heads, user_role
from alignment.selectors import team_heads, user_heads_team
from alignment.services.audit import audit_diff, audit_record, audit_snapshot
from alignment.services.round_robin import round_robin_next_owners
from config.queue import enqueue
from leads.changes import funnel_changed
from leads.models import Dispute, Handoff, Lead, Stage, StageEvent
from leads.services import funnel_followed, leads_sync_stages

DISPUTERS = {Role.MARKETING_REP, Role.MARKETING_MANAGER}
#: Who reads every dispute's comments (besides the heads and the people in it).
COMMENT_READERS = {Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN}
TEAM_NAMES = {Team.MARKETING: "marketing", Team.SALES: "sales"}


def dispute_can_raise(*, user: AbstractBaseUser) -> bool:
    """Anyone in marketing disputes a rejection."""
    return user_role(user) in DISPUTERS


def dispute_window_closes(*, handoff: Handoff) -> datetime | None:
    """Until when the rejection can be disputed (None: not a rejection)."""
    if handoff.status != Handoff.Status.REJECTED or handoff.decided_at is None:
        return None
    return handoff.decided_at + timedelta(days=settings.DISPUTE_WINDOW_DAYS)


def dispute_can_read(*, dispute: Dispute, user: AbstractBaseUser) -> bool:
    """Whether the user reads the dispute's comments and names: the two heads, the rep who
    rejected and the handoff's owner, the person who disputed, and managers (theirs). Reads
    the user's role and headship once per user object, so a list asks it of every row for
    free."""
    if not user.is_authenticated:
        return False
    if user_role(user) in COMMENT_READERS:
        return True
    handoff = dispute.handoff
    if user.pk in {dispute.raised_by_id, handoff.decided_by_id, handoff.owner_id}:
        return True
    return dispute_viewer_heads(user=user) is not None


def dispute_viewer_heads(*, user: AbstractBaseUser) -> Team | None:
    """The team the user heads, read with their role once per user object (a request's
    user): what the pages ask of every dispute they show. Writes ask `user_heads_team`
    afresh."""
    return user_heads(user)


def dispute_can_confirm(*, dispute: Dispute, user: AbstractBaseUser) -> bool:
    """Whether the user is the head the dispute's outcome awaits (not the one who recorded
    it)."""
    if dispute.status != Dispute.Status.AWAITING or dispute.outcome_by_id == user.pk:
        return False
    team = dispute_viewer_heads(user=user)
    return team is not None and team.value == dispute.awaiting_team


def dispute_can_settle(*, user: AbstractBaseUser) -> bool:
    """Only the two team heads settle disputes."""
    return user_heads_team(user=user) is not None


@transaction.atomic
def dispute_raise(
    *, handoff: Handoff, by: AbstractBaseUser, comment: str, now: datetime | None = None
) -> Dispute:
    """Contest a rejection: within the window of its decision, once, with a comment."""
    now = now or timezone.now()
    if not dispute_can_raise(user=by):
        raise PermissionDenied("Only marketing can dispute a rejection.")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Say why the rejection is wrong."})
    locked = Handoff.objects.select_for_update(of=("self",)).get(pk=handoff.pk)
    closes = dispute_window_closes(handoff=locked)
    if closes is None:
        raise ValidationError(
            f"Only a rejection can be disputed; this handoff is {locked.get_status_display()}."
        )
    if Dispute.objects.filter(handoff=locked).exists():
        raise ValidationError("This rejection is already disputed: one dispute per rejection.")
    if now > closes:
        local = timezone.localtime(closes)
        raise ValidationError(
            f"Too late to dispute: a rejection can be disputed within "
            f"{settings.DISPUTE_WINDOW_DAYS} days of the decision, and this one's window "
            f"closed on {local:%d %b %Y, %H:%M}."
        )
    dispute = Dispute.objects.create(handoff=locked, raised_by=by, raised_at=now, comment=comment)
    funnel_changed(at=locked.decided_at, part="decisions")  # the decision day's dispute rate
    _audit(dispute, "dispute.raised", by=by, changes={"status": [None, dispute.status]})
    return dispute


#: What a dispute's audit entries compare of it.
_AUDITED = ("status", "outcome", "outcome_note", "awaiting_team")


def _audit(
    dispute: Dispute,
    action: str,
    *,
    by: AbstractBaseUser,
    changes: dict[str, list],
    details: dict[str, object] | None = None,
) -> None:
    handoff = dispute.handoff
    audit_record(
        actor=by,
        action=action,
        target=dispute,
        label=f"Dispute {dispute.pk} of the rejection of {handoff.lead}",
        changes=changes,
        details={"handoff": handoff.pk, "lead": handoff.lead.external_id, **(details or {})},
        note=dispute.comment if action == "dispute.raised" else "",
    )


def _head_team(user: AbstractBaseUser) -> Team:
    team = user_heads_team(user=user)
    if team is None:
        raise PermissionDenied(
            "Only the head of marketing and the head of sales settle a dispute, together."
        )
    return team


def _other(team: Team) -> Team:
    return Team.SALES if team == Team.MARKETING else Team.MARKETING


@transaction.atomic
def dispute_record_outcome(
    *,
    dispute: Dispute,
    by: AbstractBaseUser,
    outcome: str,
    note: str = "",
    now: datetime | None = None,
) -> Dispute:
    """One head records an outcome; it awaits the other head's confirmation (who is e-mailed
    once). Until it is confirmed, either head may record another outcome instead, which then
    awaits the other."""
    now = now or timezone.now()
    team = _head_team(by)
    if outcome not in Dispute.Outcome.values:
        raise ValidationError({"outcome": "Choose 'upheld' or 'overturned'."})
    note = (note or "").strip()
    if outcome == Dispute.Outcome.OVERTURNED and not note:
        raise ValidationError(
            {"note": "Say why the rejection is overturned: the rep who rejected it reads it."}
        )
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if locked.status == Dispute.Status.RESOLVED:
        raise ValidationError("This dispute was already settled.")
    if (locked.status, locked.outcome, locked.outcome_note, locked.outcome_by_id) == (
        Dispute.Status.AWAITING,
        outcome,
        note,
        by.pk,
    ):
        return locked  # the same outcome again (a form sent twice): the other head heard once
    before = audit_snapshot(locked, _AUDITED)
    locked.status = Dispute.Status.AWAITING
    locked.outcome, locked.outcome_note = outcome, note
    locked.outcome_by, locked.outcome_at = by, now
    locked.awaiting_team = _other(team).value
    locked.notified_at = None  # a new outcome: the head it awaits hears of it
    locked.save()
    changes = audit_diff(before, audit_snapshot(locked, _AUDITED))
    _audit(locked, "dispute.outcome_recorded", by=by, changes=changes)
    transaction.on_commit(lambda: _notify_later(locked.pk), robust=True)
    return locked


@transaction.atomic
def dispute_confirm(
    *, dispute: Dispute, by: AbstractBaseUser, now: datetime | None = None
) -> Dispute:
    """The other head confirms the outcome recorded: the dispute is settled. An overturned
    rejection hands its lead off again, to another rep."""
    now = now or timezone.now()
    team = _head_team(by)
    locked = Dispute.objects.select_for_update().select_related("handoff").get(pk=dispute.pk)
    if locked.status == Dispute.Status.RESOLVED:
        raise ValidationError("This dispute was already settled.")
    if locked.status == Dispute.Status.OPEN:
        raise ValidationError("No outcome to confirm yet: one head records it first.")
    awaiting = Team(locked.awaiting_team)
    if locked.outcome_by_id == by.pk:
        raise ValidationError(
            f"You recorded this outcome: the head of {TEAM_NAMES[awaiting]} confirms it."
        )
    if team != awaiting:
        raise ValidationError(f"This outcome awaits the head of {TEAM_NAMES[awaiting]}.")
    before = audit_snapshot(locked, _AUDITED)
    locked.status = Dispute.Status.RESOLVED
    locked.resolved_by, locked.resolved_at = by, now
    if locked.outcome == Dispute.Outcome.OVERTURNED:
        locked.reopen_event = _reopen(locked.handoff, by=by, now=now)
    locked.save()
    _audit(
        locked,
        "dispute.confirmed",
        by=by,
        changes=audit_diff(before, audit_snapshot(locked, _AUDITED)),
        details={"outcome": locked.outcome, "handed_off_again": locked.reopen_event is not None},
    )
    funnel_changed(at=now, part="disputes")  # the settling day's overturn rate
    return locked


def _reopen(handoff: Handoff, *, by: AbstractBaseUser, now: datetime) -> StageEvent | None:
    """Hand the lead off again to another rep, unless it has moved on since the rejection
    (handed off again, or on to another stage than rejected or back in nurture: won, lost,
    disqualified in the CRM): a system `mql` event, replayed into a new handoff."""
    lead_id = handoff.lead_id
    latest = Handoff.objects.filter(lead_id=lead_id).order_by("-handed_at", "-id").first()
    if latest is None or latest.pk != handoff.pk:
        return None
    stage = Lead.objects.filter(pk=lead_id).values_list("stage", flat=True).first()
    if stage not in (Stage.REJECTED, Stage.RECYCLED):
        return None
    exclude = {pk for pk in (handoff.owner_id, handoff.decided_by_id) if pk is not None}
    owner = round_robin_next_owners(count=1, exclude=exclude)[0]
    with funnel_followed([lead_id]):
        Lead.objects.filter(pk=lead_id).update(owner_id=owner, updated_at=now)
        event = StageEvent.objects.create(
            lead_id=lead_id,
            stage=Stage.MQL,
            occurred_at=max(now, handoff.decided_at),
            note="Handed off again: the two heads overturned the rejection after a dispute.",
            source=StageEvent.Source.SYSTEM,
        )
        leads_sync_stages(lead_ids=[lead_id], by=by)
    # The rules the lead matched still say why it is an MQL.
    Handoff.objects.filter(opening_event=event).update(matched_rules=handoff.matched_rules)
    return event


def _notify_later(dispute_id: int) -> None:
    from leads.tasks import dispute_notify_task

    enqueue(dispute_notify_task, dispute_id)


def dispute_notify(*, dispute_id: int) -> bool:
    """E-mail the head whose confirmation the dispute awaits, once per outcome recorded.
    Claims the notice first (`notified_at`), so two runs never both send; a failed send
    gives the claim back for the task's retry. Returns whether a mail went out."""
    dispute = (
        Dispute.objects.select_related("handoff__lead", "handoff__reason", "outcome_by")
        .filter(pk=dispute_id, status=Dispute.Status.AWAITING, notified_at__isnull=True)
        .first()
    )
    if dispute is None:
        return False
    head = team_heads().get(Team(dispute.awaiting_team))
    if head is None or not head.is_active or not head.email:
        return False
    claim = Dispute.objects.filter(
        pk=dispute.pk, notified_at__isnull=True, outcome_at=dispute.outcome_at
    )
    if not claim.update(notified_at=timezone.now()):
        return False
    by = dispute.outcome_by
    context = {
        "dispute": dispute,
        "lead": dispute.handoff.lead,
        "head": head.get_full_name() or head.get_username(),
        "by": (by.get_full_name() or by.get_username()) if by else "The other head",
    }
    try:
        send_mail(
            subject=render_to_string("leads/email/dispute_awaiting_subject.txt", context).strip(),
            message=render_to_string("leads/email/dispute_awaiting.txt", context),
            from_email=None,
            recipient_list=[head.email],
        )
    except Exception:
        Dispute.objects.filter(pk=dispute.pk, outcome_at=dispute.outcome_at).update(
            notified_at=None
        )
        raise
    return True
