"""The API schema (`config.schema`) says what the API answers: pages where a list answers a
page, and the errors each operation gives. Cases the schema fuzz (test_api_fuzz) found."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

#: The lists that answer a page (`config.api.paginated`, the goals' own), by path; a campaign's
#: ratings do too, under the campaign's path.
PAGED_LISTS = [
    "/api/v1/action-items/",
    "/api/v1/disputes/",
    "/api/v1/forecasts/",
    "/api/v1/goals/",
    "/api/v1/ideas/",
    "/api/v1/insights/",
    "/api/v1/lead-definitions/",
    "/api/v1/meetings/",
    "/api/v1/payout-curves/",
    "/api/v1/shadowing/",
    "/api/v1/sla-breaches/",
    "/api/v1/slas/",
    "/api/v1/spotlights/",
]


@pytest.fixture
def schema(api: APIClient) -> dict[str, Any]:
    return api.get("/api/v1/schema/", {"format": "json"}).json()


def _component(schema: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


@pytest.mark.parametrize("path", PAGED_LISTS)
def test_a_list_that_answers_a_page_is_documented_as_a_page(
    api: APIClient, schema: dict[str, Any], path: str
) -> None:
    body = api.get(path).json()
    assert set(body) == {"count", "next", "previous", "results"}
    operation = schema["paths"][path]["get"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    documented = _component(schema, answer)
    assert set(documented["properties"]) == {"count", "next", "previous", "results"}
    assert documented["properties"]["results"]["type"] == "array"
    assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}


def test_a_list_that_answers_a_plain_array_is_documented_as_one(
    api: APIClient, schema: dict[str, Any]
) -> None:
    assert isinstance(api.get("/api/v1/team-heads/").json(), list)
    answer = schema["paths"]["/api/v1/team-heads/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["type"] == "array"


def test_each_operation_documents_the_errors_it_answers(schema: dict[str, Any]) -> None:
    ideas = schema["paths"]["/api/v1/ideas/"]
    idea = schema["paths"]["/api/v1/ideas/{id}/"]
    assert set(ideas["get"]["responses"]) == {"200", "400", "401", "403", "429"}
    assert set(ideas["post"]["responses"]) == {"201", "400", "401", "403", "413", "415", "429"}
    assert set(idea["get"]["responses"]) == {"200", "401", "403", "404", "429"}
    assert set(idea["delete"]["responses"]) == {"204", "400", "401", "403", "404", "429"}
    assert set(schema["paths"]["/api/v1/team-heads/"]["get"]["responses"]) == {
        "200", "401", "403", "429",
    }  # fmt: skip
    not_found = idea["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert _component(schema, not_found)["required"] == ["detail"]
    bad = ideas["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert _component(schema, bad)["oneOf"][0]["type"] == "object"


def test_an_error_answers_the_documented_shape(api: APIClient) -> None:
    missing = api.get("/api/v1/ideas/999999/")
    assert (missing.status_code, set(missing.json())) == (404, {"detail"})
    anonymous = APIClient().get("/api/v1/ideas/")
    assert (anonymous.status_code, set(anonymous.json())) == (401, {"detail"})
    refused = api.post("/api/v1/ideas/", {"title": ""}, format="json")
    assert refused.status_code == 400 and "title" in refused.json()
