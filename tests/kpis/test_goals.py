"""Goal progress and pace from the KPI snapshots (kpis.goals)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kpis.goals import goal_progress, scorecard_for
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


def test_the_scorecard_pays_each_team_on_its_goals_now_and_at_the_current_pace(
    world: World, marketing_manager: object
) -> None:
    goal(marketing_manager, target=Decimal(4))  # SALs, both teams
    goal(marketing_manager, name="MQLs", metric="mqls", target=Decimal(8), owner_team="marketing")
    for n in range(1, 3):
        lead = world.lead("2026-03-01T08:00:00+00:00")
        world.stage(lead, "mql", f"2026-03-0{n}T09:00:00+00:00")
        world.stage(lead, "sal", f"2026-03-0{n}T10:00:00+00:00")
    kpis_recompute(kind="month", periods=[date(2026, 3, 1)])
    mid_march = timezone.make_aware(datetime(2026, 3, 16, 12))  # half of March gone
    card = scorecard_for(period="month", start=date(2026, 3, 1), now=mid_march)
    # SALs 2 of 4 (at pace 4 of 4), MQLs 2 of 8 (at pace 4 of 8)
    assert [(line.capped, line.contribution) for line in card.lines] == [
        (Decimal("0.25"), Decimal("0.125")),
        (Decimal("0.5"), Decimal("0.25")),
    ]
    teams = {t.team: t for t in card.teams}
    # marketing owns both: (0.5 + 0.25) / 2 = 37.5 %, under the 50 % threshold: nothing yet;
    # at pace (1 + 0.5) / 2 = 75 % pays 75 %
    assert (teams["marketing"].attainment, teams["marketing"].payout) == (Decimal("0.375"), 0)
    assert teams["marketing"].projected_payout == Decimal("0.75")
    # sales owns the SALs goal only: 50 % pays 50 %; at pace 100 %
    assert (teams["sales"].goals, teams["sales"].payout) == (1, Decimal("0.5"))
    assert teams["sales"].projected_payout == 1
    assert (card.attainment, card.payout_multiplier) == (Decimal("0.375"), 0)
