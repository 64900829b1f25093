from __future__ import annotations

import pytest
from django.db import transaction

from kpis.models import SnapshotVersion
from kpis.services import kpis_recompute
from kpis.versions import kpis_snapshots_changed, kpis_snapshots_version
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_the_migrations_give_the_snapshots_a_first_version() -> None:
    assert len(kpis_snapshots_version()) == 32


def test_every_swap_that_changes_snapshots_gives_them_a_new_version(world: World) -> None:
    from datetime import date

    march = date(2026, 3, 1)
    world.lead("2026-03-02T09:00:00+00:00")
    before = kpis_snapshots_version()
    kpis_recompute(kind="month", periods=[march])
    first = kpis_snapshots_version()
    world.lead("2026-03-03T09:00:00+00:00")
    kpis_recompute(kind="month", periods=[march])
    second = kpis_snapshots_version()
    assert len({before, first, second}) == 3
    kpis_recompute(kind="month", periods=[march])  # the same numbers: nothing written
    assert kpis_snapshots_version() == second


def test_a_version_commits_or_rolls_back_with_the_swap_it_belongs_to() -> None:
    before = kpis_snapshots_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        kpis_snapshots_changed()
        raise RuntimeError("the swap failed")
    assert kpis_snapshots_version() == before


def test_a_flushed_database_gets_its_version_row_back() -> None:
    SnapshotVersion.objects.all().delete()
    assert kpis_snapshots_version() == ""
    token = kpis_snapshots_changed()
    assert kpis_snapshots_version() == token
