"""Reads of the alignment app: versions in effect, heads, goals, payout curves, breaches, and
the records of working together (meetings, action items, ideas, insights, spotlights,
shadowing).

Goal progress and the scorecard read the KPI snapshots: they are `kpis.goals`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from rest_framework.authtoken.models import Token

from alignment import scorecard as card
from alignment.models import (
    ActionItem,
    CampaignRating,
    FieldInsight,
    Goal,
    GoalCheckIn,
    Idea,
    IdeaComment,
    IdeaVote,
    InsightTag,
    LeadDefinition,
    Meeting,
    MeetingAttendee,
    PayoutCurve,
    RescoreJob,
    RoundRobinMember,
    ServiceLevelAgreement,
    ShadowingSession,
    Spotlight,
    SpotlightPerson,
    SpotlightThanks,
    TeamHead,
    VersionStatus,
)
from alignment.roles import Role, Team, role_of_groups
from core.periods import local_midnight

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


def meeting_list(*, kind: str | None = None) -> QuerySet[Meeting]:
    """Meetings, the latest first, with who attended (team presence, the attendees with their
    team as it was), the campaign, and their open action items counted (`open_items`)."""
    qs = Meeting.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    open_items = (
        ActionItem.objects.filter(meeting=OuterRef("pk"), done_at__isnull=True)
        .order_by()
        .values("meeting")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        meetings_with_teams(qs)
        .annotate(open_items=Coalesce(Subquery(open_items), 0))
        .select_related("campaign", "created_by")
        .prefetch_related(
            Prefetch("attendance", queryset=MeetingAttendee.objects.select_related("user"))
        )
        .order_by("-starts_at", "-id")
    )


def meeting_action_items(*, meeting: Meeting) -> QuerySet[ActionItem]:
    """A meeting's action items: the open ones first, soonest due first."""
    return (
        ActionItem.objects.filter(meeting=meeting)
        .select_related("owner", "done_by")
        .order_by(F("done_at").asc(nulls_first=True), "due_on", "id")
    )


def action_item_list(
    *, owner: AbstractBaseUser | None = None, done: bool | None = None
) -> QuerySet[ActionItem]:
    """Action items of every meeting (an owner's; done or open), soonest due first."""
    qs = ActionItem.objects.all()
    if owner is not None:
        qs = qs.filter(owner=owner)
    if done is not None:
        qs = qs.filter(done_at__isnull=not done)
    return qs.select_related("owner", "done_by", "created_by", "meeting").order_by("due_on", "id")


