from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alignment.roles import Team
from config.jobs import ChunkProgress

_PERIODS = [("week", "Week"), ("month", "Month"), ("quarter", "Quarter")]


class TeamHead(models.Model):
    """Who heads each team: the person who signs the SLA and the lead definition for it."""

    team = models.CharField(max_length=16, choices=[(t.value, t.value.title()) for t in Team])
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="headed_teams"
    )
    appointed_at = models.DateTimeField()
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["team"]
        constraints = [
            models.UniqueConstraint(fields=["team"], name="team_head_one_per_team"),
            models.UniqueConstraint(fields=["user"], name="team_head_heads_one_team"),
            models.CheckConstraint(
                condition=Q(team__in=[t.value for t in Team]), name="team_head_team_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Head of {self.team}: {self.user}"


# --- dual-signed versions -------------------------------------------------------------------


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


class DualSigned(models.Model):
    """A version both heads sign. It is in effect once approved and from `effective_from` on;
    the second approval moves `effective_from` up to the approval time when it lies earlier,
    so a version never applies retroactively.

    Each head's approval records who and when; changing a draft clears both. `status` turns
    `approved` when the second signature lands (`approved_at`); approved versions are history
    and never change.
    """

    Status = VersionStatus

    version = models.PositiveIntegerField(unique=True)
    effective_from = models.DateTimeField(
        help_text="The version applies from this moment on (once both heads approved it)."
    )
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default="draft")
    marketing_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marketing_approved_at = models.DateTimeField(null=True, blank=True)
    sales_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sales_approved_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(
        null=True, blank=True, help_text="When the second approval made the version binding."
    )
    applied_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the records the version governs were re-derived after its approval.",
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_approved(self) -> bool:
        return self.status == VersionStatus.APPROVED

    def approval_of(self, team: Team) -> tuple[object | None, object | None]:
        """(approved_by, approved_at) of one team."""
        return getattr(self, f"{team}_approved_by"), getattr(self, f"{team}_approved_at")


def _dual_signed_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(status__in=VersionStatus.values), name=f"{prefix}_status_valid"
        ),
        models.CheckConstraint(
            condition=Q(marketing_approved_by__isnull=True)
            | Q(marketing_approved_at__isnull=False),
            name=f"{prefix}_marketing_approval_has_time",
        ),
        models.CheckConstraint(
            condition=Q(sales_approved_by__isnull=True) | Q(sales_approved_at__isnull=False),
            name=f"{prefix}_sales_approval_has_time",
        ),
        models.CheckConstraint(
            condition=Q(marketing_approved_at__isnull=True)
            | Q(sales_approved_at__isnull=True)
            | Q(status=VersionStatus.APPROVED),
            name=f"{prefix}_signed_by_both_is_approved",
        ),
    ]


class ServiceLevelAgreement(DualSigned):
    """What each team promises the other. Metrics read the version in effect at a handoff."""

    first_contact_hours = models.DecimalField(
        "first contact within (hours), X",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    attempts = models.PositiveSmallIntegerField(
        "contact attempts, Y", validators=[MinValueValidator(1)]
    )
    attempt_spacing_days = models.DecimalField(
        "days between attempts, Z",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    monthly_sal_commitment = models.PositiveIntegerField(
        "SALs marketing commits per month, N", validators=[MinValueValidator(1)]
    )
    business_days = models.CharField(
        max_length=13,
        blank=True,
        help_text="ISO weekdays that count as business days, e.g. 1,2,3,4,5; empty = every hour counts.",
    )
    business_start = models.TimeField(null=True, blank=True)
    business_end = models.TimeField(null=True, blank=True)
    business_timezone = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = "service-level agreement"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_contact_hours__gte=0), name="sla_first_contact_hours_gte_0"
            ),
            models.CheckConstraint(condition=Q(attempts__gte=1), name="sla_attempts_gte_1"),
            models.CheckConstraint(
                condition=Q(business_days="")
                | (Q(business_start__isnull=False) & Q(business_end__isnull=False)),
                name="sla_business_hours_complete",
            ),
            models.CheckConstraint(
                condition=Q(attempt_spacing_days__gte=0), name="sla_attempt_spacing_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(monthly_sal_commitment__gte=1), name="sla_sal_commitment_gte_1"
            ),
            *_dual_signed_constraints("sla"),
        ]

    def __str__(self) -> str:
        return f"SLA v{self.version} ({self.get_status_display()})"


