"""The bad-input catalog: every kind of bad input the API takes in, each a clear 400 (413 for
a body over the limit) that names what is wrong, and nothing written.

Where each case is tested:
- malformed JSON, wrong types, unknown enum values, invalid and edge dates, dates in the far
  future, negative and huge amounts, references to missing records: here, on the ingest
  endpoints (one table) and on the decisions and agreements that take numbers;
- JSON nested too deep, a body over the limit (JSON 413 before parsing), a chunked body:
  tests/config/test_api.py;
- agreements, goals, forecasts and payout curves at the calendar's edge: tests/config/test_dates.py;
- CSV with a wrong encoding, delimiter or missing columns: tests/leads/imports/test_reading.py and
  test_services.py (one fixture file per error, tests/fixtures/imports/README.md);
- formula injection, exported safely: tests/config/test_csv_export.py.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from leads.models import Campaign, ContactAttempt, Deal, Lead, StageEvent, Touch
from tests.conftest import World

pytestmark = pytest.mark.django_db

AT = "2026-03-02T09:00:00Z"
LEAD = {"external_id": "L-1", "created_at": AT}
MODELS = [Campaign, Lead, Touch, StageEvent, ContactAttempt, Deal]

# (endpoint, a row, the field the 400 names)
BAD_ROWS = [
    ("leads", {**LEAD, "created_at": 20260302}, "created_at"),  # a wrong type
    ("leads", {**LEAD, "external_id": ["L-1"]}, "external_id"),
    ("leads", {**LEAD, "attributes": "not an object"}, "attributes"),
    ("leads", {**LEAD, "email": "not an address"}, "email"),
    ("leads", {**LEAD, "created_at": "2026-02-30T09:00:00Z"}, "created_at"),  # no such day
    ("leads", {**LEAD, "created_at": "9999-12-31T23:59:59Z"}, "created_at"),  # the edges
    ("leads", {**LEAD, "created_at": "0001-01-01T00:00:00Z"}, "created_at"),
    ("leads", {**LEAD, "created_at": "2201-01-01T00:00:00Z"}, "created_at"),  # far future
    ("leads", {**LEAD, "owner": "nobody"}, "owner"),  # a missing record
    ("leads", {**LEAD, "campaign": "no-such-campaign"}, "campaign"),
    ("leads", {"created_at": AT}, "external_id"),  # a missing field
    ("campaigns", {"external_id": "C", "name": "C", "channel": "email", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "cost": "-1"}, "cost"),
    ("campaigns", {"external_id": "C", "name": "C", "channel": "email", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "cost": "1e20"}, "cost"),
    ("campaigns", {"external_id": "C", "name": "C", "channel": "!!!", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}, "channel"),
    ("campaigns", {"external_id": "C", "name": "C", "channel": "email", "starts_on": "2026-01-01", "ends_on": "9999-12-31"}, "ends_on"),
    ("stage-events", {"external_id": "E", "lead": "L-0", "stage": "promoted", "occurred_at": AT}, "stage"),  # unknown enum
    ("stage-events", {"external_id": "E", "lead": "missing", "stage": "mql", "occurred_at": AT}, "lead"),
    ("touches", {"external_id": "T", "lead": "L-0", "campaign": "missing", "occurred_at": AT}, "campaign"),
    ("attempts", {"external_id": "A", "lead": "L-0", "occurred_at": AT, "channel": "pigeon", "outcome": "reached"}, "channel"),
    ("attempts", {"external_id": "A", "lead": "L-0", "occurred_at": AT, "channel": "call", "outcome": "maybe"}, "outcome"),
    ("deals", {"external_id": "D", "lead": "L-0", "amount": "-5", "created_at": AT}, "amount"),  # negative
    ("deals", {"external_id": "D", "lead": "L-0", "amount": "100000000000000", "created_at": AT}, "amount"),  # huge
    ("deals", {"external_id": "D", "lead": "L-0", "amount": "NaN", "created_at": AT}, "amount"),
    ("deals", {"external_id": "D", "lead": "L-0", "amount": "Infinity", "created_at": AT}, "amount"),
    ("deals", {"external_id": "D", "lead": "L-0", "amount": "10", "created_at": AT, "status": "maybe"}, "status"),
    ("deals", {"external_id": "D", "lead": "missing", "amount": "10", "created_at": AT}, "lead"),
]  # fmt: skip


@pytest.fixture
def counted(world: World) -> dict[str, int]:
    world.lead(AT, external_id="L-0")
    return {model.__name__: model.objects.count() for model in MODELS}


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.parametrize(
    ("endpoint", "row", "field"),
    BAD_ROWS,
    ids=[f"{endpoint}-{field}-{i}" for i, (endpoint, _, field) in enumerate(BAD_ROWS)],
)
def test_a_bad_row_is_a_400_naming_its_field_and_nothing_of_the_batch_is_written(
    api: APIClient, counted: dict[str, int], endpoint: str, row: dict, field: str
) -> None:
    good = (
        {**row, "external_id": "GOOD"} if endpoint != "leads" else {**LEAD, "external_id": "GOOD"}
    )
    response = api.post(
        f"/api/v1/{endpoint}/", [good, row] if "external_id" in row else [row], format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in {e["field"] for e in errors}, errors
    assert all(e["message"] for e in errors)
    assert _counts() == counted


@pytest.mark.parametrize(
    "body",
    [b'[{"external_id": "L-1",', b"not json", b"\xff\xfe[]", b""],
    ids=["cut-off", "not-json", "not-utf8", "empty"],
)
def test_a_body_that_is_not_json_is_a_400_that_says_so(
    api: APIClient, counted: dict[str, int], body: bytes
) -> None:
    response = api.post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json().get("detail") or response.json().get("errors")
    assert _counts() == counted


@pytest.mark.parametrize("body", [{"external_id": "L-1"}, "L-1", 7, None], ids=repr)
def test_a_body_that_is_not_a_list_of_rows_is_a_400(
    api: APIClient, counted: dict[str, int], body: object
) -> None:
    response = api.post("/api/v1/leads/", body, format="json")
    assert response.status_code == 400
    assert _counts() == counted


def test_a_batch_over_the_limit_is_a_400(api: APIClient, settings: object) -> None:
    settings.API_MAX_BATCH = 2
    rows = [{**LEAD, "external_id": f"L-{n}"} for n in range(3)]
    response = api.post("/api/v1/leads/", rows, format="json")
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_a_wrong_content_type_is_a_415(api: APIClient) -> None:
    response = api.post("/api/v1/leads/", "<leads/>", content_type="application/xml")
    assert response.status_code == 415
