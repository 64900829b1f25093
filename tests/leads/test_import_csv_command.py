"""`manage.py import_csv`: what it prints, that a file with invalid rows imports nothing
unless asked, and that an import process killed mid-file is finished by a resume without a
record twice (PostgreSQL: a real process, really killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from leads.imports.services import import_job_resume
from leads.models import Campaign, ImportJob, Lead, StageEvent, Touch
from tests.celery_worker import _database_url_for
from tests.leads.imports.samples import fixture_path

ROOT = Path(__file__).resolve().parents[2]


def command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_csv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_file_with_invalid_rows_imports_nothing_names_them_and_fails(
    owners: tuple[object, object],
) -> None:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 of 5 rows invalid: nothing was imported"):
        call_command(
            "import_csv", "leads", str(fixture_path("hubspot-contacts-two-bad-rows.csv")),
            stdout=out, stderr=err,
        )  # fmt: skip
    assert out.getvalue().splitlines()[0] == (
        "hubspot-contacts-two-bad-rows.csv: UTF-8, comma-separated, 5 rows; "
        "preset: HubSpot contacts"
    )
    assert err.getvalue().splitlines() == [
        "2 rows rejected:",
        "  Row 3, column \"Create Date\": cannot read '31/31/2018' as a date",
        '  Row 5, column "Contact owner": no user has the username, e-mail or name '
        "'Olga Unknown'",
    ]
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_valid_rows_imports_the_valid_ones_and_writes_the_rejected_ones_to_fix(
    owners: tuple[object, object], tmp_path: Path
) -> None:
    rejected = tmp_path / "rejected.csv"
    out, _ = command(
        "leads", str(fixture_path("hubspot-contacts-two-bad-rows.csv")), "--valid-rows",
        "--rejected", str(rejected), "--chunk-rows", "2",
    )  # fmt: skip
    assert "  Imported 2 of 5 rows (40%)" in out.splitlines()
    assert out.splitlines()[-1] == "Imported 3 rows (3 created, 0 updated), rejected 2."
    assert Lead.objects.count() == 3
    lines = rejected.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].endswith(",error") and len(lines) == 3
    assert lines[1].startswith("202,") and lines[2].startswith("204,")


@pytest.mark.django_db
def test_a_dry_run_only_checks(owners: tuple[object, object]) -> None:
    out, _ = command("leads", str(fixture_path("hubspot-contacts.csv")), "--dry-run")
    assert out.splitlines()[-1] == "All 6 rows are valid (nothing written)."
    assert not Lead.objects.exists()
    with pytest.raises(CommandError, match="2 of 5 rows invalid"):
        command("leads", str(fixture_path("hubspot-contacts-two-bad-rows.csv")), "--dry-run")


@pytest.mark.django_db
def test_a_valid_file_is_checked_then_imported(owners: tuple[object, object]) -> None:
    out, err = command("leads", str(fixture_path("contacts-cp1252.csv")))
    assert out.splitlines()[0] == (
        "contacts-cp1252.csv: Windows-1252, semicolon-separated, 3 rows; "
        "preset: HubSpot contacts; dates day first (31/12/2018)"
    )
    assert "  Checked 3 of 3 rows (100%)" in out and "  Imported 3 of 3 rows (100%)" in out
    assert (err, Lead.objects.count()) == ("", 3)


@pytest.mark.django_db
def test_a_mapping_file_and_the_date_order_of_a_file_that_reads_both_ways(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("ID\tOpened\n1\t03/04/2018\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"external_id": "ID", "created_at": "Opened"}))
    with pytest.raises(CommandError, match="say whether the day or the month comes first"):
        command("leads", str(path), "--mapping", str(mapping))
    command("leads", str(path), "--mapping", str(mapping), "--date-order", "mdy")
    assert Lead.objects.get(external_id="1").created_at.month == 3


@pytest.mark.django_db
def test_a_bad_file_or_preset_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="The file is UTF-16 text"):
        command("leads", str(fixture_path("bad-utf16.csv")))
    with pytest.raises(CommandError, match="The file has no column “Create Date”"):
        command(
            "leads", str(fixture_path("bad-missing-column.csv")), "--preset", "hubspot-contacts"
        )
    with pytest.raises(CommandError, match="There is no import of “people”"):
        command("people", str(fixture_path("hubspot-contacts.csv")))
    with pytest.raises(CommandError, match="No file"):
        command("leads", "no-such-file.csv")


# --- a real crash -------------------------------------------------------------------------------

ROWS = 4000
CHUNK = 200
HEADER = (
    "Record ID,Email,First Name,Last Name,Company Name,Create Date,Original Source,"
    "Contact owner,Became a Lead Date,Became a Marketing Qualified Lead Date\n"
)
SOURCES = ("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "REFERRALS")


def _contacts(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        out.writelines(
            f"{n},person{n}@example.com,Person,{n},Company {n % 50},2018-03-05 09:15,"
            f"{SOURCES[n % 4]},Sam Rep,2018-03-05 09:15,2018-03-06 10:00\n"
            for n in range(ROWS)
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_base_data", "tasks_inline")
def test_an_import_process_killed_mid_file_is_resumed_without_a_record_twice(
    owners: tuple[object, object], tmp_path: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a second process on the test database needs PostgreSQL")
    path = tmp_path / "contacts.csv"
    _contacts(path)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_csv", "leads", str(path), "--valid-rows",
         "--chunk-rows", str(CHUNK)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            job = ImportJob.objects.filter(cursor__gte=2 * CHUNK).first()
            if job is not None:
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"the import never got two chunks in: {process.stderr.read()[-2000:]}")
        os.kill(process.pid, signal.SIGKILL)  # in the middle of a later chunk
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    job.refresh_from_db()
    assert job.status == "running" and 0 < job.cursor < ROWS
    # Everything committed is whole chunks: their leads, touches and events, nothing more.
    assert Lead.objects.count() == job.valid == job.created == job.cursor
    assert Touch.objects.count() == job.cursor
    assert StageEvent.objects.filter(source="import").count() == 2 * job.cursor
    resumed = import_job_resume(job=job, now=timezone.now() + timedelta(minutes=6))
    assert resumed.status == "queued"  # run after commit (inline under the test settings)
    job.refresh_from_db()
    assert (job.status, job.done, job.valid, job.created, job.updated) == (
        "done", ROWS, ROWS, ROWS, 0,
    )  # fmt: skip
    assert Lead.objects.count() == Touch.objects.count() == ROWS
    assert StageEvent.objects.filter(source="import").count() == 2 * ROWS
    assert Campaign.objects.count() == len(SOURCES)
