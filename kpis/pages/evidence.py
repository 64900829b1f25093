"""The lead-quality ledger on the pages: the evidence panel (dashboard and meeting view) read
from the snapshots, and the drill-down behind each of its numbers, read from the handoffs with
the very conditions the engine counts with (`leads.selectors.evidence_handoffs`).

Both teams read the same words: the sales side (leads not followed up, rejections without
contact), the marketing side (acceptances later disqualified), and what concerns both (rejected
leads later won, handoffs withdrawn, disputes and their outcomes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from core.catalog import METRICS
from core.periods import next_period
from kpis.pages.common import Column, Dataset, period_rows, series_dataset
from kpis.selectors import Agg, KpiFilter, KpiTable, kpi_table
from leads.models import Dispute, Handoff
from leads.selectors import evidence_handoffs, evidence_own_only

#: The snapshots the panel reads (one `kpi_table` with the rest of a page's).
EVIDENCE_METRICS = (
    "followed_up_rate",
    "rejected_without_contact_rate",
    "accepted_then_disqualified_rate",
    "rejected_then_won_rate",
    "handoffs_withdrawn",
    "dispute_rate",
    "dispute_overturn_rate",
)
#: The ledger over time: a chart of the rates, with its table and CSV.
TREND_METRICS = (
    "followed_up_rate",
    "rejected_without_contact_rate",
    "accepted_then_disqualified_rate",
    "rejected_then_won_rate",
)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Fact:
    """One number of the ledger: what it counts, in words, and where its count comes from."""

    slug: str  # as in `leads.selectors.EVIDENCE_FACTS`
    label: str
    team: str  # whose side: sales | marketing | joint
    metric: str  # the catalog metric it is read from ("" for a count as of now)
    rest: bool  # the denominator less the numerator (else the numerator)
    of_words: str  # what the denominator counts ("3 of 24 rejections"), or a count's gloss
    moment: str  # what puts a handoff in the range: "handed over" | "decided" | "settled"
    words: str  # which handoffs the list holds

    @property
    def definition(self) -> str:
        """The catalog's definition of the metric it is part of."""
        return METRICS[self.metric].definition if self.metric else ""

    @property
    def metric_label(self) -> str:
        return METRICS[self.metric].label if self.metric else ""


FACTS: dict[str, Fact] = {
    f.slug: f
    for f in (
        Fact(
            "not_followed_up", "Leads not followed up", "sales", "followed_up_rate", True,
            "handoffs due for contact", "handed over",
            "Handoffs made in the range with no contact attempt at or after the handoff (for a "
            "rejection: none before the decision). Pending handoffs whose first-contact "
            "deadline is still ahead are left out: they can still be followed up in time.",
        ),
        Fact(
            "rejected_without_contact", "Rejected without contact", "sales",
            "rejected_without_contact_rate", False, "rejections", "handed over",
            "Rejections of handoffs made in the range, decided before any contact attempt at "
            "or after the handoff.",
        ),
        Fact(
            "accepted_then_disqualified", "Accepted, then disqualified", "marketing",
            "accepted_then_disqualified_rate", False, "acceptances", "handed over",
            "Acceptances of handoffs made in the range whose lead later reached the "
            "disqualified stage.",
        ),
        Fact(
            "rejected_then_won", "Rejected, then won", "joint", "rejected_then_won_rate", False,
            "rejections", "handed over",
            "Rejections of handoffs made in the range whose lead later has a won deal, closed "
            "after the rejection (through a later handoff or none).",
        ),
        Fact(
            "withdrawn", "Handoffs withdrawn", "joint", "handoffs_withdrawn", False,
            "neither accepted nor rejected", "handed over",
            "Handoffs made in the range that were closed because the lead left the funnel "
            "(recycled, disqualified or lost) before sales decided.",
        ),
        Fact(
            "disputed", "Rejections disputed", "joint", "dispute_rate", False,
            "rejections decided", "decided",
            "Rejections decided in the range that marketing disputed.",
        ),
        Fact(
            "disputes_upheld", "Disputes upheld", "joint", "dispute_overturn_rate", True,
            "disputes settled", "settled",
            "Disputes the two heads settled in the range (by the second head's confirmation) "
            "that upheld the rejection.",
        ),
        Fact(
            "disputes_overturned", "Disputes overturned", "joint", "dispute_overturn_rate",
            False, "disputes settled", "settled",
            "Disputes the two heads settled in the range (by the second head's confirmation) "
            "that overturned the rejection: the lead went to another rep.",
        ),
        Fact(
            "disputes_open", "Disputes open", "joint", "", False, "", "",
            "Disputes not settled yet, whenever they were raised: waiting for a head to record "
            "an outcome, or for the other head to confirm it. A count as of now.",
        ),
    )
}  # fmt: skip