class LeadDefinition(DualSigned):
    """What makes a lead an MQL: prose criteria and executable scoring rules."""

    criteria = models.TextField(help_text="The definition in words, as both teams read it.")
    mql_threshold = models.PositiveIntegerField(
        "MQL threshold (points)", validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mql_threshold__gte=1), name="lead_definition_threshold_gte_1"
            ),
            *_dual_signed_constraints("lead_definition"),
        ]

    def __str__(self) -> str:
        return f"Lead definition v{self.version} ({self.get_status_display()})"


class ScoringRule(models.Model):
    """One rule of a lead definition: `field` `operator` `value` gives `points`."""

    class Operator(models.TextChoices):
        EQUALS = "equals", "equals"
        CONTAINS = "contains", "contains"
        IN = "in", "is one of"
        GTE = "gte", "≥"
        LTE = "lte", "≤"
        EXISTS = "exists", "exists"

    definition = models.ForeignKey(LeadDefinition, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()
    field = models.CharField(
        max_length=200, help_text="A lead field or an attribute path, e.g. company.size."
    )
    operator = models.CharField(max_length=8, choices=Operator.choices)
    value = models.JSONField(null=True, blank=True)
    points = models.IntegerField()

    class Meta:
        ordering = ["definition", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "position"], name="scoring_rule_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(operator__in=["equals", "contains", "in", "gte", "lte", "exists"]),
                name="scoring_rule_operator_valid",
            ),
            models.CheckConstraint(condition=~Q(field=""), name="scoring_rule_has_field"),
        ]

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {self.value!r}: {self.points:+d}"


class RescoreJob(ChunkProgress, models.Model):
    """Re-scoring every lead under a lead definition that took effect; reports progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SUPERSEDED = "superseded", "Superseded"  # another version took effect: stopped
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    definition = models.ForeignKey(
        LeadDefinition, on_delete=models.CASCADE, related_name="rescore_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    handed_off = models.PositiveIntegerField(default=0)
    last_lead_id = models.BigIntegerField(default=0, help_text="Resume point: leads are by id.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Rescore under v{self.definition.version} ({self.status})"


class RoundRobinMember(models.Model):
    """A sales rep in the rotation that owns automatic handoffs (least recent turn first)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="round_robin"
    )
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    last_turn = models.PositiveBigIntegerField(default=0)
    assigned_count = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.user} (#{self.position}{'' if self.active else ', paused'})"


# --- goals, forecasts, the scorecard ----------------------------------------------------------


class Goal(models.Model):
    """A shared SMART goal on one metric of the catalog, for one period, owned by one team or
    by both. A team's payout weighs the goals it owns (see `kpis.goals.scorecard_for`)."""

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Owner(models.TextChoices):
        BOTH = "both", "Both teams"
        MARKETING = "marketing", "Marketing"
        SALES = "sales", "Sales"

    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=48, help_text="A key of the metric catalog.")
    dimension = models.CharField(max_length=16, blank=True, help_text="empty for the total")
    key = models.CharField(max_length=150, blank=True, help_text="the dimension's member")
    model = models.CharField(max_length=16, blank=True, help_text="attribution model, if any")
    target = models.DecimalField(max_digits=18, decimal_places=6)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    period = models.CharField(max_length=8, choices=_PERIODS)
    period_start = models.DateField()
    weight = models.DecimalField(max_digits=8, decimal_places=4, default=1)
    owner_team = models.CharField(
        "owned by", max_length=16, choices=Owner.choices, default=Owner.BOTH
    )
    specific = models.TextField(blank=True, help_text="What exactly both teams will achieve.")
    measurable = models.TextField(blank=True, help_text="How progress is measured.")
    achievable = models.TextField(blank=True, help_text="Why the target is realistic.")
    relevant = models.TextField(blank=True, help_text="Why it matters to both teams.")
    time_bound = models.TextField(blank=True, help_text="The deadline in words.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period", "period_start", "name", "id"]
        indexes = [models.Index(fields=["period", "period_start"])]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="goal_target_gt_0"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="goal_weight_gt_0"),
            models.CheckConstraint(condition=~Q(metric=""), name="goal_has_metric"),
            models.CheckConstraint(
                condition=Q(period__in=["week", "month", "quarter"]), name="goal_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=["higher", "lower"]), name="goal_direction_valid"
            ),
            models.CheckConstraint(
                condition=(Q(dimension="") & Q(key="")) | (~Q(dimension="") & ~Q(key="")),
                name="goal_dimension_has_key",
            ),
            models.CheckConstraint(
                condition=Q(owner_team__in=["both", "marketing", "sales"]),
                name="goal_owner_team_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period} {self.period_start})"

    @property
    def higher_is_better(self) -> bool:
        return self.direction == self.Direction.HIGHER

    @property
    def owner_teams(self) -> list[str]:
        """The teams whose payout this goal counts in."""
        if self.owner_team == self.Owner.BOTH:
            return [t.value for t in Team]
        return [self.owner_team]


class GoalCheckIn(models.Model):
    """The weekly word on a goal: where the teams think it stands, and why (one per week)."""

    class Status(models.TextChoices):
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        OFF_TRACK = "off_track", "Off track"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="check_ins")
    week = models.DateField(help_text="The Monday of the week the check-in is for.")
    status = models.CharField(max_length=16, choices=Status.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["goal", "-week"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "week"], name="goal_check_in_one_per_week"),
            models.CheckConstraint(
                condition=Q(status__in=["on_track", "at_risk", "off_track"]),
                name="goal_check_in_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goal}: {self.get_status_display()} (week of {self.week})"


class PayoutCurve(models.Model):
    """The shared bonus curve from `effective_from` on (see alignment.scorecard)."""

    effective_from = models.DateField(unique=True)
    threshold = models.DecimalField(max_digits=6, decimal_places=4, default=0.5)
    threshold_payout = models.DecimalField(max_digits=6, decimal_places=4, default=0.5)
    target = models.DecimalField(max_digits=6, decimal_places=4, default=1)
    cap = models.DecimalField(max_digits=6, decimal_places=4, default=1.5)
    cap_payout = models.DecimalField(max_digits=6, decimal_places=4, default=1.5)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=0, threshold__lt=models.F("target")),
                name="payout_threshold_below_target",
            ),
            models.CheckConstraint(
                condition=Q(cap__gt=models.F("target")), name="payout_cap_above_target"
            ),
            models.CheckConstraint(
                condition=Q(threshold_payout__gte=0, threshold_payout__lte=1),
                name="payout_threshold_payout_0_to_1",
            ),
            models.CheckConstraint(condition=Q(cap_payout__gte=1), name="payout_cap_payout_gte_1"),
        ]

    def __str__(self) -> str:
        return f"Payout curve from {self.effective_from}"


