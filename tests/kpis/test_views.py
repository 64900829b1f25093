from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_the_home_page_needs_a_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_the_login_page_is_open_and_logs_a_user_in(client: Client, sales_rep: object) -> None:
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "sam", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message(client: Client, sales_rep: object) -> None:
    response = client.post("/login/", {"username": "sam", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_the_home_page_shows_leads_by_stage(client: Client, sales_rep: object) -> None:
    for n, stage in enumerate(["mql", "mql", "won"]):
        Lead.objects.create(
            external_id=f"L-{n}", created_at=datetime(2026, 1, 1, tzinfo=UTC), stage=stage
        )
    client.force_login(sales_rep)
    response = client.get("/")
    assert response.status_code == 200
    funnel = dict(response.context["funnel"])
    assert (funnel["MQL"], funnel["Won"], funnel["Inquiry"]) == (2, 1, 0)
    assert b"Sales rep" in response.content
