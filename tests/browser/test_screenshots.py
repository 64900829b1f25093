"""The demo company in a browser: what `make run` shows renders, and the docs' screenshots.

Loads `seed_demo` (2,000 leads, with its agreements, goals and forecasts) plus a few fresh
handoffs for jonas, recomputes, and takes the dashboard (and its evidence panel, with the
leads behind one of its numbers), meeting view and inbox. With
TANDEM_SCREENSHOTS=1 they replace
docs/screenshots/*.png (`TANDEM_SCREENSHOTS=1 pytest -m browser -k screenshots`); otherwise
they go to a temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from alignment.models import Meeting
from leads.models import Lead, WhatIfRun
from tests.browser.demo_extras import add_demo_extras

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_screenshots_of_the_demo_company(
    browser: object, login: Callable, live_server: object, tmp_path: Path
) -> None:
    out = DOCS if os.environ.get("TANDEM_SCREENSHOTS") else tmp_path
    call_command("seed_demo", leads=2000, no_progress=True)
    add_demo_extras(rep="jonas")
    call_command("recompute_kpis", no_progress=True)
    out.mkdir(parents=True, exist_ok=True)

    desktop = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    page = desktop.new_page()
    login(page, "tom", "demo")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector(".js-plotly-plot")
    page.wait_for_timeout(500)
    page.screenshot(path=out / "dashboard.png", full_page=True)
    # The lead-quality ledger: both sides' facts, each number opening the leads behind it.
    evidence = page.locator("section.evidence")
    evidence.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    evidence.screenshot(path=out / "evidence.png")
    evidence.locator('a[href^="/evidence/rejected_without_contact/"]').click()
    page.wait_for_selector("h1:has-text('Rejected without contact')")
    assert page.locator("table.evidence-table tbody tr").count() > 0
    page.screenshot(path=out / "evidence_list.png")
    page.goto(f"{live_server.url}/meeting/")
    page.wait_for_timeout(300)
    page.screenshot(path=out / "meeting.png")
    # The meeting view's slides of working together, each full of the demo's records.
    for slug in ("meetings", "actions", "insights", "ideas", "spotlights", "shadowing", "evidence"):
        page.click(f'[data-goto="{slug}"]')
        page.wait_for_timeout(300)
        assert page.locator(f'[data-section="{slug}"] .empty').count() == 0, slug  # full
        page.screenshot(path=out / f"meeting_{slug}.png")
    # Working together: the campaign post-mortem and the pages of each habit.
    postmortem = Meeting.objects.filter(kind="campaign_postmortem").order_by("-starts_at")[0]
    weekly = Meeting.objects.filter(kind="weekly_alignment").order_by("-starts_at")[0]
    together = {
        "postmortem.png": f"/campaigns/{postmortem.campaign.external_id}/post-mortem/",
        "campaigns.png": "/campaigns/",
        "meeting_notes.png": f"/meetings/{weekly.pk}/",
        "ideas.png": "/ideas/",
        "insights.png": "/insights/",
        "spotlights.png": "/spotlights/",
        "shadowing.png": "/shadowing/",
    }
    for name, path in together.items():
        page.goto(f"{live_server.url}{path}")
        page.screenshot(path=out / name, full_page=True)
    # The heads' workbench: the agreements, sales' draft of the lead definition with its
    # what-if, the SLA draft awaiting tom, the goals, the scorecard and the forecasts.
    shots = {
        "agreements.png": "/agreements/",
        "sla_version.png": "/agreements/sla/3/",
        "lead_definition_draft.png": "/agreements/lead-definition/2/",
        "what_if.png": f"/leads/what-if/{WhatIfRun.objects.get().pk}/",
        "goals.png": "/goals/",
        "scorecard.png": "/scorecard/",
        "forecasts.png": "/forecasts/",
    }
    for name, path in shots.items():
        page.goto(f"{live_server.url}{path}")
        if name in {"scorecard.png", "forecasts.png"}:
            page.wait_for_selector(".js-plotly-plot")
            page.wait_for_timeout(300)
        page.screenshot(path=out / name, full_page=True)
    desktop.close()

    rep = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    page = rep.new_page()
    login(page, "jonas", "demo")
    page.goto(f"{live_server.url}/leads/mine/")
    page.screenshot(path=out / "my_leads.png", full_page=True)
    fresh = Lead.objects.get(external_id="demo-fresh-0")
    page.goto(f"{live_server.url}/leads/{fresh.pk}/")
    page.screenshot(path=out / "lead.png", full_page=True)
    others = Lead.objects.filter(owner__username="nina").order_by("-created_at").first()
    page.goto(f"{live_server.url}/leads/{others.pk}/")
    assert "belongs to Nina Kowalski" in page.inner_text("main")
    page.screenshot(path=out / "forbidden.png")
    rep.close()

    # A phone's width; taller than one screen so that the picture shows a whole card.
    phone = browser.new_context(
        viewport={"width": 390, "height": 1400}, device_scale_factor=2, is_mobile=True
    )
    page = phone.new_page()
    login(page, "jonas", "demo")
    page.goto(f"{live_server.url}/leads/inbox/")
    page.locator("summary[data-action=reject]").first.click()
    page.select_option("select[name=reason] >> nth=0", "not_ready")
    page.locator("textarea[name=feedback]").first.fill("Budget review in Q1; call back in January")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=out / "inbox.png")
    phone.close()
    taken = ("dashboard.png", "evidence.png", "evidence_list.png", "meeting.png",
             "meeting_evidence.png", "inbox.png", *shots, "my_leads.png", "lead.png")  # fmt: skip
    for name in taken:
        assert (out / name).stat().st_size > 10_000, name
