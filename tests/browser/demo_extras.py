"""Extras on top of `seed_demo` for the screenshots: goals running now and fresh handoffs.

The demo company's pending handoffs are all past their deadline; a rep's real morning has a few
fresh ones too, with the scoring rules that made them MQLs.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

FRESH = [
    ("Hannah Weber", "Nordlicht Logistics", "enterprise", 1.5),
    ("Lucas Martin", "Atelier Verde", "mid_market", 0.4),
    ("Amara Okafor", "Brightline Health", "enterprise", 3.0),
]
RULES = [
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
    {"field": "attributes.employees", "operator": "gte", "value": 200, "points": 20},
    {"field": "channel", "operator": "in", "value": ["webinar", "event"], "points": 25},
]


def add_demo_extras(*, rep: str = "jonas") -> None:
    """Add goals for the running month and quarter and three fresh handoffs for `rep`."""
    from core.periods import period_start
    from leads.models import Campaign, Handoff
    from leads.services import leads_upsert, stage_events_upsert, touches_upsert

    now = timezone.now()
    today = timezone.localdate()
    campaigns = list(Campaign.objects.order_by("-starts_on").values_list("external_id", flat=True))
    for n, (name, company, segment, hours_ago) in enumerate(FRESH):
        lead = f"demo-fresh-{n}"
        created = now - timedelta(days=9, hours=hours_ago)
        leads_upsert(
            rows=[
                {
                    "external_id": lead,
                    "email": f"{name.split()[0].lower()}@{company.split()[0].lower()}.example",
                    "name": name,
                    "company": company,
                    "created_at": created,
                    "owner": rep,
                    "segment": segment,
                    "campaign": campaigns[n % len(campaigns)],
                    "attributes": {"employees": 250 + 100 * n},
                }
            ]
        )
        touches_upsert(
            rows=[
                {
                    "external_id": f"{lead}-t{i}",
                    "lead": lead,
                    "campaign": campaigns[(n + i) % len(campaigns)],
                    "occurred_at": created + timedelta(days=3 * i),
                    "kind": ["ad click", "webinar", "download"][i],
                }
                for i in range(3)
            ]
        )
        stage_events_upsert(
            rows=[
                {
                    "external_id": f"{lead}-mql",
                    "lead": lead,
                    "stage": "mql",
                    "occurred_at": now - timedelta(hours=hours_ago),
                }
            ]
        )
        Handoff.objects.filter(lead__external_id=lead).update(
            matched_rules=RULES[: 3 - n % 2] if segment == "enterprise" else RULES[1:]
        )
    # The demo company predates its lead definition: give its pending handoffs their reasons.
    for handoff in Handoff.objects.filter(status="pending", matched_rules=[]).select_related(
        "lead"
    ):
        rules = [RULES[1], RULES[2]] if handoff.pk % 2 else [RULES[0], RULES[1]]
        Handoff.objects.filter(pk=handoff.pk).update(matched_rules=rules)
    try:
        from alignment.services.goals import goal_create
    except ImportError:  # the goals of alignment/ are not there yet
        return
    month, quarter = period_start("month", today), period_start("quarter", today)
    goals = [
        ("SALs this month", "sals", Decimal(90), "month", month),
        ("MQLs this month", "mqls", Decimal(110), "month", month),
        ("Acceptance rate above 75 %", "acceptance_rate", Decimal("0.75"), "month", month),
        ("Revenue won this quarter", "revenue_won", Decimal(600000), "quarter", quarter),
    ]
    for name, metric, target, kind, start in goals:
        goal_create(
            by=None, name=name, metric=metric, target=target, period=kind, period_start=start
        )
