"""The meeting view's builders: one per section of the weekly alignment meeting (a slide on the
shared screen, `templates/kpis/meeting/<slug>.html`); the page shows them in `SECTIONS` order
and refreshes each on its own.

HOOK(meeting): later issues add open action items, new field insights, ideas and spotlights by
appending a `Section` with its builder, and a template beside the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from alignment.models import ShadowingSession, Spotlight
from alignment.selectors import (
    action_items_open,
    ideas_in_critique,
    insights_unanswered,
    shadowing_between,
    spotlights_latest,
)
from core.catalog import METRICS
from core.periods import (
    local_midnight,
    next_period,
    period_bounds,
    period_span_label,
    period_start,
    previous_period,
)
from kpis.goals import goals_running
from kpis.pages.common import change_of
from kpis.pages.evidence import EVIDENCE_METRICS, EvidencePanel, evidence_panel
from kpis.pages.habits import joint_meetings
from kpis.selectors import (
    Agg,
    KpiTable,
    agg_empty,
    kpi_members,
    kpi_table,
    rejections_by_reason,
)
from leads.selectors import (
    evidence_handoffs,
    rejection_quotes,
    rejection_reason_labels,
    sla_breaches_by_owner,
)

MEETING_METRICS = (
    "mqls", "sals", "acceptance_rate", "sqls", "opportunities",
    "deals_won", "revenue_won", "sla_first_contact_rate", "speed_to_lead_median_hours",
)  # fmt: skip


@dataclass(frozen=True)
class WeekRow:
    metric: str
    label: str
    unit: str
    team: str
    last: Agg
    before: Agg
    average: Agg
    change: Decimal | None
    change_unit: str
    verdict: str


@dataclass(frozen=True)
class MeetingWeek:
    last_week: date
    label: str
    rows: list[WeekRow]
    computed_at: datetime | None


def _average(table: KpiTable, metric: str, weeks: Sequence[date]) -> Agg:
    """The 4-week average: ratios re-aggregated, counts divided, percentiles their mean."""
    definition = METRICS[metric]
    if definition.is_percentile:
        values = [a.value for a in table.series(metric, weeks) if a.value is not None]
        return Agg(Decimal(0), None, sum(values) / len(values) if values else None)
    total = table.over(metric, weeks)
    if definition.is_ratio:
        return total
    return Agg(total.numerator, None, total.numerator / len(weeks))


def meeting_week(*, today: date | None = None) -> MeetingWeek:
    """Last (complete) week vs the week before vs the average of the last four weeks."""

    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    weeks = [last]
    for _ in range(3):
        weeks.insert(0, previous_period("week", weeks[0]))
    table = kpi_table(metrics=MEETING_METRICS, period="week", start=weeks[0], end=last)
    rows = []
    for metric in MEETING_METRICS:
        definition = METRICS[metric]
        now, before = table.get(metric, last), table.get(metric, weeks[-2])
        change, unit, verdict = change_of(metric, now, before)
        rows.append(
            WeekRow(
                metric=metric,
                label=definition.label,
                unit=definition.unit,
                team=METRICS[metric].team,
                last=now,
                before=before,
                average=_average(table, metric, weeks),
                change=change,
                change_unit=unit,
                verdict=verdict,
            )
        )
    return MeetingWeek(
        last_week=last,
        label=period_span_label("week", last),
        rows=rows,
        computed_at=table.computed_at,
    )


@dataclass(frozen=True)
class OwnerSla:
    username: str
    name: str
    breaches: int
    oldest_due: datetime | None
    first_contact: Agg


@dataclass(frozen=True)
class MeetingSla:
    week_label: str
    total_breaches: int
    team_first_contact: Agg
    rows: list[OwnerSla]


def meeting_sla(*, today: date | None = None) -> MeetingSla:
    """Breaches right now by owner, with each owner's first-contact rate last week."""

    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    breaches = {b["username"] or "(unassigned)": b for b in sla_breaches_by_owner()}
    rates = kpi_members(
        metrics=["sla_first_contact_rate"], period="week", start=last, end=last, dimension="owner"
    )
    total = kpi_table(metrics=["sla_first_contact_rate"], period="week", start=last, end=last)
    missing = [u for u in rates if u not in breaches and u != "(unassigned)"]
    names = {
        u: " ".join(filter(None, [f, ln])) or u
        for u, f, ln in get_user_model()
        .objects.filter(username__in=missing)
        .values_list("username", "first_name", "last_name")
    }
    rows = []
    for username in dict.fromkeys([*breaches, *rates]):
        b = breaches.get(username)
        rate = rates.get(username, {}).get("sla_first_contact_rate") or agg_empty(
            "sla_first_contact_rate"
        )
        rows.append(
            OwnerSla(
                username=username,
                name=b["name"] if b else names.get(username, "Unassigned"),
                breaches=b["count"] if b else 0,
                oldest_due=b["oldest"] if b else None,
                first_contact=rate,
            )
        )
    rows.sort(key=lambda r: (-r.breaches, float(r.first_contact.value or 0), r.name))
    return MeetingSla(
        week_label=period_span_label("week", last),
        total_breaches=sum(r.breaches for r in rows),
        team_first_contact=total.get("sla_first_contact_rate", last),
        rows=rows,
    )


