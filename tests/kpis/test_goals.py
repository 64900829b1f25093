"""Goal progress and pace from the KPI snapshots (kpis.goals)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kpis.goals import goal_progress
from kpis.services import kpis_recompute
from tests.conftest import World, goal

pytestmark = pytest.mark.django_db


def test_goal_progress_comes_from_the_snapshots_with_a_pace(
    world: World, marketing_manager: object
) -> None:
    target = goal(marketing_manager, target=Decimal(4))
    for n in range(1, 3):
        lead = world.lead("2026-03-01T08:00:00+00:00")
        world.stage(lead, "mql", f"2026-03-0{n}T09:00:00+00:00")
        world.stage(lead, "sal", f"2026-03-0{n}T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    mid_march = timezone.make_aware(datetime(2026, 3, 16, 12))  # half of March (31 days) gone
    (progress,) = goal_progress(goals=[target], now=mid_march)
    assert (progress.actual, progress.attainment) == (2, Decimal("0.5"))
    assert progress.projected == Decimal(4)
    assert progress.pace.value == "on_track"
    (later,) = goal_progress(goals=[target], now=timezone.make_aware(datetime(2026, 3, 26)))
    assert later.pace.value == "off_track"  # 2 of 4 with 4/5 of the month gone


def test_a_goal_has_no_pace_while_the_tiles_say_it_is_too_early(
    world: World, marketing_manager: object
) -> None:
    target = goal(marketing_manager, target=Decimal(4))
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-01T09:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    first_day = timezone.make_aware(datetime(2026, 3, 1, 12))
    (progress,) = goal_progress(goals=[target], now=first_day)
    assert progress.actual == 0 and progress.projected == 0
    assert (progress.pace, progress.status, progress.status_label) == (
        None,
        "too_early",
        "Too early to tell",
    )
