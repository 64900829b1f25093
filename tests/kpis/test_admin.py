from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from kpis.models import ChangeSetAside, RecomputeJob

pytestmark = pytest.mark.django_db


def test_an_admin_reads_the_changes_set_aside_and_dismisses_one(staff: Client) -> None:
    aside = ChangeSetAside.objects.create(
        period="day", period_start=date(9999, 12, 31), part="leads",
        error="Must be in the years 1970 to 2100", failed_at=timezone.now(),
    )  # fmt: skip
    listing = staff.get("/admin/kpis/changesetaside/")
    assert listing.status_code == 200 and "Must be in the years 1970 to 2100" in listing.text
    assert staff.get("/admin/kpis/changesetaside/add/").status_code == 403
    staff.post(f"/admin/kpis/changesetaside/{aside.pk}/delete/", {"post": "yes"})
    assert not ChangeSetAside.objects.exists()


def test_an_admin_reads_the_recompute_jobs_but_changes_none(staff: Client) -> None:
    job = RecomputeJob.objects.create(since=date(2026, 3, 1), until=date(2026, 3, 31))
    assert staff.get("/admin/kpis/recomputejob/").status_code == 200
    assert (
        staff.post(f"/admin/kpis/recomputejob/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert RecomputeJob.objects.exists()
