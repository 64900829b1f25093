"""Reads of the alignment app: versions in effect, heads, goals, payout curves, breaches, and
the records of working together (meetings, action items, ideas, insights, spotlights,
shadowing).

Goal progress and the scorecard read the KPI snapshots: they are `kpis.goals`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from rest_framework.authtoken.models import Token

from alignment import scorecard as card
from alignment.models import (
    ActionItem,
    CampaignRating,
    FieldInsight,
    Goal,
    GoalCheckIn,
    Idea,
    LeadDefinition,
    Meeting,
    MeetingAttendee,
    PayoutCurve,
    RescoreJob,
    RoundRobinMember,
    ServiceLevelAgreement,
    ShadowingSession,
    Spotlight,
    TeamHead,
    VersionStatus,
)
from alignment.roles import Role, Team

# --- versions in effect ---------------------------------------------------------------------


def sla_in_effect(*, at: datetime) -> ServiceLevelAgreement | None:
    """The approved SLA version that applies to a handoff made at `at`."""
    return (
        ServiceLevelAgreement.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )


def sla_list() -> QuerySet[ServiceLevelAgreement]:
    return ServiceLevelAgreement.objects.select_related(
        "marketing_approved_by", "sales_approved_by", "created_by"
    ).order_by("-version")


def lead_definition_in_effect(*, at: datetime) -> LeadDefinition | None:
    """The approved lead definition whose rules score leads at `at` (rules prefetched)."""
    return (
        LeadDefinition.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=at)
        .prefetch_related("rules")
        .order_by("-effective_from", "-version")
        .first()
    )


def lead_definition_is_in_effect(*, definition: LeadDefinition, at: datetime) -> bool:
    """Whether `definition` is the version that scores leads at `at` (not merely approved)."""
    current = lead_definition_in_effect(at=at)
    return current is not None and current.pk == definition.pk


def lead_definition_list() -> QuerySet[LeadDefinition]:
    return (
        LeadDefinition.objects.select_related(
            "marketing_approved_by", "sales_approved_by", "created_by"
        )
        .prefetch_related("rules")
        .order_by("-version")
    )


def rescore_job_get(*, pk: object) -> RescoreJob | None:
    return RescoreJob.objects.select_related("definition").filter(pk=pk).first()


# --- people ---------------------------------------------------------------------------------


def team_heads() -> dict[Team, AbstractBaseUser | None]:
    found = {h.team: h.user for h in TeamHead.objects.select_related("user")}
    return {team: found.get(team.value) for team in Team}


def user_heads_team(*, user: AbstractBaseUser | AnonymousUser) -> Team | None:
    """The team the user heads, if any."""
    if not user.is_authenticated:
        return None
    team = TeamHead.objects.filter(user=user).values_list("team", flat=True).first()
    return Team(team) if team else None


def users_in_role(*, role: Role) -> QuerySet:
    """Active users holding a role (group), by username."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role.value)
        .distinct()
        .order_by("username")
    )


def round_robin_members() -> QuerySet[RoundRobinMember]:
    return RoundRobinMember.objects.select_related("user").order_by("position", "id")


def api_token_for(*, user: object) -> str | None:
    return Token.objects.filter(user=user).values_list("key", flat=True).first()


# --- goals and the payout curve --------------------------------------------------------------


def goal_list(
    *, period: str | None = None, start: date | None = None, end: date | None = None
) -> QuerySet[Goal]:
    qs = Goal.objects.select_related("created_by")
    if period:
        qs = qs.filter(period=period)
    if start:
        qs = qs.filter(period_start__gte=start)
    if end:
        qs = qs.filter(period_start__lte=end)
    return qs.order_by("period", "period_start", "name", "id")


def goal_check_ins(*, goal: Goal) -> QuerySet[GoalCheckIn]:
    """A goal's check-ins, the latest week first."""
    return GoalCheckIn.objects.filter(goal=goal).select_related("by").order_by("-week")


