"""A campaign's page builders: its funnel, its leads over time, and what each attribution model
credits it with, from snapshots; its kick-off and post-mortem meetings and sales' ratings of its
leads (these change without the snapshots changing: the pages build them on every request);
the post-mortem page and the agenda it starts the post-mortem meeting with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from alignment.models import Meeting
from alignment.selectors import (
    CampaignRatings,
    campaign_meeting_flags,
    campaign_meetings,
    campaign_ratings,
)
from core.attribution import MODEL_LABELS
from core.periods import period_start
from kpis.pages.agenda import md_text
from kpis.pages.common import Column, Dataset, format_value, period_rows, series_dataset
from kpis.pages.dashboard import FUNNEL, funnel_dataset
from kpis.selectors import (
    CAMPAIGN_METRICS,
    Agg,
    KpiFilter,
    KpiTable,
    ModelRow,
    campaign_models,
    kpi_table,
)
from leads.models import Campaign
from leads.selectors import ReasonCount, campaign_rejection_reasons


def models_dataset(rows: Sequence[ModelRow]) -> Dataset:
    best = max(rows, key=lambda r: r.revenue.numerator) if rows else None
    return Dataset(
        slug="models",
        title="Attributed revenue by model",
        columns=(
            Column("Model"),
            Column("Attributed revenue", "currency"),
            Column("ROI", "ratio"),
        ),
        rows=[(r.label, r.revenue.value, r.roi.value) for r in rows],
        parts=tuple((None, None, r.roi) for r in rows),
        summary=(
            f"{best.label} credits this campaign the most: {best.revenue.value:,.0f}."
            if best and best.revenue.numerator
            else "No won revenue credited to this campaign yet."
        ),
        chart="hbar",
        teams=("marketing",),
    )


CAMPAIGN_TREND = ("leads_created", "mqls", "sqls", "deals_won")
#: The campaign list's closed loop, and how sales decided the handoffs of its leads.
DETAIL_METRICS = (*CAMPAIGN_METRICS, "acceptance_rate")


@dataclass(frozen=True)
class CampaignDetail:
    filter: KpiFilter
    range_label: str
    model_label: str
    totals: dict[str, Agg]
    funnel: Dataset
    trend: Dataset
    models: list[ModelRow]
    models_data: Dataset
    computed_at: datetime | None

    @property
    def credit_only(self) -> bool:
        """Revenue credited, yet no won deal of its own leads: all of it comes from its touches
        on leads that came in through other campaigns (their deals, not its own)."""
        won, revenue = self.totals["deals_won"].value, self.totals["attributed_revenue"].value
        return not won and bool(revenue)


def campaign_trend_dataset(table: KpiTable, kind: str) -> Dataset:
    rows = period_rows(table, kind, CAMPAIGN_TREND)
    summary = f"{len(rows)} periods of leads, MQLs, SQLs and won deals."
    return series_dataset(
        table, kind, CAMPAIGN_TREND, rows, slug="trend", title="Leads over time", summary=summary
    )


def campaign_detail(*, key: str, f: KpiFilter) -> CampaignDetail:
    """A campaign's closed loop from snapshots: funnel, trend, cost and revenue per model."""
    table = kpi_table(
        metrics=[*(m for m, _ in FUNNEL), *DETAIL_METRICS],
        period=f.period,
        start=f.start,
        end=f.end,
        dimension="campaign",
        key=key,
        model=f.model,
    )
    models = campaign_models(key=key, period=f.period, start=f.start, end=f.end)
    return CampaignDetail(
        filter=f,
        range_label=f.range_label,
        model_label=MODEL_LABELS[f.model],
        totals={m: table.over(m) for m in DETAIL_METRICS},
        funnel=funnel_dataset(table, table.periods, kind=f.period, key=key),
        trend=campaign_trend_dataset(table, f.period),
        models=models,
        models_data=models_dataset(models),
        computed_at=table.computed_at,
    )


# --- kick-off and post-mortem meetings, the campaign list's flags ---------------------------

