"""Reads of the lead funnel for pages and the API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.utils import timezone

from alignment import scoring
from alignment.business_time import SlaTerms, add_business_days
from alignment.models import LeadDefinition, SlaBreach, VersionStatus
from alignment.roles import Role, user_role
from alignment.selectors import team_heads
from core.periods import local_midnight, next_period
from leads import evidence
from leads.models import (
    AttemptChannel,
    AttemptOutcome,
    Campaign,
    Channel,
    ContactAttempt,
    Deal,
    Dispute,
    Handoff,
    HandoffReassignment,
    Lead,
    RejectionReason,
    Stage,
    StageEvent,
    Touch,
)


def handoff_list(*, status: str | None = None, owner: str | None = None) -> QuerySet[Handoff]:
    qs = Handoff.objects.select_related("lead", "owner", "decided_by", "reason")
    if status:
        qs = qs.filter(status=status)
    if owner:
        qs = qs.filter(owner__username=owner)
    return qs.order_by("-handed_at", "-id")


def funnel_data_end() -> date:
    """The last day the funnel has anything for: today, or the end of the last campaign; at
    most the last day of DATE_MAX_YEAR (a campaign stored before dates were checked may end in
    9999, where the month after its end does not exist)."""
    today = timezone.localdate()
    last_campaign = Campaign.objects.aggregate(m=Max("ends_on"))["m"]
    end = max(today, last_campaign) if last_campaign else today
    return min(end, date(settings.DATE_MAX_YEAR, 12, 31))


def funnel_horizon() -> date:
    """The last day whose periods the numbers cover: the end of the month of
    `funnel_data_end` (an open deal is in the pipeline of every period up to it)."""
    return next_period("month", funnel_data_end().replace(day=1)) - timedelta(days=1)


def channel_choices() -> list[tuple[str, str]]:
    """Every channel as (key, label), by label: the choices of a channel filter."""
    return list(Channel.objects.order_by("label", "key").values_list("key", "label"))


def campaign_lead_ids(*, campaign_ids: Iterable[int]) -> set[int]:
    """The leads whose numbers carry these campaigns: their own leads and the leads they
    touched (a campaign's channel and key are dimensions of both)."""
    ids = list(campaign_ids)
    return set(Lead.objects.filter(campaign_id__in=ids).values_list("pk", flat=True)) | set(
        Touch.objects.filter(campaign_id__in=ids).values_list("lead_id", flat=True)
    )


def lead_activity(*, lead_ids: Iterable[int]) -> dict[str, set[date]]:
    """The local days on which these leads' records fall, by part of the funnel (the parts of
    `leads.changes.PARTS`): what a change to these leads can move. The leads' own numbers on
    the days they were created, their handoffs' cohorts on the days they were handed over, and
    so on; a contact attempt moves its handoff's numbers, on the handoff's day. The database
    returns distinct days, never the rows."""

    ids = list(set(lead_ids))
    if not ids:
        return {}
    tz = ZoneInfo(settings.TIME_ZONE)
    won = Deal.objects.filter(lead_id__in=ids, status=Deal.Status.WON)
    sources = [
        ("leads", Lead.objects.filter(pk__in=ids), "created_at"),
        ("handoffs", Handoff.objects.filter(lead_id__in=ids), "handed_at"),
        (
            "decisions",
            Handoff.objects.filter(lead_id__in=ids, decided_at__isnull=False),
            "decided_at",
        ),
        ("stages", StageEvent.objects.filter(lead_id__in=ids), "occurred_at"),
        ("deals", Deal.objects.filter(lead_id__in=ids), "created_at"),
        ("deals", Deal.objects.filter(lead_id__in=ids, closed_at__isnull=False), "closed_at"),
        ("wins", won, "closed_at"),
        (
            "disputes",
            Dispute.objects.filter(handoff__lead_id__in=ids, resolved_at__isnull=False),
            "resolved_at",
        ),
    ]
    days: dict[str, set[date]] = {}
    for part, qs, field in sources:
        days.setdefault(part, set()).update(
            qs.annotate(d=TruncDate(field, tzinfo=tz))
            .values_list("d", flat=True)
            .distinct()
            .order_by()
        )
    return {part: found for part, found in days.items() if found}


# --- scoring: what a rule reads of a lead --------------------------------------------------

#: The columns of a lead that scoring rules read (`alignment.scoring.LEAD_FIELDS` and the
#: attributes), as `values()` names.
SCORING_COLUMNS = (
    "email", "name", "company", "segment", "attributes", "campaign__external_id",
    "campaign__channel",
)  # fmt: skip


def definition_scoring_rules(*, definition: LeadDefinition) -> list[scoring.Rule]:
    """The definition's rules in their order, as `alignment.scoring` reads them (reads the
    prefetched `rules` when they are)."""
    return [
        scoring.Rule(r.field, r.operator, r.value, r.points)
        for r in sorted(definition.rules.all(), key=lambda r: r.position)
    ]


def lead_scoring_rows(
    *, lead_ids: Iterable[int], extra: Sequence[str] = (), **annotations: Any
) -> QuerySet:
    """These leads as dicts, by id: `id`, the columns scoring reads, `extra` columns and the
    annotations. Turn a row into what `alignment.scoring.score` reads with `lead_scoring_values`."""
    return (
        Lead.objects.filter(pk__in=list(lead_ids))
        .annotate(**annotations)
        .values("id", *SCORING_COLUMNS, *extra, *annotations)
        .order_by("id")
    )


def lead_scoring_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of `lead_scoring_rows` as the lead the scoring rules read."""
    return {
        "email": row["email"],
        "name": row["name"],
        "company": row["company"],
        "segment": row["segment"],
        "campaign": row["campaign__external_id"] or "",
        "channel": row["campaign__channel"] or "",
        "attributes": row["attributes"] or {},
    }


# --- pages: the inbox, SLA breaches, sales feedback -----------------------------------------


def _breached() -> Q:
    """Pending handoffs whose first-contact deadline passed without a contact attempt in time."""
    return Q(status=Handoff.Status.PENDING, first_contact_due_at__lt=timezone.now()) & (
        Q(first_attempt_at__isnull=True) | Q(first_attempt_at__gt=F("first_contact_due_at"))
    )


_MISSING_KEYS = {"(unassigned)", "(no campaign)", "(no channel)"}
_SLICE_LOOKUPS = {
    "owner": "owner__username",
    "channel": "lead__campaign__channel",
    "campaign": "lead__campaign__external_id",
    "segment": "lead__segment",
}


def _in_slice(qs: QuerySet[Handoff], dimension: str | None, key: str | None) -> QuerySet[Handoff]:
    """The handoffs of one member of a dimension, as the KPI engine files them: by the
    handoff's owner, the lead's campaign, its channel or its segment; "(unassigned)",
    "(no campaign)" and "(no channel)" are the handoffs without one."""
    if dimension not in _SLICE_LOOKUPS or not key:
        return qs
    lookup = _SLICE_LOOKUPS[dimension]
    if key in _MISSING_KEYS:
        return qs.filter(**{f"{lookup.rsplit('__', 1)[0]}__isnull": True})
    return qs.filter(**{lookup: key})


def handoffs_breached_count(*, dimension: str | None = None, key: str | None = None) -> int:
    """How many handoffs breach the first-contact SLA right now (one COUNT), in one slice."""
    return _in_slice(Handoff.objects.filter(_breached()), dimension, key).count()


def sla_breaches_by_owner() -> list[dict]:
    """Current breaches per owner, most first: username, name, count, oldest deadline."""
    rows = (
        Handoff.objects.filter(_breached())
        .values("owner__username", "owner__first_name", "owner__last_name")
        .annotate(n=Count("id"), oldest=Min("first_contact_due_at"))
        .order_by("-n", "oldest")
    )
    return [
        {
            "username": r["owner__username"] or "",
            "name": " ".join(filter(None, [r["owner__first_name"], r["owner__last_name"]]))
            or r["owner__username"]
            or "Unassigned",
            "count": r["n"],
            "oldest": r["oldest"],
        }
        for r in rows
    ]


SOON = timedelta(hours=1)  # a deadline this close is flagged before it passes


@dataclass(frozen=True)
class SlaStep:
    """The SLA step a pending handoff waits for, as of a moment.

    `kind` is "first_contact" (no attempt yet), "next_attempt" (the cadence goes on),
    "kept" (Y attempts made, or one connected or booked a meeting: nothing more is due) or
    "none" (no SLA was in effect when it was handed over).
    """

    kind: str
    deadline: datetime | None = None
    left: timedelta | None = None  # until the deadline; negative once it passed

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left < timedelta(0)

    @property
    def state(self) -> str:
        """How urgent it is: overdue, soon (within an hour), ok, or the kind (kept, none)."""
        if self.left is None:
            return self.kind
        if self.overdue:
            return "overdue"
        return "soon" if self.left < SOON else "ok"


def handoff_sla_step(*, handoff: Handoff, now: datetime) -> SlaStep:
    """What the rep acts on next for a pending handoff: first contact by its deadline, then
    each next attempt (`next_attempt_due_at`, which leads.services keeps current), until the
    cadence is kept. The same deadline the inbox is ordered by and counts as overdue."""
    if handoff.first_contact_due_at is None:
        return SlaStep("none")
    deadline = handoff.next_attempt_due_at
    if deadline is None:
        return SlaStep("kept")
    kind = "first_contact" if handoff.first_attempt_at is None else "next_attempt"
    return SlaStep(kind, deadline, deadline - now)


#: What an inbox card shows of a handoff, its lead and its owner (a page holds 50 of them).
INBOX_FIELDS = (
    "lead", "owner", "handed_at", "status", "matched_rules",
    "first_contact_due_at", "first_attempt_at", "next_attempt_due_at",
    "lead__external_id", "lead__name", "lead__email", "lead__company", "lead__campaign",
    "lead__score",
    "lead__campaign__name", "owner__username", "owner__first_name", "owner__last_name",
)  # fmt: skip


def inbox_handoffs(*, owner: str | None = None) -> QuerySet[Handoff]:
    """Pending handoffs, the nearest SLA deadline first (the next attempt due, which is the
    first-contact deadline until the first attempt; kept cadences last), with what a card shows
    of the lead, its campaign and its owner; `inbox_history` adds the touches and attempts of
    the ones shown. Each carries `reopened`: whether it was opened by the two heads' overturn
    of a rejection after a dispute (in the same query)."""

    qs = (
        Handoff.objects.filter(status=Handoff.Status.PENDING)
        .select_related("lead", "lead__campaign", "owner")
        .only(*INBOX_FIELDS)
        .annotate(reopened=_reopened_after_dispute())
        .order_by(
            F("next_attempt_due_at").asc(nulls_last=True),
            F("first_contact_due_at").asc(nulls_last=True),
            "handed_at",
            "id",
        )
    )
    return _owned_by(qs, owner)


def _reopened_after_dispute() -> Exists:
    """Whether a handoff was opened by the system `mql` event of an overturned dispute."""
    return Exists(Dispute.objects.filter(reopen_event_id=OuterRef("opening_event_id")))


class InboxTouch(NamedTuple):
    occurred_at: datetime
    kind: str
    campaign_name: str


class InboxAttempt(NamedTuple):
    occurred_at: datetime
    channel: str
    outcome: str
    channel_label: str
    outcome_label: str


def inbox_history(*, handoffs: Iterable[Handoff]) -> None:
    """Give each handoff's lead its touches (`lead.latest_touches`) and contact attempts
    (`lead.latest_attempts`), latest first, in two queries of plain rows: a prefetch of model
    instances cost a card more than all the rest of it."""
    leads = {h.lead_id: h.lead for h in handoffs}
    for lead in leads.values():
        lead.latest_touches, lead.latest_attempts = [], []
    if not leads:
        return
    touches = (
        Touch.objects.filter(lead_id__in=list(leads))
        .order_by("-occurred_at", "-id")
        .values_list("lead_id", "occurred_at", "kind", "campaign__name")
    )
    for lead_id, *touch in touches:
        leads[lead_id].latest_touches.append(InboxTouch(*touch))
    channels, outcomes = dict(AttemptChannel.choices), dict(AttemptOutcome.choices)
    attempts = (
        ContactAttempt.objects.filter(lead_id__in=list(leads))
        .order_by("-occurred_at", "-id")
        .values_list("lead_id", "occurred_at", "channel", "outcome")
    )
    for lead_id, at, channel, outcome in attempts:
        leads[lead_id].latest_attempts.append(
            InboxAttempt(
                at, channel, outcome, channels.get(channel, channel), outcomes.get(outcome, outcome)
            )
        )


def _owned_by(qs: QuerySet[Handoff], owner: str | None) -> QuerySet[Handoff]:
    """The handoffs of one owner (by username; "(unassigned)": of none; None: everyone's). The
    owner's id is looked up in a subquery, not joined, so that the database reads the pending
    handoffs of that owner in the inbox's order from their index (`handoff_pending_inbox`)."""
    if owner == "(unassigned)":
        return qs.filter(owner__isnull=True)
    if owner:
        users = get_user_model().objects.filter(username=owner).values("pk")[:1]
        return qs.filter(owner_id=Subquery(users))
    return qs


def inbox_counts(*, owner: str | None = None) -> dict[str, int]:
    """Pending handoffs of one owner (all when None) and those overdue now, in one query.

    Overdue now is what the inbox badge says overdue (`handoff_sla_step`): the next SLA
    deadline passed, the first contact or the next attempt. A first contact that was late once
    and has been followed up since is a breach on the dashboard, not overdue here.
    """

    qs = _owned_by(Handoff.objects.filter(status=Handoff.Status.PENDING), owner)
    overdue = Q(next_attempt_due_at__lt=timezone.now())
    return qs.aggregate(pending=Count("id"), overdue=Count("id", filter=overdue))


def sales_people(*, active_only: bool = False) -> list[tuple[str, str]]:
    """(username, name) of the sales reps and managers (only the active ones when
    `active_only`: whom a handoff can be reassigned to), by name (one query)."""

    users = get_user_model().objects.filter(groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
    if active_only:
        users = users.filter(is_active=True)
    users = (
        users.distinct()
        .order_by("first_name", "last_name", "username")
        .values_list("username", "first_name", "last_name")
    )
    return [(u, " ".join(filter(None, [f, last])) or u) for u, f, last in users]


def rejection_quotes(
    *,
    since: datetime,
    reasons: Sequence[str],
    until: datetime | None = None,
    per_reason: int = 2,
) -> dict[str, list[Handoff]]:
    """The latest rejection feedback per reason code in [since, until) (one query)."""
    found: dict[str, list[Handoff]] = {code: [] for code in reasons}
    if not reasons:
        return found
    rows = (
        Handoff.objects.filter(
            status=Handoff.Status.REJECTED, decided_at__gte=since, reason__code__in=list(reasons)
        )
        .filter(**({"decided_at__lt": until} if until else {}))
        .exclude(feedback="")
        .select_related("reason", "owner", "lead")
        .order_by("-decided_at", "-id")[: per_reason * len(reasons) * 5]
    )
    for handoff in rows:
        bucket = found[handoff.reason.code]
        if len(bucket) < per_reason:
            bucket.append(handoff)
    return found


def campaign_feedback(*, campaign_id: int, limit: int = 20) -> tuple[list[Handoff], dict]:
    """Sales' ratings and feedback on the decided handoffs of a campaign's leads (two
    queries); a withdrawn one is neither accepted nor rejected, so it is not decided."""
    decided = Handoff.objects.filter(
        lead__campaign_id=campaign_id,
        status__in=[Handoff.Status.ACCEPTED, Handoff.Status.REJECTED],
    )
    stats = decided.aggregate(
        decided=Count("id"),
        accepted=Count("id", filter=Q(status=Handoff.Status.ACCEPTED)),
        rejected=Count("id", filter=Q(status=Handoff.Status.REJECTED)),
        rated=Count("rating"),
        average=Avg("rating"),
        **{f"stars_{n}": Count("id", filter=Q(rating=n)) for n in range(1, 6)},
    )
    recent = list(
        decided.filter(~Q(feedback="") | Q(rating__isnull=False))
        .select_related("lead", "owner", "reason")
        .order_by("-decided_at", "-id")[:limit]
    )
    return recent, stats


@dataclass(frozen=True)
class ReasonCount:
    """One rejection reason of a campaign's leads: how often sales gave it, and its latest
    feedback in sales' words."""

    code: str
    label: str
    count: int
    quotes: list[Handoff]


def campaign_rejection_reasons(*, campaign_id: int, quotes: int = 3) -> list[ReasonCount]:
    """Why sales rejected the handoffs of a campaign's leads, over its whole life: each reason
    with its count (most given first) and up to `quotes` of its latest feedback (two
    queries)."""
    rejected = Handoff.objects.filter(
        lead__campaign_id=campaign_id, status=Handoff.Status.REJECTED, reason__isnull=False
    )
    counts = list(
        rejected.order_by()
        .values("reason__code", "reason__label")
        .annotate(n=Count("id"))
        .order_by("-n", "reason__label")
    )
    if not counts:
        return []
    latest = (
        rejected.exclude(feedback="")
        .select_related("reason", "owner", "lead")
        .annotate(
            nth=Window(
                RowNumber(),
                partition_by=[F("reason_id")],
                order_by=[F("decided_at").desc(nulls_last=True), F("id").desc()],
            )
        )
        .filter(nth__lte=quotes)
        .order_by("-decided_at", "-id")
    )
    said: dict[str, list[Handoff]] = {}
    for handoff in latest:
        said.setdefault(handoff.reason.code, []).append(handoff)
    return [
        ReasonCount(
            code=row["reason__code"],
            label=row["reason__label"],
            count=row["n"],
            quotes=said.get(row["reason__code"], []),
        )
        for row in counts
    ]


def sla_breach_list(*, owner: str | None = None, kind: str | None = None) -> QuerySet[SlaBreach]:
    """Recorded SLA breaches (leads.breaches), newest deadline first."""
    qs = SlaBreach.objects.select_related("handoff__lead", "handoff__owner")
    if owner:
        qs = qs.filter(handoff__owner__username=owner)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-due_at", "-id")


def rejection_reason_labels() -> dict[str, str]:
    """Each rejection reason's code and the words both teams read for it."""
    return dict(RejectionReason.objects.values_list("code", "label"))


# --- why a lead is an MQL -------------------------------------------------------------------


@dataclass(frozen=True)
class MqlWhy:
    """Why a handoff's lead is an MQL, as its card and the lead page say it.

    Scored (`rules` not empty): the rules it matched, their points (`score`) and the threshold
    of the lead definition `version` that qualified it. Marked MQL from outside (an `mql`
    event without rules): by whom or what (`marked_by`) and when; and, when a definition is in
    effect, the lead's score now against its threshold (`current_*`).
    """

    rules: tuple[dict, ...] = ()
    score: int | None = None
    threshold: int | None = None
    version: int | None = None
    marked_by: str = ""
    marked_at: datetime | None = None
    current_score: int | None = None
    current_threshold: int | None = None
    current_version: int | None = None

    @property
    def scored(self) -> bool:
        return bool(self.rules)


_SOURCE_WORDS = {
    StageEvent.Source.API: "the API",
    StageEvent.Source.APP: "the app",
    StageEvent.Source.IMPORT: "a CSV import",
    StageEvent.Source.ADMIN: "an admin",
    StageEvent.Source.SYSTEM: "Tandem's scoring",
}


#: Who marked a lead MQL when the two heads' overturn of its rejection handed it off again.
REOPENED_WORDS = "the two heads, who overturned its rejection after a dispute"


def _person(first: str | None, last: str | None, username: str | None) -> str:
    return " ".join(filter(None, [first, last])) or username or ""


def handoffs_why(*, handoffs: Iterable[Handoff], now: datetime | None = None) -> None:
    """Give each handoff `why` (an `MqlWhy`) in at most two queries whatever their number:
    the approved lead definitions (and the versions the handoffs name), and the `mql` events
    of the handoffs that were marked MQL from outside. Reads `matched_rules`, `handed_at`,
    `lead_id` and `lead.score`."""
    handoffs = list(handoffs)
    if not handoffs:
        return
    now = now or timezone.now()
    versions = {
        r.get("definition_version")
        for h in handoffs
        for r in h.matched_rules or ()
        if isinstance(r, dict) and r.get("definition_version") is not None
    }
    definitions = list(
        LeadDefinition.objects.filter(Q(status=VersionStatus.APPROVED) | Q(version__in=versions))
        .order_by("effective_from", "version")
        .values_list("version", "mql_threshold", "status", "effective_from")
    )
    thresholds = {version: threshold for version, threshold, _, _ in definitions}
    approved = [(at, v, t) for v, t, status, at in definitions if status == VersionStatus.APPROVED]

    def in_effect(at: datetime) -> tuple[int, int] | None:
        found = [(v, t) for since, v, t in approved if since <= at]
        return found[-1] if found else None

    current = in_effect(now)
    unscored = [h for h in handoffs if not h.matched_rules]
    marks: dict[tuple[int, datetime], tuple[str, datetime]] = {}
    if unscored:
        columns = (
            "lead_id", "occurred_at", "source", "actor__first_name", "actor__last_name",
            "actor__username", "reopening",
        )  # fmt: skip
        events = (
            StageEvent.objects.filter(lead_id__in={h.lead_id for h in unscored}, stage=Stage.MQL)
            .annotate(reopening=Exists(Dispute.objects.filter(reopen_event_id=OuterRef("pk"))))
            .values_list(*columns)
        )
        for lead_id, at, source, first, last, username, reopening in events:
            who = _person(first, last, username)
            words = REOPENED_WORDS if reopening else _SOURCE_WORDS.get(source, source)
            marks[(lead_id, at)] = (f"{who} ({words})" if who else words, at)
    for h in handoffs:
        rules = tuple(r for r in h.matched_rules or () if isinstance(r, dict))
        if rules:
            version = rules[0].get("definition_version")
            if version is None:  # kept before handoffs named their version
                version = (in_effect(h.handed_at) or (None, None))[0]
            h.why = MqlWhy(
                rules=rules,
                score=sum(int(r.get("points") or 0) for r in rules),
                threshold=thresholds.get(version),
                version=version,
            )
            continue
        marked_by, marked_at = marks.get((h.lead_id, h.handed_at), ("", h.handed_at))
        h.why = MqlWhy(
            marked_by=marked_by,
            marked_at=marked_at,
            current_score=h.lead.score if current else None,
            current_version=current[0] if current else None,
            current_threshold=current[1] if current else None,
        )


# --- my leads: accepted handoffs and their next step ---------------------------------------

#: Stages after which nothing more is due on a lead.
CLOSED_STAGES = (Stage.WON, Stage.LOST, Stage.REJECTED, Stage.RECYCLED, Stage.DISQUALIFIED)
REACHED = (AttemptOutcome.CONNECTED, AttemptOutcome.MEETING_BOOKED)

# The tiers of My leads, the most urgent first.
TIER_FIRST_CONTACT, TIER_NEXT_ATTEMPT, TIER_WORKING, TIER_LAPSED, TIER_CLOSED = range(5)


def my_leads(*, owner: str | None = None, now: datetime | None = None) -> QuerySet[Handoff]:
    """Accepted handoffs (each its lead's latest), what needs action first: leads never
    contacted since the handoff (by their first-contact deadline), then leads whose cadence
    goes on (fewer than the SLA's Y attempts and none that reached the lead, the longest
    waiting first), then leads being worked with the cadence done, then leads whose cadence
    window closed short of it (the latest first: follow up or close them), then closed leads
    (won, lost...), the latest first. `owner` as in the inbox (a username, "(unassigned)", or None
    for everyone's).

    Each row carries `attempts_made` and `last_attempt_at` (since the handoff), `reached` (an
    attempt connected or booked a meeting), `open_amount` (the lead's open deals) and `tier`;
    `my_leads_steps` adds the next step of the rows shown.
    """
    since = ContactAttempt.objects.filter(
        lead=OuterRef("lead_id"), occurred_at__gte=OuterRef("handed_at")
    )
    tally = since.order_by().values("lead")
    open_deals = (
        Deal.objects.filter(lead=OuterRef("lead_id"), status=Deal.Status.OPEN)
        .order_by()
        .values("lead")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    later = Handoff.objects.filter(lead=OuterRef("lead_id"), handed_at__gt=OuterRef("handed_at"))
    qs = (
        Handoff.objects.filter(status=Handoff.Status.ACCEPTED)
        .exclude(Exists(later))
        .select_related("lead", "owner", "sla", "decided_by")
        .annotate(
            attempts_made=Coalesce(
                Subquery(tally.annotate(n=Count("id")).values("n"), output_field=IntegerField()),
                0,
            ),
            last_attempt_at=Subquery(tally.annotate(m=Max("occurred_at")).values("m")),
            reached=Exists(since.filter(outcome__in=REACHED)),
            open_amount=Subquery(
                open_deals, output_field=DecimalField(max_digits=16, decimal_places=2)
            ),
        )
        .annotate(
            tier=Case(
                When(lead__stage__in=CLOSED_STAGES, then=Value(TIER_CLOSED)),
                When(
                    Q(sla__isnull=True)
                    | Q(reached=True)
                    | Q(attempts_made__gte=F("sla__attempts")),
                    then=Value(TIER_WORKING),
                ),
                When(cadence_due_at__lt=now or timezone.now(), then=Value(TIER_LAPSED)),
                When(attempts_made=0, then=Value(TIER_FIRST_CONTACT)),
                default=Value(TIER_NEXT_ATTEMPT),
                output_field=IntegerField(),
            )
        )
        .annotate(
            waiting_since=Case(
                When(tier=TIER_FIRST_CONTACT, then=F("first_contact_due_at")),
                When(tier=TIER_NEXT_ATTEMPT, then=F("last_attempt_at")),
                When(tier=TIER_WORKING, then=F("lead__stage_changed_at")),
                When(tier=TIER_LAPSED, then=F("cadence_due_at")),
                default=Value(None),
            )
        )
        .order_by(
            "tier",
            Case(When(tier=TIER_LAPSED, then=Value(None)), default=F("waiting_since")).asc(
                nulls_last=True
            ),
            F("cadence_due_at").desc(nulls_last=True),
            F("decided_at").desc(),
            "-id",
        )
    )
    return _owned_by(qs, owner)


@dataclass(frozen=True)
class LeadStep:
    """What a rep does next on an accepted lead, as of a moment.

    `kind`: "first_contact", "next_attempt" (the cadence goes on), "working" (the cadence is
    done: the lead was reached or Y attempts made), "lapsed" (the cadence window closed short
    of it), "no_sla" or "closed". `cadence` is "met"
    (Y attempts, or one reached the lead, within the window), "missed" (the window ended short
    of it), "open" (it runs until `window_ends`) or "" (no SLA).
    """

    kind: str
    due: datetime | None = None
    left: timedelta | None = None
    cadence: str = ""
    window_ends: datetime | None = None
    attempts: int = 0
    attempts_due: int | None = None

    @property
    def state(self) -> str:
        if self.left is None:
            return self.kind
        if self.left < timedelta(0):
            return "overdue"
        return "soon" if self.left < SOON else "ok"


def my_leads_steps(*, handoffs: Iterable[Handoff], now: datetime | None = None) -> None:
    """Give each row of `my_leads` its `step` (a `LeadStep`): the next attempt is Z business
    days after the last one (the SLA's calendar), in Python and without a query."""
    now = now or timezone.now()
    terms: dict[int, SlaTerms] = {}
    for h in handoffs:
        made = h.attempts_made
        if h.sla_id is None:
            h.step = LeadStep("closed" if h.tier == TIER_CLOSED else "no_sla", attempts=made)
            continue
        if h.sla_id not in terms:
            terms[h.sla_id] = SlaTerms.from_sla(h.sla, default_timezone=settings.TIME_ZONE)
        sla_terms = terms[h.sla_id]
        met = h.window_success or h.window_attempts >= sla_terms.attempts
        if met:
            cadence = "met"
        elif h.cadence_due_at is not None and h.cadence_due_at < now:
            cadence = "missed"
        else:
            cadence = "open"
        common = {
            "cadence": cadence,
            "window_ends": h.cadence_due_at,
            "attempts": made,
            "attempts_due": sla_terms.attempts,
        }
        if h.tier == TIER_FIRST_CONTACT:
            due = h.first_contact_due_at
        elif h.tier == TIER_NEXT_ATTEMPT:
            due = add_business_days(
                h.last_attempt_at, sla_terms.attempt_spacing_days, sla_terms.calendar
            )
        else:
            kind = {TIER_CLOSED: "closed", TIER_LAPSED: "lapsed"}.get(h.tier, "working")
            h.step = LeadStep(kind, **common)
            continue
        kind = "first_contact" if h.tier == TIER_FIRST_CONTACT else "next_attempt"
        h.step = LeadStep(kind, due, due - now if due else None, **common)


# --- one lead, all of it -------------------------------------------------------------------


def lead_get(*, pk: int) -> Lead | None:
    """A lead with its owner and campaign (one query)."""
    return Lead.objects.select_related("owner", "campaign").filter(pk=pk).first()


def lead_story(*, lead: Lead) -> Lead:
    """Give a lead its whole story, in a fixed number of queries: its handoffs (with who
    decided, the reason, the event that closed it and their reassignments), stage events,
    touches, attempts and deals
    (`lead.handoff_list`, `stage_list`, `touch_list`, `attempt_list`, `deal_list`), and why
    each handoff is an MQL (`handoffs_why`). Each handoff carries its dispute, if any
    (`dispute`, with the people in it), and `reopened_by_dispute_id`: the dispute whose
    overturn opened it."""
    reopened_by = Dispute.objects.filter(reopen_event_id=OuterRef("opening_event_id"))
    people = ("dispute__raised_by", "dispute__outcome_by", "dispute__resolved_by")
    lead.handoff_list = list(
        Handoff.objects.filter(lead=lead)
        .select_related("owner", "decided_by", "reason", "sla", "closing_event", "dispute", *people)
        .annotate(reopened_by_dispute_id=Subquery(reopened_by.values("pk")[:1]))
        .prefetch_related(
            Prefetch(
                "reassignments",
                queryset=HandoffReassignment.objects.select_related(
                    "from_owner", "to_owner", "by"
                ).order_by("-at", "-id"),
            )
        )
        .order_by("-handed_at", "-id")
    )
    for handoff in lead.handoff_list:
        handoff.lead = lead
    handoffs_why(handoffs=lead.handoff_list)
    lead.stage_list = list(
        StageEvent.objects.filter(lead=lead).select_related("actor").order_by("-occurred_at", "-id")
    )
    lead.touch_list = list(
        Touch.objects.filter(lead=lead).select_related("campaign").order_by("-occurred_at", "-id")
    )
    lead.attempt_list = list(
        ContactAttempt.objects.filter(lead=lead)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )
    lead.deal_list = list(Deal.objects.filter(lead=lead).order_by("-created_at", "-id"))
    return lead


# --- the lead-quality ledger: the handoffs behind each number ------------------------------


@dataclass(frozen=True)
class EvidenceFact:
    """The handoffs one number of the ledger counts: a condition of `leads.evidence`, and the
    moment that puts a handoff in a period, as the KPI engine counts them."""

    slug: str
    field: str  # the moment, from Handoff ("" for a count as of now, whenever)
    condition: Callable[[datetime], Q]  # given now


def _disputes(condition: Q) -> Q:
    """Handoffs whose dispute meets `condition` (one over `Dispute` rows)."""
    return Q(dispute__in=Dispute.objects.filter(condition))


EVIDENCE_FACTS: dict[str, EvidenceFact] = {
    fact.slug: fact
    for fact in (
        # The cohort facts, by handed_at (the handoffs family of `kpis.engine`).
        EvidenceFact(
            "not_followed_up",
            "handed_at",
            lambda now: evidence.follow_up_counted(now) & evidence.not_followed_up(),
        ),
        EvidenceFact(
            "rejected_without_contact", "handed_at", lambda now: evidence.rejected_without_contact()
        ),
        EvidenceFact("rejected_then_won", "handed_at", lambda now: evidence.rejected_then_won()),
        EvidenceFact(
            "accepted_then_disqualified",
            "handed_at",
            lambda now: evidence.accepted_then_disqualified(),
        ),
        EvidenceFact("withdrawn", "handed_at", lambda now: evidence.withdrawn()),
        # The rejections disputed, by the rejection's decided_at (the decisions family).
        EvidenceFact("disputed", "decided_at", lambda now: evidence.disputed()),
        # The disputes settled, by the second head's confirmation (the disputes family).
        EvidenceFact(
            "disputes_overturned",
            "dispute__resolved_at",
            lambda now: _disputes(evidence.dispute_overturned()),
        ),
        EvidenceFact(
            "disputes_upheld",
            "dispute__resolved_at",
            lambda now: _disputes(evidence.dispute_resolved() & ~evidence.dispute_overturned()),
        ),
        # Not settled yet, whenever raised: a count as of now.
        EvidenceFact("disputes_open", "", lambda now: _disputes(evidence.dispute_open())),
    )
}


def evidence_own_only(*, user: AbstractBaseUser) -> bool:
    """Whether `user` sees only their own handoffs behind the ledger's numbers (a sales rep);
    everyone else signed in sees every handoff."""
    return user_role(user) == Role.SALES_REP


def evidence_handoffs(
    *,
    fact: str,
    start: date | None,
    end: date | None,
    user: AbstractBaseUser | None,
    now: datetime,
    dimension: str | None = None,
    key: str | None = None,
) -> QuerySet[Handoff]:
    """The handoffs behind one number of the ledger (`EVIDENCE_FACTS`), the latest first.

    They are filtered with the very conditions the KPI engine counts with (`leads.evidence`),
    on the same moment (handed_at, the decision's decided_at or the dispute's resolved_at) in
    the local days [start, end] (`TIME_ZONE` midnights, as the engine's days), and in one slice
    of a dimension (campaign, channel, owner, segment) as the engine files them. The open
    disputes are counted as of now, whatever the days. A sales rep (`user`) gets their own
    handoffs only; `user=None` gives everyone's, the engine's count.
    """
    found = EVIDENCE_FACTS.get(fact)
    if found is None:
        raise KeyError(f"No fact {fact!r} in the lead-quality ledger.")
    qs = Handoff.objects.filter(found.condition(now))
    if found.field:
        tz = ZoneInfo(settings.TIME_ZONE)
        if start is not None:
            qs = qs.filter(**{f"{found.field}__gte": local_midnight(start, tz)})
        if end is not None:
            qs = qs.filter(**{f"{found.field}__lt": local_midnight(end + timedelta(days=1), tz)})
    qs = _in_slice(qs, dimension, key)
    if user is not None and evidence_own_only(user=user):
        qs = qs.filter(owner_id=user.pk)
    latest = found.field or "dispute__raised_at"
    related = ("lead", "lead__campaign", "owner", "reason", "closing_event", "dispute")
    return qs.select_related(*related).order_by(f"-{latest}", "-id")


# --- disputes of rejections ----------------------------------------------------------------

#: What a dispute's row shows: its handoff, lead and reason, and the people in it.
DISPUTE_RELATED = (
    "handoff__lead", "handoff__reason", "handoff__owner", "handoff__decided_by",
    "raised_by", "outcome_by", "resolved_by",
)  # fmt: skip


def attempts_before_decision(handoff: str = "") -> Coalesce:
    """The contact attempts of a handoff's lead from its handing over to its decision (what
    sales did before deciding), as a subquery over rows of Handoff (`handoff` is the path to
    the handoff from the rows, e.g. "handoff__" from a Dispute)."""
    attempts = (
        ContactAttempt.objects.filter(
            lead=OuterRef(f"{handoff}lead_id"),
            occurred_at__gte=OuterRef(f"{handoff}handed_at"),
            occurred_at__lte=OuterRef(f"{handoff}decided_at"),
        )
        .order_by()
        .values("lead")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(attempts, output_field=IntegerField()), 0)


def dispute_list(*, status: str | None = None) -> QuerySet[Dispute]:
    """Disputes, the latest raised first, each with its handoff, lead, reason and the people
    in it (one query). Each carries `attempts_before_decision` (`attempts_before_decision`)
    and `reopened_handoff_id` (the handoff an overturn opened, if any)."""
    reopened = Handoff.objects.filter(opening_event_id=OuterRef("reopen_event_id")).values("pk")
    qs = Dispute.objects.select_related(*DISPUTE_RELATED).annotate(
        attempts_before_decision=attempts_before_decision("handoff__"),
        reopened_handoff_id=Subquery(reopened[:1]),
    )
    if status:
        qs = qs.filter(status=status)
    if status == Dispute.Status.RESOLVED:  # the settled ones: the latest settled first
        return qs.order_by("-resolved_at", "-id")
    return qs.order_by("-raised_at", "-id")


def dispute_get(*, pk: int) -> Dispute | None:
    """One dispute as `dispute_list` reads it, and the handoff its overturn opened with its
    owner (`reopened_handoff`, None when there is none): two queries at most."""
    dispute = dispute_list().filter(pk=pk).first()
    if dispute is None:
        return None
    dispute.reopened_handoff = None
    if dispute.reopened_handoff_id is not None:
        dispute.reopened_handoff = (
            Handoff.objects.select_related("owner").filter(pk=dispute.reopened_handoff_id).first()
        )
    return dispute


def disputes_with_heads(*, disputes: Iterable[Dispute]) -> dict[str, Any]:
    """Give each dispute `awaiting_head`: the head whose confirmation it awaits (None: it
    awaits no one, open or settled, or that team has no head). Returns the heads by team value
    (one query)."""
    heads = {team.value: user for team, user in team_heads().items()}
    for dispute in disputes:
        awaits = dispute.status == Dispute.Status.AWAITING
        dispute.awaiting_head = heads.get(dispute.awaiting_team) if awaits else None
    return heads


@dataclass(frozen=True)
class DisputeBoard:
    """The disputes not settled yet, as a person reads them: those waiting for them (a head:
    the ones without an outcome, which either head records, and those awaiting their
    confirmation) and the others (`open`); the heads by team value."""

    waiting: list[Dispute]
    open: list[Dispute]
    heads: dict[str, Any]


def dispute_board(*, head_team: str | None) -> DisputeBoard:
    """The disputes not settled yet, split for the head of `head_team` (None: not a head,
    nothing waits for them), with their awaited heads: two queries."""
    waits = _waiting_for(head_team) if head_team else Q(pk__in=[])
    unsettled = list(
        dispute_list()
        .exclude(status=Dispute.Status.RESOLVED)
        .annotate(waits=ExpressionWrapper(waits, output_field=BooleanField()))
    )
    heads = disputes_with_heads(disputes=unsettled)
    return DisputeBoard(
        waiting=[d for d in unsettled if d.waits],
        open=[d for d in unsettled if not d.waits],
        heads=heads,
    )


def _waiting_for(team: str) -> Q:
    """Disputes that wait for the head of `team`: without an outcome (either head records it)
    or awaiting that team's confirmation."""
    return Q(status=Dispute.Status.OPEN) | Q(status=Dispute.Status.AWAITING, awaiting_team=team)


def dispute_counts() -> dict[str, int]:
    """How many disputes wait for an outcome, for a confirmation, and were settled (upheld,
    overturned): one query. Counts only: what everyone may read."""
    return Dispute.objects.aggregate(
        open=Count("id", filter=Q(status=Dispute.Status.OPEN)),
        awaiting=Count("id", filter=Q(status=Dispute.Status.AWAITING)),
        resolved=Count("id", filter=Q(status=Dispute.Status.RESOLVED)),
        upheld=Count(
            "id", filter=Q(status=Dispute.Status.RESOLVED, outcome=Dispute.Outcome.UPHELD)
        ),
        overturned=Count(
            "id", filter=Q(status=Dispute.Status.RESOLVED, outcome=Dispute.Outcome.OVERTURNED)
        ),
    )


def disputes_waiting_count(*, team: str) -> int:
    """How many disputes wait for the head of `team`: without an outcome (either head records
    it) or awaiting that team's confirmation (one COUNT): the nav's badge."""
    return Dispute.objects.filter(_waiting_for(team)).count()