#: How the panel's numbers that are no metric of their own follow from the catalog (the
#: Definitions page shows it under the evidence family).
EVIDENCE_NOTE = (
    "The evidence panel on the dashboard and the meeting view reads these metrics with the same "
    "words for both teams. Leads not followed up are the handoffs Leads followed up counts "
    "less those followed up; disputes upheld are the disputes settled less those overturned; "
    "disputes open are counted as of now, whenever raised. Each number on the dashboard opens "
    "the list of the leads behind it (a sales rep sees their own)."
)


@dataclass(frozen=True)
class EvidenceNumber:
    fact: Fact
    count: Decimal | None  # None: not broken down by the filter's dimension
    of: Decimal | None  # the rate's denominator ("3 of 24")
    share: Decimal | None


def evidence_number(fact: Fact, agg: Agg) -> EvidenceNumber:
    """A fact's count from its metric's snapshots over a range (`KpiTable.over`)."""
    if not agg.supported:
        return EvidenceNumber(fact, None, None, None)
    if not agg.is_ratio:
        return EvidenceNumber(fact, agg.numerator, None, None)
    of = agg.denominator or Decimal(0)
    count = of - agg.numerator if fact.rest else agg.numerator
    return EvidenceNumber(fact, count, of, count / of if of else None)


@dataclass(frozen=True)
class EvidencePanel:
    numbers: dict[str, EvidenceNumber]  # by fact; the open disputes come live (not here)
    span: str  # "from 1 Jan 2026 to 31 Dec 2026"
    query: str  # the drill-downs' query string: the same range and slice
    trend: Dataset | None
    computed_at: datetime | None


def days_of(kind: str, periods: Sequence[date]) -> tuple[date, date]:
    """The first and the last day of a run of periods."""
    return periods[0], next_period(kind, periods[-1]) - timedelta(days=1)


