from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from config.jobs import ChunkProgress


class Stage(models.TextChoices):
    INQUIRY = "inquiry", "Inquiry"
    MQL = "mql", "MQL"
    SAL = "sal", "SAL"
    SQL = "sql", "SQL"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    REJECTED = "rejected", "Rejected"
    RECYCLED = "recycled", "Recycled"
    DISQUALIFIED = "disqualified", "Disqualified"


class SeedChannel(models.TextChoices):
    """The channels a new install starts with (seeded by migration; the demo and tests use
    them). Channels are data: any other key the API or an import sends is created."""

    EMAIL = "email", "E-mail"
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    ORGANIC_SOCIAL = "organic_social", "Organic social"
    SEO = "seo", "SEO"
    CONTENT = "content", "Content"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event"
    REFERRAL = "referral", "Referral"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Outbound"
    OTHER = "other", "Other"


def _in_choices(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class Channel(models.Model):
    """A marketing channel: the key ingest and imports send (normalised by
    `leads.channels.channel_key`), the label the pages show, and an optional chart colour.
    Created on first sight of a key; renamed and merged in the admin."""

    key = models.SlugField(max_length=32, unique=True, allow_unicode=True)
    label = models.CharField(max_length=80)
    colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a colour as #rrggbb.")],
        help_text="A chart colour as #rrggbb; empty: the chart's own palette.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "key"]

    def __str__(self) -> str:
        return self.label


class Campaign(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    # The key in the `channel` column, as before channels were records: `channel_id` is the key.
    channel = models.ForeignKey(
        Channel,
        to_field="key",
        db_column="channel",
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="campaign_cost_gte_0"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    email = models.EmailField(max_length=254, blank=True)
    name = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    segment = models.CharField(max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # Points under the lead definition in effect when the lead was last scored (null: never).
    score = models.IntegerField(null=True, blank=True, editable=False)
    # Derived from the latest StageEvent; stored for speed, never the source of truth.
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.INQUIRY)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=_in_choices("stage", Stage), name="lead_stage_valid"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id


class Touch(models.Model):
    """A marketing interaction: the raw material of attribution."""

    external_id = models.CharField(max_length=100, unique=True)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="touches")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["lead", "occurred_at"])]
        verbose_name_plural = "touches"

    def __str__(self) -> str:
        return f"{self.kind or 'touch'} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class RejectionReason(models.Model):
    """The fixed, admin-editable list of reasons sales may give for rejecting a lead."""

    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    requires_feedback = models.BooleanField(
        default=False, help_text="A rejection for this reason must say more in its feedback."
    )

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label


