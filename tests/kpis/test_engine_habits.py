"""The habits the engine counts (SPEC §4 "Alignment"): joint meetings per week, a 4-week rolling
mean by local start week, and the median days marketing takes to answer a field insight. Every
expected value is worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from alignment.models import FieldInsight, Meeting, MeetingAttendee
from alignment.roles import Role, user_team
from alignment.services.accounts import user_set_role
from alignment.services.meetings import meeting_create
from kpis.engine import compute
from kpis.models import KpiSnapshot
from kpis.services import kpis_recompute_dirty
from leads.models import FunnelChange

pytestmark = pytest.mark.django_db

LATER = datetime(2026, 11, 1, tzinfo=UTC)
# Mondays of March 2026 and after.
W1, W2, W3, W4, W5, W6 = (date(2026, 3, 2) + timedelta(weeks=n) for n in range(6))
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
METRIC = "joint_meetings_per_week"


@pytest.fixture
def people(make_user: Callable[..., object]) -> dict[str, object]:
    return {
        "maria": make_user("maria", Role.MARKETING_MANAGER),
        "lena": make_user("lena", Role.MARKETING_REP),
        "tom": make_user("tom", Role.SALES_MANAGER),
        "sam": make_user("sam", Role.SALES_REP),
        "ada": make_user("ada", Role.ADMIN),
    }


def meet(people: dict, at: str, *names: str, hours: float = 1) -> Meeting:
    starts = datetime.fromisoformat(at)
    meeting = Meeting.objects.create(
        kind=Meeting.Kind.WEEKLY_ALIGNMENT,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
    )
    for name in names:
        user = people[name]
        MeetingAttendee.objects.create(meeting=meeting, user=user, team=user_team(user))
    return meeting


def joint(kind: str, periods: list[date]) -> dict[date, tuple]:
    return {
        v.period_start: (v.numerator, v.denominator, v.value)
        for v in compute(kind=kind, periods=periods, now=LATER)
        if v.metric == METRIC and v.dimension == ""
    }


@pytest.fixture
def march(people: dict) -> dict:
    """Joint meetings per week: W1 1, W2 1, W3 2, W4 0, W5 1, W6 0 (none before W1)."""
    meet(people, "2026-03-03T10:00:00+00:00", "maria", "sam")  # W1 joint
    meet(people, "2026-03-05T10:00:00+00:00", "maria", "lena")  # W1 marketing only
    meet(people, "2026-03-11T10:00:00+00:00", "lena", "tom", "ada")  # W2 joint (admin no team)
    meet(people, "2026-03-11T14:00:00+00:00", "tom", "sam")  # W2 sales only
    meet(people, "2026-03-12T14:00:00+00:00", "ada")  # W2 the admin alone
    meet(people, "2026-03-17T10:00:00+00:00", "maria", "tom")  # W3 joint
    meet(people, "2026-03-18T10:00:00+00:00", "lena", "sam")  # W3 joint
    meet(people, "2026-03-31T10:00:00+00:00", "maria", "lena", "tom", "sam")  # W5 joint
    return people


def test_a_week_shows_the_joint_meetings_of_it_and_the_three_weeks_before_over_four(
    march: dict,
) -> None:
    found = joint("week", [W1, W2, W3, W4, W5, W6])
    # W1 (0+0+0+1)/4, W2 (0+0+1+1)/4, W3 (0+1+1+2)/4, W4 (1+1+2+0)/4, W5 (1+2+0+1)/4,
    # W6 (2+0+1+0)/4.
    assert {w: found[w][0] for w in found} == {W1: 1, W2: 2, W3: 4, W4: 4, W5: 4, W6: 3}
    assert {found[w][1] for w in found} == {4}
    assert found[W1][2] == Decimal("0.25")
    assert found[W6][2] == Decimal("0.75")


def test_meetings_of_one_team_only_do_not_count(people: dict) -> None:
    meet(people, "2026-03-03T10:00:00+00:00", "maria", "lena")
    meet(people, "2026-03-04T10:00:00+00:00", "tom", "sam", "ada")
    assert joint("week", [W1])[W1][0] == 0


def test_a_week_with_no_meetings_anywhere_near_is_zero_a_week_not_unknown(people: dict) -> None:
    assert joint("week", [W1])[W1] == (0, 4, 0)
    assert joint("month", [MARCH])[MARCH][2] == 0


def test_a_month_shows_its_joint_meetings_over_its_weeks(march: dict) -> None:
    found = joint("month", [MARCH, APRIL])
    # March: 5 joint meetings over 31/7 weeks = 1.129…; April: none over 30/7 weeks.
    assert found[MARCH][0] == 5
    assert found[MARCH][1] == Decimal("4.428571")
    assert found[MARCH][2].quantize(Decimal("0.001")) == Decimal("1.129")
    assert found[APRIL][:2] == (0, Decimal("4.285714"))


def test_a_quarter_is_its_months_added_up(march: dict) -> None:
    months = joint("month", [date(2026, 1, 1), date(2026, 2, 1), MARCH])
    quarter = joint("quarter", [date(2026, 1, 1)])[date(2026, 1, 1)]
    assert quarter[0] == sum(m[0] for m in months.values()) == 5
    assert abs(quarter[1] - sum(m[1] for m in months.values())) < Decimal("0.00001")


@override_settings(TIME_ZONE="Europe/Berlin")
def test_the_week_is_the_organisations_local_week(people: dict) -> None:
    # Sunday 8 March 23:30 UTC is Monday 9 March 00:30 in Berlin: week 2 there, not week 1.
    meet(people, "2026-03-08T23:30:00+00:00", "maria", "sam")
    found = joint("week", [W1, W2])
    assert (found[W1][0], found[W2][0]) == (0, 1)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_meeting_across_a_week_boundary_counts_in_the_week_it_starts(people: dict) -> None:
    # Sunday 23:30 to Monday 01:30 in Berlin: it started in week 1.
    meet(people, "2026-03-08T22:30:00+00:00", "maria", "sam", hours=2)
    found = joint("week", [W1, W2, W5])
    assert (found[W1][0], found[W2][0], found[W5][0]) == (1, 1, 0)  # W2 still has W1 in view


def test_a_person_who_changes_team_later_does_not_rewrite_who_met(people: dict) -> None:
    meet(people, "2026-03-03T10:00:00+00:00", "maria", "sam")
    user_set_role(user=people["sam"], role=Role.MARKETING_REP)
    assert joint("week", [W1])[W1][0] == 1


def test_a_new_meeting_recomputes_its_week_and_the_three_after_it(people: dict) -> None:
    meeting_create(
        kind="brainstorm",
        starts_at=datetime(2026, 3, 11, 10, tzinfo=UTC),
        ends_at=datetime(2026, 3, 11, 11, tzinfo=UTC),
        attendees=[people["lena"], people["sam"]],
        by=people["lena"],
    )
    logged = set(
        FunnelChange.objects.filter(period="week", part="meetings").values_list(
            "period_start", flat=True
        )
    )
    assert logged == {W2, W3, W4, W5}
    assert FunnelChange.objects.filter(period="month", period_start=MARCH, part="meetings")
    kpis_recompute_dirty(now=LATER)
    weekly = dict(
        KpiSnapshot.objects.filter(metric=METRIC, period="week").values_list(
            "period_start", "numerator"
        )
    )
    assert weekly == {W2: 1, W3: 1, W4: 1, W5: 1}
    assert not FunnelChange.objects.exists()


# --- field insights answered -----------------------------------------------------------------


def insight(poster: object, posted: str, answered: str | None) -> FieldInsight:
    return FieldInsight.objects.create(
        kind=FieldInsight.Kind.OBJECTION,
        text="Too expensive for a team of five.",
        posted_by=poster,
        posted_at=datetime.fromisoformat(posted),
        answer="used" if answered else "",
        answered_at=datetime.fromisoformat(answered) if answered else None,
    )


def medians(kind: str, periods: list[date]) -> dict[date, Decimal | None]:
    return {
        v.period_start: v.value
        for v in compute(kind=kind, periods=periods, now=LATER)
        if v.metric == "insight_answer_median_days"
    }


def test_insight_answer_time_is_the_median_of_the_insights_answered_in_the_period(
    people: dict,
) -> None:
    sam = people["sam"]
    insight(sam, "2026-03-02T09:00:00+00:00", "2026-03-03T09:00:00+00:00")  # 1 day
    insight(sam, "2026-03-02T09:00:00+00:00", "2026-03-05T21:00:00+00:00")  # 3.5 days
    insight(sam, "2026-03-01T09:00:00+00:00", "2026-03-11T09:00:00+00:00")  # 10 days
    insight(sam, "2026-03-20T09:00:00+00:00", "2026-04-02T09:00:00+00:00")  # 13 d, April
    insight(sam, "2026-03-25T09:00:00+00:00", None)  # unanswered: in no median
    found = medians("month", [MARCH, APRIL, date(2026, 5, 1)])
    assert found == {MARCH: Decimal("3.5"), APRIL: Decimal(13), date(2026, 5, 1): None}


def test_an_even_number_of_answers_takes_the_middle_of_the_two_around_the_median(
    people: dict,
) -> None:
    sam = people["sam"]
    insight(sam, "2026-03-02T09:00:00+00:00", "2026-03-04T09:00:00+00:00")  # 2 days
    insight(sam, "2026-03-02T09:00:00+00:00", "2026-03-06T09:00:00+00:00")  # 4 days
    assert medians("month", [MARCH])[MARCH] == Decimal(3)
