"""Redis stopped: the API and the pages still take writes, and the KPIs catch up after."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kpis.models import KpiSnapshot
from leads.models import FunnelChange, Handoff, Lead
from tests.conftest import World

pytestmark = pytest.mark.django_db

DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once, like a stopped Redis


@pytest.fixture
def redis_down(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production wiring (a Redis cache, a Redis broker, the throttle on), Redis stopped."""
    from rest_framework.views import APIView

    from config.celery import app
    from config.throttling import ApiRateThrottle

    saved = app.conf.broker_url, app.conf.task_always_eager  # before the settings change them
    settings.REDIS_URL = DEAD
    settings.CACHES = {"default": {"BACKEND": "config.cache.ResilientRedisCache", "LOCATION": DEAD}}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(APIView, "throttle_classes", [ApiRateThrottle])
    app.conf.broker_url, app.conf.task_always_eager = DEAD, False
    app._pool = None  # the broker connections, made again from the URL above
    app.amqp._producer_pool = None
    monkeypatch.setattr("config.queue._state", {"down_until": 0.0})
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    app._pool = None
    app.amqp._producer_pool = None


def _lead(n: int) -> dict:
    at = (timezone.now() - timedelta(days=1)).isoformat()
    return {"external_id": f"R-{n}", "created_at": at}


def test_with_redis_stopped_ingest_and_page_writes_succeed_and_the_kpis_catch_up_after(
    redis_down: None,
    api: APIClient,
    client: Client,
    world: World,
    sales_rep: object,
    django_capture_on_commit_callbacks: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world.lead((timezone.now() - timedelta(hours=2)).isoformat(), external_id="hot", owner="sam")
    world.stage("hot", "mql", (timezone.now() - timedelta(hours=1)).isoformat())
    FunnelChange.objects.all().delete()
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/leads/", [_lead(1), _lead(2)], format="json")
    assert response.status_code == 200, response.content
    assert Lead.objects.filter(external_id__startswith="R-").count() == 2

    client.force_login(sales_rep)
    pending = Handoff.objects.get(lead__external_id="hot")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/leads/inbox/{pending.pk}/accept/", {"next": "/leads/inbox/"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Handoff.Status.ACCEPTED
    assert client.get("/").status_code == 200  # the pages render without their cache

    # Nothing was queued; the periods wait in the change log, and the outage was logged.
    assert FunnelChange.objects.exists()
    assert "Could not queue kpis.tasks.kpis_recompute_dirty_task" in caplog.text
    assert "Redis can't be reached" in caplog.text


def test_when_redis_is_back_the_beat_sweep_recomputes_what_was_written_meanwhile(
    redis_down: None, api: APIClient, django_capture_on_commit_callbacks: object, settings: object
) -> None:
    from kpis.tasks import kpis_recompute_dirty_task

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/leads/", [_lead(1)], format="json").status_code == 200
    day = (timezone.now() - timedelta(days=1)).date()
    created = KpiSnapshot.objects.filter(
        metric="leads_created", period="month", period_start=day.replace(day=1), dimension=""
    )
    assert not created.exists()  # not recomputed: the broker took nothing

    # Beat sends its every-minute sweep once Redis answers; the sweep reads the change log.
    assert settings.CELERY_BEAT_SCHEDULE["kpis-sweep-dirty-periods"] == {
        "task": kpis_recompute_dirty_task.name,
        "schedule": 60.0,
    }
    kpis_recompute_dirty_task.apply()
    assert created.get().value == 1
    assert not FunnelChange.objects.exists()


def test_the_throttle_lets_requests_through_while_redis_is_down(
    redis_down: None, api: APIClient, settings: object
) -> None:
    settings.API_THROTTLE_BURST = (2, 1)
    statuses = [api.get("/api/v1/goals/").status_code for _ in range(4)]
    assert statuses == [200] * 4