class RevenueForecast(models.Model):
    """Revenue expected in a period, entered before the period starts."""

    period = models.CharField(max_length=8, choices=_PERIODS)
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["period", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "period_start"], name="revenue_forecast_one_per_period"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="revenue_forecast_gte_0"),
            models.CheckConstraint(
                condition=Q(period__in=["week", "month", "quarter"]),
                name="revenue_forecast_period_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Forecast {self.period} {self.period_start}: {self.amount}"


# --- SLA alerts -----------------------------------------------------------------------------


class SlaBreach(models.Model):
    """A deadline of a pending handoff that passed: recorded once, e-mailed once."""

    class Kind(models.TextChoices):
        FIRST_CONTACT = "first_contact", "First contact"
        NEXT_ATTEMPT = "next_attempt", "Next attempt"

    handoff = models.ForeignKey("leads.Handoff", on_delete=models.CASCADE, related_name="breaches")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    attempt = models.PositiveSmallIntegerField(help_text="The number of the attempt that was due.")
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["handoff", "kind", "attempt"], name="sla_breach_once_per_deadline"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["first_contact", "next_attempt"]),
                name="sla_breach_kind_valid",
            ),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="sla_breach_attempt_gte_1"),
        ]
        indexes = [models.Index(fields=["notified_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} missed on handoff {self.handoff_id}"


class SlaBreachNotice(models.Model):
    """One breach was e-mailed to one recipient: recorded right after the e-mail went out, so
    a run that fails for another recipient (and is retried) never sends this one again."""

    breach = models.ForeignKey(SlaBreach, on_delete=models.CASCADE, related_name="notices")
    recipient = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["breach", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "recipient"], name="sla_breach_notice_once_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"Breach {self.breach_id} sent to {self.recipient}"


class SalPaceAlert(models.Model):
    """Marketing managers were told that the month's SAL commitment is off pace (once a month)."""

    month = models.DateField(unique=True)
    sals = models.PositiveIntegerField()
    commitment = models.PositiveIntegerField()
    projected = models.DecimalField(max_digits=12, decimal_places=2)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"SAL pace alert {self.month:%Y-%m}"


# --- working together: meetings, ideas, field insights, spotlights, shadowing (SPEC §8) -------
#
# Each record keeps the team of every person on it as it was when they were added (`team`:
# "marketing", "sales", or "" for an admin): a person who later moves to the other team does
# not rewrite who sat at the table.

_TEAM_CHOICES = [("marketing", "Marketing"), ("sales", "Sales"), ("", "No team")]


class Meeting(models.Model):
    """A meeting of the two teams (or of either), with Markdown agenda, notes and decisions."""

    class Kind(models.TextChoices):
        WEEKLY_ALIGNMENT = "weekly_alignment", "Weekly alignment"
        CAMPAIGN_KICKOFF = "campaign_kickoff", "Campaign kick-off"
        CAMPAIGN_POSTMORTEM = "campaign_postmortem", "Campaign post-mortem"
        LEADERSHIP_SYNC = "leadership_sync", "Leadership sync"
        BRAINSTORM = "brainstorm", "Brainstorm"
        SHADOWING_DEBRIEF = "shadowing_debrief", "Shadowing debrief"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True, help_text="Empty: the kind and the day.")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="MeetingAttendee", related_name="meetings"
    )
    agenda = models.TextField(blank=True, help_text="Markdown.")
    notes = models.TextField(blank=True, help_text="Markdown.")
    decisions = models.TextField(blank=True, help_text="Markdown, one decision per item.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "weekly_alignment",
                        "campaign_kickoff",
                        "campaign_postmortem",
                        "leadership_sync",
                        "brainstorm",
                        "shadowing_debrief",
                    ]
                ),
                name="meeting_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        if self.title or self.starts_at is None:
            return self.title or self.get_kind_display()
        day = timezone.localtime(self.starts_at)  # the organisation's day, as pages show it
        return f"{self.get_kind_display()}, {day.day} {day:%b %Y}"


class MeetingAttendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)

    class Meta:
        ordering = ["meeting", "team", "user"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="meeting_attendee_once"),
            models.CheckConstraint(
                condition=Q(team__in=["marketing", "sales", ""]), name="meeting_attendee_team_valid"
            ),
        ]
        indexes = [models.Index(fields=["team", "meeting"])]

    def __str__(self) -> str:
        return f"{self.user} at {self.meeting}"


class ActionItem(models.Model):
    """Something a meeting asked one person to do by a date; done when ticked off."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items"
    )
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "done_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="action_item_has_text"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Idea(models.Model):
    """A half-done idea brought to both teams: draft → open for critique → adopted | parked."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open for critique"
        ADOPTED = "adopted", "Adopted"
        PARKED = "parked", "Parked"

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ideas"
    )
    author_team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    opened_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parked_reason = models.TextField(blank=True)
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    goal = models.ForeignKey(
        Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "adopted", "parked"]),
                name="idea_status_valid",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="idea_has_title"),
            models.CheckConstraint(
                condition=~Q(status="parked") | ~Q(parked_reason=""), name="idea_parked_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open"]) | Q(decided_at__isnull=False),
                name="idea_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class IdeaComment(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)
    body = models.TextField(help_text="Markdown.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["idea", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="idea_comment_has_body")]

    def __str__(self) -> str:
        return f"{self.author} on {self.idea}"


class IdeaVote(models.Model):
    """One person's vote for an idea (at most one each)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["idea", "created_at"]
        constraints = [models.UniqueConstraint(fields=["idea", "user"], name="idea_vote_once")]

    def __str__(self) -> str:
        return f"{self.user} for {self.idea}"


class InsightTag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FieldInsight(models.Model):
    """What prospects tell sales, for marketing to answer: used (where), or why not."""

    class Kind(models.TextChoices):
        MESSAGE_WORKS = "message_works", "A message that works"
        MESSAGE_STOPPED = "message_stopped", "A message that stopped working"
        OBJECTION = "objection", "An objection"
        QUESTION = "question", "A question"

    class Answer(models.TextChoices):
        USED = "used", "Used"
        NOT_USED = "not_used", "Not used"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField(help_text="What the prospect said, and the context.")
    tags = models.ManyToManyField(InsightTag, blank=True, related_name="insights")
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="insights"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="insights"
    )
    posted_at = models.DateTimeField(db_index=True)
    answer = models.CharField(max_length=8, choices=Answer.choices, blank=True)
    answer_text = models.TextField(
        blank=True, help_text="Used in which content or campaign, or why not (Markdown)."
    )
    answer_campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["message_works", "message_stopped", "objection", "question"]),
                name="field_insight_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="field_insight_has_text"),
            models.CheckConstraint(
                condition=(Q(answer="") & Q(answered_at__isnull=True))
                | (Q(answer__in=["used", "not_used"]) & Q(answered_at__isnull=False)),
                name="field_insight_answered_iff_answer",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=models.F("posted_at")),
                name="field_insight_answered_after_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


class Spotlight(models.Model):
    """A joint win: the story of a won deal and the people of both teams who made it."""

    title = models.CharField(max_length=200)
    story = models.TextField(help_text="Markdown.")
    deal = models.ForeignKey("leads.Deal", on_delete=models.PROTECT, related_name="spotlights")
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SpotlightPerson", related_name="spotlights"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(title=""), name="spotlight_has_title")]

    def __str__(self) -> str:
        return self.title


class SpotlightPerson(models.Model):
    spotlight = models.ForeignKey(Spotlight, on_delete=models.CASCADE, related_name="credits")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)

    class Meta:
        ordering = ["spotlight", "team", "user"]
        constraints = [
            models.UniqueConstraint(fields=["spotlight", "user"], name="spotlight_person_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.spotlight}"


class SpotlightThanks(models.Model):
    """One person thanked the people of a spotlight (at most once each)."""

    spotlight = models.ForeignKey(Spotlight, on_delete=models.CASCADE, related_name="thanks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["spotlight", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["spotlight", "user"], name="spotlight_thanks_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} thanks {self.spotlight}"


class ShadowingSession(models.Model):
    """A person spends time with the other team: scheduled, then logged with what was learned
    (or cancelled). Its debrief can become a meeting."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shadowing"
    )
    person_team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hosted_shadowing"
    )
    host_team = models.CharField(max_length=16, choices=_TEAM_CHOICES, blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    focus = models.CharField(max_length=300, blank=True, help_text="What the person wants to see.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    learned = models.TextField(blank=True, help_text="What was learned (Markdown).")
    logged_at = models.DateTimeField(null=True, blank=True)
    debrief = models.OneToOneField(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="shadowing"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shadowing_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "done", "cancelled"]),
                name="shadowing_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(person=models.F("host")), name="shadowing_host_is_someone_else"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(learned="") & Q(logged_at__isnull=False)),
                name="shadowing_done_is_logged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} with {self.host}, {self.starts_at:%d %b %Y}"


class CampaignRating(models.Model):
    """A sales person's rating (1–5) of a campaign's leads, with a comment; one per person,
    changed by rating again."""

    campaign = models.ForeignKey(
        "leads.Campaign", on_delete=models.CASCADE, related_name="sales_ratings"
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaign_ratings"
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "rater"], name="campaign_rating_once"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="campaign_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rater} rates {self.campaign}: {self.rating}"


# --- the audit log --------------------------------------------------------------------------


class AuditEntry(models.Model):
    """One change to a record the teams' pay and trust depend on: who (`actor`, kept by name
    as `actor_name` should the user be deleted; none: the system), when (`at`), what
    (`action`, a slug of `alignment.services.audit.ACTIONS`) to which record (`target_type`,
    the model's `app_label.model_name`, `target_id` and `target_label`: text, so an entry
    outlives its record) and how: `changes` holds each changed field's [before, after],
    `details` the values that place the change (a decision's source, an import's counts).

    Append-only. The services write entries in the transaction of the change they record
    (`audit_record`); nothing in the app updates or deletes one, the admin shows them read-only,
    and the database refuses it too: a trigger (PostgreSQL and SQLite, migration 0008) raises on
    UPDATE and DELETE, letting through only the update that empties `actor` when its user is
    deleted (`actor_name` keeps the name). Django's SQLite schema editor rebuilds a table it
    alters, dropping its triggers: a migration that alters this table on SQLite must create
    them again, with the SQL of migration 0008. `at` is when the entry was written."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150,
        blank=True,
        help_text="The actor's username when they acted; empty: the system.",
    )
    action = models.CharField(max_length=48)
    target_type = models.CharField(max_length=64, help_text="app_label.model_name")
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="{field: [before, after]}"
    )
    details = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="{name: value}"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["actor_name", "at"], name="audit_actor_at"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        who = self.actor_name or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who}: {self.action} {self.target_label}".rstrip()
