"""How often the teams meet, on the dashboard and the meeting view: the last complete week's
4-week rolling mean of joint meetings beside the 1.89 and 1.12 lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from alignment.models import Meeting, MeetingAttendee
from alignment.roles import Role, user_team
from core.periods import period_start
from kpis.charts import figure
from kpis.pages.habits import joint_meetings
from kpis.services import kpis_recompute
from tests.conftest import csv_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def met(make_user: Callable[..., object]) -> date:
    """Joint meetings in the last four complete weeks: 2, 1, 0, 4 (7 in all: 1.75 a week)."""
    maria, tom = make_user("maria", Role.MARKETING_MANAGER), make_user("tom", Role.SALES_MANAGER)
    this_week = period_start("week", timezone.localdate())
    last = this_week - timedelta(weeks=1)
    for weeks_back, count in [(3, 2), (2, 1), (1, 0), (0, 4)]:
        monday = last - timedelta(weeks=weeks_back)
        for n in range(count):
            starts = timezone.make_aware(datetime.combine(monday + timedelta(days=n), time(10)))
            meeting = Meeting.objects.create(
                kind="weekly_alignment", starts_at=starts, ends_at=starts + timedelta(hours=1)
            )
            for user in (maria, tom):
                MeetingAttendee.objects.create(meeting=meeting, user=user, team=user_team(user))
    weeks = [last - timedelta(weeks=n) for n in range(12)]
    kpis_recompute(kind="week", periods=weeks)
    return last


def test_the_last_complete_week_is_compared_with_the_aberdeen_figures(met: date) -> None:
    found = joint_meetings()
    assert found.week == met
    assert found.now.value == Decimal("1.75")
    assert found.meetings == 7
    assert found.verdict == "middle"
    assert "short of the best (1.89)" in found.words
    assert len(found.trend.rows) == 12


def test_the_trend_chart_draws_both_benchmark_lines(met: date) -> None:
    fig = figure(joint_meetings().trend)
    assert sorted(s["y0"] for s in fig["layout"]["shapes"]) == [1.12, 1.89]
    assert fig["data"][0]["y"][-1] == 1.75


def test_the_dashboard_shows_how_often_the_teams_meet(met: date, sales_rep: object) -> None:
    client = Client()
    client.force_login(sales_rep)
    html = client.get("/").content.decode()
    assert "How often the teams meet" in html
    assert re.search(r'class="big">1\.75</span>', html)
    assert "short of the best (1.89)" in html
    assert csv_rows(client.get("/csv/meetings/"))[-1][-1] == "1.75"


def test_the_meeting_view_shows_it_beside_the_line(met: date, sales_rep: object) -> None:
    client = Client()
    client.force_login(sales_rep)
    html = client.get("/meeting/section/meetings/").content.decode()
    assert 'class="value">1.75</span>' in html
    assert "1.89 best-aligned" in html
    assert "7 in four weeks" in html


def test_without_meetings_the_value_is_zero_and_said_to_be_low(
    sales_rep: object,
) -> None:
    last = period_start("week", timezone.localdate()) - timedelta(weeks=1)
    kpis_recompute(kind="week", periods=[last])
    found = joint_meetings()
    assert (found.now.value, found.verdict) == (0, "low")
    json.dumps(figure(found.trend))  # a chart of zeros still draws
