from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kpis.models import RecomputeJob
from kpis.services import kpis_recompute
from tests.conftest import World, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(world: World, sales_rep: object) -> None:
    world.campaign("A", starts_on="2026-03-01", ends_on="2026-03-31", cost=1000)
    lead = world.lead("2026-03-02T09:00:00+00:00", campaign="A", owner="sam")
    world.stage(lead, "mql", "2026-03-03T10:00:00+00:00")
    world.stage(lead, "rejected", "2026-03-03T12:00:00+00:00", reason="bad_fit")
    kpis_recompute(kind="month", periods=[date(2026, 2, 1), date(2026, 3, 1)])


def test_it_returns_a_metric_for_a_range_of_periods_with_zero_filled_gaps(
    api: APIClient, computed: None
) -> None:
    response = api.get(
        "/api/v1/kpis/",
        {"metric": "mqls", "period": "month", "start": "2026-02-01", "end": "2026-04-30"},
    )
    assert response.status_code == 200
    rows = response.json()
    assert [(r["period_start"], r["value"]) for r in rows] == [
        ("2026-02-01", 0.0),
        ("2026-03-01", 1.0),
        ("2026-04-01", 0.0),  # never computed: zero count
    ]
    march = rows[1]
    assert (march["metric"], march["period"], march["dimension"], march["key"], march["model"]) == (
        "mqls",
        "month",
        None,
        None,
        None,
    )
    assert march["computed_at"] is not None
    assert rows[2]["computed_at"] is None


def test_a_ratio_keeps_its_numerator_and_denominator(api: APIClient, computed: None) -> None:
    rows = api.get(
        "/api/v1/kpis/", {"metric": "acceptance_rate", "start": "2026-02-01", "end": "2026-03-31"}
    ).json()
    assert [(r["value"], r["numerator"], r["denominator"]) for r in rows] == [
        (None, 0.0, 0.0),
        (0.0, 0.0, 1.0),
    ]


def test_it_breaks_a_metric_down_by_a_dimension(api: APIClient, computed: None) -> None:
    rows = api.get(
        "/api/v1/kpis/",
        {"metric": "rejections", "start": "2026-03-01", "end": "2026-03-31", "dimension": "reason"},
    ).json()
    assert [(r["dimension"], r["key"], r["value"]) for r in rows] == [("reason", "bad_fit", 1.0)]