def goal_latest_check_ins(*, goals: Sequence[Goal]) -> dict[int, GoalCheckIn]:
    """Each goal's latest check-in (goals without one are left out), in one query."""
    latest_week = (
        GoalCheckIn.objects.filter(goal=OuterRef("goal")).order_by("-week").values("week")[:1]
    )
    rows = GoalCheckIn.objects.filter(
        goal__in=[g.pk for g in goals], week=Subquery(latest_week)
    ).select_related("by")
    return {row.goal_id: row for row in rows}


def payout_curves() -> list[tuple[date, card.PayoutCurve]]:
    """Every stored curve, oldest first, as (effective_from, curve)."""
    return [
        (
            row.effective_from,
            card.PayoutCurve(
                row.threshold, row.threshold_payout, row.target, row.cap, row.cap_payout
            ),
        )
        for row in PayoutCurve.objects.order_by("effective_from")
    ]


def payout_curve_for(*, period_start: date, curves: Sequence | None = None) -> card.PayoutCurve:
    """The curve in effect at the period's start; the default curve where none was set."""
    found = card.DEFAULT_CURVE
    for since, curve in payout_curves() if curves is None else curves:
        if since <= period_start:
            found = curve
    return found


def payout_curve_list() -> QuerySet[PayoutCurve]:
    return PayoutCurve.objects.select_related("created_by").order_by("-effective_from")


# --- working together -------------------------------------------------------------------------


def meetings_with_teams(qs: QuerySet[Meeting] | None = None) -> QuerySet[Meeting]:
    """Meetings annotated with whether marketing (`has_marketing`) and sales (`has_sales`)
    attended, and how many people did (`attendee_count`)."""
    qs = Meeting.objects.all() if qs is None else qs
    present = MeetingAttendee.objects.filter(meeting=OuterRef("pk"))
    return qs.annotate(
        has_marketing=Exists(present.filter(team="marketing")),
        has_sales=Exists(present.filter(team="sales")),
        attendee_count=Count("attendance", distinct=True),
    )


def action_items_open(
    *, owner: AbstractBaseUser | None = None, meeting: Meeting | None = None
) -> QuerySet[ActionItem]:
    """Open action items, soonest due first (`item.due_on < today` is overdue)."""
    qs = ActionItem.objects.filter(done_at__isnull=True)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if meeting is not None:
        qs = qs.filter(meeting=meeting)
    return qs.select_related("owner", "meeting").order_by("due_on", "id")


def insights_unanswered() -> QuerySet[FieldInsight]:
    """Field insights marketing has not answered yet, oldest first (the longest waiting)."""
    return (
        FieldInsight.objects.filter(answered_at__isnull=True)
        .select_related("posted_by", "campaign")
        .prefetch_related("tags")
        .order_by("posted_at", "id")
    )


def ideas_in_critique() -> QuerySet[Idea]:
    """Ideas open for critique, with their votes per team and comments counted."""
    return (
        Idea.objects.filter(status=Idea.Status.OPEN)
        .select_related("author")
        .annotate(
            marketing_votes=Count("votes", filter=Q(votes__team="marketing"), distinct=True),
            sales_votes=Count("votes", filter=Q(votes__team="sales"), distinct=True),
            comment_count=Count("comments", distinct=True),
        )
        .order_by("-opened_at", "-id")
    )


def spotlights_latest(*, limit: int = 3) -> list[Spotlight]:
    """The newest joint wins with their deal, people and thanks counted."""
    return list(
        Spotlight.objects.select_related("deal__lead")
        .prefetch_related("credits__user")
        .annotate(thanks_count=Count("thanks", distinct=True))
        .order_by("-created_at", "-id")[:limit]
    )


def shadowing_between(*, start: datetime, end: datetime) -> QuerySet[ShadowingSession]:
    """Shadowing sessions starting in [start, end), in time order."""
    return (
        ShadowingSession.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("person", "host", "debrief")
        .order_by("starts_at", "id")
    )


# --- a campaign's kick-off, post-mortem and sales' ratings ----------------------------------

CAMPAIGN_MEETING_KINDS = (Meeting.Kind.CAMPAIGN_KICKOFF, Meeting.Kind.CAMPAIGN_POSTMORTEM)


