"""The alignment admin writes through the services: same rules as the API."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from alignment.models import (
    Goal,
    LeadDefinition,
    PayoutCurve,
    RevenueForecast,
    ServiceLevelAgreement,
    TeamHead,
)

pytestmark = pytest.mark.django_db

SLA_FORM = {
    "effective_from_0": "2026-01-01",
    "effective_from_1": "00:00:00",
    "first_contact_hours": "2",
    "attempts": "3",
    "attempt_spacing_days": "1",
    "monthly_sal_commitment": "50",
    "business_days": "",
    "business_timezone": "",
    "notes": "",
}


@pytest.mark.parametrize(
    "model",
    ["servicelevelagreement", "leaddefinition", "goal", "teamhead", "roundrobinmember",
     "revenueforecast", "payoutcurve", "slabreach", "salpacealert", "rescorejob"],
)  # fmt: skip
def test_every_alignment_admin_page_opens(staff: Client, model: str) -> None:
    assert staff.get(f"/admin/alignment/{model}/").status_code == 200


def test_an_sla_added_in_the_admin_is_a_new_draft_version(staff: Client) -> None:
    response = staff.post("/admin/alignment/servicelevelagreement/add/", SLA_FORM)
    assert response.status_code == 302, response.content[:3000]
    sla = ServiceLevelAgreement.objects.get(version=2)
    assert (sla.status, sla.attempts, sla.created_by.username) == ("draft", 3, "ada")


def test_the_admin_shows_service_errors_on_the_form(staff: Client) -> None:
    bad = {**SLA_FORM, "business_days": "1,2,3", "business_timezone": "Mars/Base"}
    response = staff.post("/admin/alignment/servicelevelagreement/add/", bad)
    assert response.status_code == 200
    assert "Business hours are not usable" in response.content.decode()
    assert ServiceLevelAgreement.objects.count() == 1


def test_an_approved_version_is_read_only_in_the_admin(staff: Client) -> None:
    response = staff.get("/admin/alignment/servicelevelagreement/1/change/")
    assert 'name="attempts"' not in response.content.decode()


def test_a_lead_definition_added_in_the_admin_keeps_its_rules(staff: Client) -> None:
    response = staff.post(
        "/admin/alignment/leaddefinition/add/",
        {
            "effective_from_0": "2026-01-01", "effective_from_1": "00:00:00",
            "criteria": "Fit.", "mql_threshold": "10", "notes": "",
            "rules_json": '[{"field": "company.size", "operator": "gte", "value": 10, "points": 10}]',
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:3000]
    assert LeadDefinition.objects.get().rules.get().field == "company.size"


def test_a_goal_for_a_finished_period_is_refused_in_the_admin(staff: Client) -> None:
    response = staff.post(
        "/admin/alignment/goal/add/",
        {
            "name": "Old", "metric": "sals", "target": "5", "direction": "higher",
            "period": "month", "period_start": "2020-01-01", "weight": "1",
            "dimension": "", "key": "", "model": "", "owner_team": "both",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "over" in response.content.decode()
    assert not Goal.objects.exists()


# --- service errors are form errors, never a 500 --------------------------------------------


def test_a_forecast_for_a_period_that_has_begun_is_a_form_error_in_the_admin(
    staff: Client,
) -> None:
    response = staff.post(
        "/admin/alignment/revenueforecast/add/",
        {"period": "month", "period_start": "2020-01-01", "amount": "1000", "note": ""},
    )
    assert response.status_code == 200
    assert "this one has begun" in response.content.decode()
    assert not RevenueForecast.objects.exists()


def test_a_backdated_payout_curve_is_a_form_error_in_the_admin(staff: Client) -> None:
    response = staff.post(
        "/admin/alignment/payoutcurve/add/",
        {
            "effective_from": "2020-01-01", "threshold": "0.5", "threshold_payout": "0.5",
            "target": "1", "cap": "1.5", "cap_payout": "1.5",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "from today on" in response.content.decode()
    assert not PayoutCurve.objects.exists()


def test_a_rep_made_head_of_a_team_is_a_form_error_in_the_admin(
    staff: Client, sales_rep: object
) -> None:
    response = staff.post(
        "/admin/alignment/teamhead/add/", {"team": "sales", "user": str(sales_rep.pk)}
    )
    assert response.status_code == 200
    assert "must be a sales manager" in response.content.decode()
    assert not TeamHead.objects.exists()


def finished_goal() -> Goal:
    return Goal.objects.create(
        name="Old", metric="sals", target=5, direction="higher", period="month",
        period_start=date(2020, 1, 1),
    )  # fmt: skip


def test_deleting_a_goal_of_a_finished_period_is_refused_in_the_admin(staff: Client) -> None:
    goal = finished_goal()
    response = staff.post(f"/admin/alignment/goal/{goal.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "its scorecard is final" in response.content.decode()
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_bulk_deleting_goals_in_the_admin_goes_through_the_service(staff: Client) -> None:
    old = finished_goal()
    current = Goal.objects.create(
        name="Now", metric="sals", target=5, direction="higher", period="quarter",
        period_start=date(2099, 1, 1),
    )  # fmt: skip
    for action in ("delete_selected", "delete_goals"):
        response = staff.post(
            "/admin/alignment/goal/",
            {"action": action, "_selected_action": [old.pk, current.pk], "post": "yes"},
            follow=True,
        )
        assert response.status_code == 200
        assert Goal.objects.count() == 2  # all or nothing: the finished goal refuses the lot
    assert "its scorecard is final" in response.content.decode()
    staff.post(
        "/admin/alignment/goal/",
        {"action": "delete_goals", "_selected_action": [current.pk], "post": "yes"},
    )
    assert list(Goal.objects.all()) == [old]