class StageEvent(models.Model):
    """Append-only history of a lead's stages. The lead's stage is its latest event."""

    class Source(models.TextChoices):
        API = "api", "API"
        APP = "app", "App"
        IMPORT = "import", "CSV import"
        ADMIN = "admin", "Admin"
        SYSTEM = "system", "System"

    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_events")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["lead", "occurred_at"]),
            models.Index(fields=["stage", "occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=_in_choices("stage", Stage), name="stage_event_stage_valid"
            ),
            models.CheckConstraint(
                condition=~Q(stage=Stage.REJECTED) | ~Q(reason=""),
                name="stage_event_rejected_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.stage} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class Handoff(models.Model):
    """Marketing hands an MQL to sales; sales accepts it or rejects it with a reason. A lead
    that leaves the funnel while its handoff is pending (recycled, disqualified or lost) closes
    it as withdrawn: neither accepted nor rejected."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="handoffs")
    handed_at = models.DateTimeField(db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoffs",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="handoffs"
    )
    feedback = models.TextField(blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    matched_rules = models.JSONField(default=list, blank=True)
    # The stage events behind the handoff, set by the replay (`leads.services.derive_handoffs`):
    # the `mql` that opened it, and the event that decided it or withdrew it (its cause). The
    # replay keeps a handoff's row (its owner, feedback, dispute) by its opening event.
    opening_event = models.ForeignKey(
        StageEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closing_event = models.ForeignKey(
        StageEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # SLA facts, derived from the SLA in effect at handed_at and the lead's attempts. Stored
    # because business-time arithmetic can't run in SQL; leads.services keeps them current.
    sla = models.ForeignKey(
        "alignment.ServiceLevelAgreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handoffs",
    )
    first_contact_due_at = models.DateTimeField(null=True, blank=True)
    cadence_due_at = models.DateTimeField(null=True, blank=True)
    # While pending: when the next contact attempt is due (the first contact deadline before
    # any attempt, then Z days after the latest attempt, until Y attempts); else null.
    next_attempt_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    speed_to_lead_hours = models.FloatField(null=True, blank=True)
    # Outcomes the cohort metrics read, kept current with the SLA facts and on every deal
    # change (`leads.services.handoffs_refresh_outcomes`): the first SQL at or after handed_at,
    # whether the lead has a won deal, and the attempts within the cadence window.
    sql_reached_at = models.DateTimeField(null=True, blank=True)
    lead_won = models.BooleanField(default=False)
    window_attempts = models.PositiveIntegerField(default=0)
    window_success = models.BooleanField(default=False)  # a connected call or a booked meeting
    # What the lead did after the decision (the evidence of `leads.evidence`): a won deal closed
    # after it, a `disqualified` stage event after it.
    won_after_decision = models.BooleanField(default=False)
    disqualified_after_decision = models.BooleanField(default=False)

    class Meta:
        ordering = ["-handed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status="pending"),
                name="handoff_one_pending_per_lead",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "rejected", "withdrawn"]),
                name="handoff_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | Q(reason__isnull=False),
                name="handoff_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="handoff_decision_has_time",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="handoff_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"]),
            # The sweep of deadlines that passed since the last KPI run.
            models.Index(fields=["first_contact_due_at"]),
            models.Index(fields=["cadence_due_at"]),
            # The inbox: an owner's pending handoffs in the order of their next SLA deadline
            # (leads.selectors.inbox_handoffs), and how many are overdue (inbox_counts).
            # (PostgreSQL puts NULLs last in an ascending index, as the inbox orders them.)
            models.Index(
                fields=["owner", "next_attempt_due_at", "first_contact_due_at", "handed_at", "id"],
                condition=Q(status="pending"),
                name="handoff_pending_inbox",
            ),
            # Pending handoffs that can breach the first-contact SLA (no attempt in time), by
            # deadline: the live breach counts of the dashboard and the meeting read only these
            # (leads.selectors._breached).
            models.Index(
                fields=["first_contact_due_at", "owner"],
                condition=Q(status="pending")
                & (
                    Q(first_attempt_at__isnull=True)
                    | Q(first_attempt_at__gt=F("first_contact_due_at"))
                ),
                name="handoff_pending_breach",
            ),
        ]

    def __str__(self) -> str:
        return f"Handoff of {self.lead} ({self.status})"


class HandoffReassignment(models.Model):
    """A pending handoff moved from one owner to another by a sales manager: the history
    behind its current owner."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="reassignments")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Handoff {self.handoff_id} to {self.to_owner} at {self.at:%Y-%m-%d %H:%M}"


class Dispute(models.Model):
    """Marketing contests a rejection; the two team heads settle it between themselves.

    One head records an outcome (upheld, or overturned with a note) and the other head confirms
    it: until then it awaits the other team's head (`awaiting_team`). An overturned rejection
    stays in the history and the numbers as it happened; its lead is handed off again to
    another rep (`reopen_event`, the `mql` stage event that reopened it)."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an outcome"
        AWAITING = "awaiting", "Waiting for confirmation"
        RESOLVED = "resolved", "Settled"

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Rejection upheld"
        OVERTURNED = "overturned", "Rejection overturned"

    handoff = models.OneToOneField(Handoff, on_delete=models.PROTECT, related_name="dispute")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField()
    comment = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    # The team whose head must confirm the outcome recorded (the other head's team).
    awaiting_team = models.CharField(max_length=16, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reopen_event = models.OneToOneField(
        StageEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="reopened_by"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "awaiting", "resolved"]),
                name="dispute_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "upheld", "overturned"]),
                name="dispute_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open", outcome="") | (~Q(status="open") & ~Q(outcome="")),
                name="dispute_outcome_iff_not_open",
            ),
            models.CheckConstraint(
                condition=Q(status="resolved", resolved_at__isnull=False)
                | (~Q(status="resolved") & Q(resolved_at__isnull=True)),
                name="dispute_resolved_iff_time",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="overturned") | ~Q(outcome_note=""),
                name="dispute_overturn_has_note",
            ),
        ]
        indexes = [models.Index(fields=["status", "raised_at"])]

    def __str__(self) -> str:
        return f"Dispute of handoff {self.handoff_id} ({self.status})"


class AttemptChannel(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    SOCIAL = "social", "Social"
    MEETING = "meeting", "Meeting"


class AttemptOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    VOICEMAIL = "voicemail", "Voicemail"
    CONNECTED = "connected", "Connected"
    REPLIED = "replied", "Replied"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"


class ContactAttempt(models.Model):
    """A sales rep's attempt to reach a lead."""

    Channel = AttemptChannel
    Outcome = AttemptOutcome

    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="attempts")
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=AttemptChannel.choices)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["lead", "occurred_at"])]
        constraints = [
            models.CheckConstraint(
                condition=_in_choices("channel", AttemptChannel),
                name="attempt_channel_valid",
            ),
            models.CheckConstraint(
                condition=_in_choices("outcome", AttemptOutcome), name="attempt_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} ({self.get_outcome_display()})"


class Deal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    external_id = models.CharField(max_length=100, unique=True)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="deals")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    lost_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "won", "lost"]), name="deal_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True))
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="deal_closed_iff_not_open",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("created_at")),
                name="deal_closes_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.status}, {self.amount})"


