"""Extras on top of `seed_demo` for the screenshots: a few fresh handoffs for one rep.

The demo company's goals, forecasts and scored handoffs are its own; what it lacks at any given
moment is a rep's real morning, with a few handoffs that came in within the last hours. These
leads reach the MQL threshold of the demo's lead definition, so the app scores them and hands
them off itself, with the matched rules; their MQL is then dated a little earlier.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

FRESH = [
    ("Hannah Weber", "Nordlicht Logistics", "enterprise", 4200, "VP Sales", 1.5),
    ("Lucas Martin", "Atelier Verde", "mid_market", 450, "Head of Sales", 0.4),
    ("Amara Okafor", "Brightline Health", "enterprise", 9000, "CFO", 3.0),
]
SENIORITY = {"VP Sales": "vp", "Head of Sales": "head", "CFO": "c_level"}


def add_demo_extras(*, rep: str = "jonas") -> None:
    """Three fresh handoffs for `rep`, handed off by scoring within the last hours."""
    from leads.models import Campaign, Handoff, Lead, StageEvent
    from leads.services import leads_sync_stages, leads_upsert, touches_upsert

    now = timezone.now()
    campaigns = list(Campaign.objects.order_by("-starts_on").values_list("external_id", flat=True))
    for n, (name, company, segment, employees, title, hours_ago) in enumerate(FRESH):
        lead = f"demo-fresh-{n}"
        created = now - timedelta(days=9, hours=hours_ago)
        touches_upsert_rows = [
            {
                "external_id": f"{lead}-t{i}",
                "lead": lead,
                "campaign": campaigns[(n + i) % len(campaigns)],
                "occurred_at": created + timedelta(days=3 * i),
                "kind": ["ad_click", "webinar_attended", "demo_request"][i],
            }
            for i in range(3)
        ]
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
                    "attributes": {
                        "employees": employees,
                        "job_title": title,
                        "seniority": SENIORITY[title],
                        "engagement": {"touches": 3, "webinars_attended": 1, "demo_requests": 1},
                    },
                }
            ]
        )  # scored under the lead definition in effect: handed off now, with its rules
        touches_upsert(rows=touches_upsert_rows)
        # Handed off a little while ago: the scoring's own MQL, moved back, and replayed.
        StageEvent.objects.filter(
            lead__external_id=lead, stage="mql", source=StageEvent.Source.SYSTEM
        ).update(occurred_at=now - timedelta(hours=hours_ago))
        leads_sync_stages(
            lead_ids=Lead.objects.filter(external_id=lead).values_list("pk", flat=True)
        )
        assert (
            Handoff.objects.filter(lead__external_id=lead, status="pending")
            .exclude(matched_rules=[])
            .exists()
        ), f"{lead} did not reach the MQL threshold"