def test_attributed_revenue_defaults_to_the_linear_model(api: APIClient, computed: None) -> None:
    rows = api.get(
        "/api/v1/kpis/",
        {"metric": "attributed_revenue", "start": "2026-03-01", "end": "2026-03-31"},
    ).json()
    assert rows[0]["model"] == "linear"
    rows = api.get(
        "/api/v1/kpis/",
        {
            "metric": "campaign_roi",
            "start": "2026-03-01",
            "end": "2026-03-31",
            "dimension": "campaign",
            "model": "w_shaped",
        },
    ).json()
    assert [(r["key"], r["model"], r["value"]) for r in rows] == [("A", "w_shaped", -1.0)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "happiness"}, "metric"),
        ({"metric": "mqls", "period": "fortnight"}, "period"),
        ({"metric": "mqls", "start": "last week"}, "start"),
        ({"metric": "mqls", "start": "2026-05-01", "end": "2026-01-01"}, "start"),
        ({"metric": "mqls", "dimension": "reason"}, "dimension"),
        ({"metric": "mqls", "model": "linear"}, "model"),
        ({"metric": "attributed_revenue", "model": "gut_feeling"}, "model"),
        ({"metric": "mqls", "start": "0001-01-01"}, "start"),
        ({"metric": "mqls", "end": "9999-12-31"}, "end"),
        ({"metric": "mqls", "start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ({"metric": "mqls", "start": "2000-01-01", "end": "2026-01-01"}, "start"),
    ],
)
def test_bad_queries_get_a_clear_400(api: APIClient, params: dict, field: str) -> None:
    response = api.get("/api/v1/kpis/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_every_authenticated_user_reads_the_kpis(marketing_rep: object) -> None:
    assert token_client(marketing_rep).get("/api/v1/kpis/", {"metric": "mqls"}).status_code == 200
    assert APIClient().get("/api/v1/kpis/", {"metric": "mqls"}).status_code == 401


def test_a_manager_starts_a_recompute_and_follows_its_progress(
    marketing_manager: object, world: World, django_capture_on_commit_callbacks: object
) -> None:
    world.lead("2026-03-02T09:00:00+00:00")
    client = token_client(marketing_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/recompute/", {"since": "2026-03-01"}, format="json")
    assert response.status_code == 202
    job = response.json()
    status = client.get(f"/api/v1/recompute/{job['id']}/").json()
    assert (status["status"], status["progress"]) == ("done", 1.0)
    assert status["done_units"] == status["total_units"] > 0


def test_a_rep_cannot_start_a_recompute(sales_rep: object) -> None:
    assert token_client(sales_rep).post("/api/v1/recompute/").status_code == 403
    assert not RecomputeJob.objects.exists()


@pytest.mark.parametrize(
    ("since", "words"),
    [
        ("0001-01-01", "Must be in the years 1970 to 2100"),
        ("1990-01-01", "A recompute goes back at most 20 years (RECOMPUTE_MAX_YEARS)"),
        ("2999-01-01", "Must be in the years 1970 to 2100"),
    ],
)
def test_a_recompute_since_a_day_out_of_bounds_is_a_400_naming_since(
    marketing_manager: object, world: World, since: str, words: str
) -> None:
    response = token_client(marketing_manager).post(
        "/api/v1/recompute/", {"since": since}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["since"] and words in response.json()["since"][0]
    assert not RecomputeJob.objects.exists()


def test_a_job_whose_worker_died_reads_dead_and_a_manager_retries_it(
    marketing_manager: object, sales_rep: object, world: World,
    django_capture_on_commit_callbacks: object,
) -> None:  # fmt: skip
    from kpis.services import recompute_job_start

    world.lead("2026-11-02T09:00:00+00:00")
    job = recompute_job_start(since=date(2026, 11, 1))  # its worker dies before any unit
    client = token_client(marketing_manager)
    url = f"/api/v1/recompute/{job.pk}/"
    assert client.get(url).json()["status"] == "running"
    refused = client.post(f"{url}retry/")
    assert refused.status_code == 400
    assert "running: wait for it to finish" in refused.json()["detail"][0]
    RecomputeJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert client.get(url).json()["status"] == "dead"
    assert token_client(sales_rep).post(f"{url}retry/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}retry/")
    assert response.status_code == 202 and response.json()["status"] == "running"
    done = client.get(url).json()
    assert (done["status"], done["done_units"], done["progress"]) == ("done", job.total_units, 1)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/goals/?end=9999-12-31", "end"),
        ("/api/v1/goals/?start=0001-01-01", "start"),
        ("/api/v1/scorecard/?start=9999-12-31", "start"),
    ],
)
def test_the_goals_and_scorecard_refuse_a_day_out_of_bounds_with_a_400(
    api: APIClient, url: str, field: str
) -> None:
    response = api.get(url)
    assert response.status_code == 400
    assert "Must be in the years 1970 to 2100" in response.json()[field][0]


def test_the_definitions_page_lists_every_metric_and_model(
    client: Client, sales_rep: object
) -> None:
    from core.attribution import MODEL_LABELS
    from core.catalog import METRICS

    client.force_login(sales_rep)
    html = client.get("/definitions/").content.decode()
    for key in METRICS:
        assert f"<code>{key}</code>" in html
    for label in MODEL_LABELS.values():
        assert label in html


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_stage_event_posted_to_the_api_shows_in_the_kpis_without_a_manual_step(
    restore_base_data: None, celery_worker: object, admin_user: object
) -> None:
    api = token_client(admin_user)
    api.post(
        "/api/v1/leads/",
        {"external_id": "L-1", "created_at": "2026-03-02T09:00:00Z"},
        format="json",
    )
    response = api.post(
        "/api/v1/stage-events/",
        {
            "external_id": "SE-1",
            "lead": "L-1",
            "stage": "mql",
            "occurred_at": "2026-03-03T10:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 200

    deadline = time.monotonic() + 90
    value = None
    while time.monotonic() < deadline:
        rows = api.get(
            "/api/v1/kpis/",
            {"metric": "mqls", "period": "month", "start": "2026-03-01", "end": "2026-03-31"},
        ).json()
        value = rows[0]["value"]
        if value == 1.0:
            break
        time.sleep(1)
    assert value == 1.0


def test_an_ingest_after_a_poisoned_change_log_entry_answers_200_and_its_numbers_follow(
    api: APIClient, django_capture_on_commit_callbacks: object, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from kpis.models import ChangeSetAside
    from leads.models import FunnelChange

    # Logged before dates were checked: its periods do not exist.
    FunnelChange.objects.create(
        period="day", period_start=date(9999, 12, 31), part="leads", marked_at=timezone.now()
    )
    lead = {"external_id": "L-1", "created_at": "2026-03-02T09:00:00Z"}
    with (
        caplog.at_level(logging.ERROR, logger="kpis.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post("/api/v1/leads/", lead, format="json")
    assert response.status_code == 200
    assert "Could not recompute the logged day 9999-12-31 leads" in caplog.text
    rows = api.get(
        "/api/v1/kpis/",
        {"metric": "leads_created", "start": "2026-03-01", "end": "2026-03-31"},
    ).json()
    assert [r["value"] for r in rows if r["dimension"] is None] == [1.0]
    aside = ChangeSetAside.objects.get()
    assert (aside.period_start, aside.error[:22]) == (date(9999, 12, 31), "Must be in the years 1")
    assert not FunnelChange.objects.exists()