#: A campaign's post-mortem is due once it ended more than two weeks ago.
POSTMORTEM_GRACE = timedelta(days=14)


def postmortem_due_after(campaign_ends_on: date) -> date:
    """The last day a campaign that ended on `campaign_ends_on` is not yet due a post-mortem."""
    return campaign_ends_on + POSTMORTEM_GRACE


@dataclass(frozen=True)
class CampaignFlags:
    """What the campaign list says of a campaign's meetings (as of today, on every request)."""

    no_kickoff_with_sales: bool
    kickoff_without_sales: bool  # a kick-off was held, but no one from sales was there
    postmortem_due: bool
    postmortem_without_sales: bool


def campaign_list_flags(
    *, keys: Iterable[str], today: date | None = None
) -> dict[str, CampaignFlags]:
    """Each listed campaign's flags by its external id: two queries whatever their number."""
    today = today or timezone.localdate()
    found = Campaign.objects.filter(external_id__in=list(keys)).values_list(
        "external_id", "pk", "ends_on"
    )
    campaigns = {key: (pk, ends_on) for key, pk, ends_on in found}
    meetings = campaign_meeting_flags(campaign_ids=[pk for pk, _ in campaigns.values()])
    out = {}
    for key, (pk, ends_on) in campaigns.items():
        m = meetings[pk]
        out[key] = CampaignFlags(
            no_kickoff_with_sales=not m.has_kickoff_with_sales,
            kickoff_without_sales=m.has_kickoff and not m.has_kickoff_with_sales,
            postmortem_due=not m.has_postmortem and today > postmortem_due_after(ends_on),
            postmortem_without_sales=m.has_postmortem and not m.postmortem_with_sales,
        )
    return out


@dataclass(frozen=True)
class CampaignMeetings:
    """A campaign's kick-off and post-mortem meetings, each with whether sales was there."""

    campaign: Campaign
    meetings: list[Meeting]
    today: date

    @property
    def kickoffs(self) -> list[Meeting]:
        return [m for m in self.meetings if m.kind == Meeting.Kind.CAMPAIGN_KICKOFF]

    @property
    def postmortems(self) -> list[Meeting]:
        return [m for m in self.meetings if m.kind == Meeting.Kind.CAMPAIGN_POSTMORTEM]

    @property
    def kickoff_with_sales(self) -> bool:
        return any(m.has_sales for m in self.kickoffs)

    @property
    def ended(self) -> bool:
        return self.campaign.ends_on < self.today

    @property
    def postmortem_due(self) -> bool:
        return not self.postmortems and self.today > postmortem_due_after(self.campaign.ends_on)


def campaign_meetings_of(*, campaign: Campaign, today: date | None = None) -> CampaignMeetings:
    """The campaign's kick-off and post-mortem meetings (one query)."""
    return CampaignMeetings(
        campaign=campaign,
        meetings=campaign_meetings(campaign_id=campaign.pk),
        today=today or timezone.localdate(),
    )


# --- the post-mortem page -------------------------------------------------------------------


def postmortem_filter(*, campaign: Campaign, model: str, today: date | None = None) -> KpiFilter:
    """A campaign's whole life: the months from the one it started in to this one (revenue
    arrives after a campaign ends, so the range runs to today, not to its end)."""
    today = today or timezone.localdate()
    first = min(campaign.starts_on, today)
    return KpiFilter(period="month", start=period_start("month", first), end=today, model=model)


@dataclass(frozen=True)
class CampaignPostmortem:
    """A campaign's closed loop over its whole life, next to what sales says of its leads."""

    campaign: Campaign
    detail: CampaignDetail
    ratings: CampaignRatings
    reasons: list[ReasonCount]
    meetings: CampaignMeetings

    @property
    def rejections(self) -> int:
        return sum(r.count for r in self.reasons)


