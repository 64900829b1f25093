"""Dates at the calendar's edge are refused everywhere they come in, with a 400 naming the
field and nothing written (an SLA or definition from year 1, a goal, forecast or payout curve
in December 9999: each answered 500 before)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from alignment.models import (
    Goal,
    LeadDefinition,
    PayoutCurve,
    RevenueForecast,
    ServiceLevelAgreement,
)
from config.dates import date_in_range_problem
from tests.alignment.test_api import DEFINITION, SLA, goal_payload
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

EDGES = ["0001-01-01", "9999-12-01", "1969-12-01", "2101-01-01"]


def test_the_range_is_the_configured_years(settings: object) -> None:
    from datetime import date

    settings.DATE_MIN_YEAR, settings.DATE_MAX_YEAR = 2000, 2030
    assert date_in_range_problem(date(2000, 1, 1)) == ""
    assert date_in_range_problem(date(2030, 12, 31)) == ""
    assert date_in_range_problem(date(1999, 12, 31)) == (
        "Must be in the years 2000 to 2030 (DATE_MIN_YEAR, DATE_MAX_YEAR)."
    )


@pytest.fixture
def heads_api(heads: tuple[object, object]) -> tuple[APIClient, APIClient]:
    return token_client(heads[0]), token_client(heads[1])


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize(
    ("url", "payload", "field", "model", "head"),
    [
        ("/api/v1/slas/", lambda d: {**SLA, "effective_from": f"{d}T00:00:00Z"}, "effective_from", ServiceLevelAgreement, 1),
        ("/api/v1/lead-definitions/", lambda d: {**DEFINITION, "effective_from": f"{d}T00:00:00Z"}, "effective_from", LeadDefinition, 0),
        ("/api/v1/goals/", lambda d: goal_payload(period_start=d), "period_start", Goal, 0),
        ("/api/v1/forecasts/", lambda d: {"period": "month", "period_start": d, "amount": "1"}, "period_start", RevenueForecast, 1),
        ("/api/v1/payout-curves/", lambda d: {"effective_from": d, "threshold_payout": "0"}, "effective_from", PayoutCurve, 1),
    ],
    ids=["sla", "lead-definition", "goal", "forecast", "payout-curve"],
)  # fmt: skip
def test_an_agreement_goal_or_forecast_at_the_calendars_edge_is_a_400_naming_the_field(
    heads_api: tuple[APIClient, APIClient],
    day: str,
    url: str,
    payload: object,
    field: str,
    model: type,
    head: int,
) -> None:
    before = model.objects.count()
    response = heads_api[head].post(url, payload(day), format="json")
    assert response.status_code == 400, response.content
    assert "Must be in the years 1970 to 2100" in str(response.json()[field])
    assert model.objects.count() == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_sla_page_refuses_a_start_at_the_calendars_edge(
    client: Client, heads: tuple[object, object], day: str
) -> None:
    client.force_login(heads[1])
    form = {
        "effective_from": f"{day}T00:00",
        "first_contact_hours": "2",
        "attempts": "4",
        "attempt_spacing_days": "1",
        "monthly_sal_commitment": "80",
    }
    before = ServiceLevelAgreement.objects.count()
    response = client.post("/agreements/sla/new/", form)
    assert response.status_code == 400
    assert "Must be in the years 1970 to 2100" in response.content.decode()
    assert ServiceLevelAgreement.objects.count() == before
