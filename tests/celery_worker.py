"""A real Celery worker process for the tests that need the broker (REDIS_URL set)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _database_url_for(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None) -> Iterator[object]:
    """Start `celery worker` on the test database; yields the Celery app, producing for real."""
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    if not settings.REDIS_URL:
        message = "set REDIS_URL (and DATABASE_URL to PostgreSQL) to run the broker tests"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the broker tests: {message}")
        pytest.skip(message)
    if connection.vendor != "postgresql":
        pytest.fail(
            "The broker tests need DATABASE_URL on PostgreSQL (a worker can't share SQLite)."
        )

    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "CELERY_WORKER_FOR_TESTS": "1",
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the files the tests upload (imports)
    }
    app.control.purge()
    (ROOT / ".pytest_cache").mkdir(exist_ok=True)
    log = open(ROOT / ".pytest_cache" / "celery-worker.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start; see {log.name}")
        previous = app.conf.task_always_eager
        app.conf.task_always_eager = False
        yield app
        app.conf.task_always_eager = previous
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