def day_words(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def evidence_query(f: KpiFilter) -> str:
    """The query string of a drill-down showing the same periods and slice as `f`."""
    query = QueryDict(mutable=True)
    first, _ = days_of(f.period, f.periods or [f.focus])
    query.update({"period": f.period, "start": first.isoformat(), "end": f.end.isoformat()})
    if f.dimension and f.key:
        query[f.dimension] = f.key
    return query.urlencode()


def evidence_panel(
    table: KpiTable,
    kind: str,
    *,
    f: KpiFilter | None = None,
    trend: bool = True,
    trend_partial: bool = False,
) -> EvidencePanel:
    """The ledger over the table's periods (its slice), from the snapshots; with `trend`, the
    rates over those periods too (`trend_partial`: the last is a period in progress)."""
    periods = table.periods
    numbers = {
        slug: evidence_number(fact, table.over(fact.metric, periods))
        for slug, fact in FACTS.items()
        if fact.metric
    }
    first, last = days_of(kind, periods)
    chart = None
    if trend:
        metrics = tuple(m for m in TREND_METRICS if table.supports(m))
        rows = period_rows(table, kind, metrics, partial=trend_partial)
        chart = series_dataset(
            table, kind, metrics, rows, slug="evidence", title="The ledger over time",
            summary=_trend_summary(numbers), chart="lines", partial=trend_partial,
        )  # fmt: skip
    return EvidencePanel(
        numbers=numbers,
        span=f"from {day_words(first)} to {day_words(last)}",
        query=evidence_query(f) if f else "",
        trend=chart,
        computed_at=table.computed_at,
    )


def _trend_summary(numbers: dict[str, EvidenceNumber]) -> str:
    parts = []
    for slug in ("not_followed_up", "rejected_without_contact", "accepted_then_disqualified"):
        n = numbers[slug]
        if n.count is not None and n.of:
            parts.append(f"{n.fact.label}: {int(n.count):,} of {int(n.of):,}")
    return "; ".join(parts) + "." if parts else "No handoffs in the range."


def evidence_table(f: KpiFilter) -> KpiTable:
    """The panel's snapshots for a filter, when a page reads them alone (the drill-down)."""
    return kpi_table(
        metrics=EVIDENCE_METRICS,
        period=f.period,
        start=f.start,
        end=f.end,
        dimension=f.dimension,
        key=f.key,
    )


# --- the drill-down ---------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    handoff: Handoff
    lead: str
    company: str
    campaign: str
    owner: str
    handed_at: datetime
    status: str  # in words, a withdrawal with its cause
    reason: str
    first_attempt_at: datetime | None
    decided_at: datetime | None
    dispute: str  # its state, in words: never who raised it or what they wrote


def dispute_words(handoff: Handoff) -> str:
    """'Waiting for an outcome', 'Waiting for the head of sales to confirm', 'Rejection
    overturned on 3 Mar 2026' (no names, no comments)."""
    dispute: Dispute | None = getattr(handoff, "dispute", None)
    if dispute is None:
        return ""
    if dispute.status == Dispute.Status.AWAITING:
        team = f"the head of {dispute.awaiting_team}" if dispute.awaiting_team else "a head"
        return f"Waiting for {team} to confirm"
    if dispute.status == Dispute.Status.RESOLVED:
        when = timezone.localtime(dispute.resolved_at).date() if dispute.resolved_at else None
        return f"{dispute.get_outcome_display()}{f' on {day_words(when)}' if when else ''}"
    return dispute.get_status_display()


def status_words(h: Handoff) -> str:
    """The handoff's status; a withdrawal with its cause, the stage of the event that closed
    it ('Withdrawn: recycled')."""
    if h.status == Handoff.Status.WITHDRAWN and h.closing_event is not None:
        return f"{h.get_status_display()}: {h.closing_event.get_stage_display().lower()}"
    return h.get_status_display()


def evidence_row(h: Handoff) -> EvidenceRow:
    owner = (h.owner.get_full_name() or h.owner.get_username()) if h.owner else "Unassigned"
    return EvidenceRow(
        handoff=h,
        lead=str(h.lead),
        company=h.lead.company,
        campaign=h.lead.campaign.name if h.lead.campaign else "",
        owner=owner,
        handed_at=h.handed_at,
        status=status_words(h),
        reason=h.reason.label if h.reason else "",
        first_attempt_at=h.first_attempt_at,
        decided_at=h.decided_at,
        dispute=dispute_words(h),
    )


@dataclass(frozen=True)
class EvidenceList:
    fact: Fact
    filter: KpiFilter
    span: str  # "handed over from 1 Jan 2026 to 31 Dec 2026"
    slice_words: str  # "campaign web" or ""
    total: int  # every handoff behind the number, now
    mine: int | None  # a sales rep's own of them (the list shows only those)
    page: Page
    rows: list[EvidenceRow]
    counted: EvidenceNumber | None  # what the dashboard's snapshots say (not for live counts)
    computed_at: datetime | None
    query: str  # the filter's query string, for the CSV and the pages' links

    @property
    def shows_disputes(self) -> bool:
        return self.fact.slug.startswith("dispute")


def _slice_words(f: KpiFilter) -> str:
    if not (f.dimension and f.key):
        return ""
    return f"{f.dimension} {f.key}"


def evidence_handoffs_of(
    fact: Fact, f: KpiFilter, *, user: AbstractBaseUser | None, now: datetime
) -> QuerySet[Handoff]:
    """The handoffs behind `fact` for the filter's periods and slice, as `user` may see them."""
    first, last = days_of(f.period, f.periods or [f.focus])
    return evidence_handoffs(
        fact=fact.slug, start=first, end=last, user=user, now=now,
        dimension=f.dimension, key=f.key,
    )  # fmt: skip


def evidence_list(
    fact: Fact, f: KpiFilter, *, user: AbstractBaseUser, page: str | int | None = None
) -> EvidenceList:
    """A drill-down: the handoffs behind one number, a page of them, and how many in all (and
    of them the viewer's own, for a sales rep, who sees only those)."""
    now = timezone.now()
    visible = evidence_handoffs_of(fact, f, user=user, now=now)
    paginator = Paginator(visible, PAGE_SIZE)
    shown = paginator.get_page(page)
    own = evidence_own_only(user=user)
    total = evidence_handoffs_of(fact, f, user=None, now=now).count() if own else paginator.count
    counted, computed_at = None, None
    if fact.metric:
        table = evidence_table(f)
        periods = f.periods or [f.focus]
        counted = evidence_number(fact, table.over(fact.metric, periods))
        computed_at = table.computed_at
    first, last = days_of(f.period, f.periods or [f.focus])
    span = f"{fact.moment} from {day_words(first)} to {day_words(last)}" if fact.moment else ""
    return EvidenceList(
        fact=fact,
        filter=f,
        span=span,
        slice_words=_slice_words(f),
        total=total,
        mine=paginator.count if own else None,
        page=shown,
        rows=[evidence_row(h) for h in shown.object_list],
        counted=counted,
        computed_at=computed_at,
        query=evidence_query(f),
    )


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def evidence_dataset(fact: Fact, f: KpiFilter, *, user: AbstractBaseUser) -> Dataset:
    """Every handoff of a drill-down the viewer may see, for its CSV."""
    handoffs = evidence_handoffs_of(fact, f, user=user, now=timezone.now())
    columns = ["Lead", "Lead id", "Company", "Campaign", "Owner", "Handed over", "Status",
               "Reason", "First attempt", "Decided"]  # fmt: skip
    if fact.slug.startswith("dispute"):
        columns.append("Dispute")
    rows = []
    for h in handoffs.iterator(chunk_size=2000):
        r = evidence_row(h)
        row = [r.lead, h.lead.external_id, r.company, r.campaign, r.owner, _local(r.handed_at),
               r.status, r.reason, _local(r.first_attempt_at), _local(r.decided_at)]  # fmt: skip
        if fact.slug.startswith("dispute"):
            row.append(r.dispute)
        rows.append(tuple(row))
    return Dataset(
        slug=fact.slug, title=fact.label, columns=tuple(Column(c) for c in columns), rows=rows
    )
