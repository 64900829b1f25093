"""The Agreements pages in a browser: the heads sign a new SLA, reps only read, an edit clears
the approvals, and the scoring-rules editor checks each rule as it is typed.

Screenshots of the overview, a version with its diff and approve button, and the rules editor
(at 1366 px and at a phone's 390 px) go to $TANDEM_AGREEMENTS_SHOTS, by default
/tmp/shots_agreements/.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from alignment.models import LeadDefinition, ServiceLevelAgreement
from alignment.roles import Role, Team
from alignment.services.accounts import team_head_set
from alignment.services.lead_definitions import lead_definition_approve, lead_definition_create
from alignment.services.sla import sla_approve, sla_create
from leads.models import Handoff
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("restore_base_data"),
]
SHOTS = Path(os.environ.get("TANDEM_AGREEMENTS_SHOTS", "/tmp/shots_agreements"))


@pytest.fixture
def heads(make_user: Callable[..., object]) -> dict[str, object]:
    """maria heads marketing, tom heads sales, sam is a sales rep; SLA v2 (no business hours)
    is in effect, signed by both a week ago."""
    maria = make_user("maria", Role.MARKETING_MANAGER, first_name="Maria", last_name="Schneider")
    tom = make_user("tom", Role.SALES_MANAGER, first_name="Tom", last_name="Becker")
    sam = make_user("sam", Role.SALES_REP)
    team_head_set(team=Team.MARKETING, user=maria)
    team_head_set(team=Team.SALES, user=tom)
    week_ago = timezone.now() - timedelta(days=7)
    v2 = sla_create(
        by=maria,
        effective_from=week_ago,
        first_contact_hours=Decimal(4),
        attempts=6,
        attempt_spacing_days=Decimal(2),
        monthly_sal_commitment=100,
    )
    for head in (maria, tom):
        sla_approve(sla=v2, by=head, now=week_ago)
    return {"maria": maria, "tom": tom, "sam": sam}


def _local_input(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _draft_v3(page: object, live_server: object) -> None:
    page.goto(f"{live_server.url}/agreements/")
    with page.expect_navigation():
        page.click("[data-sla-in-effect] >> text=Draft a new version")
    assert page.input_value("#id_attempts") == "6"  # prefilled from v2
    page.fill("#id_effective_from", _local_input(timezone.now() - timedelta(days=1)))
    page.fill("#id_first_contact_hours", "1")
    page.fill("#id_attempts", "3")
    page.fill("#id_attempt_spacing_days", "1")
    page.fill("#id_monthly_sal_commitment", "80")
    with page.expect_navigation():
        page.click("button:has-text('Save as a draft')")
    assert page.url.endswith("/agreements/sla/3/")


def test_the_heads_sign_sla_v3_and_new_handoffs_follow_it(
    page: object, login: Callable, live_server: object, heads: dict
) -> None:
    login(page, "maria")
    _draft_v3(page, live_server)
    assert "Drafted SLA v3" in page.inner_text(".messages")
    diff = page.inner_text("[data-diff]")
    assert "Changes against v2" in diff and "4 hours" in diff and "1 hour" in diff
    with page.expect_navigation():
        page.click("button:has-text('Approve for marketing')")
    assert "It waits for the head of sales" in page.inner_text(".messages")
    assert page.locator("[data-approve]").count() == 0  # maria approved already
    assert "Awaiting sales" in page.inner_text("h1")

    page.click("button:has-text('Log out')")
    login(page, "tom")
    page.goto(f"{live_server.url}/agreements/sla/3/")
    with page.expect_navigation():
        page.click("button:has-text('Approve for sales')")
    assert "This version is in effect" in page.inner_text("[data-in-effect]")
    assert "In effect" in page.inner_text("h1")
    page.goto(f"{live_server.url}/agreements/")
    assert "within 1 hour, then makes 3 attempts 1 day apart" in page.inner_text(
        "[data-sla-in-effect]"
    )

    world = World()
    handed = timezone.now()
    lead = world.lead((handed - timedelta(minutes=5)).isoformat())
    world.stage(lead, "mql", handed.isoformat())
    handoff = Handoff.objects.select_related("sla").get(lead__external_id=lead)
    assert handoff.sla.version == 3
    assert handoff.first_contact_due_at == handoff.handed_at + timedelta(hours=1)


def test_a_rep_reads_the_agreements_but_cannot_draft_or_approve(
    page: object, login: Callable, live_server: object, heads: dict
) -> None:
    draft = sla_create(
        by=heads["maria"],
        effective_from=timezone.now(),
        first_contact_hours=Decimal(2),
        attempts=6,
        attempt_spacing_days=Decimal(2),
        monthly_sal_commitment=100,
    )
    login(page, "sam")
    page.goto(f"{live_server.url}/agreements/")
    assert "Sales calls every MQL within 4 hours" in page.inner_text("[data-sla-in-effect]")
    assert page.locator("text=Draft a new version").count() == 0
    page.goto(f"{live_server.url}/agreements/sla/{draft.version}/")
    assert page.locator("[data-approve]").count() == 0
    assert page.locator("[data-edit]").count() == 0

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": token, "Referer": f"{live_server.url}/agreements/"}
    for url in [f"/agreements/sla/{draft.version}/approve/", "/agreements/sla/new/"]:
        response = page.request.post(f"{live_server.url}{url}", headers=headers)
        assert response.status == 403
        assert "CSRF verification failed" not in response.text()  # refused for who sam is
    draft.refresh_from_db()
    assert draft.marketing_approved_at is None and draft.sales_approved_at is None
    assert ServiceLevelAgreement.objects.count() == 3


def test_an_edit_after_one_approval_warns_first_and_then_resets_it(
    page: object, login: Callable, live_server: object, heads: dict
) -> None:
    login(page, "maria")
    _draft_v3(page, live_server)
    with page.expect_navigation():
        page.click("button:has-text('Approve for marketing')")
    with page.expect_navigation():
        page.click("[data-edit]")
    warning = page.inner_text("[data-approvals-warning]")
    assert warning.startswith(
        "Saving a change clears the approvals given so far (maria approved for marketing on"
    )
    page.fill("#id_attempts", "4")
    with page.expect_navigation():
        page.click("button:has-text('Save the draft')")
    assert "Draft" in page.inner_text("h1")
    assert "not yet" in page.inner_text("[data-approval=marketing]")
    assert page.locator("button:has-text('Approve for marketing')").count() == 1
    v3 = ServiceLevelAgreement.objects.get(version=3)
    assert (v3.attempts, v3.marketing_approved_at) == (4, None)


def test_the_rules_editor_checks_a_rule_as_it_is_typed_and_saves_valid_rules(
    page: object, login: Callable, live_server: object, heads: dict
) -> None:
    login(page, "maria")
    page.goto(f"{live_server.url}/agreements/lead-definition/new/")
    page.fill("#id_criteria", "Companies of 200 people or more, in DACH.")
    page.fill("#id_mql_threshold", "30")
    page.fill("#id_effective_from", _local_input(timezone.now() - timedelta(days=1)))
    page.fill("#id_rules-0-field", "company.size")
    page.select_option("#id_rules-0-operator", "gte")
    page.fill("#id_rules-0-value", "lots")
    page.fill("#id_rules-0-points", "20")
    check = page.locator("#rules-0-check")
    check.locator("text=`gte` needs a number.").wait_for()
    page.fill("#id_rules-0-value", "200")
    check.locator("text=✓ Company size ≥ 200: +20").wait_for()

    page.click("[data-add-rule]")
    new = page.locator("[data-rule-row]").last
    prefix = new.locator("input[name$='-field']").get_attribute("name").removesuffix("-field")
    assert prefix == "rules-3"  # three blank rows without JavaScript, then the added one
    page.fill(f"#id_{prefix}-field", "country")
    page.select_option(f"#id_{prefix}-operator", "in")
    page.fill(f"#id_{prefix}-value", "DE, AT, CH")
    page.fill(f"#id_{prefix}-points", "10")
    page.locator(f"#{prefix}-check >> text=Country is one of DE, AT, CH: +10").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    _screenshot(page, "rules-editor")
    with page.expect_navigation():
        page.click("button:has-text('Save as a draft')")
    assert page.url.endswith("/agreements/lead-definition/1/")
    rules = page.inner_text("[aria-label='Scoring rules']")
    assert "Company size ≥ 200: +20" in rules and "Country is one of DE, AT, CH: +10" in rules
    definition = LeadDefinition.objects.get(version=1)
    assert [(r.field, r.value) for r in definition.rules.all()] == [
        ("company.size", 200),
        ("country", ["DE", "AT", "CH"]),
    ]


def _screenshot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{page.viewport_size['width']}.png", full_page=True)


def test_the_agreements_pages_fit_a_laptop_and_a_phone(
    browser: object, login: Callable, live_server: object, heads: dict
) -> None:
    maria, tom = heads["maria"], heads["tom"]
    rules = [
        {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
        {"field": "company.size", "operator": "gte", "value": 200, "points": 20},
        {"field": "attributes.job_title", "operator": "contains", "value": "head", "points": 15},
    ]
    signed = lead_definition_create(
        by=maria,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        criteria="Companies of 200 people or more whose people engage with our content.",
        mql_threshold=50,
        rules=rules,
    )
    for head in (maria, tom):
        lead_definition_approve(definition=signed, by=head, now=datetime(2026, 1, 1, tzinfo=UTC))
    lead_definition_create(
        by=maria,
        effective_from=timezone.now(),
        criteria="Companies of 500 people or more whose people engage with our content.",
        mql_threshold=60,
        rules=[{**rules[0], "points": 40}, {**rules[1], "value": 500}, rules[2]],
    )
    sla_create(
        by=maria,
        effective_from=timezone.now(),
        first_contact_hours=Decimal(2),
        attempts=5,
        attempt_spacing_days=Decimal(1),
        monthly_sal_commitment=120,
        business_days="1,2,3,4,5",
        business_start=datetime(2026, 1, 1, 9).time(),
        business_end=datetime(2026, 1, 1, 17).time(),
        business_timezone="Europe/Berlin",
    )
    for width, height in [(1366, 900), (390, 844)]:
        context = browser.new_context(
            viewport={"width": width, "height": height}, is_mobile=width < 600
        )
        page = context.new_page()
        try:
            login(page, "tom")
            for path, name in [
                ("/agreements/", "overview"),
                ("/agreements/sla/3/", "sla-v3-diff-approve"),
                ("/agreements/lead-definition/2/", "definition-v2-diff-approve"),
                ("/agreements/lead-definition/2/edit/", "rules-editor-edit"),
            ]:
                page.goto(f"{live_server.url}{path}")
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"{path} scrolls sideways at {width} px ({scroll} px)"
                if "approve" in name:
                    button = page.locator("[data-approve]")
                    box = button.bounding_box()
                    assert box and box["x"] + box["width"] <= width
                _screenshot(page, name)
        finally:
            context.close()