@dataclass(frozen=True)
class ReasonQuotes:
    code: str
    label: str
    count: Decimal
    share: Decimal
    bar: float  # length of its bar: its count relative to the most frequent reason
    quotes: list  # Handoff rows with feedback


@dataclass(frozen=True)
class MeetingReasons:
    range_label: str
    total: Decimal
    reasons: list[ReasonQuotes]


def meeting_reasons(
    *, today: date | None = None, weeks: int = 4, top: int = 5, quoted: int = 3
) -> MeetingReasons:
    """The top rejection reasons of the last weeks, with sales' own words for the first ones."""

    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    first = last
    for _ in range(weeks - 1):
        first = previous_period("week", first)
    every = rejections_by_reason(period="week", start=first, end=last)
    counts = every[:top]
    total = sum((n for _, n in every), Decimal(0))
    labels = rejection_reason_labels()
    tz = ZoneInfo(settings.TIME_ZONE)
    quotes = rejection_quotes(
        since=local_midnight(first, tz),
        until=local_midnight(next_period("week", last), tz),
        reasons=[code for code, _ in counts[:quoted]],
    )
    most = counts[0][1] if counts else Decimal(1)
    return MeetingReasons(
        range_label=_days_label(first, next_period("week", last) - timedelta(days=1)),
        total=total,
        reasons=[
            ReasonQuotes(code, labels.get(code, code), n, n / total if total else Decimal(0),
                         float(n / most), quotes.get(code, []))
            for code, n in counts
        ],
    )  # fmt: skip


def _days_label(first: date, last: date) -> str:
    """'19 Oct – 15 Nov 2026', '28 Dec 2025 – 24 Jan 2026'."""
    if first.year != last.year:
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"


@dataclass(frozen=True)
class MeetingEvidence:
    range_label: str
    panel: EvidencePanel  # counts only: the slide names no one
    disputes_open: int  # as of now, whenever raised


def meeting_evidence(*, today: date | None = None, weeks: int = 4) -> MeetingEvidence:
    """The lead-quality ledger of the handoffs made in the last weeks (decisions and disputes
    settled in them), the same numbers as the dashboard's panel; the open disputes as of now."""
    today = today or timezone.localdate()
    last = previous_period("week", period_start("week", today))
    first = last
    for _ in range(weeks - 1):
        first = previous_period("week", first)
    table = kpi_table(metrics=EVIDENCE_METRICS, period="week", start=first, end=last)
    disputes_open = evidence_handoffs(
        fact="disputes_open", start=None, end=None, user=None, now=timezone.now()
    ).count()
    return MeetingEvidence(
        range_label=_days_label(first, next_period("week", last) - timedelta(days=1)),
        panel=evidence_panel(table, "week", trend=False),
        disputes_open=disputes_open,
    )