def campaign_postmortem(
    *, campaign: Campaign, model: str = "linear", today: date | None = None
) -> CampaignPostmortem:
    """The post-mortem's numbers: the snapshots' closed loop (as the campaign page reads it,
    over the campaign's whole life), sales' ratings, the rejection reasons of its leads and its
    kick-off and post-mortem meetings."""
    today = today or timezone.localdate()
    f = postmortem_filter(campaign=campaign, model=model, today=today)
    return CampaignPostmortem(
        campaign=campaign,
        detail=campaign_detail(key=campaign.external_id, f=f),
        ratings=campaign_ratings(campaign_id=campaign.pk),
        reasons=campaign_rejection_reasons(campaign_id=campaign.pk),
        meetings=campaign_meetings_of(campaign=campaign, today=today),
    )


def _one_line(text: str, limit: int = 280) -> str:
    """Someone's words as one line of the agenda's Markdown: read as text, as on the weekly
    agenda (`kpis.pages.agenda.md_text`), never as emphasis or links of the agenda's own."""
    return md_text(text, limit)


def _who(user: object) -> str:
    if user is None:
        return "Sales"
    return md_text(user.get_full_name() or user.get_username())


def postmortem_agenda(pm: CampaignPostmortem) -> str:
    """The post-mortem meeting's agenda (Markdown): the numbers of the post-mortem page, what
    sales says, and the questions the meeting answers."""
    c, d, t = pm.campaign, pm.detail, pm.detail.totals
    acceptance = t["acceptance_rate"]
    accepted = (
        f"{format_value(acceptance.value, 'ratio')} ({acceptance.numerator:,.0f} of "
        f"{acceptance.denominator:,.0f} decided handoffs accepted)"
        if acceptance.denominator
        else "no handoff decided"
    )
    lines = [
        f"## Post-mortem: {_one_line(c.name, 200)}",
        "",
        f"Ran {_day(c.starts_on)} – {_day(c.ends_on)} ({c.channel.label}). "
        f"Numbers over its whole life, {d.range_label}; revenue credited by "
        f"{d.model_label.lower()} attribution.",
        "",
        "### The closed loop",
        "",
        f"- Leads: {format_value(t['leads_created'].value)}",
        f"- MQLs: {format_value(t['mqls'].value)}",
        f"- Acceptance: {accepted}",
        f"- SQLs: {format_value(t['sqls'].value)}",
        f"- Won deals (its own leads): {format_value(t['deals_won'].value)}",
        f"- Won revenue ({d.model_label}): {_money(t['attributed_revenue'].value)}",
        f"- Cost: {_money(t['campaign_cost'].value)}",
        f"- ROI: {format_value(t['campaign_roi'].value, 'ratio')}",
        "",
        "### What sales says of its leads",
        "",
    ]
    r = pm.ratings
    if r.count:
        lines.append(f"- Rated {r.average:.1f} of 5 by {r.count} sales {_people(r.count)}.")
        lines += [
            f'- {x.rating}/5, {_who(x.rater)}: "{_one_line(x.comment)}"' for x in r.comments[:5]
        ]
    else:
        lines.append("- No sales rating yet: ask sales to rate its leads on the campaign page.")
    lines += ["", "### Why sales rejected its leads", ""]
    if pm.reasons:
        for reason in pm.reasons:
            lines.append(f"- {reason.label}: {reason.count}")
            lines += [f'  - "{_one_line(q.feedback)}" ({_who(q.owner)})' for q in reason.quotes[:2]]
    else:
        lines.append("- No handoff of its leads was rejected.")
    kickoffs = pm.meetings.kickoffs
    lines += ["", "### Its kick-off", ""]
    if kickoffs:
        lines += [
            f"- {_day(timezone.localtime(m.starts_at).date())}: "
            f"{'sales at the table' if m.has_sales else 'no one from sales'}"
            for m in kickoffs
        ]
    else:
        lines.append("- No kick-off meeting was held.")
    lines += [
        "",
        "### To decide",
        "",
        "1. What worked, and should be kept for the next campaign?",
        "2. What did sales see in these leads that marketing should know?",
        "3. What changes next time (audience, message, channel, handoff)?",
        "4. Action items: who does what by when.",
    ]
    return "\n".join(lines) + "\n"


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _money(value: object) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _people(n: int) -> str:
    return "person" if n == 1 else "people"
