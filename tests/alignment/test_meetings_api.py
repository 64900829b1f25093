"""The meetings API (alignment/api_meetings.py): usernames and campaign ids in and out, the
pages' permissions (403 and nothing changed), 400s for bad input, and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alignment.models import ActionItem, Meeting
from alignment.roles import Role
from alignment.services.meetings import action_item_add, meeting_create
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

BODY = {
    "kind": "campaign_kickoff",
    "starts_at": "2026-05-14T10:00:00",
    "ends_at": "2026-05-14T11:00:00",
    "attendees": ["sam", "mia"],
    "campaign": "C-spring",
    "agenda": "- goals",
    "notes": "",
}


def plan(by: object, *attendees: object, **fields: object) -> Meeting:
    start = timezone.make_aware(datetime(2026, 5, 12, 10))
    values = {
        "kind": "weekly_alignment",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "attendees": list(attendees),
        "notes": "Original notes",
        **fields,
    }
    return meeting_create(by=by, **values)


@pytest.fixture
def spring(world: object) -> str:
    return world.campaign("Spring webinar", external_id="C-spring")


def test_anyone_signed_in_creates_a_meeting_with_usernames_and_a_campaign_id(
    sales_rep: object, marketing_rep: object, spring: str
) -> None:
    response = token_client(sales_rep).post("/api/v1/meetings/", BODY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    m = Meeting.objects.get()
    assert body["id"] == m.pk
    assert body["attendees"] == ["mia", "sam"] or body["attendees"] == ["sam", "mia"]
    assert {a["username"]: a["team"] for a in body["attendance"]} == {
        "sam": "sales", "mia": "marketing"
    }  # fmt: skip
    assert (body["campaign"], body["has_marketing"], body["has_sales"]) == ("C-spring", True, True)
    assert body["created_by"] == "sam" and body["open_action_items"] == 0
    assert m.starts_at == timezone.make_aware(datetime(2026, 5, 14, 10))  # the org's zone


def test_the_list_is_filtered_by_kind(sales_rep: object) -> None:
    plan(sales_rep, sales_rep)
    plan(sales_rep, sales_rep, kind="brainstorm", title="Ideas hour")
    client = token_client(sales_rep)
    rows = client.get("/api/v1/meetings/", {"kind": "brainstorm"}).json()["results"]
    assert [r["title"] for r in rows] == ["Ideas hour"]
    assert client.get("/api/v1/meetings/").json()["count"] == 2
    assert client.get("/api/v1/meetings/", {"kind": "party"}).status_code == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "1899-12-31T10:00:00"}, "starts_at"),
        ({"ends_at": "3000-01-01T10:00:00"}, "ends_at"),
        ({"ends_at": "2026-05-14T09:00:00"}, "ends_at"),
        ({"starts_at": "10000-01-01T10:00:00"}, "starts_at"),
        ({"attendees": ["sam", "nobody"]}, "attendees"),
        ({"attendees": []}, "attendees"),
        ({"campaign": "C-none"}, "campaign"),
        ({"kind": "party"}, "kind"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(
    sales_rep: object, marketing_rep: object, spring: str, change: dict, field: str
) -> None:
    response = token_client(sales_rep).post("/api/v1/meetings/", {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Meeting.objects.exists()


def test_only_attendees_or_managers_patch_a_meeting(
    make_user: Callable[..., object],
    sales_rep: object,
    marketing_rep: object,
    sales_manager: object,
) -> None:
    outsider = make_user("otto", Role.SALES_REP)
    m = plan(marketing_rep, sales_rep)  # mia created it, sam attends
    for user in (outsider, marketing_rep):
        response = token_client(user).patch(
            f"/api/v1/meetings/{m.pk}/", {"notes": "Changed"}, format="json"
        )
        assert response.status_code == 403
    m.refresh_from_db()
    assert m.notes == "Original notes"
    for user, notes in [(sales_rep, "Attendee's"), (sales_manager, "Manager's")]:
        response = token_client(user).patch(
            f"/api/v1/meetings/{m.pk}/", {"notes": notes, "attendees": ["sam", "mia"]},
            format="json",
        )  # fmt: skip
        assert response.status_code == 200
        assert response.json()["notes"] == notes
        assert response.json()["has_marketing"] is True
    m.refresh_from_db()
    assert m.notes == "Manager's"


def test_a_patch_with_bad_times_changes_nothing(sales_rep: object) -> None:
    m = plan(sales_rep, sales_rep)
    response = token_client(sales_rep).patch(
        f"/api/v1/meetings/{m.pk}/",
        {"notes": "Changed", "ends_at": "2026-05-12T09:00:00"},
        format="json",
    )
    assert response.status_code == 400 and "ends_at" in response.json()
    m.refresh_from_db()
    assert m.notes == "Original notes"


def test_reps_cant_delete_others_meetings_but_their_own(
    sales_rep: object, marketing_rep: object, marketing_manager: object
) -> None:
    theirs = plan(marketing_rep, sales_rep, marketing_rep)
    mine = plan(sales_rep, sales_rep)
    client = token_client(sales_rep)
    assert client.delete(f"/api/v1/meetings/{theirs.pk}/").status_code == 403
    assert Meeting.objects.filter(pk=theirs.pk).exists()
    assert client.delete(f"/api/v1/meetings/{mine.pk}/").status_code == 204
    assert not Meeting.objects.filter(pk=mine.pk).exists()
    assert (
        token_client(marketing_manager).delete(f"/api/v1/meetings/{theirs.pk}/").status_code == 204
    )


def test_action_items_are_added_by_attendees_with_an_owners_username(
    make_user: Callable[..., object], sales_rep: object, marketing_rep: object
) -> None:
    outsider = make_user("otto", Role.SALES_REP)
    m = plan(sales_rep, sales_rep)
    body = {"text": "Send the deck", "owner": "mia", "due_on": "2026-05-19"}
    url = f"/api/v1/meetings/{m.pk}/action-items/"
    assert token_client(outsider).post(url, body, format="json").status_code == 403
    assert not ActionItem.objects.exists()
    response = token_client(sales_rep).post(url, body, format="json")
    assert response.status_code == 201
    out = response.json()
    assert (out["owner"], out["due_on"], out["done"], out["meeting"]) == (
        "mia", "2026-05-19", False, m.pk
    )  # fmt: skip
    assert out["created_by"] == "sam"
    rows = token_client(outsider).get(url).json()["results"]  # everyone reads
    assert [r["text"] for r in rows] == ["Send the deck"]
    for bad in [{"owner": "nobody"}, {"due_on": "1899-01-01"}, {"text": ""}]:
        response = token_client(sales_rep).post(url, {**body, **bad}, format="json")
        assert response.status_code == 400, bad
        assert next(iter(bad)) in response.json()
    assert ActionItem.objects.count() == 1


def test_the_owner_ticks_an_item_off_but_changes_nothing_else(
    make_user: Callable[..., object], sales_rep: object
) -> None:
    owner = make_user("olga", Role.MARKETING_REP)  # owns it, does not attend
    stranger = make_user("stan", Role.MARKETING_REP)
    m = plan(sales_rep, sales_rep)
    item = action_item_add(meeting=m, text="Call", owner=owner, due_on=date(2026, 5, 19),
                           by=sales_rep)  # fmt: skip
    url = f"/api/v1/action-items/{item.pk}/"
    assert token_client(stranger).patch(url, {"done": True}, format="json").status_code == 403
    response = token_client(owner).patch(url, {"done": True, "text": "Mine"}, format="json")
    assert response.status_code == 403  # a text change is the attendees'
    item.refresh_from_db()
    assert (item.is_done, item.text) == (False, "Call")
    response = token_client(owner).patch(url, {"done": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["done"], response.json()["done_by"]) == (True, "olga")
    response = token_client(sales_rep).patch(
        url, {"done": False, "text": "Call twice", "due_on": "2026-05-20"}, format="json"
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.is_done, item.text, item.due_on) == (False, "Call twice", date(2026, 5, 20))


def test_an_overdue_item_says_so(sales_rep: object) -> None:
    m = plan(sales_rep, sales_rep)
    item = action_item_add(meeting=m, text="Call", owner=sales_rep,
                           due_on=timezone.localdate() - timedelta(days=1), by=sales_rep)  # fmt: skip
    assert token_client(sales_rep).get(f"/api/v1/action-items/{item.pk}/").json()["overdue"]


def test_an_item_patch_with_a_bad_date_changes_nothing(sales_rep: object) -> None:
    m = plan(sales_rep, sales_rep)
    item = action_item_add(meeting=m, text="Call", owner=sales_rep, due_on=date(2026, 5, 19),
                           by=sales_rep)  # fmt: skip
    response = token_client(sales_rep).patch(
        f"/api/v1/action-items/{item.pk}/", {"done": True, "due_on": "3000-01-01"}, format="json"
    )
    assert response.status_code == 400 and "due_on" in response.json()
    item.refresh_from_db()
    assert (item.is_done, item.due_on) == (False, date(2026, 5, 19))


def test_the_api_needs_a_login(sales_rep: object) -> None:
    m = plan(sales_rep, sales_rep)
    assert APIClient().get("/api/v1/meetings/").status_code in (401, 403)
    assert APIClient().patch(f"/api/v1/meetings/{m.pk}/", {"notes": "x"}).status_code in (401, 403)


def test_the_schema_lists_the_meeting_paths(sales_rep: object) -> None:
    paths = token_client(sales_rep).get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/meetings/",
        "/api/v1/meetings/{id}/",
        "/api/v1/meetings/{id}/action-items/",
        "/api/v1/action-items/",
        "/api/v1/action-items/{id}/",
    ):
        assert path in paths
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/meetings/{id}/"])
    assert "patch" in paths["/api/v1/action-items/{id}/"]


def test_action_items_are_listed_by_owner_and_state(
    sales_rep: object, marketing_rep: object
) -> None:
    m = plan(sales_rep, sales_rep, marketing_rep)
    mine = action_item_add(meeting=m, text="Mine", owner=sales_rep, due_on=date(2026, 5, 19),
                           by=sales_rep)  # fmt: skip
    action_item_add(meeting=m, text="Hers", owner=marketing_rep, due_on=date(2026, 5, 18),
                    by=sales_rep)  # fmt: skip
    client = token_client(marketing_rep)
    assert [r["text"] for r in client.get("/api/v1/action-items/").json()["results"]] == [
        "Hers", "Mine"
    ]  # fmt: skip
    rows = client.get("/api/v1/action-items/", {"owner": "sam", "done": "false"}).json()
    assert [r["id"] for r in rows["results"]] == [mine.pk]
    assert (
        client.get("/api/v1/action-items/", {"owner": "sam", "done": "true"}).json()["count"] == 0
    )
    response = client.get("/api/v1/action-items/", {"owner": "nobody"})
    assert response.status_code == 400 and "owner" in response.json()
