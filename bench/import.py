"""Benchmark the CSV import of HubSpot contacts against the bulk API on the same rows.

    DATABASE_URL=... .venv/bin/python bench/import.py [--rows 100000] [--small 20000]

Writes `--rows` fictional HubSpot contact rows (an export's columns: record id, e-mail, names,
company, create date, lifecycle stage, original source and drill-down, owner, "Became a … Date"
columns: 1.9 stage events a row) to a temporary file, then, each in a fresh process of its own,
on an empty funnel:

1. the baseline, the bulk API: the same rows as the records the import makes of them (their
   sources' campaigns once, then per 2,000 rows the leads, their first touches and their stage
   events), POSTed through Django's test client to /api/v1/..., as an integration would send
   them; the payloads are built before the clock starts;
2. the import: `import_job_create` (reads the whole file: encoding, delimiter, rows, dates) and
   one run of it (`import_job_run`, chunks of IMPORT_CHUNK_ROWS), as the task does;
3. the import again on a file of `--small` rows, for its peak memory (ru_maxrss of the
   process): flat in the file's size, the large file's peak is about the small one's.

Prints rows/s, the import's rate as a multiple of the API's (target ≥ 0.5×) and the peaks.
The KPI recompute after each commit is switched off in the measured processes (both paths
would trigger the same one); everything written is deleted afterwards.
"""

# isort: skip_file
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
USER = "bench-import"
OWNER = ("Bench", "Owner")
SOURCES = (
    "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
    "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL",
)  # fmt: skip
DRILLS = ("", "google", "newsletter")
LIFECYCLE = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
HEADER = [
    "Record ID", "Email", "First Name", "Last Name", "Company Name", "Create Date",
    "Lifecycle Stage", "Original Source", "Original Source Drill-Down 1", "Contact owner",
    "Became a Lead Date", "Became a Marketing Qualified Lead Date",
    "Became a Sales Qualified Lead Date", "Became an Opportunity Date", "Became a Customer Date",
]  # fmt: skip
BATCH = 2000


def write_contacts(path: Path, rows: int) -> None:
    """Fictional contacts, a row every five minutes from 2018; every second one became an MQL,
    every fourth an SQL, every eighth an opportunity, every sixteenth a customer."""
    start = datetime(2018, 1, 1, 8)

    def at(n: int, days: int) -> str:
        return f"{start + timedelta(minutes=5 * n, days=days):%Y-%m-%d %H:%M}"

    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\r\n")
        for n in range(rows):
            became = [
                at(n, 0),
                at(n, 1) if n % 2 == 0 else "",
                at(n, 3) if n % 4 == 0 else "",
                at(n, 7) if n % 8 == 0 else "",
                at(n, 20) if n % 16 == 0 else "",
            ]
            cells = [
                str(100_000 + n), f"contact{n}@example.com", "Contact", f"No {n}",
                f"Company {n % 997}", at(n, 0), LIFECYCLE[n % 5], SOURCES[n % 9],
                DRILLS[n % 3], " ".join(OWNER), *became,
            ]  # fmt: skip
            out.write(",".join(cells) + "\r\n")


# --- the measured processes ---------------------------------------------------------------------


def _django() -> None:
    os.environ["API_THROTTLE_EXEMPT_USERS"] = USER
    # Production settings (DEBUG on keeps every query's SQL in memory), over plain HTTP.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    sys.path.insert(0, str(BENCH))
    import _setup  # noqa: F401  (sets Django up)

    from leads.changes import funnel_change_committed

    # No KPI recompute after each commit: both paths would make the same one.
    funnel_change_committed.disconnect(dispatch_uid="kpis-recompute-changed-periods")


def _cleanup() -> None:
    from leads.models import Campaign, FunnelChange, ImportJob, Lead

    for job in ImportJob.objects.all():
        job.file.delete(save=False)
    ImportJob.objects.all().delete()
    Lead.objects.filter(external_id__startswith="hubspot-contact-").delete()
    Campaign.objects.filter(external_id__startswith="hubspot-source-").delete()
    FunnelChange.objects.all().delete()


def _owner() -> object:
    from django.contrib.auth import get_user_model

    from alignment.roles import Role
    from alignment.services.accounts import user_set_role

    user, _ = get_user_model().objects.get_or_create(
        username=USER, defaults={"first_name": OWNER[0], "last_name": OWNER[1]}
    )
    user_set_role(user=user, role=Role.ADMIN)
    return user


