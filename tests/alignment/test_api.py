"""The alignment API through real HTTP: managers write, everyone reads, heads approve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alignment.models import Goal, LeadDefinition, RevenueForecast, ServiceLevelAgreement
from alignment.roles import Role
from core.periods import next_period, period_start
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

SLA = {
    "effective_from": "2026-01-01T00:00:00Z",
    "first_contact_hours": "2",
    "attempts": 4,
    "attempt_spacing_days": "1",
    "monthly_sal_commitment": 80,
}
DEFINITION = {
    "effective_from": "2026-01-01T00:00:00Z",
    "criteria": "Mid-size companies whose people engage.",
    "mql_threshold": 50,
    "rules": [
        {"field": "company.size", "operator": "gte", "value": 200, "points": 30},
        {"field": "title", "operator": "contains", "value": "head", "points": 20},
    ],
}


def this_month() -> date:
    return period_start("month", timezone.localdate())


def next_month() -> date:
    return next_period("month", this_month())


def goal_payload(**extra: object) -> dict:
    return {
        "name": "More SALs",
        "metric": "sals",
        "target": "40",
        "period": "month",
        "period_start": next_month().isoformat(),
        "weight": "2",
        "specific": "Sales accepts 40 marketing leads.",
        "measurable": "SALs in the KPI catalog.",
        "achievable": "We made 35 last month.",
        "relevant": "Pipeline for next quarter.",
        "time_bound": "By the end of next month.",
        **extra,
    }


@pytest.fixture
def clients(
    heads: tuple[object, object], sales_rep: object, marketing_rep: object
) -> dict[str, APIClient]:
    return {
        "marketing_head": token_client(heads[0]),
        "sales_head": token_client(heads[1]),
        "sales_rep": token_client(sales_rep),
        "marketing_rep": token_client(marketing_rep),
    }


# --- SLA versions ---------------------------------------------------------------------------


def test_managers_draft_an_sla_and_both_heads_sign_it(clients: dict[str, APIClient]) -> None:
    response = clients["sales_head"].post("/api/v1/slas/", SLA, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["status"], body["in_effect"]) == (2, "draft", False)

    first = clients["marketing_head"].post(f"/api/v1/slas/{body['id']}/approve/")
    assert first.status_code == 200
    assert first.json()["approvals"]["marketing"]["by"] == "max"
    assert first.json()["approvals"]["sales"] == {"by": None, "at": None}
    assert first.json()["in_effect"] is False

    second = clients["sales_head"].post(f"/api/v1/slas/{body['id']}/approve/")
    assert (second.json()["status"], second.json()["in_effect"]) == ("approved", True)

    listed = clients["sales_rep"].get("/api/v1/slas/").json()["results"]
    assert [(v["version"], v["in_effect"]) for v in listed] == [(2, True), (1, False)]


def test_it_refuses_approval_by_a_rep(clients: dict[str, APIClient]) -> None:
    sla_id = clients["sales_head"].post("/api/v1/slas/", SLA, format="json").json()["id"]
    response = clients["sales_rep"].post(f"/api/v1/slas/{sla_id}/approve/")
    assert response.status_code == 403
    sla = ServiceLevelAgreement.objects.get(pk=sla_id)
    assert (sla.sales_approved_at, sla.marketing_approved_at) == (None, None)


def test_it_refuses_approval_by_an_admin_who_heads_no_team(
    clients: dict[str, APIClient], api: APIClient
) -> None:
    sla_id = clients["sales_head"].post("/api/v1/slas/", SLA, format="json").json()["id"]
    assert api.post(f"/api/v1/slas/{sla_id}/approve/").status_code == 403


def test_an_edit_after_approval_resets_it_over_http(clients: dict[str, APIClient]) -> None:
    sla_id = clients["sales_head"].post("/api/v1/slas/", SLA, format="json").json()["id"]
    clients["marketing_head"].post(f"/api/v1/slas/{sla_id}/approve/")
    response = clients["sales_head"].patch(
        f"/api/v1/slas/{sla_id}/", {"attempts": 5}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["approvals"]["marketing"] == {"by": None, "at": None}
    assert response.json()["attempts"] == 5


def test_an_approved_sla_cannot_be_edited(clients: dict[str, APIClient]) -> None:
    response = clients["sales_head"].patch("/api/v1/slas/1/", {"attempts": 9}, format="json")
    assert response.status_code == 400
    assert "create a new version" in str(response.json())
    assert ServiceLevelAgreement.objects.get(version=1).attempts == 6


def test_a_rep_reads_but_cannot_draft_an_sla(clients: dict[str, APIClient]) -> None:
    assert clients["marketing_rep"].get("/api/v1/slas/1/").status_code == 200
    assert clients["marketing_rep"].post("/api/v1/slas/", SLA, format="json").status_code == 403
    assert ServiceLevelAgreement.objects.count() == 1


def test_bad_sla_terms_get_a_400_and_change_nothing(clients: dict[str, APIClient]) -> None:
    bad = {**SLA, "attempts": 0, "business_days": "1,2,3", "business_timezone": "Mars/Base"}
    response = clients["sales_head"].post("/api/v1/slas/", bad, format="json")
    assert response.status_code == 400
    assert "attempts" in response.json()
    assert ServiceLevelAgreement.objects.count() == 1


def test_anonymous_requests_are_refused() -> None:
    assert APIClient().get("/api/v1/slas/").status_code in {401, 403}


# --- lead definitions -----------------------------------------------------------------------


def test_lead_definitions_with_rules_are_drafted_and_signed(clients: dict[str, APIClient]) -> None:
    response = clients["marketing_head"].post(
        "/api/v1/lead-definitions/", DEFINITION, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rules"] == DEFINITION["rules"]
    for client in ("marketing_head", "sales_head"):
        approved = clients[client].post(f"/api/v1/lead-definitions/{body['id']}/approve/")
        assert approved.status_code == 200
    assert approved.json()["in_effect"] is True
    assert clients["sales_rep"].get(f"/api/v1/lead-definitions/{body['id']}/").json()["status"] == (
        "approved"
    )


def test_a_broken_rule_gets_a_400_and_creates_nothing(clients: dict[str, APIClient]) -> None:
    payload = {
        **DEFINITION,
        "rules": [{"field": "company.size", "operator": "gte", "value": "big", "points": 5}],
    }
    response = clients["marketing_head"].post("/api/v1/lead-definitions/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["rules"] == ["Rule 1, value: `gte` needs a number."]
    assert not LeadDefinition.objects.exists()


def test_only_a_head_approves_a_lead_definition(clients: dict[str, APIClient]) -> None:
    definition_id = (
        clients["marketing_head"]
        .post("/api/v1/lead-definitions/", DEFINITION, format="json")
        .json()
    )["id"]
    response = clients["marketing_rep"].post(f"/api/v1/lead-definitions/{definition_id}/approve/")
    assert response.status_code == 403


# --- heads and the round robin --------------------------------------------------------------


def test_admins_appoint_heads_and_managers_may_not(
    api: APIClient, clients: dict[str, APIClient], make_user: Callable[..., object]
) -> None:
    make_user("tom", Role.SALES_MANAGER)
    refused = clients["sales_head"].post(
        "/api/v1/team-heads/", {"team": "sales", "username": "tom"}, format="json"
    )
    assert refused.status_code == 403
    response = api.post("/api/v1/team-heads/", {"team": "sales", "username": "tom"}, format="json")
    assert response.json() == {"team": "sales", "username": "tom"}
    listed = clients["sales_rep"].get("/api/v1/team-heads/").json()
    assert listed == [
        {"team": "marketing", "username": "max"},
        {"team": "sales", "username": "tom"},
    ]
    wrong = api.post("/api/v1/team-heads/", {"team": "marketing", "username": "sam"}, format="json")
    assert wrong.status_code == 400


def test_managers_set_the_round_robin(
    clients: dict[str, APIClient], make_user: Callable[..., object]
) -> None:
    make_user("rob", Role.SALES_REP)
    response = clients["sales_head"].put(
        "/api/v1/round-robin/", {"usernames": ["rob", "sam"]}, format="json"
    )
    assert response.status_code == 200
    assert [(m["username"], m["position"]) for m in response.json()] == [("rob", 0), ("sam", 1)]
    refused = clients["sales_rep"].put(
        "/api/v1/round-robin/", {"usernames": ["sam"]}, format="json"
    )
    assert refused.status_code == 403
    not_a_rep = clients["sales_head"].put(
        "/api/v1/round-robin/", {"usernames": ["max"]}, format="json"
    )
    assert not_a_rep.status_code == 400
    unknown = clients["sales_head"].put(
        "/api/v1/round-robin/", {"usernames": ["ghost"]}, format="json"
    )
    assert unknown.status_code == 400


# --- goals, scorecard, forecasts ------------------------------------------------------------


def test_managers_create_goals_and_reps_read_them(clients: dict[str, APIClient]) -> None:
    response = clients["marketing_head"].post("/api/v1/goals/", goal_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner_teams"] == ["marketing", "sales"]
    assert (body["direction"], body["metric"]) == ("higher", "sals")
    assert body["progress"]["pace"] is None  # the period has not started

    listed = clients["sales_rep"].get("/api/v1/goals/", {"period": "month"})
    assert listed.status_code == 200
    assert [g["name"] for g in listed.json()["results"]] == ["More SALs"]
    assert clients["sales_rep"].post(
        "/api/v1/goals/", goal_payload(), format="json"
    ).status_code == (403)
    assert Goal.objects.count() == 1


@pytest.mark.parametrize(
    ("missing", "message"),
    [("metric", "measurable"), ("target", "measurable"), ("period", "time-bound"),
     ("period_start", "time-bound")],
)  # fmt: skip
def test_it_refuses_a_goal_that_is_not_measurable_or_not_time_bound(
    clients: dict[str, APIClient], missing: str, message: str
) -> None:
    payload = goal_payload()
    del payload[missing]
    response = clients["sales_head"].post("/api/v1/goals/", payload, format="json")
    assert response.status_code == 400
    assert message in response.json()[missing][0]
    assert not Goal.objects.exists()


@pytest.mark.parametrize(
    ("sent", "owner_team", "owner_teams"),
    [
        ({"owner_teams": ["marketing"]}, "marketing", ["marketing"]),
        ({"owner_teams": ["sales"]}, "sales", ["sales"]),
        ({"owner_teams": ["sales", "marketing"]}, "both", ["marketing", "sales"]),
        ({"owner_team": "sales"}, "sales", ["sales"]),
        ({}, "both", ["marketing", "sales"]),
    ],
)
def test_a_goal_is_owned_by_one_team_or_both(
    clients: dict[str, APIClient], sent: dict, owner_team: str, owner_teams: list[str]
) -> None:
    response = clients["sales_head"].post("/api/v1/goals/", goal_payload(**sent), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["owner_team"], body["owner_teams"]) == (owner_team, owner_teams)
    again = clients["sales_rep"].get(f"/api/v1/goals/{body['id']}/").json()
    assert again["owner_team"] == owner_team


@pytest.mark.parametrize(
    "sent",
    [
        {"owner_teams": []},
        {"owner_teams": ["finance"]},
        {"owner_team": "finance"},
        {"owner_team": "marketing", "owner_teams": ["sales"]},
    ],
)
def test_it_refuses_a_goal_owned_by_no_team_it_knows(
    clients: dict[str, APIClient], sent: dict
) -> None:
    response = clients["sales_head"].post("/api/v1/goals/", goal_payload(**sent), format="json")
    assert response.status_code == 400
    assert set(response.json()) & {"owner_team", "owner_teams"}
    assert not Goal.objects.exists()


def test_a_goal_changes_its_owner_team(clients: dict[str, APIClient]) -> None:
    goal_id = (
        clients["sales_head"].post("/api/v1/goals/", goal_payload(), format="json").json()["id"]
    )
    changed = clients["marketing_head"].patch(
        f"/api/v1/goals/{goal_id}/", {"owner_teams": ["marketing"]}, format="json"
    )
    assert (changed.status_code, changed.json()["owner_team"]) == (200, "marketing")
    assert Goal.objects.get().owner_team == "marketing"


def test_managers_change_and_delete_goals(clients: dict[str, APIClient]) -> None:
    goal_id = (
        clients["sales_head"].post("/api/v1/goals/", goal_payload(), format="json").json()["id"]
    )
    changed = clients["marketing_head"].patch(
        f"/api/v1/goals/{goal_id}/", {"target": "45"}, format="json"
    )
    assert (changed.status_code, changed.json()["target"]) == (200, "45.000000")
    assert clients["sales_rep"].delete(f"/api/v1/goals/{goal_id}/").status_code == 403
    assert clients["sales_head"].delete(f"/api/v1/goals/{goal_id}/").status_code == 204
    assert not Goal.objects.exists()


def test_the_scorecard_reports_attainment_and_the_shared_multiplier(
    clients: dict[str, APIClient],
) -> None:
    clients["sales_head"].post("/api/v1/goals/", goal_payload(), format="json")
    response = clients["sales_rep"].get(
        "/api/v1/scorecard/", {"period": "month", "start": next_month().isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period_start"] == next_month().isoformat()
    assert [g["name"] for g in body["goals"]] == ["More SALs"]
    assert body["goals"][0]["attainment"] == 0.0  # no SALs yet
    assert body["goals"][0]["owner_team"] == "both"
    assert [(t["team"], t["goals"], t["payout"]) for t in body["teams"]] == [
        ("marketing", 1, 0.0),
        ("sales", 1, 0.0),
    ]
    assert (body["attainment"], body["payout_multiplier"]) == (0.0, 0.0)
    assert body["curve"] == {
        "threshold": 0.5, "threshold_payout": 0.5, "target": 1.0, "cap": 1.5, "cap_payout": 1.5,
    }  # fmt: skip
    assert clients["sales_rep"].get("/api/v1/scorecard/", {"period": "year"}).status_code == 400


def test_forecasts_are_entered_before_the_period_and_refused_after(
    clients: dict[str, APIClient],
) -> None:
    ahead = {"period": "month", "period_start": next_month().isoformat(), "amount": "120000"}
    response = clients["sales_head"].post("/api/v1/forecasts/", ahead, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["accuracy"] is None
    late = {**ahead, "period_start": this_month().isoformat()}
    refused = clients["sales_head"].post("/api/v1/forecasts/", late, format="json")
    assert refused.status_code == 400
    assert "before its period starts" in refused.json()["period_start"][0]
    assert clients["marketing_rep"].post(
        "/api/v1/forecasts/", ahead, format="json"
    ).status_code == (403)
    assert [
        f["amount"] for f in clients["marketing_rep"].get("/api/v1/forecasts/").json()["results"]
    ] == ["120000.00"]
    assert RevenueForecast.objects.get().amount == Decimal(120000)


def test_payout_curves_are_set_by_managers(clients: dict[str, APIClient]) -> None:
    payload = {"effective_from": next_month().isoformat(), "threshold_payout": "0"}
    assert clients["sales_rep"].post(
        "/api/v1/payout-curves/", payload, format="json"
    ).status_code == (403)
    response = clients["sales_head"].post("/api/v1/payout-curves/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["threshold_payout"] == "0.0000"
    bad = clients["sales_head"].post(
        "/api/v1/payout-curves/", {**payload, "cap": "0.5"}, format="json"
    )
    assert bad.status_code == 400


def test_sla_breaches_are_listed_for_everyone(clients: dict[str, APIClient]) -> None:
    response = clients["sales_rep"].get("/api/v1/sla-breaches/")
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_the_schema_documents_the_alignment_endpoints(clients: dict[str, APIClient]) -> None:
    schema = clients["sales_rep"].get("/api/v1/schema/", {"format": "json"}).json()
    for path in ("/api/v1/slas/{id}/approve/", "/api/v1/goals/", "/api/v1/scorecard/"):
        assert path in schema["paths"]


def test_the_default_sla_answers_no_author_as_the_schema_says_it_may(
    clients: dict[str, APIClient],
) -> None:
    """Found by the schema fuzz: the migrations' SLA has no author, and the schema said
    `created_by` was always a string (and the list an array, not a page)."""
    body = clients["sales_rep"].get("/api/v1/slas/").json()
    assert [sla["created_by"] for sla in body["results"]] == [None]
    schema = clients["sales_rep"].get("/api/v1/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["SlaOut"]["properties"]["created_by"]["nullable"]
