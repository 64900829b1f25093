"""The shadowing API through real HTTP, with the pages' permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from alignment.models import Meeting, ShadowingSession
from alignment.roles import Role
from alignment.services.shadowing import shadowing_schedule
from leads.models import FunnelChange
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


def at(**delta: float) -> str:
    return (timezone.now().replace(microsecond=0) + timedelta(**delta)).isoformat()


def payload(**extra: object) -> dict:
    return {"host": "sam", "starts_at": at(days=1), "ends_at": at(days=1, hours=3),
            "focus": "Discovery calls", **extra}  # fmt: skip


def session(by: object, person: object, host: object, **delta: float) -> ShadowingSession:
    start = timezone.now().replace(microsecond=0) + timedelta(**(delta or {"days": 1}))
    return shadowing_schedule(
        by=by, person=person, host=host, starts_at=start, ends_at=start + timedelta(hours=2)
    )


def test_a_rep_schedules_themselves_by_default(marketing_rep: object, sales_rep: object) -> None:
    response = token_client(marketing_rep).post("/api/v1/shadowing/", payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["person"], body["person_team"], body["host"], body["host_team"]) == (
        "mia", "marketing", "sam", "sales",
    )  # fmt: skip
    assert (body["status"], body["debrief"], body["created_by"]) == ("scheduled", None, "mia")


def test_a_rep_cannot_schedule_someone_else_a_manager_can(
    marketing_rep: object, sales_rep: object, marketing_manager: object
) -> None:
    refused = token_client(sales_rep).post(
        "/api/v1/shadowing/", payload(person="mia"), format="json"
    )
    assert refused.status_code == 403
    assert not ShadowingSession.objects.exists()
    allowed = token_client(marketing_manager).post(
        "/api/v1/shadowing/", payload(person="mia"), format="json"
    )
    assert allowed.status_code == 201 and allowed.json()["person"] == "mia"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"host": "max"}, "host"),  # both in marketing
        ({"host": "ghost"}, "host"),
        ({"ends_at": at(days=3)}, "ends_at"),
        ({"starts_at": "1899-06-01T09:00:00Z"}, "starts_at"),
        ({"starts_at": at(days=1, hours=5)}, "ends_at"),
    ],
)
def test_bad_people_or_times_are_a_400_naming_the_field(
    marketing_rep: object, marketing_manager: object, sales_rep: object, change: dict, field: str
) -> None:
    response = token_client(marketing_rep).post(
        "/api/v1/shadowing/", payload(**change), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not ShadowingSession.objects.exists()


def test_the_host_reschedules_a_stranger_gets_a_403_and_nothing_changes(
    marketing_rep: object, sales_rep: object, make_user: Callable[..., object]
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    url = f"/api/v1/shadowing/{s.pk}/"
    stranger = token_client(make_user("otto", Role.SALES_REP))
    assert stranger.patch(url, {"focus": "Mine"}, format="json").status_code == 403
    assert ShadowingSession.objects.get().focus == ""
    moved = token_client(sales_rep).patch(
        url, {"starts_at": at(days=2), "ends_at": at(days=2, hours=1), "focus": "Renewals"},
        format="json",
    )  # fmt: skip
    assert moved.status_code == 200 and moved.json()["focus"] == "Renewals"


def test_cancelling_by_patch_and_then_nothing_more_changes(
    marketing_rep: object, sales_rep: object
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep)
    url = f"/api/v1/shadowing/{s.pk}/"
    client = token_client(sales_rep)
    both = client.patch(url, {"status": "cancelled", "focus": "x"}, format="json")
    assert both.status_code == 400
    assert client.patch(url, {"status": "cancelled"}, format="json").json()["status"] == "cancelled"
    assert client.patch(url, {"focus": "again"}, format="json").status_code == 400
    assert client.get("/api/v1/shadowing/?status=cancelled").json()["count"] == 1
    assert client.get("/api/v1/shadowing/?status=nonsense").status_code == 400


def test_the_person_logs_after_the_start_and_the_debrief_becomes_one_meeting(
    marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    future = session(marketing_rep, marketing_rep, sales_rep)
    mia = token_client(marketing_rep)
    too_soon = mia.post(f"/api/v1/shadowing/{future.pk}/log/", {"learned": "x"}, format="json")
    assert too_soon.status_code == 400 and "learned" in too_soon.json()
    past = session(marketing_rep, marketing_rep, sales_rep, days=-1)
    host = token_client(sales_rep)
    url = f"/api/v1/shadowing/{past.pk}/log/"
    assert host.post(url, {"learned": "x"}, format="json").status_code == 403
    logged = mia.post(url, {"learned": "Prospects ask for ROI first."}, format="json").json()
    assert (logged["status"], logged["learned"]) == ("done", "Prospects ask for ROI first.")
    FunnelChange.objects.all().delete()
    debrief = f"/api/v1/shadowing/{past.pk}/debrief/"
    first = token_client(sales_manager).post(debrief, {"starts_at": at(days=2)}, format="json")
    assert first.status_code == 201
    meeting = Meeting.objects.get(pk=first.json()["meeting"])
    assert set(meeting.attendees.values_list("username", flat=True)) == {"mia", "sam", "sally"}
    assert FunnelChange.objects.filter(part="meetings").exists()
    again = host.post(debrief, {}, format="json")
    assert (again.status_code, again.json()) == (200, {"meeting": meeting.pk, "created": False})
    assert Meeting.objects.count() == 1
    assert mia.get(f"/api/v1/shadowing/{past.pk}/").json()["debrief"] == meeting.pk


def test_a_stranger_cannot_debrief(
    marketing_rep: object, sales_rep: object, make_user: Callable[..., object]
) -> None:
    s = session(marketing_rep, marketing_rep, sales_rep, days=-1)
    stranger = token_client(make_user("otto", Role.SALES_REP))
    assert stranger.post(f"/api/v1/shadowing/{s.pk}/debrief/").status_code == 403
    unlogged = token_client(marketing_rep).post(f"/api/v1/shadowing/{s.pk}/debrief/")
    assert unlogged.status_code == 400
    assert not Meeting.objects.exists()


def test_a_rep_cannot_delete_someone_elses_session_but_can_delete_their_own(
    marketing_rep: object, sales_rep: object
) -> None:
    theirs = session(marketing_rep, marketing_rep, sales_rep)
    sam = token_client(sales_rep)
    assert sam.delete(f"/api/v1/shadowing/{theirs.pk}/").status_code == 403
    assert ShadowingSession.objects.filter(pk=theirs.pk).exists()
    mine = session(sales_rep, sales_rep, marketing_rep)
    assert sam.delete(f"/api/v1/shadowing/{mine.pk}/").status_code == 204
    assert list(ShadowingSession.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_the_list_filters_by_person_and_is_latest_first(
    marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    early = session(marketing_rep, marketing_rep, sales_rep, days=1)
    late = session(sales_rep, sales_rep, marketing_rep, days=5)
    client = token_client(sales_manager)
    assert [r["id"] for r in client.get("/api/v1/shadowing/").json()["results"]] == [
        late.pk,
        early.pk,
    ]
    mine = client.get("/api/v1/shadowing/?person=mia").json()["results"]
    assert [r["id"] for r in mine] == [early.pk]
    hosted = client.get("/api/v1/shadowing/?host=mia").json()["results"]
    assert [r["id"] for r in hosted] == [late.pk]
    nobody = client.get("/api/v1/shadowing/?host=nobody%27s-name")
    assert nobody.status_code == 400 and "host" in nobody.json()


def test_a_debrief_in_the_year_9999_is_a_400_naming_the_field(
    marketing_rep: object, sales_rep: object
) -> None:
    past = session(marketing_rep, marketing_rep, sales_rep, days=-1)
    mia = token_client(marketing_rep)
    mia.post(f"/api/v1/shadowing/{past.pk}/log/", {"learned": "x"}, format="json")
    late = {"starts_at": "9999-12-31T23:50:00Z"}
    response = mia.post(f"/api/v1/shadowing/{past.pk}/debrief/", late, format="json")
    assert response.status_code == 400 and "starts_at" in response.json()
    assert not Meeting.objects.exists()
