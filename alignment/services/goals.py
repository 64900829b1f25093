"""Shared SMART goals, each for one period and owned by one team or both; the scorecard weighs
them. Weekly check-ins hold the teams' word on how each goal stands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alignment.models import Goal, GoalCheckIn
from alignment.services.audit import (
    audit_changes,
    audit_diff,
    audit_filled,
    audit_record,
    audit_snapshot,
)
from alignment.services.versions import actor
from alignment.signals import agreement_changed
from config.dates import date_in_range_problem
from core import attribution
from core.catalog import GOAL_EXCLUDED_METRICS, METRICS
from core.periods import KINDS, local_midnight, next_period, period_bounds
from core.periods import period_start as period_start_of

GOAL_FIELDS = (
    "name", "owner_team", "metric", "dimension", "key", "model", "target", "direction", "period",
    "period_start", "weight", "specific", "measurable", "achievable", "relevant", "time_bound",
)  # fmt: skip

# A check-in may come late: the week after a period ends is when its last one is often held.
CHECK_IN_GRACE = timedelta(days=7)


def _period_end(kind: str, start: date) -> datetime:
    return local_midnight(next_period(kind, start), ZoneInfo(settings.TIME_ZONE))


def goal_clean(*, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Check a goal is SMART enough to score: a metric and target, a period, a weight."""
    errors: dict[str, str] = {}
    metric = METRICS.get(values.get("metric") or "")
    if metric is None or metric.key in GOAL_EXCLUDED_METRICS:
        errors["metric"] = "A goal must be measurable: choose a metric of the catalog."
    target = values.get("target")
    if target is None:
        errors["target"] = "A goal must be measurable: set a target."
    elif Decimal(target) <= 0:
        errors["target"] = "The target must be above zero."
    kind, start = values.get("period"), values.get("period_start")
    if kind not in KINDS or start is None:
        errors["period"] = "A goal must be time-bound: choose a week, month or quarter."
    elif problem := date_in_range_problem(start):
        errors["period_start"] = problem
    elif period_start_of(kind, start) != start:
        errors["period_start"] = f"{start} does not start a {kind}."
    elif _period_end(kind, start) <= now:
        errors["period_start"] = "That period is over; its scorecard is final."
    weight = values.get("weight")
    if weight is None or Decimal(weight) <= 0:
        errors["weight"] = "The weight must be above zero."
    if not (values.get("name") or "").strip():
        errors["name"] = "Name the goal."
    values["owner_team"] = values.get("owner_team") or Goal.Owner.BOTH
    if values["owner_team"] not in Goal.Owner.values:
        errors["owner_team"] = "A goal is owned by marketing, by sales or by both teams."
    if metric is not None and "metric" not in errors:
        dimension = values.get("dimension") or ""
        key = values.get("key") or ""
        if dimension and dimension not in metric.dimensions:
            supported = ", ".join(metric.dimensions) or "none"
            errors["dimension"] = f"{metric.key} has no dimension {dimension!r} ({supported})."
        elif bool(dimension) != bool(key):
            errors["key"] = "Name both a dimension and its member, or neither."
        model = values.get("model") or ""
        if metric.by_model:
            model = model or "linear"
            if model not in attribution.MODELS:
                errors["model"] = f"Use one of {', '.join(attribution.MODELS)}."
        elif model:
            errors["model"] = f"{metric.key} is not attributed by model."
        values.update(dimension=dimension, key=key, model=model)
        values["direction"] = values.get("direction") or metric.direction
        if values["direction"] not in {"higher", "lower"}:
            errors["direction"] = "Use higher or lower."
    if errors:
        raise ValidationError(errors)
    for text in ("specific", "measurable", "achievable", "relevant", "time_bound"):
        values[text] = values.get(text) or ""
    return values


def _goal_mark_dirty(goal: Goal) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    begin, end = period_bounds(goal.period, goal.period_start, tz)
    agreement_changed.send(sender=Goal, spans=[(begin, end - timedelta(microseconds=1))])


