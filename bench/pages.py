"""Server time of each page, against one indexed snapshot read as the baseline.

    DATABASE_URL=... .venv/bin/python bench/pages.py [--runs 5]

Logs in as the demo's head of sales (`tom`) and a sales rep (`jonas`) through Django's test
client (no network) and prints the median of warm runs per page. Needs demo users and a
recompute (`manage.py seed_demo`, `manage.py recompute_kpis`).
"""

# isort: skip_file
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("ALLOWED_HOSTS", "testserver")

from _setup import report  # sets Django up: keep it first

from django.contrib.auth import get_user_model
from django.test import Client

from kpis.models import KpiSnapshot
from leads.models import Campaign

PAGES = [
    ("/", "tom"),
    ("/?period=week", "tom"),
    ("/?channel=webinar", "tom"),
    ("/?owner=jonas", "tom"),
    ("/meeting/", "tom"),
    ("/campaigns/", "tom"),
    ("/campaigns/{campaign}/", "tom"),
    ("/definitions/", "tom"),
    ("/leads/inbox/", "jonas"),
    ("/leads/inbox/", "tom"),
    ("/api/v1/kpis/?metric=mqls&period=month", "tom"),
    ("/api/v1/handoffs/?status=pending", "tom"),
]


def median_seconds(fn: object, runs: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    users = get_user_model().objects.in_bulk(["tom", "jonas"], field_name="username")
    if len(users) < 2:
        raise SystemExit("Needs the demo users tom and jonas: run `manage.py seed_demo`.")
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    campaign = Campaign.objects.values_list("external_id", flat=True).first()
    base = median_seconds(
        lambda: list(KpiSnapshot.objects.filter(metric="mqls", period="month", dimension="")[:12]),
        runs,
    )
    report("baseline: 12 snapshots by index", base)
    for path, who in PAGES:
        url = path.format(campaign=campaign)

        def get(url: str = url, who: str = who) -> None:
            response = clients[who].get(url)
            assert response.status_code == 200, (url, response.status_code)

        report(f"{url} ({who})", median_seconds(get, runs), base)


if __name__ == "__main__":
    main()
