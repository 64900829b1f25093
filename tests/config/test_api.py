"""The API's shared plumbing over HTTP: bad bodies are refused in JSON, pages are bounded."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from config.api import Pagination
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_json_nested_too_deep_is_a_400_not_a_500(api: APIClient) -> None:
    body = "[" * 5000 + "]" * 5000
    response = api.post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deep" in response.json()["detail"]


def test_a_body_over_the_limit_is_a_json_413_before_it_is_read(
    api: APIClient, settings: object
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    rows = [{"external_id": f"L-{n}", "created_at": "2026-03-02T10:00:00Z"} for n in range(50)]
    response = api.post("/api/v1/leads/", rows, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "at most 1,000" in response.json()["detail"]
    assert not Lead.objects.exists()


def test_a_list_gives_at_most_a_thousand_rows_whatever_limit_is_asked(api: APIClient) -> None:
    request = Request(APIRequestFactory().get("/api/v1/handoffs/?limit=100000000"))
    assert Pagination().get_limit(request) == 1000
    assert api.get("/api/v1/handoffs/?limit=100000000").status_code == 200


def test_signed_in_pages_and_api_answers_are_kept_out_of_shared_caches(
    client: Client, api: APIClient, admin_user: object
) -> None:
    client.force_login(admin_user)
    assert client.get("/").headers["Cache-Control"] == "private, no-store"
    assert api.get("/api/v1/handoffs/").headers["Cache-Control"] == "private, no-store"


def test_a_path_under_the_api_that_matches_nothing_is_a_json_404(
    api: APIClient, client: Client
) -> None:
    """Found by the schema fuzz: an id that is not a number (`/ideas/x/`) matches no URL, and
    Django answered its HTML 404 page where the schema promises JSON."""
    response = api.get("/api/v1/ideas/not-a-number/")
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
