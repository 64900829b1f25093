"""The alignment admin writes through the services: same rules as the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from alignment.models import (
    AuditEntry,
    Goal,
    LeadDefinition,
    PayoutCurve,
    RevenueForecast,
    ServiceLevelAgreement,
    TeamHead,
)
from alignment.roles import Role

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


def _user_form(client: Client, user: object, **changes: object) -> dict[str, object]:
    """The admin's user form of `user` as it stands, with `changes`: what a save posts."""
    form = client.get(f"/admin/auth/user/{user.pk}/change/").context["adminform"].form
    data: dict[str, object] = {}
    for name, bound in form.fields.items():
        if name == "password":
            continue
        value = form[name].value()
        if isinstance(bound.widget, forms.SplitDateTimeWidget):
            moment = timezone.localtime(value) if value else None
            data[f"{name}_0"] = f"{moment:%Y-%m-%d}" if moment else ""
            data[f"{name}_1"] = f"{moment:%H:%M:%S}" if moment else ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_a_role_or_sign_in_change_made_in_the_admin_user_form_is_in_the_audit_log(
    staff: Client, make_user: Callable[..., object], admin_user: object
) -> None:
    sam = make_user("sam", Role.SALES_REP)
    manager = Group.objects.get(name=Role.SALES_MANAGER.value)
    unchanged = staff.post(f"/admin/auth/user/{sam.pk}/change/", _user_form(staff, sam))
    assert unchanged.status_code == 302
    assert not AuditEntry.objects.filter(target_type="auth.user").exists()  # nothing changed

    data = _user_form(staff, sam, groups=[manager.pk], is_active=False, first_name="Sam")
    response = staff.post(f"/admin/auth/user/{sam.pk}/change/", data)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(target_type="auth.user", target_id=str(sam.pk))
    assert (entry.action, entry.actor, entry.actor_name) == (
        "user.access_changed",
        admin_user,
        "ada",
    )
    assert entry.changes == {"role": ["Sales rep", "Sales manager"], "is_active": [True, False]}
    sam.refresh_from_db()
    assert not sam.is_active and sam.first_name == "Sam"

    added = staff.post(
        "/admin/auth/user/add/",
        {"username": "nina", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9",
         "usable_password": "true"},
    )  # fmt: skip
    assert added.status_code == 302
    nina = get_user_model().objects.get(username="nina")
    entry = AuditEntry.objects.get(target_id=str(nina.pk), target_type="auth.user")
    assert entry.action == "user.created" and entry.actor == admin_user
    assert entry.changes["is_active"] == [None, True] and "role" not in entry.changes
