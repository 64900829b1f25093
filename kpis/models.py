from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class PeriodKind(models.TextChoices):
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class KpiSnapshot(models.Model):
    """One computed value: (metric, period, dimension member, attribution model) → value.

    A recompute replaces all snapshots of a period in one transaction, so readers see either
    the previous or the new numbers of a period, never a mix.
    """

    metric = models.CharField(max_length=48)
    period = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    dimension = models.CharField(max_length=16, blank=True, help_text="empty for the total")
    key = models.CharField(max_length=150, blank=True, help_text="the dimension's member")
    model = models.CharField(max_length=16, blank=True, help_text="attribution model, if any")
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    numerator = models.DecimalField(max_digits=24, decimal_places=6)
    denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "period", "period_start", "dimension", "key", "model"],
                name="kpi_snapshot_unique",
            ),
            models.CheckConstraint(
                condition=Q(period__in=["week", "month", "quarter"]), name="kpi_snapshot_period"
            ),
        ]
        indexes = [
            models.Index(fields=["period", "period_start"]),
            models.Index(fields=["metric", "period", "dimension", "model", "period_start"]),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period} {self.period_start} {self.dimension}={self.key}"


class RecomputeJob(models.Model):
    """A full recompute in units (`RecomputeUnit`): the days of each month, then the periods of
    each kind a year at a time; fanned out over Celery tasks, or run one after the other by one
    process. A running job whose units stopped moving (`heartbeat_at`) died: it is marked
    dead and can be retried from the units it had not done."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        DEAD = "dead", "Dead"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since = models.DateField()
    until = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_units = models.PositiveIntegerField(default=0)
    done_units = models.PositiveIntegerField(default=0)
    failed_units = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Fanned out over Celery (the units of days queue the units of periods), or run by one
    # process (a thread of the one that queued it, or the command), one unit after the other.
    fan_out = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="A unit last started or finished: long silent, it died."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Recompute {self.since}..{self.until} ({self.status})"

    @property
    def progress(self) -> float:
        return (self.done_units + self.failed_units) / self.total_units if self.total_units else 0.0


class RecomputeUnit(models.Model):
    """One unit of a full recompute: the days of the month `month` (kind "day"), or the periods
    of `kind` starting in the year of `month`. Its snapshots are swapped in one transaction; its
    status says what a retry still has to run."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(RecomputeJob, on_delete=models.CASCADE, related_name="units")
    position = models.PositiveIntegerField(help_text="The order the units run in: days first.")
    kind = models.CharField(max_length=8)
    month = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "kind", "month"], name="recompute_unit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month} ({self.status})"


class ChangeSetAside(models.Model):
    """An entry of the funnel's change log (`leads.models.FunnelChange`) the engine failed to
    recompute, taken out of the log with its error so that it blocks no other entry. Listed to
    managers on the dashboard; cleared once the same day or period recomputes (it was logged
    again) or a full recompute covers it."""

    period = models.CharField(max_length=8)
    period_start = models.DateField()
    part = models.CharField(max_length=16, blank=True, default="")
    error = models.TextField()
    failed_at = models.DateTimeField()

    class Meta:
        ordering = ["failed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "period_start", "part"], name="change_set_aside_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.period_start} {self.part}".rstrip()


class KpiDaily(models.Model):
    """The engine's additive partials: one metric's numerator and denominator for one local
    day and one dimension member (or the total). A week, month or quarter of a summable
    metric is the sum of its days, so a change recomputes its days and re-adds their periods.

    Metrics whose key starts with ``_`` are the engine's own inputs, never shown: the daily
    change of the open pipeline, and checksums that tell which periods' percentiles changed.
    """

    metric = models.CharField(max_length=48)
    day = models.DateField()
    dimension = models.CharField(max_length=16, blank=True)
    key = models.CharField(max_length=150, blank=True)
    model = models.CharField(max_length=16, blank=True)
    numerator = models.DecimalField(max_digits=36, decimal_places=12)
    denominator = models.DecimalField(max_digits=36, decimal_places=12, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "day", "dimension", "key", "model"], name="kpi_daily_unique"
            ),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.dimension}={self.key}"


class EngineMark(models.Model):
    """A moment the engine remembers between runs, by name: how far the sweep of elapsed
    deadlines has gone ("deadlines"), and that the days are still to be built in full
    ("rebuild", after an upgrade)."""

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at}"


class SnapshotVersion(models.Model):
    """One row that names the current set of snapshots: every swap of snapshots gives it a new
    token in the swap's own transaction, so any process (and the page cache of each) can tell
    with one indexed read whether the numbers changed (`kpis.versions`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Snapshots {self.token} of {self.changed_at:%Y-%m-%d %H:%M:%S}"