def campaign_meetings(*, campaign_id: int) -> list[Meeting]:
    """A campaign's kick-off and post-mortem meetings in time order, each with whether
    marketing and sales attended (`meetings_with_teams`): one query."""
    qs = Meeting.objects.filter(campaign_id=campaign_id, kind__in=CAMPAIGN_MEETING_KINDS)
    return list(meetings_with_teams(qs).order_by("starts_at", "id"))


@dataclass(frozen=True)
class CampaignMeetingFlags:
    """What a campaign's meetings say of the habit of having sales at the table."""

    has_kickoff: bool = False
    has_kickoff_with_sales: bool = False
    has_postmortem: bool = False
    postmortem_with_sales: bool = False


NO_CAMPAIGN_MEETINGS = CampaignMeetingFlags()


def campaign_meeting_flags(*, campaign_ids: Iterable[int]) -> dict[int, CampaignMeetingFlags]:
    """Each campaign's kick-off and post-mortem flags, in one query whatever their number; a
    campaign without such meetings gets `NO_CAMPAIGN_MEETINGS`. A meeting counts once it is on
    the calendar (planned or held); "with sales" means a sales person is among its attendees."""
    ids = list(dict.fromkeys(campaign_ids))
    if not ids:
        return {}
    kickoff = Q(kind=Meeting.Kind.CAMPAIGN_KICKOFF)
    postmortem = Q(kind=Meeting.Kind.CAMPAIGN_POSTMORTEM)
    sales = Q(attendance__team=Team.SALES.value)
    rows = (
        Meeting.objects.filter(campaign_id__in=ids, kind__in=CAMPAIGN_MEETING_KINDS)
        .order_by()
        .values("campaign_id")
        .annotate(
            kickoffs=Count("pk", filter=kickoff, distinct=True),
            kickoffs_with_sales=Count("pk", filter=kickoff & sales, distinct=True),
            postmortems=Count("pk", filter=postmortem, distinct=True),
            postmortems_with_sales=Count("pk", filter=postmortem & sales, distinct=True),
        )
    )
    flags = dict.fromkeys(ids, NO_CAMPAIGN_MEETINGS)
    for row in rows:
        flags[row["campaign_id"]] = CampaignMeetingFlags(
            has_kickoff=row["kickoffs"] > 0,
            has_kickoff_with_sales=row["kickoffs_with_sales"] > 0,
            has_postmortem=row["postmortems"] > 0,
            postmortem_with_sales=row["postmortems_with_sales"] > 0,
        )
    return flags


@dataclass(frozen=True)
class CampaignRatings:
    """Sales' ratings of one campaign's leads: each one (newest first) and what they add up to."""

    ratings: list[CampaignRating]

    @property
    def count(self) -> int:
        return len(self.ratings)

    @property
    def average(self) -> float | None:
        return sum(r.rating for r in self.ratings) / self.count if self.ratings else None

    @property
    def stars(self) -> list[tuple[int, int]]:
        """(stars, how many gave them), five stars first."""
        return [(n, sum(1 for r in self.ratings if r.rating == n)) for n in range(5, 0, -1)]

    @property
    def comments(self) -> list[CampaignRating]:
        return [r for r in self.ratings if r.comment]

    def of(self, user: AbstractBaseUser | AnonymousUser) -> CampaignRating | None:
        """`user`'s own rating, if they gave one."""
        return next((r for r in self.ratings if r.rater_id == user.pk), None)


def campaign_rating_list(*, campaign_id: int) -> QuerySet[CampaignRating]:
    """A campaign's ratings by sales with their raters, newest first (one rating per person)."""
    return (
        CampaignRating.objects.filter(campaign_id=campaign_id)
        .select_related("rater", "campaign")
        .order_by("-updated_at", "-id")
    )


def campaign_ratings(*, campaign_id: int) -> CampaignRatings:
    """A campaign's ratings and what they add up to (one query)."""
    return CampaignRatings(ratings=list(campaign_rating_list(campaign_id=campaign_id)))
