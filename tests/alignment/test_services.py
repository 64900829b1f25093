"""Alignment services on a real database: heads, sign-offs, goals, forecasts, payout curves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alignment.models import (
    Goal,
    GoalCheckIn,
    LeadDefinition,
    ServiceLevelAgreement,
    TeamHead,
)
from alignment.roles import Role, Team
from alignment.selectors import sla_in_effect
from alignment.services.accounts import team_head_set
from alignment.services.forecasts import revenue_forecast_set
from alignment.services.goals import goal_check_in, goal_update
from alignment.services.lead_definitions import (
    lead_definition_approve,
    lead_definition_create,
    lead_definition_update,
)
from alignment.services.payout_curves import payout_curve_set
from alignment.services.sla import sla_approve, sla_update
from tests.conftest import BEFORE_MARCH, SLA_TERMS, draft, goal

pytestmark = pytest.mark.django_db


def test_the_head_of_a_team_is_one_of_its_managers(
    marketing_manager: object, sales_manager: object, sales_rep: object
) -> None:
    team_head_set(team=Team.SALES, user=sales_manager)
    assert TeamHead.objects.get(team="sales").user == sales_manager
    with pytest.raises(ValidationError, match="sales manager"):
        team_head_set(team=Team.SALES, user=sales_rep)
    with pytest.raises(ValidationError, match="marketing manager"):
        team_head_set(team=Team.MARKETING, user=sales_manager)


def test_appointing_a_new_head_replaces_the_old_one(
    make_user: Callable[..., object], heads: tuple[object, object]
) -> None:
    tom = make_user("tom", Role.SALES_MANAGER)
    team_head_set(team="sales", user=tom)
    assert TeamHead.objects.get(team="sales").user == tom
    assert TeamHead.objects.count() == 2


def test_a_users_role_and_the_team_they_head_are_read_in_one_query(
    heads: tuple[object, object], sales_rep: object, django_assert_num_queries: Callable
) -> None:
    from django.contrib.auth import get_user_model

    from alignment.roles import user_heads, user_role

    users = get_user_model().objects.in_bulk([heads[0].pk, heads[1].pk, sales_rep.pk])
    with django_assert_num_queries(3):  # one for each user, whatever is asked of them
        seen = {u.username: (user_role(u), user_heads(u), user_heads(u)) for u in users.values()}
    assert seen == {
        "max": (Role.MARKETING_MANAGER, Team.MARKETING, Team.MARKETING),
        "sally": (Role.SALES_MANAGER, Team.SALES, Team.SALES),
        "sam": (Role.SALES_REP, None, None),
    }


def test_the_default_sla_counts_as_signed_by_both_heads() -> None:
    v1 = ServiceLevelAgreement.objects.get(version=1)
    assert v1.status == "approved"
    assert v1.marketing_approved_at is not None and v1.sales_approved_at is not None
    assert sla_in_effect(at=timezone.now()) == v1


def test_approval_by_only_one_head_leaves_the_old_version_in_effect(
    heads: tuple[object, object],
) -> None:
    marketing_head, sales_head = heads
    v2 = draft(marketing_head, first_contact_hours=Decimal(2))
    v2 = sla_approve(sla=v2, by=marketing_head)
    assert (v2.status, v2.marketing_approved_by, v2.sales_approved_at) == (
        "draft",
        marketing_head,
        None,
    )
    assert sla_in_effect(at=timezone.now()).version == 1

    v2 = sla_approve(sla=v2, by=sales_head)
    assert v2.status == "approved"
    assert v2.sales_approved_by == sales_head and v2.approved_at is not None
    assert sla_in_effect(at=timezone.now()) == v2
    assert sla_in_effect(at=datetime(2025, 6, 1, tzinfo=UTC)).version == 1  # history stays


def test_an_edit_after_one_approval_resets_it(heads: tuple[object, object]) -> None:
    marketing_head, sales_head = heads
    v2 = sla_approve(sla=draft(marketing_head), by=marketing_head)
    v2 = sla_update(sla=v2, by=sales_head, monthly_sal_commitment=60)
    assert (v2.marketing_approved_by, v2.marketing_approved_at) == (None, None)
    v2 = sla_approve(sla=v2, by=sales_head)
    assert v2.status == "draft"  # marketing has to sign the changed version again
    assert sla_in_effect(at=timezone.now()).version == 1


def test_an_edit_that_changes_nothing_keeps_the_approvals(heads: tuple[object, object]) -> None:
    v2 = sla_approve(sla=draft(heads[0]), by=heads[0])
    v2 = sla_update(sla=v2, by=heads[1], monthly_sal_commitment=SLA_TERMS["monthly_sal_commitment"])
    assert v2.marketing_approved_by == heads[0]


def test_it_refuses_approval_by_a_rep_or_a_manager_who_is_not_a_head(
    heads: tuple[object, object], sales_rep: object, make_user: Callable[..., object]
) -> None:
    v2 = draft(heads[0])
    with pytest.raises(PermissionDenied):
        sla_approve(sla=v2, by=sales_rep)
    with pytest.raises(PermissionDenied):
        sla_approve(sla=v2, by=make_user("other", Role.SALES_MANAGER))
    v2.refresh_from_db()
    assert (v2.marketing_approved_at, v2.sales_approved_at) == (None, None)


def test_an_approved_version_is_history_and_never_changes(heads: tuple[object, object]) -> None:
    v2 = draft(heads[0])
    for head in heads:
        v2 = sla_approve(sla=v2, by=head)
    with pytest.raises(ValidationError, match="create a new version"):
        sla_update(sla=v2, by=heads[0], attempts=9)
    with pytest.raises(ValidationError, match="create a new version"):
        sla_approve(sla=v2, by=heads[0])
    v2.refresh_from_db()
    assert v2.attempts == SLA_TERMS["attempts"]


def test_it_refuses_unusable_business_hours(heads: tuple[object, object]) -> None:
    with pytest.raises(ValidationError) as error:
        draft(heads[0], business_days="1,2,3,4,5", business_start=time(17), business_end=time(9))
    assert "business_days" in error.value.message_dict
    with pytest.raises(ValidationError):
        draft(heads[0], business_days="1,9", business_start=time(9), business_end=time(17))
    assert ServiceLevelAgreement.objects.count() == 1


def test_the_database_refuses_a_version_signed_by_both_that_is_not_approved(
    heads: tuple[object, object],
) -> None:
    v2 = draft(heads[0])
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevelAgreement.objects.filter(pk=v2.pk).update(
            marketing_approved_at=now, sales_approved_at=now
        )


def test_a_rule_change_after_approval_resets_the_lead_definition(
    heads: tuple[object, object],
) -> None:
    marketing_head, sales_head = heads
    definition = lead_definition_create(
        by=marketing_head,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        criteria="Fit and engagement.",
        mql_threshold=50,
        rules=[{"field": "company.size", "operator": "gte", "value": 500, "points": 50}],
    )
    definition = lead_definition_approve(definition=definition, by=sales_head)
    definition = lead_definition_update(
        definition=definition,
        by=marketing_head,
        rules=[{"field": "company.size", "operator": "gte", "value": 200, "points": 50}],
    )
    assert (definition.sales_approved_by, definition.status) == (None, "draft")
    assert definition.rules.get().value == 200


def test_it_refuses_a_lead_definition_with_a_broken_rule(heads: tuple[object, object]) -> None:
    with pytest.raises(ValidationError) as error:
        lead_definition_create(
            by=heads[0],
            effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            criteria="x",
            mql_threshold=10,
            rules=[{"field": "company.size", "operator": "gte", "value": "big", "points": 5}],
        )
    assert error.value.message_dict["rules"] == ["Rule 1, value: `gte` needs a number."]
    assert not LeadDefinition.objects.exists()


def test_a_goal_takes_its_direction_from_the_metric_and_belongs_to_both_teams_by_default(
    marketing_manager: object,
) -> None:
    created = goal(marketing_manager, metric="speed_to_lead_median_hours", target=Decimal(4))
    assert created.direction == "lower"
    assert (created.owner_team, created.owner_teams) == ("both", ["marketing", "sales"])


def test_a_goal_is_owned_by_one_team(marketing_manager: object) -> None:
    created = goal(marketing_manager, owner_team="sales")
    assert created.owner_teams == ["sales"]
    changed = goal_update(
        goal=created, by=marketing_manager, now=BEFORE_MARCH, owner_team="marketing"
    )
    assert changed.owner_teams == ["marketing"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"metric": ""}, "metric", "measurable"),
        ({"metric": "no_such_metric"}, "metric", "measurable"),
        ({"metric": "scorecard_attainment"}, "metric", "measurable"),
        ({"target": None}, "target", "measurable"),
        ({"target": Decimal(0)}, "target", "above zero"),
        ({"period": ""}, "period", "time-bound"),
        ({"period_start": None}, "period", "time-bound"),
        ({"period_start": date(2026, 3, 2)}, "period_start", "does not start"),
        ({"weight": Decimal(0)}, "weight", "above zero"),
        ({"dimension": "reason"}, "dimension", "no dimension"),
        ({"dimension": "owner"}, "key", "both"),
        ({"model": "linear"}, "model", "not attributed"),
        ({"owner_team": "finance"}, "owner_team", "marketing, by sales or by both"),
    ],
)
def test_it_refuses_a_goal_that_is_not_smart(
    marketing_manager: object, fields: dict, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        goal(marketing_manager, **fields)
    assert message in " ".join(error.value.message_dict[field])
    assert not Goal.objects.exists()


def test_it_refuses_goals_for_a_period_that_is_over(marketing_manager: object) -> None:
    with pytest.raises(ValidationError, match="over"):
        goal(marketing_manager, now=datetime(2026, 4, 2, tzinfo=UTC))
    created = goal(marketing_manager)
    with pytest.raises(ValidationError, match="over"):
        goal_update(
            goal=created, by=marketing_manager, now=datetime(2026, 4, 2, tzinfo=UTC), target=5
        )


def march(day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(2026, 3, day, hour))


def test_a_check_in_is_one_per_goal_and_week_and_a_second_replaces_the_first(
    marketing_manager: object, sales_manager: object
) -> None:
    target = goal(marketing_manager)
    first = goal_check_in(
        goal=target, by=marketing_manager, status="at_risk", note=" Slow start ", now=march(3)
    )
    assert (first.week, first.status, first.note) == (date(2026, 3, 2), "at_risk", "Slow start")
    again = goal_check_in(goal=target, by=sales_manager, status="on_track", now=march(8, 20))
    assert again.pk == first.pk  # Sunday 8 March is still the week of Monday 2 March
    assert (again.status, again.by, again.note) == ("on_track", sales_manager, "")
    next_week = goal_check_in(goal=target, by=sales_manager, status="off_track", now=march(9))
    assert next_week.week == date(2026, 3, 9)
    assert GoalCheckIn.objects.filter(goal=target).count() == 2


def test_check_ins_run_from_the_period_start_to_a_week_after_its_end(
    marketing_manager: object,
) -> None:
    target = goal(marketing_manager)  # March 2026
    with pytest.raises(ValidationError, match="has not started"):
        goal_check_in(goal=target, by=marketing_manager, status="on_track", now=BEFORE_MARCH)
    late = timezone.make_aware(datetime(2026, 4, 7, 23))  # under a week after 1 April
    assert goal_check_in(goal=target, by=marketing_manager, status="on_track", now=late).week == (
        date(2026, 4, 6)
    )
    with pytest.raises(ValidationError, match="closed"):
        goal_check_in(
            goal=target,
            by=marketing_manager,
            status="on_track",
            now=timezone.make_aware(datetime(2026, 4, 8)),
        )
    assert GoalCheckIn.objects.count() == 1


def test_a_check_in_needs_a_status_it_knows(marketing_manager: object) -> None:
    target = goal(marketing_manager)
    with pytest.raises(ValidationError, match="on track, at risk or off track"):
        goal_check_in(goal=target, by=marketing_manager, status="great", now=march(3))
    assert not GoalCheckIn.objects.exists()


def test_a_forecast_is_entered_before_its_period_starts(marketing_manager: object) -> None:
    forecast = revenue_forecast_set(
        period="month",
        period_start=date(2026, 4, 1),
        amount=Decimal(50000),
        by=marketing_manager,
        now=datetime(2026, 3, 20, tzinfo=UTC),
    )
    assert forecast.amount == 50000
    with pytest.raises(ValidationError, match="before its period starts"):
        revenue_forecast_set(
            period="month",
            period_start=date(2026, 4, 1),
            amount=Decimal(1),
            by=marketing_manager,
            now=datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC),
        )
    forecast.refresh_from_db()
    assert forecast.amount == 50000


def test_a_payout_curve_applies_from_today_on(marketing_manager: object) -> None:
    today = timezone.localdate()
    curve = payout_curve_set(effective_from=today, by=marketing_manager, threshold=Decimal("0.6"))
    assert (curve.threshold, curve.target, curve.cap) == (Decimal("0.6"), 1, Decimal("1.5"))
    with pytest.raises(ValidationError, match="not back"):
        payout_curve_set(effective_from=today - timedelta(days=1), by=marketing_manager)
    with pytest.raises(ValidationError):
        payout_curve_set(effective_from=today, by=marketing_manager, cap=Decimal("0.8"))