def weekly_meeting_on(*, day: date) -> Meeting | None:
    """The (first) weekly alignment meeting starting on `day` in the organisation's time zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = local_midnight(day, tz)
    return (
        Meeting.objects.filter(
            kind=Meeting.Kind.WEEKLY_ALIGNMENT,
            starts_at__gte=start,
            starts_at__lt=local_midnight(day + timedelta(days=1), tz),
        )
        .order_by("starts_at", "id")
        .first()
    )


def weekly_meeting_last(*, before: datetime) -> Meeting | None:
    """The latest weekly alignment meeting that started before `before`."""
    return (
        Meeting.objects.filter(kind=Meeting.Kind.WEEKLY_ALIGNMENT, starts_at__lt=before)
        .order_by("-starts_at", "-id")
        .first()
    )


def insights_posted_since(*, since: datetime) -> QuerySet[FieldInsight]:
    """Field insights posted at or after `since`, oldest first."""
    return (
        FieldInsight.objects.filter(posted_at__gte=since)
        .select_related("posted_by", "campaign")
        .prefetch_related("tags")
        .order_by("posted_at", "id")
    )


def users_by_team(*, include: Sequence[int] = ()) -> dict[str, list[AbstractBaseUser]]:
    """Active users (and the users whose ids are in `include`, active or not: the people a
    record already names) by their team now: "marketing", "sales", and "" for admins and
    people without a role; by name. The choices of who took part in something; two queries,
    whatever the number of people."""
    users = (
        get_user_model()
        .objects.filter(Q(is_active=True) | Q(pk__in=list(include)))
        .prefetch_related("groups")
        .order_by("first_name", "last_name", "username")
    )
    out: dict[str, list[AbstractBaseUser]] = {"marketing": [], "sales": [], "": []}
    for user in users:
        role = (
            Role.ADMIN if user.is_superuser else role_of_groups(g.name for g in user.groups.all())
        )
        team = role.team if role else None
        out[team.value if team else ""].append(user)
    return out


def insights_unanswered() -> QuerySet[FieldInsight]:
    """Field insights marketing has not answered yet, oldest first (the longest waiting)."""
    return (
        FieldInsight.objects.filter(answered_at__isnull=True)
        .select_related("posted_by", "campaign")
        .prefetch_related("tags")
        .order_by("posted_at", "id")
    )


def _ideas_counted(qs: QuerySet[Idea]) -> QuerySet[Idea]:
    """Ideas with their votes per team (`marketing_votes`, `sales_votes`, `other_votes` for
    people of no team, `vote_count`) and their comments counted (`comment_count`)."""
    votes = IdeaVote.objects.filter(idea=OuterRef("pk")).order_by().values("idea")
    comments = IdeaComment.objects.filter(idea=OuterRef("pk")).order_by().values("idea")

    def counted(rows: QuerySet) -> Subquery:
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

    return qs.select_related("author").annotate(
        marketing_votes=counted(votes.filter(team="marketing")),
        sales_votes=counted(votes.filter(team="sales")),
        other_votes=counted(votes.filter(team="")),
        vote_count=counted(votes),
        comment_count=counted(comments),
    )


def ideas_in_critique() -> QuerySet[Idea]:
    """Ideas open for critique, with their votes per team and comments counted."""
    return _ideas_counted(Idea.objects.filter(status=Idea.Status.OPEN)).order_by(
        "-opened_at", "-id"
    )


def ideas_visible(*, viewer: AbstractBaseUser | AnonymousUser) -> QuerySet[Idea]:
    """The ideas `viewer` may read (every idea but the drafts of others), counted as in
    `ideas_in_critique`, with whether the viewer voted (`viewer_voted`)."""
    qs = Idea.objects.exclude(Q(status=Idea.Status.DRAFT) & ~Q(author_id=viewer.pk))
    voted = IdeaVote.objects.filter(idea=OuterRef("pk"), user_id=viewer.pk)
    return _ideas_counted(qs).annotate(viewer_voted=Exists(voted))


#: The board shows this many of the latest adopted and parked ideas (all of them with ?status=).
IDEAS_DECIDED_SHOWN = 12


@dataclass(frozen=True)
class IdeaColumn:
    status: str
    label: str
    rows: list[Idea]
    total: int  # all of this status the viewer may read (more than `rows` when cut short)


def ideas_board(
    *, viewer: AbstractBaseUser | AnonymousUser, status: str = "", whole: bool = False
) -> list[IdeaColumn]:
    """The ideas board for `viewer`, a column per status: their own drafts, the ideas open for
    critique (most voted first), the latest adopted and parked ones; only `status`'s column, in
    full, when one is named; with `whole`, every column in full (the board's CSV)."""
    visible = ideas_visible(viewer=viewer).select_related("campaign", "goal", "decided_by")
    order = {
        Idea.Status.DRAFT: ("-updated_at", "-id"),
        Idea.Status.OPEN: ("-vote_count", "-opened_at", "-id"),
        Idea.Status.ADOPTED: ("-decided_at", "-id"),
        Idea.Status.PARKED: ("-decided_at", "-id"),
    }
    columns = []
    for value, label in Idea.Status.choices:
        if status and value != status:
            continue
        qs = visible.filter(status=value).order_by(*order[value])
        cut = not status and not whole and value in {Idea.Status.ADOPTED, Idea.Status.PARKED}
        rows = list(qs[: IDEAS_DECIDED_SHOWN + 1] if cut else qs)
        total = len(rows)
        if cut and total > IDEAS_DECIDED_SHOWN:
            rows, total = rows[:IDEAS_DECIDED_SHOWN], qs.count()
        columns.append(IdeaColumn(value, label, rows, total))
    return columns


def ideas_drafts_of_others(*, viewer: AbstractBaseUser | AnonymousUser) -> int:
    """How many drafts others are writing (what they say stays private until opened)."""
    return Idea.objects.filter(status=Idea.Status.DRAFT).exclude(author_id=viewer.pk).count()


def idea_comments(*, idea: Idea) -> QuerySet[IdeaComment]:
    return idea.comments.select_related("author").order_by("created_at", "id")


def idea_votes_by_team(*, idea: Idea) -> dict[str, int]:
    """{"marketing": n, "sales": n, "": n} for one idea."""
    counts = dict(idea.votes.order_by().values_list("team").annotate(n=Count("pk")))
    return {team: counts.get(team, 0) for team in ("marketing", "sales", "")}


def insights_filtered(
    *,
    kind: str = "",
    tag: str = "",
    campaign: object | None = None,
    answered: bool | None = None,
) -> QuerySet[FieldInsight]:
    """Field insights, newest first, of one kind, tag or campaign (the insight's own or the one
    its answer names), answered or not; None or empty means any."""
    qs = FieldInsight.objects.select_related(
        "posted_by", "campaign", "answered_by", "answer_campaign"
    ).prefetch_related("tags")
    if kind:
        qs = qs.filter(kind=kind)
    if tag:
        qs = qs.filter(tags__name=tag)
    if campaign is not None:
        qs = qs.filter(Q(campaign=campaign) | Q(answer_campaign=campaign))
    if answered is not None:
        qs = qs.filter(answered_at__isnull=not answered)
    return qs.order_by("-posted_at", "-id")


def insight_tags_used() -> list[tuple[str, int]]:
    """Every tag in use with how many insights carry it, most used first."""
    return list(
        InsightTag.objects.annotate(n=Count("insights"))
        .filter(n__gt=0)
        .order_by("-n", "name")
        .values_list("name", "n")
    )


def spotlight_list(
    *, viewer: AbstractBaseUser | AnonymousUser | None = None, thankers: bool = False
) -> QuerySet[Spotlight]:
    """Joint wins, newest first, with their deal and its lead, their people (`credits`, by
    team) and thanks counted (`thanks_count`). With `viewer`, `thanked` says whether they
    thanked each; with `thankers`, `thanks` (and who gave them) is prefetched."""
    qs = (
        Spotlight.objects.select_related("deal__lead", "created_by")
        .prefetch_related(
            Prefetch("credits", queryset=SpotlightPerson.objects.select_related("user"))
        )
        .annotate(thanks_count=Count("thanks", distinct=True))
    )
    if viewer is not None and viewer.is_authenticated:
        mine = SpotlightThanks.objects.filter(spotlight=OuterRef("pk"), user=viewer)
        qs = qs.annotate(thanked=Exists(mine))
    if thankers:
        given = SpotlightThanks.objects.select_related("user").order_by("created_at", "id")
        qs = qs.prefetch_related(Prefetch("thanks", queryset=given))
    return qs.order_by("-created_at", "-id")


def spotlights_latest(
    *, limit: int = 3, viewer: AbstractBaseUser | AnonymousUser | None = None
) -> list[Spotlight]:
    """The newest joint wins with their deal, people and thanks counted (and, with `viewer`,
    whether they thanked each)."""
    return list(spotlight_list(viewer=viewer)[:limit])


def _deals() -> QuerySet:
    """The funnel's deals, through the spotlight's foreign key (alignment imports no leads)."""
    return Spotlight._meta.get_field("deal").related_model.objects.select_related("lead")


def deals_won_recent(*, limit: int = 200, include: Sequence[object] = ()) -> list:
    """The latest won deals (by close), to choose the one a spotlight tells of; the deals in
    `include` (primary keys: the one a spotlight has, the one asked for) stay on the list."""
    deals = list(_deals().filter(status="won").order_by("-closed_at", "-id")[:limit])
    shown = {d.pk for d in deals}
    extra = [pk for pk in include if pk is not None and pk not in shown]
    if extra:
        deals.extend(_deals().filter(pk__in=extra).order_by("-closed_at", "-id"))
    return deals


def campaign_by_external_id(*, external_id: str | None) -> object | None:
    """The campaign with this external id; None for none or an unknown one. The model is a
    foreign key's: alignment never imports the funnel."""
    if not external_id:
        return None
    model = Meeting._meta.get_field("campaign").related_model
    return model.objects.filter(external_id=external_id).first()


def deal_by_external_id(*, external_id: str) -> object | None:
    """The deal with this external id (any status), with its lead; None if there is none."""
    return _deals().filter(external_id=external_id).first() if external_id else None


def shadowing_sessions() -> QuerySet[ShadowingSession]:
    """Shadowing sessions with their people, their debrief and who scheduled them."""
    return ShadowingSession.objects.select_related("person", "host", "debrief", "created_by")


def shadowing_between(
    *, start: datetime, end: datetime | None = None
) -> QuerySet[ShadowingSession]:
    """Shadowing sessions starting in [start, end) (no `end`: from `start` on), in time
    order."""
    qs = shadowing_sessions().filter(starts_at__gte=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    return qs.order_by("starts_at", "id")


def shadowing_before(*, end: datetime, limit: int = 100) -> list[ShadowingSession]:
    """The latest `limit` sessions that started before `end`, the latest first."""
    return list(shadowing_all_before(end=end)[:limit])


def shadowing_all_before(*, end: datetime) -> QuerySet[ShadowingSession]:
    """Every session that started before `end`, the latest first."""
    return shadowing_sessions().filter(starts_at__lt=end).order_by("-starts_at", "-id")


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
