"""SLA breaches: the deadlines of pending handoffs that passed, recorded once and e-mailed to
the handoff's owner and the head of sales (the bodies are templates under
`templates/leads/email/`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from alignment.models import SlaBreach, SlaBreachNotice
from alignment.roles import Role, Team
from alignment.selectors import team_heads, users_in_role
from leads.models import ContactAttempt, Handoff

log = logging.getLogger(__name__)

BREACH_DIGEST_LINES = 50


def sla_breaches_detect(*, now: datetime | None = None) -> int:
    """Record each deadline of a pending handoff that has passed, once. Returns new breaches.

    First contact: no attempt by `first_contact_due_at`. Next attempt: attempts were made but
    the next one was not by `next_attempt_due_at`.
    """
    now = now or timezone.now()
    pending = Handoff.objects.filter(status=Handoff.Status.PENDING)
    known = SlaBreach.objects.filter(handoff=OuterRef("pk"))
    first_contact = (
        pending.filter(first_contact_due_at__lte=now, first_attempt_at__isnull=True)
        .exclude(pk__in=known.filter(kind=SlaBreach.Kind.FIRST_CONTACT).values("handoff"))
        .values_list("pk", "first_contact_due_at")
    )
    attempts = (
        ContactAttempt.objects.filter(
            lead=OuterRef("lead_id"), occurred_at__gte=OuterRef("handed_at")
        )
        .order_by()
        .values("lead")
        .annotate(n=Count("id"))
        .values("n")
    )
    next_attempt = (
        pending.filter(next_attempt_due_at__lte=now, first_attempt_at__isnull=False)
        .annotate(made=Subquery(attempts))
        .values_list("pk", "next_attempt_due_at", "made")
    )
    rows = [
        SlaBreach(
            handoff_id=pk, kind=SlaBreach.Kind.FIRST_CONTACT, attempt=1, due_at=due, detected_at=now
        )
        for pk, due in first_contact.iterator(chunk_size=2000)
    ]
    rows += [
        SlaBreach(
            handoff_id=pk,
            kind=SlaBreach.Kind.NEXT_ATTEMPT,
            attempt=(made or 0) + 1,
            due_at=due,
            detected_at=now,
        )
        for pk, due, made in next_attempt.iterator(chunk_size=2000)
    ]
    before = SlaBreach.objects.count()
    SlaBreach.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return SlaBreach.objects.count() - before


def _recipients_for_sales() -> list[str]:
    """The head of sales, or every sales manager when no head is set."""
    head = team_heads()[Team.SALES]
    managers = (
        [head]
        if head is not None and head.is_active
        else list(users_in_role(role=Role.SALES_MANAGER))
    )
    return [u.email for u in managers if u.email]


class BreachNoticeError(RuntimeError):
    """Some breach e-mails could not be sent; the next run sends them (and only them)."""


def sla_breaches_notify(*, limit: int = 5000) -> int:
    """E-mail each un-notified breach to the handoff's owner and the sales manager, one digest
    per recipient. Returns how many breaches were fully notified.

    Exactly once per (breach, recipient): no transaction or row lock is held while sending;
    right after each successful send, its own small transaction records who got which
    breaches (`SlaBreachNotice`), and a breach is marked notified once all its recipients got
    it. When a send fails the others still go out, then BreachNoticeError is raised (so the
    task retries); the next run sends only what was not sent.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    breaches = list(
        SlaBreach.objects.filter(notified_at__isnull=True)
        .select_related("handoff__lead", "handoff__owner")
        .order_by("due_at", "pk")[:limit]
    )
    if not breaches:
        return 0
    sent = set(
        SlaBreachNotice.objects.filter(breach__in=breaches).values_list("breach_id", "recipient")
    )
    managers = _recipients_for_sales()
    digests: dict[str, list[SlaBreach]] = defaultdict(list)
    for breach in breaches:
        owner = breach.handoff.owner
        recipients = set(managers)
        if owner is not None and owner.is_active and owner.email:
            recipients.add(owner.email)
        for address in recipients:
            if (breach.pk, address) not in sent:
                digests[address].append(breach)
    failed: set[int] = set()
    errors: list[Exception] = []
    for address, items in sorted(digests.items()):
        try:
            _send_breach_digest(address, items, tz)
        except Exception as exc:  # any failure of the mail backend
            log.exception("Could not e-mail %d SLA breaches to %s", len(items), address)
            failed.update(b.pk for b in items)
            errors.append(exc)
            continue
        now = timezone.now()
        with transaction.atomic():
            SlaBreachNotice.objects.bulk_create(
                [SlaBreachNotice(breach=b, recipient=address, sent_at=now) for b in items],
                ignore_conflicts=True,
            )
    done = [b.pk for b in breaches if b.pk not in failed]
    SlaBreach.objects.filter(pk__in=done, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if errors:
        raise BreachNoticeError(
            f"{len(errors)} breach digest(s) could not be sent; the next run retries them."
        ) from errors[0]
    return len(done)


def _send_breach_digest(address: str, items: list[SlaBreach], tz: ZoneInfo) -> None:
    context = {
        "count": len(items),
        "breaches": [_breach_line(b, tz) for b in items[:BREACH_DIGEST_LINES]],
        "more": max(len(items) - BREACH_DIGEST_LINES, 0),
    }
    send_mail(
        subject=render_to_string("leads/email/sla_breach_digest_subject.txt", context).strip(),
        message=render_to_string("leads/email/sla_breach_digest.txt", context),
        from_email=None,
        recipient_list=[address],
    )


def _breach_line(breach: SlaBreach, tz: ZoneInfo) -> dict[str, str]:
    lead, owner = breach.handoff.lead, breach.handoff.owner
    return {
        "lead": str(lead),
        "lead_id": lead.external_id,
        "owner": owner.get_username() if owner else "unassigned",
        "what": "first contact"
        if breach.kind == SlaBreach.Kind.FIRST_CONTACT
        else f"attempt {breach.attempt}",
        "due": f"{breach.due_at.astimezone(tz):%a %d %b %Y %H:%M %Z}",
    }