def meeting_spotlights(*, limit: int = 3) -> list[Spotlight]:
    """The latest joint wins, with their deal, people and thanks."""
    return spotlights_latest(limit=limit)


@dataclass(frozen=True)
class MeetingShadowing:
    month_label: str
    sessions: list[ShadowingSession]
    done: int  # logged with what was learned
    planned: int  # still scheduled


def meeting_shadowing(*, today: date | None = None) -> MeetingShadowing:
    """This month's shadowing sessions (local time), in time order, with what was learned."""
    today = today or timezone.localdate()
    month = period_start("month", today)
    begin, end = period_bounds("month", month, ZoneInfo(settings.TIME_ZONE))
    sessions = list(shadowing_between(start=begin, end=end))
    return MeetingShadowing(
        month_label=f"{month:%B %Y}",
        sessions=sessions,
        done=sum(s.status == ShadowingSession.Status.DONE for s in sessions),
        planned=sum(s.status == ShadowingSession.Status.SCHEDULED for s in sessions),
    )


@dataclass(frozen=True)
class MeetingActions:
    today: date
    items: list  # open ActionItem rows (with owner and meeting), soonest due first
    total: int
    overdue: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def meeting_actions(*, today: date | None = None, limit: int = 12) -> MeetingActions:
    """Every open action item, the overdue ones first (they are due soonest)."""
    today = today or timezone.localdate()
    open_items = action_items_open()
    counts = open_items.aggregate(
        total=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today))
    )
    return MeetingActions(today=today, items=list(open_items[:limit]), **counts)


@dataclass(frozen=True)
class MeetingInsights:
    total: int  # unanswered in all
    rows: list  # FieldInsight, the longest waiting first, at most `limit`


def meeting_insights(*, limit: int = 6) -> MeetingInsights:
    """What prospects told sales that marketing has not answered yet, the longest waiting
    first (the template says how long each has waited)."""
    waiting = insights_unanswered()
    rows = list(waiting[:limit])
    total = len(rows) if len(rows) < limit else waiting.count()
    return MeetingInsights(total=total, rows=rows)


@dataclass(frozen=True)
class MeetingIdeas:
    total: int  # open for critique in all
    rows: list  # Idea with votes per team and comments counted, most voted first


def meeting_ideas(*, limit: int = 6) -> MeetingIdeas:
    """Ideas open for critique, with their votes per team: the most voted first."""
    open_ = ideas_in_critique().order_by("-vote_count", "opened_at", "id")
    rows = list(open_[:limit])
    total = len(rows) if len(rows) < limit else open_.count()
    return MeetingIdeas(total=total, rows=rows)


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    build: Callable[[], object]
    live: bool = False  # moves with the clock: rendered on every request, never kept

    @property
    def template(self) -> str:
        return f"kpis/meeting/{self.slug}.html"


SECTIONS: list[Section] = [
    Section("week", "Last week in numbers", meeting_week),
    Section("meetings", "How often we meet", joint_meetings),
    Section("goals", "Shared goals", goals_running, live=True),  # the pace line is today's
    Section("sla", "SLA breaches", meeting_sla, live=True),  # breaches right now
    Section("reasons", "Why sales rejected leads", meeting_reasons),
    # Counts only, never names; the open disputes are counted as of now.
    Section("evidence", "Evidence: the same facts for both teams", meeting_evidence, live=True),
    Section("actions", "Open action items", meeting_actions, live=True),  # ticked off any time
    Section("insights", "New field insights", meeting_insights, live=True),
    Section("ideas", "Ideas for critique", meeting_ideas, live=True),
    # Working together: these records change without the snapshots changing.
    Section("spotlights", "Joint wins", meeting_spotlights, live=True),
    Section("shadowing", "Shadowing this month", meeting_shadowing, live=True),
]


def section(slug: str) -> Section | None:
    return next((s for s in SECTIONS if s.slug == slug), None)
