from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from alignment import views
from alignment.models import LeadDefinition, ServiceLevelAgreement
from alignment.roles import Role
from alignment.services.lead_definitions import lead_definition_approve, lead_definition_create
from alignment.services.sla import sla_approve, sla_update
from tests.conftest import csv_rows, draft

pytestmark = pytest.mark.django_db


def test_a_user_creates_an_api_token_on_the_profile_page(
    client: Client, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    assert (
        "token" not in client.get("/profile/").context
        or client.get("/profile/").context["token"] is None
    )
    response = client.post("/profile/", follow=True)
    token = Token.objects.get(user=marketing_rep)
    assert token.key in response.content.decode()


def test_replacing_a_token_invalidates_the_old_one(client: Client, marketing_rep: object) -> None:
    old = Token.objects.create(user=marketing_rep).key
    client.force_login(marketing_rep)
    client.post("/profile/")
    assert Token.objects.get(user=marketing_rep).key != old
    assert not Token.objects.filter(key=old).exists()


def test_the_command_prints_a_users_token(
    sales_rep: object, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_api_token", "sam")
    printed = capsys.readouterr().out.strip()
    assert printed == Token.objects.get(user=sales_rep).key
    call_command("create_api_token", "sam")
    assert capsys.readouterr().out.strip() == printed


def test_the_command_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost")


# --- the Agreements pages -------------------------------------------------------------------


RULES = [
    {"field": "segment", "operator": "equals", "value": "enterprise", "points": 30},
    {"field": "company.size", "operator": "gte", "value": 200, "points": 20},
]
SLA_POST = {
    "effective_from": "2026-05-01T09:00",
    "first_contact_hours": "2",
    "attempts": "5",
    "attempt_spacing_days": "1",
    "monthly_sal_commitment": "120",
    "business_days": ["1", "2", "3", "4", "5"],
    "business_start": "09:00",
    "business_end": "17:00",
    "business_timezone": "Europe/Berlin",
    "notes": "Faster first contact.",
}


def _rules_post(rules: list[dict], blank: int = 1) -> dict[str, str]:
    data = {"rules-TOTAL_FORMS": str(len(rules) + blank), "rules-INITIAL_FORMS": "0"}
    for i, rule in enumerate(rules):
        for key in ("field", "operator", "value", "points"):
            data[f"rules-{i}-{key}"] = str(rule[key])
    for i in range(len(rules), len(rules) + blank):
        data[f"rules-{i}-operator"] = "equals"
    return data


DEFINITION_POST = {
    "effective_from": "2026-05-01T09:00",
    "criteria": "Enterprise companies that engage.",
    "mql_threshold": "40",
    "notes": "",
}


@pytest.fixture
def people(make_user: Callable[..., object], heads: tuple[object, object]) -> dict[str, object]:
    """Every role: max heads marketing, sally heads sales, grace manages sales but heads
    nothing, the reps, an admin."""
    return {
        "marketing_head": heads[0],
        "sales_head": heads[1],
        "other_manager": make_user("grace", Role.SALES_MANAGER),
        "marketing_rep": make_user("mia", Role.MARKETING_REP),
        "sales_rep": make_user("sam", Role.SALES_REP),
        "admin": make_user("ada", Role.ADMIN),
    }


@pytest.fixture
def versions(people: dict[str, object]) -> dict[str, object]:
    """SLA v1 (migration, in effect) and a draft v2; lead definition v1 signed, v2 a draft."""
    marketing, sales = people["marketing_head"], people["sales_head"]
    definition = lead_definition_create(
        by=marketing,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        criteria="Companies that fit.",
        mql_threshold=50,
        rules=RULES,
    )
    for head in (marketing, sales):
        lead_definition_approve(
            definition=definition, by=head, now=datetime(2026, 1, 1, tzinfo=UTC)
        )
    definition_draft = lead_definition_create(
        by=marketing,
        effective_from=datetime(2026, 5, 1, tzinfo=UTC),
        criteria="Companies that fit, stricter.",
        mql_threshold=60,
        rules=[{**RULES[0], "points": 40}],
    )
    return {"sla": draft(marketing, first_contact_hours=2), "definition": definition_draft}


READ_URLS = [
    "/agreements/",
    "/agreements/sla/",
    "/agreements/sla/1/",
    "/agreements/sla/2/",
    "/agreements/lead-definition/",
    "/agreements/lead-definition/1/",
    "/agreements/lead-definition/2/",
]
MANAGER_URLS = [
    "/agreements/sla/new/",
    "/agreements/sla/2/edit/",
    "/agreements/lead-definition/new/",
    "/agreements/lead-definition/2/edit/",
]
WRITE_POSTS = [
    *MANAGER_URLS,
    "/agreements/lead-definition/rules/check/",
    "/agreements/sla/2/approve/",
    "/agreements/lead-definition/2/approve/",
]
ROLES = ["marketing_head", "sales_head", "other_manager", "marketing_rep", "sales_rep", "admin"]
MANAGERS = {"marketing_head", "sales_head", "other_manager", "admin"}


@pytest.mark.parametrize("url", READ_URLS + MANAGER_URLS + WRITE_POSTS[-3:])
def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, versions: dict, url: str) -> None:
    response = client.get(url) if url not in WRITE_POSTS[-3:] else client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", READ_URLS)
def test_everyone_signed_in_reads_every_agreements_page(
    client: Client, people: dict, versions: dict, who: str, url: str
) -> None:
    client.force_login(people[who])
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", MANAGER_URLS)
def test_only_managers_open_the_draft_and_edit_forms(
    client: Client, people: dict, versions: dict, who: str, url: str
) -> None:
    client.force_login(people[who])
    response = client.get(url)
    assert response.status_code == (200 if who in MANAGERS else 403)


@pytest.mark.parametrize("who", ["marketing_rep", "sales_rep"])
@pytest.mark.parametrize("url", WRITE_POSTS)
def test_a_reps_writes_are_refused_and_change_nothing(
    client: Client, people: dict, versions: dict, who: str, url: str
) -> None:
    client.force_login(people[who])
    before = list(ServiceLevelAgreement.objects.values()), list(LeadDefinition.objects.values())
    response = client.post(url, {**SLA_POST, **DEFINITION_POST, "prefix": "rules-0"})
    assert response.status_code == 403
    after = list(ServiceLevelAgreement.objects.values()), list(LeadDefinition.objects.values())
    assert after == before


def test_a_refusal_says_why(rf: RequestFactory, people: dict, versions: dict) -> None:
    """The 403 page (templates/403.html) shows the reason the view gives."""
    request = rf.post("/agreements/sla/new/", SLA_POST)
    request.user = people["sales_rep"]
    with pytest.raises(PermissionDenied, match=r"Only managers .* draft and edit versions"):
        views.sla_create_view(request)
    request = rf.post("/agreements/sla/2/approve/")
    request.user = people["other_manager"]
    with pytest.raises(PermissionDenied, match="Only the head of marketing or the head of sales"):
        views.sla_approve_view(request, version=2)


def test_a_rep_sees_the_agreements_but_no_draft_edit_or_approve_controls(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_rep"])
    overview = client.get("/agreements/").content.decode()
    assert "within 4 hours" in overview and "Draft a new version" not in overview
    detail = client.get("/agreements/sla/2/").content.decode()
    assert "Approve for" not in detail and "Edit the draft" not in detail


def test_the_overview_says_the_agreements_in_effect_and_who_heads_each_team(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["marketing_rep"])
    response = client.get("/agreements/")
    html = response.content.decode()
    assert (
        "Sales calls every MQL within 4 hours, then makes 6 attempts 2 days apart; "
        "marketing delivers 100 SALs a month." in html
    )
    assert "Companies that fit." in html and "50 points" in html
    assert "Segment is enterprise: +30" in html and "Company size ≥ 200: +20" in html
    assert "Head of marketing" in html and "(max)" in html and "(sally)" in html
    assert [p["version"].version for p in response.context["pending"]] == [2, 2]


def test_with_nothing_in_effect_a_manager_is_asked_to_draft_the_first_version(
    client: Client, people: dict
) -> None:
    ServiceLevelAgreement.objects.all().delete()
    client.force_login(people["other_manager"])
    html = client.get("/agreements/").content.decode()
    assert "No SLA is in effect" in html and "No lead definition is in effect" in html
    assert "Draft the first version" in html and 'href="/agreements/sla/new/"' in html


def test_the_version_list_shows_each_versions_status_and_approvals(
    client: Client, people: dict, versions: dict
) -> None:
    sla_approve(sla=versions["sla"], by=people["sales_head"])
    client.force_login(people["sales_rep"])
    rows = client.get("/agreements/sla/").context["rows"]
    assert [(r["version"].version, r["status"].label) for r in rows] == [
        (2, "awaiting marketing"),
        (1, "in effect"),
    ]
    html = client.get("/agreements/sla/").content.decode()
    assert "sally" in html


def test_a_version_shows_its_diff_against_the_version_in_effect(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_rep"])
    html = client.get("/agreements/sla/2/").content.decode()
    assert "Changes against v1, the version in effect" in html
    assert "4 hours" in html and "2 hours" in html
    definition = client.get("/agreements/lead-definition/2/")
    diff = definition.context["rules_diff"]
    assert diff.removed == ["Company size ≥ 200: +20"]
    assert [c.new for c in diff.changed] == ["Segment is enterprise: +40"]
    assert "50 points" in definition.content.decode()  # the threshold, old → new


def test_only_the_head_of_a_team_sees_the_button_to_approve_for_it(
    client: Client, people: dict, versions: dict
) -> None:
    for who, button in [
        ("marketing_head", "Approve for marketing"),
        ("sales_head", "Approve for sales"),
        ("other_manager", None),
        ("admin", None),
    ]:
        client.force_login(people[who])
        html = client.get("/agreements/sla/2/").content.decode()
        assert (button in html) if button else ("Approve for" not in html), who
    sla_approve(sla=versions["sla"], by=people["marketing_head"])
    client.force_login(people["marketing_head"])
    assert "Approve for" not in client.get("/agreements/sla/2/").content.decode()


@pytest.mark.parametrize("who", ["other_manager", "admin", "marketing_rep"])
def test_nobody_but_a_head_approves(client: Client, people: dict, versions: dict, who: str) -> None:
    client.force_login(people[who])
    assert client.post("/agreements/sla/2/approve/").status_code == 403
    versions["sla"].refresh_from_db()
    assert versions["sla"].marketing_approved_at is None
    assert versions["sla"].sales_approved_at is None


def test_both_heads_approve_and_the_version_is_in_effect(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["marketing_head"])
    response = client.post("/agreements/sla/2/approve/", follow=True)
    assert "You approved SLA v2 for marketing. It waits for the head of sales." in (
        response.content.decode()
    )
    client.force_login(people["sales_head"])
    response = client.post("/agreements/sla/2/approve/", follow=True)
    html = response.content.decode()
    assert "both heads signed, it is in effect" in html
    assert "This version is in effect" in html
    sla = ServiceLevelAgreement.objects.get(version=2)
    assert sla.is_approved and sla.sales_approved_by == people["sales_head"]


def test_a_head_cannot_approve_terms_edited_after_they_opened_the_version(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_head"])
    page = client.get("/agreements/sla/2/")
    seen = page.context["terms_digest"]
    assert f'name="seen" value="{seen}"' in page.content.decode()
    sla_update(sla=versions["sla"], by=people["other_manager"], attempts=7)  # meanwhile

    response = client.post("/agreements/sla/2/approve/", {"seen": seen}, follow=True)
    assert "changed since you opened it" in response.content.decode()
    sla = ServiceLevelAgreement.objects.get(version=2)
    assert sla.sales_approved_at is None and not sla.is_approved
    fresh = client.get("/agreements/sla/2/").context["terms_digest"]
    client.post("/agreements/sla/2/approve/", {"seen": fresh})
    sla.refresh_from_db()
    assert sla.sales_approved_by == people["sales_head"]


def test_another_heads_approval_does_not_change_what_the_first_head_read(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_head"])
    seen = client.get("/agreements/lead-definition/2/").context["terms_digest"]
    client.force_login(people["marketing_head"])
    client.post("/agreements/lead-definition/2/approve/")
    client.force_login(people["sales_head"])
    client.post("/agreements/lead-definition/2/approve/", {"seen": seen})
    assert LeadDefinition.objects.get(version=2).is_approved


def test_approving_an_approved_version_says_why_it_cannot(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_head"])
    response = client.post("/agreements/sla/1/approve/", follow=True)
    assert "is approved and part of the history" in response.content.decode()


def test_a_manager_drafts_an_sla_prefilled_from_the_version_in_effect(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["other_manager"])
    form = client.get("/agreements/sla/new/").context["form"]
    assert form.initial["attempts"] == 6 and form.initial["monthly_sal_commitment"] == 100
    response = client.post("/agreements/sla/new/", SLA_POST)
    assert response.status_code == 302 and response["Location"] == "/agreements/sla/3/"
    sla = ServiceLevelAgreement.objects.get(version=3)
    assert (sla.first_contact_hours, sla.attempts, sla.business_days) == (
        Decimal(2),
        5,
        "1,2,3,4,5",
    )
    assert sla.created_by == people["other_manager"] and not sla.is_approved


def test_bad_sla_terms_show_on_their_fields_answer_400_and_change_nothing(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["marketing_head"])
    count = ServiceLevelAgreement.objects.count()
    bad = {**SLA_POST, "attempts": "0", "business_timezone": "Mars/Olympus", "effective_from": ""}
    response = client.post("/agreements/sla/new/", bad)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["attempts"] == ["Must be at least 1."]  # the service's words
    assert errors["effective_from"] == ["Say from when the version applies."]
    assert "Business hours are not usable" in errors["business_days"][0]
    assert ServiceLevelAgreement.objects.count() == count
    html = response.content.decode()
    assert "Must be at least 1." in html


def test_saving_a_draft_unchanged_keeps_its_approval(
    client: Client, people: dict, versions: dict
) -> None:
    sla_approve(sla=versions["sla"], by=people["marketing_head"])
    client.force_login(people["marketing_head"])
    page = client.get("/agreements/sla/2/edit/")
    form = page.context["form"]
    data = {
        name: form[name].value() if name != "business_days" else form.initial["business_days"]
        for name in form.fields
    }
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["effective_from"] = form["effective_from"].as_widget().split('value="')[1].split('"')[0]
    assert client.post("/agreements/sla/2/edit/", data).status_code == 302
    versions["sla"].refresh_from_db()
    assert versions["sla"].marketing_approved_at is not None


def test_the_edit_page_warns_that_saving_clears_the_approvals_and_saving_does(
    client: Client, people: dict, versions: dict
) -> None:
    sla_approve(sla=versions["sla"], by=people["marketing_head"])
    client.force_login(people["sales_head"])
    html = client.get("/agreements/sla/2/edit/").content.decode()
    assert "Saving a change clears the approvals given so far (max approved for marketing on" in (
        html
    )
    assert client.post("/agreements/sla/2/edit/", SLA_POST).status_code == 302
    versions["sla"].refresh_from_db()
    assert versions["sla"].marketing_approved_at is None
    assert versions["sla"].first_contact_hours == Decimal(2) and versions["sla"].attempts == 5


def test_an_approved_version_cannot_be_edited(client: Client, people: dict, versions: dict) -> None:
    client.force_login(people["marketing_head"])
    response = client.get("/agreements/sla/1/edit/")
    assert response.status_code == 302 and response["Location"] == "/agreements/sla/1/"
    posted = client.post("/agreements/sla/1/edit/", SLA_POST)
    assert posted.status_code == 400
    assert ServiceLevelAgreement.objects.get(version=1).attempts == 6


def test_a_manager_drafts_a_lead_definition_with_rules_typed_as_text(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_head"])
    rules = [
        {"field": "country", "operator": "in", "value": "DE, AT, CH", "points": 10},
        {"field": "company.size", "operator": "gte", "value": "200", "points": 20},
        {"field": "phone", "operator": "exists", "value": "false", "points": -5},
    ]
    response = client.post(
        "/agreements/lead-definition/new/", {**DEFINITION_POST, **_rules_post(rules)}
    )
    assert response.status_code == 302
    definition = LeadDefinition.objects.get(version=3)
    assert [(r.field, r.operator, r.value, r.points) for r in definition.rules.all()] == [
        ("country", "in", ["DE", "AT", "CH"], 10),
        ("company.size", "gte", 200, 20),
        ("phone", "exists", False, -5),
    ]


def test_a_bad_rule_shows_beside_its_row_answers_400_and_saves_nothing(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["sales_head"])
    rules = [{"field": "company.size", "operator": "gte", "value": "lots", "points": 20}]
    response = client.post(
        "/agreements/lead-definition/new/", {**DEFINITION_POST, **_rules_post(rules)}
    )
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["value"] == ["`gte` needs a number."]
    assert "`gte` needs a number." in response.content.decode()
    assert not LeadDefinition.objects.filter(version=3).exists()


def test_editing_a_definitions_rules_keeps_the_unchanged_ones(
    client: Client, people: dict, versions: dict
) -> None:
    lead_definition_approve(definition=versions["definition"], by=people["sales_head"])
    client.force_login(people["marketing_head"])
    page = client.get("/agreements/lead-definition/2/edit/")
    assert "Saving a change clears the approvals given so far (sally approved for sales" in (
        page.content.decode()
    )
    formset = page.context["formset"]
    data = {
        **DEFINITION_POST,
        "criteria": "Companies that fit, stricter.",
        "mql_threshold": "60",
        "rules-TOTAL_FORMS": str(formset.total_form_count()),
        "rules-INITIAL_FORMS": "1",
        "rules-0-field": "segment",
        "rules-0-operator": "equals",
        "rules-0-value": "enterprise",
        "rules-0-points": "40",
    }
    data["effective_from"] = (
        page.context["form"]["effective_from"].value().strftime("%Y-%m-%dT%H:%M")
    )
    for i in range(1, formset.total_form_count()):
        data[f"rules-{i}-operator"] = "equals"
    assert client.post("/agreements/lead-definition/2/edit/", data).status_code == 302
    versions["definition"].refresh_from_db()
    assert versions["definition"].sales_approved_at is not None  # nothing changed
    data["rules-1-field"], data["rules-1-value"], data["rules-1-points"] = "name", "x", "1"
    data["rules-0-DELETE"] = "on"
    assert client.post("/agreements/lead-definition/2/edit/", data).status_code == 302
    versions["definition"].refresh_from_db()
    assert versions["definition"].sales_approved_at is None
    assert [r.field for r in versions["definition"].rules.all()] == ["name"]


@pytest.mark.parametrize(
    ("row", "answer"),
    [
        ({"field": "company.size", "operator": "gte", "value": "lots", "points": "5"},
         "`gte` needs a number."),
        ({"field": "company.size", "operator": "gte", "value": "200", "points": "5"},
         "✓ Company size ≥ 200: +5"),
        ({"field": "", "operator": "in", "value": "DE", "points": "5"},
         "Name a lead field or an attribute path"),
        ({"field": "", "operator": "equals", "value": "", "points": ""}, ""),
    ],
)  # fmt: skip
def test_the_rule_check_answers_as_a_rule_is_typed(
    client: Client, people: dict, row: dict, answer: str
) -> None:
    client.force_login(people["marketing_head"])
    data = {f"rules-4-{k}": v for k, v in row.items()} | {"prefix": "rules-4"}
    response = client.post("/agreements/lead-definition/rules/check/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode().strip()
    assert answer in text if answer else text == ""


def test_the_rule_check_refuses_a_row_it_cannot_name(client: Client, people: dict) -> None:
    client.force_login(people["marketing_head"])
    response = client.post("/agreements/lead-definition/rules/check/", {"prefix": "x"})
    assert response.status_code == 400


def test_a_lead_definition_draft_offers_its_what_if_and_an_approved_version_does_not(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["marketing_head"])
    draft = client.get("/agreements/lead-definition/2/")
    start = f'action="/leads/what-if/start/{versions["definition"].pk}/"'
    assert start in draft.content.decode()
    approved = client.get("/agreements/lead-definition/1/").content.decode()
    assert "/leads/what-if/start/" not in approved


def test_huge_numbers_and_edge_dates_in_a_draft_answer_400_and_save_nothing(
    client: Client, people: dict, versions: dict
) -> None:
    client.force_login(people["other_manager"])
    before = ServiceLevelAgreement.objects.count()
    form = client.get("/agreements/sla/new/").context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data["business_days"] = form.initial.get("business_days") or []
    for bad in [
        {"monthly_sal_commitment": str(10**12)},
        {"effective_from": "9999-12-31T23:00"},
    ]:
        response = client.post("/agreements/sla/new/", {**data, **bad})
        assert response.status_code == 400, bad
    assert ServiceLevelAgreement.objects.count() == before


# --- the versions as CSV ---------------------------------------------------------------------


def test_the_versions_of_an_agreement_download_as_csv_with_who_signed_them(
    client: Client,
    marketing_rep: object,
    signed_sla: Callable,
    heads: tuple[object, object],
    settings: object,
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    signed = signed_sla()
    later = draft(heads[0], effective_from=datetime(2026, 6, 1, tzinfo=UTC), attempts=5)
    client.force_login(marketing_rep)
    page = client.get("/agreements/sla/").content.decode()
    assert 'class="csv" href="?format=csv"' in page
    response = client.get("/agreements/sla/?format=csv")
    assert response["Content-Disposition"].startswith('attachment; filename="tandem-sla-versions-')
    rows = csv_rows(response)
    assert rows[0] == ["Version", "Status", "Effective from", "Marketing approved by",
                       "Marketing approved at", "Sales approved by", "Sales approved at",
                       "Created by", "Created at"]  # fmt: skip
    versions = [int(r[0]) for r in rows[1:]]
    assert versions == sorted(versions, reverse=True)  # newest first, as the page
    by_version = {int(r[0]): r for r in rows[1:]}
    assert by_version[later.version][1:2] == ["Draft"]
    assert by_version[later.version][3:5] == ["", ""]
    current = by_version[signed.version]
    assert current[1:3] == ["In effect", "2026-01-01 01:00:00"]  # in the site's time zone
    assert (current[3], current[5]) == ("max", "sally")
    definitions = csv_rows(client.get("/agreements/lead-definition/?format=csv"))
    assert definitions[0] == rows[0]
    assert len(definitions) == 1 + LeadDefinition.objects.count()
