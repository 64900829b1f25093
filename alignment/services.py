"""Writes of the alignment app: tokens and roles, team heads, the dual-signed SLA and lead
definition, the round robin, shared goals, forecasts, the payout curve and SLA alerts."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone
from rest_framework.authtoken.models import Token

from alignment import scorecard as card
from alignment import scoring
from alignment.business_time import BusinessCalendar
from alignment.models import (
    DualSigned,
    Goal,
    LeadDefinition,
    PayoutCurve,
    RescoreJob,
    RevenueForecast,
    RoundRobinMember,
    SalPaceAlert,
    ScoringRule,
    ServiceLevelAgreement,
    SlaBreach,
    SlaBreachNotice,
    TeamHead,
    VersionStatus,
)
from alignment.roles import Role, Team, user_role
from alignment.selectors import (
    GOAL_EXCLUDED_METRICS,
    lead_definition_in_effect,
    sla_in_effect,
    team_heads,
    user_heads_team,
    users_in_role,
)
from kpis import attribution
from kpis.periods import KINDS, local_midnight, next_period, period_bounds
from kpis.periods import period_start as period_start_of
from kpis.registry import METRICS
from kpis.services import kpis_mark_dirty

log = logging.getLogger(__name__)
User = get_user_model()
RESCORE_CHUNK = 2000
SAL_PACE_GRACE_DAYS = 7  # too early in the month, a pace says nothing
BREACH_DIGEST_LINES = 50
VersionT = TypeVar("VersionT", bound=DualSigned)


# --- tokens and roles -----------------------------------------------------------------------


@transaction.atomic
def api_token_rotate(*, user: AbstractBaseUser) -> Token:
    """Issue a fresh API token for the user; the previous one stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: AbstractBaseUser) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def user_set_role(*, user: AbstractBaseUser, role: Role) -> None:
    """Give the user exactly one Tandem role."""
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    user.groups.remove(*groups.values())
    user.groups.add(groups[role.value])
    user._tandem_role = role


# --- team heads -----------------------------------------------------------------------------

_HEAD_ROLE = {Team.MARKETING: Role.MARKETING_MANAGER, Team.SALES: Role.SALES_MANAGER}


def team_head_clean(*, team: Team | str, user: AbstractBaseUser) -> Team:
    """Check `user` may head `team` (ValidationError naming the field otherwise)."""
    try:
        team = Team(team)
    except ValueError:
        raise ValidationError({"team": "Use marketing or sales."}) from None
    if user_role(user) != _HEAD_ROLE[team]:
        raise ValidationError(
            {"user": f"The head of {team} must be a {_HEAD_ROLE[team].label.lower()}."}
        )
    if TeamHead.objects.filter(user=user).exclude(team=team).exists():
        raise ValidationError({"user": f"{user} already heads the other team."})
    return team


@transaction.atomic
def team_head_set(
    *, team: Team | str, user: AbstractBaseUser, by: AbstractBaseUser | None = None
) -> TeamHead:
    """Make `user` the head of `team`: the one who approves versions for that team.

    The head of marketing is a marketing manager, the head of sales a sales manager; one
    person heads one team. Approvals already given by a previous head stay valid.
    """
    team = team_head_clean(team=team, user=user)
    head, _ = TeamHead.objects.update_or_create(
        team=team.value,
        defaults={
            "user": user,
            "appointed_at": timezone.now(),
            "appointed_by": by if getattr(by, "pk", None) else None,
        },
    )
    return head


# --- dual-signed versions -------------------------------------------------------------------


def _next_version(model: type[DualSigned]) -> int:
    return (model.objects.aggregate(m=Max("version"))["m"] or 0) + 1