def _payloads(path: Path) -> tuple[list[dict], list[list[tuple[str, list[dict]]]]]:
    """The rows as the API's records, as the import makes them: every source's campaign (over
    all of its rows' days), then per batch of rows its leads, touches and stage events."""
    from leads.imports.hubspot import HubSpotContacts
    from leads.imports.presets import mapping_guess
    from leads.imports.reading import file_rows, file_shape
    from leads.imports.rows import Cells, Context
    from leads.imports.selectors import import_owner_index

    def opener() -> Any:
        return path.open("rb")

    shape = file_shape(opener)
    preset = HubSpotContacts()
    mapping = mapping_guess(preset, shape.columns)
    positions = {c: i for i, c in enumerate(shape.columns)}
    context = Context(zone=UTC, owners=import_owner_index())
    campaigns: dict[str, dict] = {}
    batches: list[list[tuple[str, list[dict]]]] = []
    current: dict[str, list[dict]] = {"leads": [], "touches": [], "stage_events": []}

    def as_json(data: dict) -> dict:
        return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}

    for row in file_rows(opener, encoding=shape.encoding, delimiter=shape.delimiter):
        cells = Cells(row, positions=positions, mapping=mapping, context=context)
        for record in preset.records(cells):
            if record.kind == "campaigns":
                known = campaigns.setdefault(record.external_id, dict(record.data))
                known["starts_on"] = min(known["starts_on"], record.data["starts_on"])
                known["ends_on"] = max(known["ends_on"], record.data["ends_on"])
            else:
                current[record.kind].append(as_json(record.data))
        if len(current["leads"]) == BATCH:
            batches.append(list(current.items()))
            current = {"leads": [], "touches": [], "stage_events": []}
    if current["leads"]:
        batches.append(list(current.items()))
    return [as_json(c) for c in campaigns.values()], batches


def child_api(path: Path) -> dict[str, Any]:
    from rest_framework.test import APIClient

    from alignment.services.accounts import api_token_get_or_create
    from _setup import peak_rss_mb

    _cleanup()
    user = _owner()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_get_or_create(user=user).key}")
    client.defaults["SERVER_NAME"] = "localhost"
    campaigns, batches = _payloads(path)
    endpoints = {"leads": "leads", "touches": "touches", "stage_events": "stage-events"}

    def post(endpoint: str, rows: list[dict]) -> None:
        response = client.post(f"/api/v1/{endpoint}/", rows, format="json")
        assert response.status_code == 200, response.content[:500]

    rows = sum(len(dict(batch)["leads"]) for batch in batches)
    started = time.perf_counter()
    post("campaigns", campaigns)
    for batch in batches:
        for kind, records in batch:
            if records:
                post(endpoints[kind], records)
    seconds = time.perf_counter() - started
    result = {"rows": rows, "seconds": seconds, "requests": 1 + 3 * len(batches)}
    result["peak_rss_mb"] = peak_rss_mb()
    _cleanup()
    return result


def child_import(path: Path) -> dict[str, Any]:
    from django.core.files import File

    from _setup import peak_rss_mb
    from leads.imports.services import import_job_create, import_job_run, import_job_start
    from leads.models import Lead, StageEvent

    _cleanup()
    _owner()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = import_job_create(
            kind="leads", upload=File(handle, name=path.name), filename=path.name, by=None
        )
    read = time.perf_counter() - started
    job = import_job_start(job=job, mode="import", queue=False)
    job = import_job_run(job_id=str(job.pk))
    seconds = time.perf_counter() - started
    assert (job.status, job.valid, job.rejected) == ("done", job.total, 0), job.error
    result = {
        "rows": job.total,
        "seconds": seconds,
        "read_seconds": read,
        "leads": Lead.objects.filter(external_id__startswith="hubspot-contact-").count(),
        "stage_events": StageEvent.objects.filter(source="import").count(),
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_setup_mb": rss_before,
        "preset": job.preset,
    }
    _cleanup()
    return result


# --- the driver ---------------------------------------------------------------------------------


def _in_fresh_process(kind: str, path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--child", choices=["api", "import"])
    parser.add_argument("--file", type=Path)
    options = parser.parse_args()
    if options.child:
        _django()
        run = child_api if options.child == "api" else child_import
        print(json.dumps(run(options.file)), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        large, small = Path(folder) / "contacts.csv", Path(folder) / "contacts-small.csv"
        write_contacts(large, options.rows)
        write_contacts(small, options.small)
        print(
            f"{options.rows:,} HubSpot contact rows ({large.stat().st_size / 1e6:.1f} MB); "
            f"{options.small:,} for the memory comparison ({small.stat().st_size / 1e6:.1f} MB)"
        )
        api = _in_fresh_process("api", large)
        imported = _in_fresh_process("import", large)
        little = _in_fresh_process("import", small)
    api_rate = api["rows"] / api["seconds"]
    import_rate = imported["rows"] / imported["seconds"]
    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)').split('@')[-1]}")
    print(
        f"{'baseline: bulk API, same rows':<44} {api['seconds']:8.1f} s  {api_rate:8,.0f} rows/s"
        f"  ({api['requests']} requests)"
    )
    print(
        f"{'CSV import (read + run)':<44} {imported['seconds']:8.1f} s  {import_rate:8,.0f} rows/s"
        f"  {import_rate / api_rate:4.2f}× the API (target ≥ 0.5×); reading the file "
        f"{imported['read_seconds']:.1f} s"
    )
    print(
        f"  wrote {imported['leads']:,} leads and {imported['stage_events']:,} stage events "
        f"(preset {imported['preset']})"
    )
    print(
        f"{'peak memory of the import (ru_maxrss)':<44} {options.small:>8,} rows: "
        f"{little['peak_rss_mb']:.0f} MB   {options.rows:,} rows: {imported['peak_rss_mb']:.0f} MB"
        f"   (Django set up: {imported['rss_after_setup_mb']:.0f} MB)"
    )


if __name__ == "__main__":
    main()
