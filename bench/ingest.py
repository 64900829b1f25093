"""Benchmark bulk ingest through the API against a plain bulk insert of the same rows.

    DATABASE_URL=... .venv/bin/python bench/ingest.py [--rows 10000]

Sends N new leads, the same N again (all updates), then N stage events (`mql`, which opens N
handoffs and marks their periods dirty) through POST /api/v1/..., and compares each with a
bare `bulk_create` of N leads (the baseline). Everything it writes is deleted afterwards.
"""

# isort: skip_file
from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from _setup import report, timed  # sets Django up: keep it first

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from alignment.roles import Role
from alignment.services.accounts import api_token_get_or_create, user_set_role
from leads.models import FunnelChange
from leads.models import Lead

PREFIX = "bench-ingest-"


def _cleanup() -> None:
    Lead.objects.filter(external_id__startswith=PREFIX).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    n = parser.parse_args().rows
    user, _ = get_user_model().objects.get_or_create(username="bench-ingest")
    user_set_role(user=user, role=Role.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_get_or_create(user=user).key}")
    client.defaults["SERVER_NAME"] = "localhost"
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    leads = [
        {"external_id": f"{PREFIX}{i}", "email": f"b{i}@example.com", "name": f"Bench {i}",
         "company": "Bench Ltd", "created_at": (start + timedelta(minutes=i)).isoformat()}
        for i in range(n)
    ]  # fmt: skip
    events = [
        {"external_id": f"{PREFIX}se-{i}", "lead": f"{PREFIX}{i}", "stage": "mql",
         "occurred_at": (start + timedelta(minutes=i, hours=2)).isoformat()}
        for i in range(n)
    ]  # fmt: skip
    print(f"database: {connection.vendor}; {n:,} rows per request")
    _cleanup()

    def baseline() -> None:
        Lead.objects.bulk_create(
            [Lead(external_id=r["external_id"], email=r["email"], created_at=start) for r in leads],
            batch_size=1000,
        )

    base = timed(baseline)
    _cleanup()
    report("baseline: bulk_create of the leads", base)

    def post(endpoint: str, rows: list[dict]) -> None:
        response = client.post(f"/api/v1/{endpoint}/", rows, format="json")
        assert response.status_code == 200, response.content[:500]

    seconds = timed(lambda: post("leads", leads))
    report("API: create leads", seconds, base, f"{n / seconds:,.0f} rows/s")
    seconds = timed(lambda: post("leads", leads))
    report("API: re-send the same leads (updates)", seconds, base, f"{n / seconds:,.0f} rows/s")
    seconds = timed(lambda: post("stage-events", events))
    report("API: mql stage events (opens handoffs)", seconds, base, f"{n / seconds:,.0f} rows/s")
    _cleanup()
    FunnelChange.objects.all().delete()


if __name__ == "__main__":
    main()