def _actor(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if getattr(user, "pk", None) else None


def _locked(obj: DualSigned) -> DualSigned:
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def _refuse_if_approved(obj: DualSigned) -> None:
    if obj.status == VersionStatus.APPROVED:
        raise ValidationError(
            f"Version {obj.version} is approved and part of the history; "
            "create a new version to change it."
        )


def _reset_approvals(obj: DualSigned) -> None:
    for team in Team:
        setattr(obj, f"{team}_approved_by", None)
        setattr(obj, f"{team}_approved_at", None)


def _apply_changes(obj: DualSigned, values: dict[str, Any]) -> bool:
    """Set `values` on a draft; clears both approvals when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed:
        _reset_approvals(obj)
    return changed


def _approve(obj: DualSigned, by: AbstractBaseUser, now: datetime) -> bool:
    """Record the approval of the team `by` heads. Returns whether the version became binding.

    Only a team's head approves for it (PermissionDenied otherwise); approving twice for the
    same team changes nothing. A version takes effect only once both heads approved it, never
    retroactively: when the second approval lands, `effective_from` becomes
    max(effective_from, approval time), so a version dated in the past governs only what
    happens from its approval on (earlier handoffs stay under the version then in effect).
    """
    team = user_heads_team(user=by)
    if team is None or user_role(by) != _HEAD_ROLE[team]:
        raise PermissionDenied("Only the head of marketing or the head of sales approves versions.")
    _refuse_if_approved(obj)
    if getattr(obj, f"{team}_approved_at") is not None:
        return False
    setattr(obj, f"{team}_approved_by", by)
    setattr(obj, f"{team}_approved_at", now)
    binding = all(getattr(obj, f"{t}_approved_at") is not None for t in Team)
    if binding:
        obj.status = VersionStatus.APPROVED
        obj.approved_at = now
        obj.effective_from = max(obj.effective_from, now)
    obj.save()
    return binding


def _refuse_unknown(fields: dict[str, Any], names: Sequence[str], label: str) -> None:
    unknown = set(fields) - set(names)
    if unknown:
        raise ValidationError(f"Unknown {label} fields: {', '.join(sorted(unknown))}.")


def _version_create(
    model: type[VersionT], by: AbstractBaseUser | None, values: dict[str, Any]
) -> VersionT:
    """Insert the next version of `model` as a draft (cleaned `values`)."""
    try:
        with transaction.atomic():
            return model.objects.create(
                version=_next_version(model), created_by=_actor(by), **values
            )
    except IntegrityError:
        raise ValidationError(
            "Another version was created at the same moment; try again."
        ) from None


def _version_update(
    obj: VersionT,
    names: Sequence[str],
    label: str,
    clean: Callable[..., dict[str, Any]],
    fields: dict[str, Any],
) -> tuple[VersionT, bool]:
    """Lock a draft, check it with `clean` and set the changed `fields` (clearing approvals).
    Returns the locked draft, unsaved, and whether anything changed."""
    _refuse_unknown(fields, names, label)
    obj = _locked(obj)
    _refuse_if_approved(obj)
    values = clean(values={name: getattr(obj, name) for name in names} | fields)
    return obj, _apply_changes(obj, values)


# --- SLA ------------------------------------------------------------------------------------

SLA_FIELDS = (
    "effective_from",
    "first_contact_hours",
    "attempts",
    "attempt_spacing_days",
    "monthly_sal_commitment",
    "business_days",
    "business_start",
    "business_end",
    "business_timezone",
    "notes",
)


def sla_clean(*, values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check an SLA's terms; raise ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    if values.get("effective_from") is None:
        errors["effective_from"] = "Say from when the version applies."
    for name, minimum in [
        ("first_contact_hours", 0),
        ("attempts", 1),
        ("attempt_spacing_days", 0),
        ("monthly_sal_commitment", 1),
    ]:
        value = values.get(name)
        if value is None:
            errors[name] = "This field is required."
        elif value < minimum:
            errors[name] = f"Must be at least {minimum}."
    days = (values.get("business_days") or "").replace(" ", "")
    values["business_days"] = days
    values["business_timezone"] = values.get("business_timezone") or ""
    if days:
        try:
            BusinessCalendar.from_sla(SimpleNamespace(**values), settings.TIME_ZONE)
        except ValueError as exc:
            errors["business_days"] = f"Business hours are not usable: {exc}."
    elif values.get("business_start") or values.get("business_end"):
        errors["business_days"] = "Name the business days (e.g. 1,2,3,4,5) for business hours."
    elif values["business_timezone"]:
        errors["business_timezone"] = "A time zone only applies with business hours."
    if errors:
        raise ValidationError(errors)
    if not days:
        values["business_start"] = values["business_end"] = None
    return values


@transaction.atomic
def sla_create(*, by: AbstractBaseUser | None, **fields: Any) -> ServiceLevelAgreement:
    """A new draft version of the SLA; it binds nobody until both heads approve it."""
    _refuse_unknown(fields, SLA_FIELDS, "SLA")
    values = sla_clean(
        values={name: fields.get(name) for name in SLA_FIELDS}
        | {"notes": fields.get("notes") or ""}
    )
    return _version_create(ServiceLevelAgreement, by, values)


@transaction.atomic
def sla_update(
    *, sla: ServiceLevelAgreement, by: AbstractBaseUser | None, **fields: Any
) -> ServiceLevelAgreement:
    """Change a draft. Any change clears the approvals given so far."""
    sla, changed = _version_update(sla, SLA_FIELDS, "SLA", sla_clean, fields)
    if changed:
        sla.save()
    return sla


@transaction.atomic
def sla_approve(
    *, sla: ServiceLevelAgreement, by: AbstractBaseUser, now: datetime | None = None
) -> ServiceLevelAgreement:
    """The head of a team approves a draft for that team; the second approval makes it binding
    from max(effective_from, now) on (see `_approve`: never retroactively).

    A binding version re-derives the deadlines of the handoffs it now governs (a Celery task,
    after commit) and marks the periods since its start dirty.
    """
    now = now or timezone.now()
    sla = _locked(sla)
    if _approve(sla, by, now):
        if sla.effective_from <= now:
            kpis_mark_dirty(spans=[(sla.effective_from, now)])
        sla_id = sla.pk

        def dispatch() -> None:
            from alignment.tasks import sla_apply_task

            sla_apply_task.delay(sla_id)

        transaction.on_commit(dispatch)
    return sla


SLA_APPLY_CHUNK = 2000


def sla_apply(*, sla_id: int, now: datetime | None = None, chunk: int = SLA_APPLY_CHUNK) -> int:
    """Re-derive the SLA facts of every handoff from the version's start; mark their periods.
    Returns how many handoffs changed.

    Runs once: a version already applied returns 0 at once. The handoffs are re-derived in
    chunks by id, each chunk its own transaction, so a large table never sits in one long
    transaction; re-deriving is idempotent, so a run that stops halfway is simply run again
    (the sweep queues versions whose `applied_at` is still empty).
    """
    from leads.models import Handoff
    from leads.services import handoffs_refresh_sla

    now = now or timezone.now()
    with transaction.atomic():
        sla = ServiceLevelAgreement.objects.select_for_update().get(pk=sla_id)
        if sla.status != VersionStatus.APPROVED or sla.applied_at is not None:
            return 0
    governed = Handoff.objects.filter(handed_at__gte=sla.effective_from).order_by("pk")
    changed, cursor = 0, 0
    while ids := list(governed.filter(pk__gt=cursor).values_list("pk", flat=True)[:chunk]):
        with transaction.atomic():
            changed += handoffs_refresh_sla(handoff_ids=ids)
        cursor = ids[-1]
    with transaction.atomic():
        sla = ServiceLevelAgreement.objects.select_for_update().get(pk=sla_id)
        if sla.applied_at is not None:  # a concurrent run finished first
            return changed
        if sla.effective_from <= now:
            kpis_mark_dirty(spans=[(sla.effective_from, now)])
        sla.applied_at = now
        sla.save(update_fields=["applied_at"])
    return changed


# --- lead definition ------------------------------------------------------------------------

DEFINITION_FIELDS = ("effective_from", "criteria", "mql_threshold", "notes")


def lead_definition_clean(*, values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if values.get("effective_from") is None:
        errors["effective_from"] = "Say from when the version applies."
    if not (values.get("criteria") or "").strip():
        errors["criteria"] = "Write the definition down in words, for both teams to read."
    threshold = values.get("mql_threshold")
    if threshold is None or isinstance(threshold, bool) or not isinstance(threshold, int):
        errors["mql_threshold"] = "The MQL threshold is a whole number of points."
    elif threshold < 1:
        errors["mql_threshold"] = "The MQL threshold is at least 1 point."
    if errors:
        raise ValidationError(errors)
    values["notes"] = values.get("notes") or ""
    return values


def scoring_rules_clean(*, rules: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check scoring rules; errors name the rule's position: {"rules": ["#2 operator: ..."]}."""
    cleaned, problems = [], []
    for index, rule in enumerate(rules):
        field = str(rule.get("field") or "").strip()
        operator, value, points = rule.get("operator"), rule.get("value"), rule.get("points")
        for name, message in scoring.rule_errors(field, operator, value, points).items():
            problems.append(f"Rule {index + 1}, {name}: {message}")
        cleaned.append({"field": field, "operator": operator, "value": value, "points": points})
    if problems:
        raise ValidationError({"rules": problems})
    return cleaned


def _rules_of(definition: LeadDefinition) -> list[dict[str, Any]]:
    return [
        {"field": r.field, "operator": r.operator, "value": r.value, "points": r.points}
        for r in definition.rules.order_by("position")
    ]


def _rules_write(definition: LeadDefinition, rules: list[dict[str, Any]]) -> None:
    definition.rules.all().delete()
    ScoringRule.objects.bulk_create(
        [ScoringRule(definition=definition, position=i, **rule) for i, rule in enumerate(rules)]
    )


@transaction.atomic
def lead_definition_create(
    *, by: AbstractBaseUser | None, rules: Sequence[dict[str, Any]] = (), **fields: Any
) -> LeadDefinition:
    """A new draft lead definition with its scoring rules."""
    _refuse_unknown(fields, DEFINITION_FIELDS, "lead definition")
    values = lead_definition_clean(values={name: fields.get(name) for name in DEFINITION_FIELDS})
    cleaned = scoring_rules_clean(rules=rules)
    definition = _version_create(LeadDefinition, by, values)
    _rules_write(definition, cleaned)
    return definition


@transaction.atomic
def lead_definition_update(
    *,
    definition: LeadDefinition,
    by: AbstractBaseUser | None,
    rules: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> LeadDefinition:
    """Change a draft (its fields and/or its rules). Any change clears the approvals."""
    definition, changed = _version_update(
        definition, DEFINITION_FIELDS, "lead definition", lead_definition_clean, fields
    )
    if rules is not None:
        cleaned = scoring_rules_clean(rules=rules)
        if cleaned != _rules_of(definition):
            _rules_write(definition, cleaned)
            _reset_approvals(definition)
            changed = True
    if changed:
        definition.save()
    return definition


@transaction.atomic
def lead_definition_approve(
    *, definition: LeadDefinition, by: AbstractBaseUser, now: datetime | None = None
) -> LeadDefinition:
    """A head approves a draft for their team; the second approval makes it binding from
    max(effective_from, now) on (see `_approve`: never retroactively).

    A binding version that is the one in effect now re-scores every lead (a Celery job with
    progress); one that starts later is re-scored by the sweep when its time comes, and one
    that an approved version with a later start already supersedes re-scores nothing.
    """
    now = now or timezone.now()
    definition = _locked(definition)
    if _approve(definition, by, now) and lead_definition_is_in_effect(
        definition=definition, at=now
    ):
        lead_definition_rescore_start(definition=definition, by=by, now=now)
    return definition


def lead_definition_is_in_effect(*, definition: LeadDefinition, at: datetime) -> bool:
    """Whether `definition` is the version that scores leads at `at` (not merely approved)."""
    current = lead_definition_in_effect(at=at)
    return current is not None and current.pk == definition.pk


@transaction.atomic
def lead_definition_rescore_start(
    *,
    definition: LeadDefinition,
    by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> RescoreJob:
    """Queue a job that re-scores every lead under `definition` (after commit).

    Only the version in effect scores leads: a draft, a version that starts later or one a
    newer version superseded is refused (ValidationError).
    """
    from leads.models import Lead

    now = now or timezone.now()
    if definition.status != VersionStatus.APPROVED:
        raise ValidationError("Only an approved lead definition scores leads.")
    if not lead_definition_is_in_effect(definition=definition, at=now):
        raise ValidationError(
            f"Lead definition v{definition.version} is not the version in effect; "
            "only the version in effect scores leads."
        )
    job = RescoreJob.objects.create(
        definition=definition, requested_by=_actor(by), total=Lead.objects.count()
    )
    job_id = str(job.pk)

    def dispatch() -> None:
        from alignment.tasks import leads_rescore_task

        leads_rescore_task.delay(job_id)

    transaction.on_commit(dispatch)
    return job


RESCORE_FINISHED = {
    RescoreJob.Status.DONE,
    RescoreJob.Status.SUPERSEDED,
    RescoreJob.Status.FAILED,
}


def lead_definition_rescore_run(*, job_id: str, chunk: int = RESCORE_CHUNK) -> RescoreJob:
    """Run (or resume) a rescore job, one committed chunk of leads at a time, by lead id.

    Before each chunk it checks that the job's definition is still the version in effect; when
    a newer version has taken effect the job stops and finishes as `superseded` (the newer
    version's own job re-scores the leads).
    """
    from leads.models import Lead
    from leads.services import leads_score

    job = RescoreJob.objects.select_related("definition").get(pk=job_id)
    if job.status in RESCORE_FINISHED:
        return job
    RescoreJob.objects.filter(pk=job.pk).update(status=RescoreJob.Status.RUNNING)
    definition = LeadDefinition.objects.prefetch_related("rules").get(pk=job.definition_id)
    cursor = job.last_lead_id
    while True:
        if not lead_definition_is_in_effect(definition=definition, at=timezone.now()):
            return _rescore_job_finish(job, status=RescoreJob.Status.SUPERSEDED)
        ids = list(
            Lead.objects.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        with transaction.atomic():
            opened = leads_score(lead_ids=ids, definition=definition)
            cursor = ids[-1]
            RescoreJob.objects.filter(pk=job.pk).update(
                done=job.done + len(ids), handed_off=job.handed_off + opened, last_lead_id=cursor
            )
        job.done += len(ids)
        job.handed_off += opened
    return _rescore_job_finish(job, status=RescoreJob.Status.DONE)


def _rescore_job_finish(job: RescoreJob, *, status: str) -> RescoreJob:
    now = timezone.now()
    with transaction.atomic():
        RescoreJob.objects.filter(pk=job.pk).update(
            status=status, finished_at=now, total=max(job.total, job.done)
        )
        if status == RescoreJob.Status.DONE:
            LeadDefinition.objects.filter(pk=job.definition_id, applied_at__isnull=True).update(
                applied_at=now
            )
    job.refresh_from_db()
    return job


def rescore_job_fail(*, job_id: str, error: str) -> None:
    RescoreJob.objects.filter(pk=job_id).update(
        status=RescoreJob.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def alignment_apply_due_versions(*, now: datetime | None = None) -> int:
    """The sweep: queue the application of approved SLA versions whose handoffs were not
    re-derived yet (a task each, never inline), and re-score leads under a lead definition that
    has come into effect. Returns what it started.
    """
    now = now or timezone.now()
    started = 0
    from alignment.tasks import sla_apply_task

    for sla_id in ServiceLevelAgreement.objects.filter(
        status=VersionStatus.APPROVED, applied_at__isnull=True
    ).values_list("pk", flat=True):
        sla_apply_task.delay(sla_id)  # a run that finds it applied already does nothing
        started += 1
    definition = lead_definition_in_effect(at=now)
    busy = RescoreJob.objects.filter(
        Q(status__in=[RescoreJob.Status.QUEUED, RescoreJob.Status.RUNNING])
        & Q(created_at__gte=now - timedelta(hours=6))
        | Q(status=RescoreJob.Status.FAILED, created_at__gte=now - timedelta(hours=1))
    )
    if definition is not None and definition.applied_at is None and not busy.exists():
        lead_definition_rescore_start(definition=definition, now=now)
        started += 1
    return started


# --- round robin ----------------------------------------------------------------------------


@transaction.atomic
def round_robin_set(
    *, users: Sequence[AbstractBaseUser], by: AbstractBaseUser | None = None
) -> list[RoundRobinMember]:
    """Set the rotation, in this order; every other sales rep is paused in it (their history
    stays). Reps who join the team later take turns until a manager pauses them."""
    problems = [
        f"{u} is not an active sales rep."
        for u in users
        if not u.is_active or user_role(u) != Role.SALES_REP
    ]
    if len({u.pk for u in users}) != len(users):
        problems.append("Name each rep once.")
    if problems:
        raise ValidationError({"users": problems})
    listed = [u.pk for u in users]
    RoundRobinMember.objects.exclude(user_id__in=listed).update(active=False)
    members = []
    for position, user in enumerate(users):
        member, _ = RoundRobinMember.objects.update_or_create(
            user=user, defaults={"position": position, "active": True}
        )
        members.append(member)
    _round_robin_enroll_new_reps(active=False)
    return members


def _round_robin_enroll_new_reps(*, active: bool = True) -> None:
    """Sales reps without a place in the rotation get one at its end."""
    known = set(RoundRobinMember.objects.values_list("user_id", flat=True))
    new = [u for u in users_in_role(role=Role.SALES_REP) if u.pk not in known]
    if not new:
        return
    last = RoundRobinMember.objects.aggregate(m=Max("position"))["m"]
    first = 0 if last is None else last + 1
    RoundRobinMember.objects.bulk_create(
        [RoundRobinMember(user=u, position=first + i, active=active) for i, u in enumerate(new)],
        ignore_conflicts=True,
    )


@transaction.atomic
def round_robin_next_owners(*, count: int) -> list[int | None]:
    """The owners (user ids) of the next `count` automatic handoffs, in turn.

    Active members who are still active sales reps take turns, least recent turn first (ties
    by position), so every rep gets the same share. A sales rep not yet in the rotation joins
    it (so without any configuration the rotation is every sales rep, by username); paused
    members stay out. Without any rep the handoffs stay unassigned (None).
    """
    if count <= 0:
        return []
    _round_robin_enroll_new_reps()
    reps = set(users_in_role(role=Role.SALES_REP).values_list("pk", flat=True))
    locked = list(RoundRobinMember.objects.select_for_update().order_by("pk"))
    members = sorted(
        (m for m in locked if m.active and m.user_id in reps),
        key=lambda m: (m.last_turn, m.position, m.pk),
    )
    if not members:
        return [None] * count
    turn = max(m.last_turn for m in locked)
    owners = []
    for index in range(count):
        member = members[index % len(members)]
        turn += 1
        member.last_turn = turn
        member.assigned_count += 1
        owners.append(member.user_id)
    RoundRobinMember.objects.bulk_update(members, ["last_turn", "assigned_count"])
    return owners


# --- goals ----------------------------------------------------------------------------------

GOAL_FIELDS = (
    "name", "metric", "dimension", "key", "model", "target", "direction", "period",
    "period_start", "weight", "specific", "measurable", "achievable", "relevant", "time_bound",
)  # fmt: skip


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
    elif period_start_of(kind, start) != start:
        errors["period_start"] = f"{start} does not start a {kind}."
    elif _period_end(kind, start) <= now:
        errors["period_start"] = "That period is over; its scorecard is final."
    weight = values.get("weight")
    if weight is None or Decimal(weight) <= 0:
        errors["weight"] = "The weight must be above zero."
    if not (values.get("name") or "").strip():
        errors["name"] = "Name the goal."
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
    kpis_mark_dirty(spans=[(begin, end - timedelta(microseconds=1))])


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
    goal = Goal.objects.create(created_by=_actor(by), **values)
    _goal_mark_dirty(goal)
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
    for name, value in values.items():
        setattr(goal, name, value)
    goal.save()
    _goal_mark_dirty(before)
    _goal_mark_dirty(goal)
    return goal


def goal_check_deletable(*, goal: Goal, now: datetime | None = None) -> None:
    """A goal of a finished period is final: ValidationError."""
    if _period_end(goal.period, goal.period_start) <= (now or timezone.now()):
        raise ValidationError(f"The period of {goal} is over; its scorecard is final.")


@transaction.atomic
def goal_delete(*, goal: Goal, by: AbstractBaseUser | None, now: datetime | None = None) -> None:
    goal_check_deletable(goal=goal, now=now)
    _goal_mark_dirty(goal)
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


# --- forecasts and the payout curve ---------------------------------------------------------


def revenue_forecast_clean(
    *, period: str, period_start: date | None, amount: Decimal | None, now: datetime
) -> None:
    """Check a forecast: a period that has not started, an amount of at least 0."""
    if period not in KINDS:
        raise ValidationError({"period": "Use week, month or quarter."})
    if period_start is None:
        raise ValidationError({"period_start": "Say which period the forecast is for."})
    if period_start_of(period, period_start) != period_start:
        raise ValidationError({"period_start": f"{period_start} does not start a {period}."})
    if local_midnight(period_start, ZoneInfo(settings.TIME_ZONE)) <= now:
        raise ValidationError(
            {"period_start": "A forecast is entered before its period starts; this one has begun."}
        )
    if amount is None or Decimal(amount) < 0:
        raise ValidationError({"amount": "The forecast is an amount of at least 0."})


@transaction.atomic
def revenue_forecast_set(
    *,
    period: str,
    period_start: date,
    amount: Decimal,
    by: AbstractBaseUser | None,
    note: str = "",
    now: datetime | None = None,
) -> RevenueForecast:
    """Enter (or revise) the revenue forecast of a period, strictly before the period starts."""
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    revenue_forecast_clean(period=period, period_start=period_start, amount=amount, now=now)
    forecast, _ = RevenueForecast.objects.update_or_create(
        period=period,
        period_start=period_start,
        defaults={
            "amount": amount,
            "note": note or "",
            "entered_by": _actor(by),
            "entered_at": now,
        },
    )
    begin, end = period_bounds(period, period_start, tz)
    kpis_mark_dirty(spans=[(begin, end - timedelta(microseconds=1))])
    return forecast


def payout_curve_clean(
    *, effective_from: date | None, now: datetime, **points: Decimal | None
) -> dict[str, Decimal]:
    """Check a payout curve (from today on, a usable shape); returns its points."""
    if effective_from is None:
        raise ValidationError({"effective_from": "Say from which day the curve applies."})
    if effective_from < timezone.localdate(now):
        raise ValidationError({"effective_from": "A payout curve applies from today on, not back."})
    defaults = {name: getattr(card.DEFAULT_CURVE, name) for name in card.CURVE_POINTS}
    unknown = set(points) - set(defaults)
    if unknown:
        raise ValidationError(f"Unknown curve points: {', '.join(sorted(unknown))}.")
    values = defaults | {k: Decimal(v) for k, v in points.items() if v is not None}
    errors = card.curve_errors(**values)
    if errors:
        raise ValidationError({"curve": errors})
    return values


@transaction.atomic
def payout_curve_set(
    *,
    effective_from: date,
    by: AbstractBaseUser | None,
    now: datetime | None = None,
    **points: Decimal,
) -> PayoutCurve:
    """Set the payout curve for periods starting on or after `effective_from` (today or later:
    the multiplier of a period that has started is what compensation already references)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    values = payout_curve_clean(effective_from=effective_from, now=now, **points)
    curve, _ = PayoutCurve.objects.update_or_create(
        effective_from=effective_from, defaults={**values, "created_by": _actor(by)}
    )
    kpis_mark_dirty(spans=[(effective_from, max(effective_from, today))])
    return curve


# --- SLA alerts -----------------------------------------------------------------------------


def sla_breaches_detect(*, now: datetime | None = None) -> int:
    """Record each deadline of a pending handoff that has passed, once. Returns new breaches.

    First contact: no attempt by `first_contact_due_at`. Next attempt: attempts were made but
    the next one was not by `next_attempt_due_at`.
    """
    from leads.models import ContactAttempt, Handoff

    now = now or timezone.now()
    pending = Handoff.objects.filter(status=Handoff.Status.PENDING)
    known = SlaBreach.objects.filter(handoff=OuterRef("pk"))
    first_contact = (
        pending.filter(first_contact_due_at__lte=now, first_attempt_at__isnull=True)
        .exclude(pk__in=known.filter(kind=SlaBreach.Kind.FIRST_CONTACT).values("handoff"))
        .values_list("pk", "first_contact_due_at")
    )
    attempts = (
        ContactAttempt.objects.filter(
            lead=OuterRef("lead_id"), occurred_at__gte=OuterRef("handed_at")
        )
        .order_by()
        .values("lead")
        .annotate(n=Count("id"))
        .values("n")
    )
    next_attempt = (
        pending.filter(next_attempt_due_at__lte=now, first_attempt_at__isnull=False)
        .annotate(made=Subquery(attempts))
        .values_list("pk", "next_attempt_due_at", "made")
    )
    rows = [
        SlaBreach(
            handoff_id=pk, kind=SlaBreach.Kind.FIRST_CONTACT, attempt=1, due_at=due, detected_at=now
        )
        for pk, due in first_contact.iterator(chunk_size=2000)
    ]
    rows += [
        SlaBreach(
            handoff_id=pk,
            kind=SlaBreach.Kind.NEXT_ATTEMPT,
            attempt=(made or 0) + 1,
            due_at=due,
            detected_at=now,
        )
        for pk, due, made in next_attempt.iterator(chunk_size=2000)
    ]
    before = SlaBreach.objects.count()
    SlaBreach.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return SlaBreach.objects.count() - before


def _recipients_for_sales() -> list[str]:
    """The head of sales, or every sales manager when no head is set."""
    head = team_heads()[Team.SALES]
    managers = (
        [head]
        if head is not None and head.is_active
        else list(users_in_role(role=Role.SALES_MANAGER))
    )
    return [u.email for u in managers if u.email]


class BreachNoticeError(RuntimeError):
    """Some breach e-mails could not be sent; the next run sends them (and only them)."""


def sla_breaches_notify(*, limit: int = 5000) -> int:
    """E-mail each un-notified breach to the handoff's owner and the sales manager, one digest
    per recipient. Returns how many breaches were fully notified.

    Exactly once per (breach, recipient): no transaction or row lock is held while sending;
    right after each successful send, its own small transaction records who got which
    breaches (`SlaBreachNotice`), and a breach is marked notified once all its recipients got
    it. When a send fails the others still go out, then BreachNoticeError is raised (so the
    task retries); the next run sends only what was not sent.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    breaches = list(
        SlaBreach.objects.filter(notified_at__isnull=True)
        .select_related("handoff__lead", "handoff__owner")
        .order_by("due_at", "pk")[:limit]
    )
    if not breaches:
        return 0
    sent = set(
        SlaBreachNotice.objects.filter(breach__in=breaches).values_list("breach_id", "recipient")
    )
    managers = _recipients_for_sales()
    digests: dict[str, list[SlaBreach]] = defaultdict(list)
    for breach in breaches:
        owner = breach.handoff.owner
        recipients = set(managers)
        if owner is not None and owner.is_active and owner.email:
            recipients.add(owner.email)
        for address in recipients:
            if (breach.pk, address) not in sent:
                digests[address].append(breach)
    failed: set[int] = set()
    errors: list[Exception] = []
    for address, items in sorted(digests.items()):
        try:
            _send_breach_digest(address, items, tz)
        except Exception as exc:  # any failure of the mail backend
            log.exception("Could not e-mail %d SLA breaches to %s", len(items), address)
            failed.update(b.pk for b in items)
            errors.append(exc)
            continue
        now = timezone.now()
        with transaction.atomic():
            SlaBreachNotice.objects.bulk_create(
                [SlaBreachNotice(breach=b, recipient=address, sent_at=now) for b in items],
                ignore_conflicts=True,
            )
    done = [b.pk for b in breaches if b.pk not in failed]
    SlaBreach.objects.filter(pk__in=done, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if errors:
        raise BreachNoticeError(
            f"{len(errors)} breach digest(s) could not be sent; the next run retries them."
        ) from errors[0]
    return len(done)


def _send_breach_digest(address: str, items: list[SlaBreach], tz: ZoneInfo) -> None:
    lines = [_breach_line(b, tz) for b in items[:BREACH_DIGEST_LINES]]
    if len(items) > BREACH_DIGEST_LINES:
        lines.append(f"... and {len(items) - BREACH_DIGEST_LINES} more.")
    count = len(items)
    send_mail(
        subject=f"Tandem: {count} handoff deadline{'s' if count != 1 else ''} passed",
        message="These SLA deadlines passed without the contact they call for:\n\n"
        + "\n".join(lines)
        + "\n\nOpen the rep inbox to contact the leads or decide the handoffs.",
        from_email=None,
        recipient_list=[address],
    )


def _breach_line(breach: SlaBreach, tz: ZoneInfo) -> str:
    lead = breach.handoff.lead
    owner = breach.handoff.owner
    what = (
        "first contact"
        if breach.kind == SlaBreach.Kind.FIRST_CONTACT
        else f"attempt {breach.attempt}"
    )
    return (
        f"- {lead} ({lead.external_id}), owner {owner.get_username() if owner else 'unassigned'}: "
        f"{what} was due {breach.due_at.astimezone(tz):%a %d %b %Y %H:%M %Z}"
    )


def sal_commitment_check(*, now: datetime | None = None) -> SalPaceAlert | None:
    """Tell the marketing managers once a month when the month's SALs are off pace.

    The alert is recorded right after the e-mail went out, in its own transaction: a failed
    send records nothing, so the next run (the task's retry, or the next beat) sends it.

    Pace: SALs so far ÷ elapsed share of the month, against the commitment N of the SLA in
    effect at the month's start; off pace below 90 % of N (the goals' "off track"). Not in the
    month's first days, when a pace says nothing.
    """
    from leads.models import Handoff

    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    month = now.astimezone(tz).date().replace(day=1)
    begin, end = period_bounds("month", month, tz)
    if now - begin < timedelta(days=SAL_PACE_GRACE_DAYS):
        return None
    if SalPaceAlert.objects.filter(month=month).exists():
        return None
    sla = sla_in_effect(at=begin)
    if sla is None:
        return None
    sals = Handoff.objects.filter(
        status=Handoff.Status.ACCEPTED, decided_at__gte=begin, decided_at__lt=now
    ).count()
    elapsed = Decimal((now - begin).total_seconds()) / Decimal((end - begin).total_seconds())
    projected = card.project(Decimal(sals), elapsed=elapsed, accumulates=True) or Decimal(0)
    if card.pace(projected / sla.monthly_sal_commitment) != card.Pace.OFF_TRACK:
        return None
    recipients = [u.email for u in users_in_role(role=Role.MARKETING_MANAGER) if u.email]
    if recipients:  # a failure raises before the alert is recorded: the next run retries
        send_mail(
            subject=f"Tandem: SAL commitment off pace for {month:%B %Y}",
            message=(
                f"Sales accepted {sals} leads so far in {month:%B %Y}; at this pace the month "
                f"ends near {projected:.0f} SALs against the SLA's commitment of "
                f"{sla.monthly_sal_commitment}."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    try:
        with transaction.atomic():
            return SalPaceAlert.objects.create(
                month=month,
                sals=sals,
                commitment=sla.monthly_sal_commitment,
                projected=projected.quantize(Decimal("0.01")),
                sent_at=now,
            )
    except IntegrityError:  # a concurrent run recorded it first
        log.warning("SAL pace alert for %s was recorded by another run", month)
        return None