class FunnelChange(models.Model):
    """The funnel's change log: a period whose inputs changed, written in the same transaction
    as the change. The KPI engine reads it, recomputes the period and clears the entry."""

    period = models.CharField(max_length=8)
    period_start = models.DateField()
    # For a day: the part of the funnel whose records of that day changed (`leads.changes.PARTS`),
    # or empty for all of them.
    part = models.CharField(max_length=16, blank=True, default="")
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "period_start", "part"], name="funnel_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.period_start} {self.part}".rstrip()


class WhatIfRun(ChunkProgress, models.Model):
    """A draft lead definition run over the recent leads: how many would have become MQLs
    under it against the definition in effect, and what those leads actually did. Evidence
    for the two heads before they sign; runs in chunks of leads with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    definition = models.ForeignKey(
        "alignment.LeadDefinition", on_delete=models.CASCADE, related_name="what_ifs"
    )
    baseline = models.ForeignKey(
        "alignment.LeadDefinition",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The definition in effect when the run was asked for (none: no definition).",
    )
    definition_digest = models.CharField(
        max_length=64, blank=True, help_text="The draft's threshold and rules as run."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since = models.DateTimeField()
    until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    last_lead_id = models.BigIntegerField(default=0, help_text="Resume point: leads are by id.")
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"What-if of lead definition {self.definition_id} ({self.status})"


# --- CSV import ---------------------------------------------------------------------------


class ImportKind(models.TextChoices):
    """What a file's rows are: each kind's rows go through its ingest service."""

    CAMPAIGNS = "campaigns", "Campaigns"
    LEADS = "leads", "Leads"
    TOUCHES = "touches", "Touches"
    STAGE_EVENTS = "stage_events", "Stage events"
    ATTEMPTS = "attempts", "Contact attempts"
    DEALS = "deals", "Deals"


class DateOrder(models.TextChoices):
    """How a file writes its dates that are not ISO (`2018-03-04`)."""

    DAY_FIRST = "dmy", "Day first (31/12/2018)"
    MONTH_FIRST = "mdy", "Month first (12/31/2018)"


class ImportPreset(models.Model):
    """A column mapping saved under a name, for the next file of the same shape."""

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    mapping = models.JSONField(default=dict, help_text="Field → the file's column.")
    date_order = models.CharField(max_length=3, choices=DateOrder.choices, blank=True)
    base = models.CharField(
        max_length=80,
        blank=True,
        help_text="The built-in preset whose fields the mapping maps (its columns renamed); "
        "empty: the kind's ingest fields.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportJob(ChunkProgress, models.Model):
    """One uploaded CSV file and its runs: read (encoding, delimiter, columns), mapped, checked
    (a dry run: every row validated, nothing kept) and imported, a committed chunk of rows at a
    time from `cursor`, so a run that died resumes where it stopped."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"  # read; waiting for its mapping
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CHECKED = "checked", "Checked"  # a dry run finished: nothing written
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        CHECK = "check", "Check"  # validate every row, write nothing
        IMPORT = "import", "Import"  # write the valid rows, keep the rejected ones

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    preset = models.CharField(
        max_length=80, blank=True, help_text="A built-in preset's key or a saved preset's name."
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255, help_text="The name the file was uploaded with.")
    size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=16, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    columns = models.JSONField(default=list, blank=True, help_text="The header row.")
    mapping = models.JSONField(default=dict, blank=True, help_text="Field → the file's column.")
    date_order = models.CharField(max_length=3, choices=DateOrder.choices, blank=True)
    dates_ambiguous = models.BooleanField(
        default=False, help_text="The file's dates read either way: the user must choose."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.CHECK)
    total = models.PositiveIntegerField(default=0, help_text="Data rows in the file.")
    done = models.PositiveIntegerField(default=0, help_text="Rows of this run handled so far.")
    cursor = models.PositiveIntegerField(
        default=0, help_text="Resume point: the data rows before it are committed."
    )
    valid = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0, help_text="Records this run created.")
    updated = models.PositiveIntegerField(default=0, help_text="Records this run updated.")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last committed chunk: a running job long silent died."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.filename} ({self.status})"


class ImportRejection(models.Model):
    """A row of an import's file that was not written: its values as read, and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row = models.PositiveIntegerField(help_text="The row's line in the file (the header is 1).")
    values = models.JSONField(default=list, help_text="The row's cells, as in the file.")
    errors = models.JSONField(default=list, help_text="[{column, message}, ...]")

    class Meta:
        ordering = ["job", "row"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row"], name="import_rejection_once_per_row")
        ]

    def __str__(self) -> str:
        return f"Row {self.row}"
