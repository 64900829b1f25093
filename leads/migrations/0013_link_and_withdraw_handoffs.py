"""Existing handoffs: linked to their stage events, their later outcomes, and withdrawn where a
withdrawing event met them while pending. A migration of its own, after 0012's schema: on
PostgreSQL the data step's deferred foreign-key checks must not meet 0012's index creation."""

from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery

OPENING = ["mql"]
CLOSING = ["sal", "sql", "opportunity", "won", "rejected", "recycled", "disqualified", "lost"]
WITHDRAWING = ["recycled", "disqualified", "lost"]


def link_and_withdraw(apps, schema_editor):  # noqa: ANN001, ANN201
    """Existing handoffs get the stage events that opened and decided them, and what their
    leads did after the decision; a handoff that a recycled, disqualified or lost event met
    while pending (left pending, or decided by a later event) is withdrawn by replaying its
    lead (which also opens the handoff of a later MQL)."""
    from leads.services import handoff_outcomes

    handoff = apps.get_model("leads", "Handoff")
    event = apps.get_model("leads", "StageEvent")

    def first(stages: list[str], at: str) -> Subquery:
        found = event.objects.filter(
            lead=OuterRef("lead_id"), stage__in=stages, occurred_at=OuterRef(at)
        ).order_by("id")
        return Subquery(found.values("id")[:1])

    handoff.objects.update(opening_event=first(OPENING, "handed_at"))
    handoff.objects.filter(decided_at__isnull=False).update(
        closing_event=first(CLOSING, "decided_at")
    )
    expressions = handoff_outcomes(
        event, apps.get_model("leads", "Deal"), apps.get_model("leads", "ContactAttempt")
    )
    added = {"won_after_decision", "disqualified_after_decision"}
    handoff.objects.update(**{k: v for k, v in expressions.items() if k in added})

    # A withdrawing event while the handoff was pending: after it, for one still pending;
    # before its decision, for one that a later event accepted or rejected (which now decides
    # nothing: the lead had left the funnel).
    left = event.objects.filter(
        lead=OuterRef("lead_id"), stage__in=WITHDRAWING, occurred_at__gte=OuterRef("handed_at")
    )
    while_pending = (Q(status="pending") & Q(models.Exists(left))) | (
        Q(decided_at__isnull=False)
        & Q(models.Exists(left.filter(occurred_at__lte=OuterRef("decided_at"))))
    )
    lead_ids = set(handoff.objects.filter(while_pending).values_list("lead_id", flat=True))
    if lead_ids:  # the app's own replay, as of this release (none on a new database)
        from leads.services import leads_replay

        leads_replay(lead_ids=lead_ids)


class Migration(migrations.Migration):
    dependencies = [("leads", "0012_withdrawn_handoffs_disputes")]

    operations = [migrations.RunPython(link_and_withdraw, migrations.RunPython.noop)]
