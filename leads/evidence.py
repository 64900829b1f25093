"""The lead-quality ledger: which handoffs are the evidence behind each side's claim.

Marketing says that not every lead it produced was followed up; sales says it did not follow
them up because they were bad; marketing asks how sales can know the quality of a lead it
never called. Each fact below is a condition on a `Handoff` row (its stored SLA facts and
outcomes), so the KPI engine counts exactly the handoffs the drill-down lists
(`leads.selectors.evidence_handoffs`): the same words and the same rows for both teams.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q

from leads.models import Dispute, Handoff

PENDING, ACCEPTED = Handoff.Status.PENDING, Handoff.Status.ACCEPTED
REJECTED, WITHDRAWN = Handoff.Status.REJECTED, Handoff.Status.WITHDRAWN


def follow_up_counted(now: datetime) -> Q:
    """Handoffs that count in `followed_up_rate`: all but the pending ones whose first-contact
    deadline is still ahead (they can still be followed up in time)."""
    return ~Q(status=PENDING, first_contact_due_at__gt=now)


#: Handoffs whose follow-up had to come before they closed: a call after a rejection, or after
#: the lead left the funnel (a withdrawal; the call then belongs to a later handoff, if any),
#: follows nothing up.
CLOSED_WITHOUT_SALES = [REJECTED, WITHDRAWN]


def followed_up() -> Q:
    """A contact attempt at or after the handoff (before the decision, for a rejection or a
    withdrawal)."""
    return Q(first_attempt_at__isnull=False) & (
        ~Q(status__in=CLOSED_WITHOUT_SALES) | Q(first_attempt_at__lte=F("decided_at"))
    )


def not_followed_up() -> Q:
    """No contact attempt at or after the handoff (none before the decision, for a rejection or
    a withdrawal)."""
    return Q(first_attempt_at__isnull=True) | Q(
        status__in=CLOSED_WITHOUT_SALES, first_attempt_at__gt=F("decided_at")
    )


def rejected_without_contact() -> Q:
    """A rejection decided before any contact attempt at or after the handoff."""
    return Q(status=REJECTED) & not_followed_up()


def rejected_then_won() -> Q:
    """A rejection whose lead has a won deal closed after it (through a later handoff or
    none)."""
    return Q(status=REJECTED, won_after_decision=True)


def accepted_then_disqualified() -> Q:
    """An acceptance whose lead reached `disqualified` after it."""
    return Q(status=ACCEPTED, disqualified_after_decision=True)


def withdrawn() -> Q:
    """Closed because the lead left the funnel (recycled, disqualified, lost) before sales
    decided."""
    return Q(status=WITHDRAWN)


def disputed() -> Q:
    """A rejection marketing disputed."""
    return Q(status=REJECTED, dispute__isnull=False)


def dispute_resolved() -> Q:
    """Over `Dispute` rows: settled by both heads."""
    return Q(status=Dispute.Status.RESOLVED)


def dispute_overturned() -> Q:
    """Over `Dispute` rows: settled, the rejection overturned."""
    return Q(status=Dispute.Status.RESOLVED, outcome=Dispute.Outcome.OVERTURNED)


def dispute_open() -> Q:
    """Over `Dispute` rows: not settled yet (no outcome, or one awaiting the other head)."""
    return ~Q(status=Dispute.Status.RESOLVED)