@transaction.atomic
def goal_create(*, by: AbstractBaseUser | None, now: datetime | None = None, **fields: Any) -> Goal:
    """A shared goal of both teams for one period (not for a period that is over)."""
    unknown = set(fields) - set(GOAL_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown goal fields: {', '.join(sorted(unknown))}.")
    values = goal_clean(
        values={"weight": Decimal(1), **{n: fields[n] for n in GOAL_FIELDS if n in fields}},
        now=now or timezone.now(),
    )
    goal = Goal.objects.create(created_by=actor(by), **values)
    _goal_mark_dirty(goal)
    terms = audit_filled(audit_snapshot(goal, GOAL_FIELDS))
    audit_record(actor=by, action="goal.created", target=goal, changes=audit_diff({}, terms))
    return goal


@transaction.atomic
def goal_update(
    *, goal: Goal, by: AbstractBaseUser | None, now: datetime | None = None, **fields: Any
) -> Goal:
    """Change a goal while its period runs (or before); a finished period's goals are final."""
    unknown = set(fields) - set(GOAL_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown goal fields: {', '.join(sorted(unknown))}.")
    now = now or timezone.now()
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if _period_end(goal.period, goal.period_start) <= now:
        raise ValidationError("That goal's period is over; its scorecard is final.")
    before = Goal(period=goal.period, period_start=goal.period_start)
    values = goal_clean(values={n: getattr(goal, n) for n in GOAL_FIELDS} | fields, now=now)
    terms = audit_snapshot(goal, GOAL_FIELDS)
    for name, value in values.items():
        setattr(goal, name, value)
    goal.save()
    _goal_mark_dirty(before)
    _goal_mark_dirty(goal)
    changes = audit_diff(terms, audit_snapshot(goal, GOAL_FIELDS))
    if changes:
        audit_record(actor=by, action="goal.updated", target=goal, changes=changes)
    return goal


def goal_check_deletable(*, goal: Goal, now: datetime | None = None) -> None:
    """A goal of a finished period is final: ValidationError."""
    if _period_end(goal.period, goal.period_start) <= (now or timezone.now()):
        raise ValidationError(f"The period of {goal} is over; its scorecard is final.")


@transaction.atomic
def goal_delete(*, goal: Goal, by: AbstractBaseUser | None, now: datetime | None = None) -> None:
    goal_check_deletable(goal=goal, now=now)
    _goal_mark_dirty(goal)
    terms = audit_filled(audit_snapshot(goal, GOAL_FIELDS))
    audit_record(actor=by, action="goal.deleted", target=goal, changes=audit_diff(terms, {}))
    goal.delete()


@transaction.atomic
def goals_delete(
    *, goals: Sequence[Goal], by: AbstractBaseUser | None, now: datetime | None = None
) -> int:
    """Delete these goals, all or none: one of a finished period refuses the lot."""
    now = now or timezone.now()
    for goal in goals:
        goal_check_deletable(goal=goal, now=now)
    for goal in goals:
        goal_delete(goal=goal, by=by, now=now)
    return len(goals)


def _week_of(moment: datetime) -> date:
    return period_start_of("week", timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).date())


@transaction.atomic
def goal_check_in(
    *,
    goal: Goal,
    by: AbstractBaseUser | None,
    status: str,
    note: str = "",
    now: datetime | None = None,
) -> GoalCheckIn:
    """The teams' weekly word on a goal: one per goal and week (the Monday of `now`'s week); a
    second in the same week replaces the first.

    Check-ins are held while the goal's period runs and up to a week after it ends (the
    closing conversation); before the period starts there is nothing to check in on.
    """
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    begin, end = period_bounds(goal.period, goal.period_start, tz)
    if now < begin:
        raise ValidationError(
            {"status": "The goal's period has not started; check in once it runs."}
        )
    if now >= end + CHECK_IN_GRACE:
        raise ValidationError(
            {"status": "Check-ins close a week after the goal's period ends; this one is closed."}
        )
    if status not in GoalCheckIn.Status.values:
        raise ValidationError({"status": "Say whether the goal is on track, at risk or off track."})
    week = _week_of(now)
    previous = GoalCheckIn.objects.filter(goal=goal, week=week).first()
    check_in, _ = GoalCheckIn.objects.update_or_create(
        goal=goal,
        week=week,
        defaults={"status": status, "note": (note or "").strip(), "by": actor(by), "at": now},
    )
    names = ("status", "note")
    audit_record(
        actor=by,
        action="goal.checked_in",
        target=goal,
        changes=audit_changes(previous, check_in, names),
        details={"week": week},
    )
    return check_in
