"""The database going away under load: clean 503s while it is gone, nothing half-written, and
the app serving again once it is back, without a restart."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

from alignment.roles import Role
from alignment.services.accounts import api_token_get_or_create
from leads.models import Lead
from tests.celery_worker import _database_url_for
from tests.servers import gunicorn
from tests.tcp_proxy import TcpProxy

BATCH = 5
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.mark.django_db
def test_a_page_answers_503_with_a_page_that_reads_nothing_while_the_database_is_down(
    client: Client, admin_user: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(admin_user)

    def gone(*args: object, **kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("kpis.views._home_fragments", gone)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Tandem is back in a moment" in response.content.decode()


@pytest.mark.django_db
def test_an_api_call_answers_a_json_503_and_other_errors_a_json_500(
    api: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gone(*args: object, **kwargs: object) -> None:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr("leads.api.LeadIngest.upsert", staticmethod(gone))
    api.raise_request_exception = False
    lead = {"external_id": "L-1", "created_at": "2026-03-02T09:00:00Z"}
    response = api.post("/api/v1/leads/", [lead], format="json")
    assert (response.status_code, response["Content-Type"]) == (503, "application/json")
    assert "nothing was saved" in response.json()["detail"]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("leads.api.LeadIngest.upsert", staticmethod(broken))
    response = api.post("/api/v1/leads/", [lead], format="json")
    assert (response.status_code, response.json()) == (
        500,
        {"detail": "Server error; it was logged."},
    )


def _call(url: str, *, body: object = None, headers: dict | None = None) -> tuple[int, dict, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a database server's restart is PostgreSQL's")
def test_postgresql_going_away_under_load_gives_clean_503s_and_the_app_recovers(
    restore_base_data: None, make_user: Callable[..., object], tmp_path: Path
) -> None:
    token = api_token_get_or_create(user=make_user("ingest", Role.ADMIN)).key
    settings_dict = connection.settings_dict
    proxy = TcpProxy(
        (settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432))
    )
    proxy.start()
    url = _database_url_for({**settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port})
    auth = {"Authorization": f"Token {token}"}
    with (
        contextlib.closing(proxy),
        gunicorn(url, tmp_path / "gunicorn.log", workers=2, threads=2) as base,
    ):
        for _ in range(100):
            try:
                if _call(f"{base}/api/v1/goals/", headers=auth)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail((tmp_path / "gunicorn.log").read_text())

        answers: list[tuple[str, int, dict, str]] = []
        stop = threading.Event()

        def ingest(worker: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                batch = f"W{worker}-{n}"
                leads = [
                    {"external_id": f"{batch}-{k}", "created_at": datetime(2026, 3, 2, tzinfo=UTC).isoformat()}
                    for k in range(BATCH)
                ]  # fmt: skip
                status, headers, body = _call(f"{base}/api/v1/leads/", body=leads, headers=auth)
                answers.append((batch, status, headers, body))

        load = [threading.Thread(target=ingest, args=(w,)) for w in range(3)]
        for thread in load:
            thread.start()
        time.sleep(1.5)
        proxy.stop()  # the server goes down: open connections drop, new ones are refused
        time.sleep(1.5)
        during = _call(f"{base}/", headers={"Cookie": "sessionid=someones-session"})
        proxy.start()  # and comes back on the same address
        time.sleep(2.5)
        stop.set()
        for thread in load:
            thread.join()
        after = _call(f"{base}/api/v1/goals/", headers=auth)

    statuses = [status for _, status, _, _ in answers]
    log = (tmp_path / "gunicorn.log").read_text()
    assert set(statuses) <= {200, 503}, ([a for a in answers if a[1] not in (200, 503)][:3], log)
    assert 503 in statuses, "the outage was never seen"
    failed_at = statuses.index(503)
    assert 200 in statuses[failed_at:], "no ingest succeeded after the database came back"
    for _, status, headers, body in answers:
        if status == 503:
            assert headers["Content-Type"] == "application/json"
            assert headers["Retry-After"] == "30"
            assert "nothing was saved" in json.loads(body)["detail"]
    assert during[0] == 503 and "Tandem is back in a moment" in during[2]
    assert after[0] == 200

    stored = {}
    for external_id in Lead.objects.filter(external_id__startswith="W").values_list(
        "external_id", flat=True
    ):
        batch = external_id.rsplit("-", 1)[0]
        stored[batch] = stored.get(batch, 0) + 1
    for batch, status, _, _ in answers:
        if status == 200:
            assert stored.get(batch) == BATCH, batch  # answered as saved: saved whole
        else:
            assert stored.get(batch, 0) in (0, BATCH), batch  # never half a batch
