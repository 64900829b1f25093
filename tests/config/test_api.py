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


def _wsgi_post(path: str, body_pieces: list[bytes], token: str) -> tuple[str, bytes]:
    """A chunked POST through the WSGI application, as gunicorn hands one over: no
    Content-Length, a de-chunked `wsgi.input`, `Transfer-Encoding: chunked`."""
    import io

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.input": io.BytesIO(b"".join(body_pieces)),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    seen: list[str] = []
    # As Django's test client does: the handler would close the test's database connection
    # (inside the test's transaction) at the start and end of the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, lambda status, headers: seen.append(status)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen[0], body


def test_a_chunked_body_without_a_length_is_read_whole(admin_user: object) -> None:
    import json

    from alignment.services.accounts import api_token_get_or_create

    token = api_token_get_or_create(user=admin_user).key
    rows = [{"external_id": f"CH-{n}", "created_at": "2026-03-02T09:00:00Z"} for n in range(3)]
    status, body = _wsgi_post("/api/v1/leads/", [json.dumps(rows).encode()], token)
    assert status.startswith("200"), body
    assert Lead.objects.filter(external_id__startswith="CH-").count() == 3


def test_a_chunked_body_over_the_limit_gets_a_json_413(
    admin_user: object, settings: object
) -> None:
    import json

    from alignment.services.accounts import api_token_get_or_create

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    token = api_token_get_or_create(user=admin_user).key
    status, body = _wsgi_post("/api/v1/leads/", [b"[" + b" " * 200 + b"]"], token)
    assert status.startswith("413")
    assert "over 100 bytes" in json.loads(body)["detail"]


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
