"""The demo company working together (SPEC §8): meetings with action items, campaign kick-offs
and post-mortems, sales' ratings of campaigns, the ideas board, field insights, spotlights and
shadowing sessions, so that the meeting view and the Together pages are full on first start.

`together_write` runs after the funnel and the goals are loaded (`demo.generator.seed_demo`),
in the seed's transaction. The story, relative to `now`:

* The teams started a weekly alignment meeting two months ago (Tuesdays 10:00, 45 minutes).
  Most weeks both teams sit at the table; one week was skipped and one had marketing alone.
  Leadership syncs (the two heads) and brainstorms fill the weeks, so that the 4-week mean of
  joint meetings hovers around the 1.89 of high performers. Each meeting's notes quote the
  numbers of the week before; its action items are mostly done, the last meeting's mostly
  open, and two older ones are overdue.
* Every timed campaign had a kick-off a few days before it started (a few without sales) and
  a post-mortem one to three weeks after it ended (the two most recent campaigns that ended
  more than two weeks ago have none yet). Sales reps rate the leads of most campaigns, about
  as well as sales accepted them.
* Ideas in every state, field insights of every kind (some answered by marketing, the newest
  not yet), spotlights on real won deals, and shadowing sessions: logged ones, one debriefed
  in a meeting, and scheduled ones.

Rows are bulk-created (`bulk_create` sends no signals, so nothing is logged in the change log:
the whole demo is computed after the seed). Every query on the funnel is an aggregate, or
reads campaigns or the last won deals: nothing runs per lead.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import Count, F, Q, Sum

from alignment.models import (
    ActionItem,
    CampaignRating,
    FieldInsight,
    Goal,
    Idea,
    IdeaComment,
    IdeaVote,
    InsightTag,
    Meeting,
    MeetingAttendee,
    ShadowingSession,
    Spotlight,
    SpotlightPerson,
    SpotlightThanks,
)
from alignment.roles import user_team
from core.periods import next_period
from leads.models import Campaign, Deal, Handoff, Lead

#: Weeks of weekly alignment meetings, the current one included (two months).
WEEKS = 9
#: Channels of the demo's always-on campaigns (`demo.generator.ALWAYS_ON_KINDS`): they run the
#: whole window, so they have no kick-off or post-mortem.
ALWAYS_ON_CHANNELS = frozenset({"seo", "referral", "partner", "organic_social"})
#: What the joint meetings of 4-week windows add up to, week after week (from a random
#: phase): the 4-week mean rises and falls between 1.5 and 2.25, around the 1.89 of the best.
WINDOW_AIMS = (6, 7, 8, 9, 8, 7)
#: Decided handoffs a campaign needs before sales rates its leads.
RATING_MIN_DECIDED = 3
#: Won deals the spotlights choose from (the newest).
SPOTLIGHT_CANDIDATES = 200

# --- the cast -------------------------------------------------------------------------------

HEAD_OF_MARKETING, HEAD_OF_SALES, ENTERPRISE_MANAGER = "maria", "tom", "grace"
MARKETERS = ("lena", "omar", "priya")
SALES_REPS = ("jonas", "nina", "ben", "chloe", "david", "sofia")
CAST = (HEAD_OF_MARKETING, HEAD_OF_SALES, ENTERPRISE_MANAGER, *MARKETERS, *SALES_REPS)
EVERYONE = (*CAST, "alex")
#: Who in marketing runs each channel's campaigns.
CHANNEL_OWNER = {
    "webinar": "lena", "event": "lena", "paid_search": "omar", "paid_social": "omar",
    "outbound": "omar", "content": "priya", "email": "priya", "seo": "priya",
    "organic_social": "priya", "referral": "maria", "partner": "maria",
}  # fmt: skip


@dataclass(frozen=True)
class Cast:
    """The demo users by username, each with their team as records keep it."""

    users: dict[str, AbstractBaseUser]
    teams: dict[str, str]

    @classmethod
    def of(cls, user_ids: dict[str, int]) -> Cast | None:
        found = get_user_model().objects.in_bulk(list(user_ids.values()))
        users = {name: found[pk] for name, pk in user_ids.items() if pk in found}
        if any(name not in users for name in CAST):
            return None
        return cls(users, {name: user_team(user) for name, user in users.items()})

    def __getitem__(self, name: str) -> AbstractBaseUser:
        return self.users[name]

    def team(self, name: str) -> str:
        return self.teams[name]

    def name_of(self, pk: int) -> str | None:
        return next((name for name, user in self.users.items() if user.pk == pk), None)

    def first_name(self, name: str) -> str:
        return self.users[name].first_name or name

    def joint(self, names: Sequence[str]) -> bool:
        """Whether people of both teams are among `names`."""
        return {"marketing", "sales"} <= {self.teams[name] for name in names}


# --- when things happened -------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), _zone())


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _workday(day: date) -> date:
    """The day itself, or the Friday before a weekend day."""
    return day - timedelta(days=max(day.weekday() - 4, 0))


def _next_workday(day: date) -> date:
    """The day itself, or the Monday after a weekend day."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _office_time(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    """A moment in [earliest, latest], in office hours where the span has any."""
    if latest <= earliest:
        return earliest
    for _ in range(8):
        at = earliest + (latest - earliest) * rng.random()
        local = at.astimezone(_zone())
        if local.weekday() < 5 and 8 <= local.hour < 18:
            return at.replace(microsecond=0)
    return (earliest + (latest - earliest) * rng.random()).replace(microsecond=0)


M = TypeVar("M", bound=models.Model)


def _bulk(model: type[M], objs: list[M]) -> list[M]:
    """`bulk_create`, keeping the moments the demo set on auto_now(_add) fields: bulk_create
    stamps them with the real now, bulk_update writes what it is given."""
    stamped = [
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    wanted = [{name: getattr(obj, name) for name in stamped} for obj in objs]
    model.objects.bulk_create(objs, batch_size=500)
    if stamped and objs:
        for obj, moments in zip(objs, wanted, strict=True):
            for name, moment in moments.items():
                if moment is not None:
                    setattr(obj, name, moment)
        model.objects.bulk_update(objs, stamped, batch_size=500)
    return objs


# --- vocabulary: weekly meetings ------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    agenda: str
    note: str
    decision: str
    actions: tuple[tuple[str, str], ...]  # (owner, what), owners of both teams


TOPICS: tuple[Topic, ...] = (
    Topic(
        "Webinar follow-up speed",
        "Leads from the last webinar waited a day and a half for a first call; several had "
        "booked a demo with another vendor by then.",
        "Webinar attendees are called within 4 business hours; Lena sends the attendee list "
        "the same afternoon.",
        (
            ("lena", "Send the webinar attendee list to sales the same afternoon, by score"),
            ("jonas", "Call every webinar attendee above 70 points within 4 business hours"),
        ),
    ),
    Topic(
        "Rejections for *not ready*",
        "*Not ready* is the top rejection reason again. Most are real buyers a quarter or two "
        "out, and the newsletter alone loses them.",
        "*Not ready* rejections go to a six-week nurture track instead of the newsletter.",
        (
            ("priya", "Draft the 'not ready' nurture track: three e-mails over six weeks"),
            ("nina", "Note the quarter each 'not ready' lead named in this month's rejections"),
        ),
    ),
    Topic(
        "SLA v3 draft: first contact within 2 business hours",
        "Marketing proposes 2 business hours for the first contact and raises its SAL "
        "commitment in return. Sales worries about Monday mornings after a webinar.",
        "Tom takes the v3 draft to Thursday's sales team meeting; we decide next week.",
        (
            ("tom", "Walk the sales team through the SLA v3 draft and collect objections"),
            ("omar", "Pull speed to lead by weekday for the last quarter"),
        ),
    ),
    Topic(
        "Pricing questions on first calls",
        "Since the paid search campaign went live, prospects ask for pricing on the first "
        "call, and reps give different answers.",
        "One pricing answer for first calls: list price per seat, annual billing, and the "
        "link to the ROI calculator.",
        (
            ("priya", "Write the pricing FAQ with Ben and publish it on the pricing page"),
            ("ben", "Check the pricing FAQ draft against two recent prospects' questions"),
        ),
    ),
    Topic(
        "Security reviews slow enterprise deals",
        "Two enterprise deals stalled three weeks in security review. Prospects want the SOC 2 "
        "report and the data-processing agreement up front.",
        "The security pack (SOC 2 summary, DPA, pen-test letter) goes into the enterprise "
        "nurture and the AE's first e-mail.",
        (
            ("omar", "Add the security pack to the enterprise nurture track"),
            ("sofia", "List the security questions of the last five enterprise deals"),
        ),
    ),
    Topic(
        "Duplicates from booth scans",
        "Booth scans from the last event created a dozen handoffs for contacts already in open "
        "opportunities.",
        "Omar dedupes booth scans against open opportunities before they are handed over.",
        (
            ("omar", "Dedupe event leads against open opportunities before the handoff"),
            ("david", "Merge the duplicate event leads in the enterprise accounts"),
        ),
    ),
    Topic(
        "Lead definition v2 (sales' proposal)",
        "Sales proposes raising the MQL bar to 60 points: four touches alone don't make a "
        "buyer. The what-if shows fewer MQLs and a higher acceptance rate.",
        "Marketing reviews the what-if by segment and channel before signing v2.",
        (
            ("maria", "Review the lead definition v2 what-if by segment and channel"),
            ("grace", "Mark the enterprise leads v2 would have missed last month"),
        ),
    ),
    Topic(
        "Paid search brings students and consultants",
        "The *forecasting template* keywords bring students and consultants; sales rejected "
        "most of them as bad fit.",
        "Exclude 'free', 'template' and 'course'; move that budget to competitor terms.",
        (
            ("omar", "Add the negative keywords (free, template, course) to paid search"),
            ("chloe", "Put the search term in the feedback of bad-fit paid search leads"),
        ),
    ),
    Topic(
        "Customer stories for the mid-market",
        "Mid-market prospects ask for a customer their size. Both our stories are enterprise.",
        "Ben and Chloé each nominate a recent mid-market win for a customer story.",
        (
            ("ben", "Ask a recent mid-market customer for a customer story interview"),
            ("priya", "Draft the customer story interview questions"),
        ),
    ),
    Topic(
        "Friday-afternoon handoffs",
        "Handoffs made on Friday after 3 pm wait until Monday. Business hours keep them out of "
        "the breaches, but the leads still go cold.",
        "An SDR on duty works Friday-afternoon handoffs until 6 pm.",
        (
            ("tom", "Set up an SDR rota for Friday afternoons"),
            ("lena", "Move the Friday newsletter send to Tuesday morning"),
        ),
    ),
    Topic(
        "Losing to the CRM add-on on price",
        "Three deals lost last month went to a CRM's cheaper forecasting add-on. Prospects "
        "compare seat prices, not forecast accuracy.",
        "Marketing builds a one-page comparison that leads with forecast accuracy, not price.",
        (
            ("priya", "Draft the one-page comparison against the CRM forecasting add-ons"),
            ("sofia", "Share the competitor's price sheet from the lost enterprise deal"),
        ),
    ),
    Topic(
        "What new customers ask in the first 30 days",
        "New customers ask how to import their pipeline history; customer success answers the "
        "same e-mail every week.",
        "A pipeline-import guide goes into the welcome e-mail and the late-stage nurture.",
        (
            ("priya", "Write the pipeline-import guide for new customers"),
            ("chloe", "Collect the onboarding questions of her last three closed deals"),
        ),
    ),
)
STANDING_ACTIONS: tuple[tuple[str, str], ...] = (
    ("maria", "Answer the open field insights on pricing"),
    ("tom", "Bring the acceptance rate by rep to the next meeting"),
    ("grace", "Share the enterprise pipeline review notes with marketing"),
    ("lena", "Send sales next month's webinar and event dates"),
    ("omar", "Check that SLA breach alerts reach the right reps"),
    ("nina", "Explain this week's 'unresponsive' rejections in their feedback"),
    ("david", "Post this week's enterprise objections as field insights"),
    ("chloe", "Rate the leads of the last paid social campaign"),
    ("priya", "Add last week's objections to the sales battlecard"),
    ("sofia", "Introduce Priya to the champion of her last enterprise win"),
)
WEEKLY_AGENDA = (
    "1. Last week's numbers: MQLs, acceptance, first calls on time\n"
    "2. Open action items\n"
    "3. {topic}\n"
    "4. New field insights and ideas"
)
SALES_AWAY = (
    "Sales was in the quarterly pipeline review; Maria sends Tom the notes and the open question.",
    "The sales team was at the Summit; marketing went through the numbers alone and Tom "
    "answers by e-mail.",
)

LEADERSHIP: tuple[Topic, ...] = (
    Topic(
        "Pipeline coverage",
        "Pipeline covers 2.8× the quarter's remaining target; enterprise is thin.",
        "Grace reviews the three biggest enterprise deals with marketing for support.",
        (("grace", "Pick the three enterprise deals marketing can help with"),),
    ),
    Topic(
        "SAL commitment for next month",
        "Marketing is on pace for the SAL commitment; acceptance dipped for paid search leads.",
        "Keep the commitment; Maria moves part of the paid search budget to webinars.",
        (("maria", "Move part of the paid search budget to the next webinar"),),
    ),
    Topic(
        "Scorecard and payout",
        "Both teams' scorecards sit near target; the acceptance goal decides the payout.",
        "No change to the weights this quarter.",
        (),
    ),
    Topic(
        "A second SDR for DACH",
        "The SMB inbox runs over the SLA on Mondays.",
        "Tom opens the SDR role; marketing shares its product onboarding material.",
        (("tom", "Open the second DACH SDR role"),),
    ),
    Topic(
        "Lead definition v2",
        "Tom's draft raises the bar to 60 points. Maria wants the what-if by segment first.",
        "Decide after the what-if by segment.",
        (("maria", "Send Tom the v2 what-if by segment"),),
    ),
    Topic(
        "Next quarter's campaign calendar",
        "Two webinars, an event booth and a customer story series. Sales asks for event dates "
        "six weeks ahead.",
        "Lena shares the calendar with dates by Friday.",
        (("lena", "Share next quarter's campaign calendar with sales"),),
    ),
    Topic(
        "Rejected, then won",
        "Some leads rejected as *not ready* closed with us within three months.",
        "*Not ready* rejections get a follow-up date in the feedback.",
        (("tom", "Ask the reps for a follow-up date on every 'not ready' rejection"),),
    ),
)


@dataclass(frozen=True)
class Brainstorm:
    title: str
    attendees: tuple[str, ...]
    agenda: str
    notes: str
    decisions: str
    actions: tuple[tuple[str, str], ...]


BRAINSTORMS: tuple[Brainstorm, ...] = (
    Brainstorm(
        "Brainstorm: webinar topics for next quarter",
        ("maria", "lena", "priya", "ben", "sofia", "jonas"),
        "1. What prospects asked on calls this quarter\n2. Ten topics in ten minutes\n"
        "3. Vote and shortlist",
        "- Sales' most frequent first-call questions: importing pipeline history, forecast "
        "accuracy, pricing per seat.\n- Shortlist: *Forecast accuracy benchmarks*, *Pipeline "
        "hygiene in 30 minutes a week*, *What your CFO asks about the forecast*.\n- AEs want to "
        "co-host: prospects trust a practitioner more than a slide deck.",
        "- Lena picks two topics by Friday; each webinar gets an AE as co-host.",
        (
            ("lena", "Pick two webinar topics and ask two AEs to co-host"),
            ("ben", "Send the ten most common first-call questions"),
        ),
    ),
    Brainstorm(
        "Brainstorm: an ABM pilot for 50 enterprise accounts",
        ("grace", "david", "sofia", "maria", "omar", "priya"),
        "1. Which accounts, and who picks them\n2. What marketing does per account\n"
        "3. How we measure it",
        "- Accounts: enterprise companies with a CRM we integrate with, and no forecasting "
        "tool yet.\n- Per account: targeted ads to the buying group, a tailored one-pager, an "
        "invitation to the CFO roundtable.\n- Measure: meetings booked and pipeline created "
        "within the 50, not MQLs.",
        "- Pilot with 50 accounts for one quarter; Grace owns the list.",
        (
            ("grace", "Pick the 50 pilot accounts with David and Sofia"),
            ("omar", "Build the pilot accounts as audiences in the ad platforms"),
        ),
    ),
)

# --- vocabulary: campaigns ------------------------------------------------------------------


@dataclass(frozen=True)
class Brief:
    audience: str
    offer: str
    sales_ask: str
    worked: str
    missed: str
    next_time: str


BRIEFS: dict[str, Brief] = {
    "webinar": Brief(
        "heads of sales and RevOps at mid-market companies",
        "a live session with a customer and an AE as co-host; recording for all registrants",
        "the attendee list with each person's Q&A questions, the same afternoon",
        "Attendees who asked a question were easy first calls.",
        "Registrants who never attended were handed over like attendees and mostly rejected.",
        "Hand over attendees only; registrants go to nurture.",
    ),
    "paid_search": Brief(
        "people searching for forecasting and pipeline software",
        "a demo request and the ROI calculator",
        "the search term on each lead, so the first call knows what they looked for",
        "Competitor terms brought buyers who were already comparing vendors.",
        "Generic terms brought students and consultants.",
        "Negative keywords from day one; more budget on competitor terms.",
    ),
    "event": Brief(
        "sales leaders and RevOps at the event; meetings booked ahead with target accounts",
        "a live demo at the booth and a dinner for the enterprise accounts",
        "booth scans split into real conversations and badge scans",
        "Meetings booked ahead of the event turned into opportunities.",
        "Badge scans without a conversation were rejected as not ready.",
        "Only conversations are handed over; scans go to nurture.",
    ),
    "paid_social": Brief(
        "RevOps leaders and CFOs on LinkedIn",
        "the forecast accuracy guide, then retargeting with the demo offer",
        "which ad each lead clicked, and the company size",
        "The CFO retargeting brought senior buyers.",
        "Lead forms filled in one click brought contacts with no real interest.",
        "Ask one qualifying question in the lead form.",
    ),
    "content": Brief(
        "RevOps and sales leaders researching benchmarks",
        "the report, gated, with a short benchmark call as the next step",
        "which chapter each lead read, to open the first call",
        "Leads who booked the benchmark call accepted almost every time.",
        "Single downloads were rarely ready to talk.",
        "Hand over only after a second touch or a benchmark call.",
    ),
    "email": Brief(
        "existing leads and dormant trial accounts",
        "product updates and customer stories, each with one clear next step",
        "replies routed to the owner of the account, not the shared inbox",
        "Replies to the customer story e-mails were warm and specific.",
        "Dormant trial accounts rarely answered the first call.",
        "Send the customer stories to the mid-market segment first.",
    ),
    "outbound": Brief(
        "mid-market companies in the region, two personas per account",
        "a five-step sequence with a personal first line by the SDR",
        "the reply and the persona on each handoff",
        "Personal first lines doubled the reply rate.",
        "The finance persona did not answer at all.",
        "Drop the finance persona; add a second RevOps contact per account.",
    ),
}
BRIEFS |= {  # the always-on programmes: a kick-off when the year's plan starts, no post-mortem
    "seo": Brief(
        "people searching for forecasting, pipeline and RevOps topics",
        "the blog, the benchmark pages and a demo request on every page",
        "the page each lead converted on",
        "Benchmark pages bring senior readers.",
        "Blog readers rarely want a call.",
        "A demo request on the benchmark pages only.",
    ),
    "referral": Brief(
        "our customers' peers: heads of sales and RevOps they recommend us to",
        "a thank-you for the customer and a guided pilot for the company they refer",
        "the referring customer's name on each lead, and a call the same day",
        "Referred leads accept almost always.",
        "Few customers refer without being asked.",
        "Ask for a referral at every renewal.",
    ),
    "partner": Brief(
        "consultancies that implement CRMs for mid-market companies",
        "co-selling with a partner margin, and joint webinars",
        "the partner's contact and the deal's status in one place",
        "Partner-led deals close faster.",
        "Partners hand over leads late in their project.",
        "Bring partners in at the CRM project's start.",
    ),
    "organic_social": Brief(
        "RevOps and sales leaders following the LinkedIn page",
        "weekly posts: benchmarks, customer quotes, webinar invitations",
        "which post each lead engaged with",
        "Customer quotes get the most engagement.",
        "Likes rarely turn into conversations.",
        "Every post ends with one clear next step.",
    ),
}
KICKOFF_AGENDA = (
    "1. Goal and audience\n2. The offer and the message\n3. What sales gets, and when\n"
    "4. How we measure it: MQLs, acceptance, SQLs, won revenue"
)
POSTMORTEM_AGENDA = (
    "1. The closed-loop numbers\n2. Sales' ratings and rejection reasons\n"
    "3. What worked, what didn't\n4. What we change next time"
)
RATING_COMMENTS: dict[int, tuple[str, ...]] = {
    1: (
        "Mostly students and consultants; hardly anyone could buy.",
        "Most had no project behind the click or the download.",
        "Half were already in open opportunities.",
    ),
    2: (
        "Right companies, wrong people: too junior to own the forecast.",
        "Slow to reply; most needed five attempts or more.",
        "Interested in the content, not in a tool this year.",
    ),
    3: (
        "Mixed: good companies, but many contacts were junior.",
        "Fine volume; about half were ready for a first call.",
        "Decent fit, but the follow-up took too long to start.",
    ),
    4: (
        "Good titles, real pain; a few asked for pricing on the first call.",
        "Most knew what they wanted; easy first calls.",
        "Solid leads; the context on each handoff helped.",
    ),
    5: (
        "Best leads this quarter: decision makers comparing vendors.",
        "Warm and specific; several booked a demo on the first call.",
        "Exactly our ICP, and they came with questions.",
    ),
}

# --- vocabulary: ideas, insights, spotlights, shadowing -------------------------------------


@dataclass(frozen=True)
class IdeaPlan:
    title: str
    body: str
    author: str
    status: str
    days_ago: int  # created
    comments: tuple[tuple[str, str], ...] = ()
    voters: tuple[str, ...] = ()
    parked_reason: str = ""
    campaign_like: str = ""  # adopted: linked to a campaign whose name has this
    goal_metrics: tuple[str, ...] = ()  # adopted: or else to a goal running then, on one of these
    decided_by: str = ""


IDEAS: tuple[IdeaPlan, ...] = (
    IdeaPlan(
        "Same-day call for webinar attendees who asked a question",
        "**Half-done.** Attendees who ask a question in the Q&A convert far better. What if "
        "the AE who owns the account calls them the same afternoon, with the question in "
        "hand?\n\n- Marketing sends the Q&A list within an hour of the end\n- Sales calls "
        "before 6 pm\n\nOpen: who calls SMB attendees without an owner?",
        "lena",
        Idea.Status.OPEN,
        12,
        (
            ("ben", "Yes, and send the question text, not just the name: it's the opener."),
            ("jonas", "SMB attendees could go to the SDR on duty."),
            ("omar", "The webinar tool exports the Q&A per attendee; I can put it on the lead."),
            ("tom", "Let's try it on the next webinar and compare acceptance."),
        ),
        ("ben", "jonas", "chloe", "omar", "priya", "tom", "maria"),
    ),
    IdeaPlan(
        "An ROI calculator the AE fills in on the first call",
        "Prospects ask *what will this save us?* and we answer with a slide. A simple "
        "calculator (reps, hours on the forecast, forecast miss) the AE fills in live, and "
        "the prospect gets the result by e-mail.",
        "ben",
        Idea.Status.OPEN,
        9,
        (
            ("priya", "The RevOps benchmark report has the numbers to seed the defaults."),
            ("sofia", "Enterprise CFOs distrust calculators. Show the assumptions, always."),
            ("maria", "Let's test it with mid-market first, where deals move faster."),
        ),
        ("priya", "sofia", "chloe", "david", "maria"),
    ),
    IdeaPlan(
        "ABM pilot: 50 enterprise accounts, one joint plan each",
        "Enterprise leads come in one at a time and too late. Pick 50 accounts together, "
        "and for each: who we know, what marketing runs for the buying group, and who "
        "calls when.",
        "grace",
        Idea.Status.OPEN,
        20,
        (
            ("omar", "I can build the 50 as ad audiences; we need the list by the 15th."),
            ("david", "Half of my open deals would be on that list anyway."),
            ("maria", "We measure it on pipeline in the 50, not MQLs. Agreed?"),
            ("grace", "Agreed."),
        ),
        ("omar", "david", "sofia", "maria", "tom", "priya"),
    ),
    IdeaPlan(
        "A monthly lost-deal review with marketing",
        "Lost reasons stay in the CRM. Once a month, sales walks marketing through three lost "
        "deals: why, against whom, and what content would have helped.",
        "tom",
        Idea.Status.OPEN,
        5,
        (
            ("priya", "Yes please: the battlecard is built on guesses right now."),
            ("nina", "Could we include lost SMB trials too? They're quick to review."),
        ),
        ("priya", "lena", "nina", "grace"),
    ),
    IdeaPlan(
        "A nurture track for 'not ready' rejections",
        "Leads rejected as *not ready* go to the newsletter and we never hear of them again. "
        "A six-week track with the benchmark report, a customer story and a check-in from the "
        "SDR.",
        "priya",
        Idea.Status.ADOPTED,
        48,
        (
            ("nina", "The SDR check-in in week six is the part I like most."),
            ("tom", "Only if the check-in is an e-mail first, not a cold call."),
        ),
        ("nina", "jonas", "tom", "maria", "lena"),
        campaign_like="Nurture",
        goal_metrics=("acceptance_rate", "sals", "revenue_won"),
        decided_by="maria",
    ),
    IdeaPlan(
        "Customer stories written with the AE who closed the deal",
        "Our stories read like press releases. The AE knows why the customer bought; pair "
        "each story with its AE for a 30-minute interview.",
        "chloe",
        Idea.Status.ADOPTED,
        40,
        (
            ("priya", "I'll draft the questions; 30 minutes is enough."),
            ("ben", "I have two customers who'd say yes."),
        ),
        ("priya", "ben", "maria", "sofia"),
        campaign_like="customer story",
        goal_metrics=("revenue_won", "sals"),
        decided_by="maria",
    ),
    IdeaPlan(
        "Dedupe booth scans before the handoff",
        "Booth scans of people already in open opportunities land in the reps' inboxes as new "
        "MQLs. Check them against open deals first.",
        "omar",
        Idea.Status.ADOPTED,
        33,
        (("david", "Please. Three of my accounts were handed to an SDR last time."),),
        ("david", "sofia", "grace", "tom"),
        goal_metrics=("acceptance_rate", "speed_to_lead_median_hours", "leads_created"),
        decided_by="tom",
    ),
    IdeaPlan(
        "A free forecasting template as a lead magnet",
        "A spreadsheet template for the quarterly forecast, free, no form.",
        "lena",
        Idea.Status.PARKED,
        52,
        (
            ("jonas", "The people who want a free spreadsheet are the ones who stay on one."),
            ("omar", "Paid search on 'template' already shows it: students and consultants."),
        ),
        ("omar",),
        parked_reason="Paid search already shows what it brings: students and consultants. "
        "Revisit as a gated template for heads of sales only.",
        decided_by="maria",
    ),
    IdeaPlan(
        "A live demo station with a sandbox at events",
        "Visitors click through a sandbox with realistic data at the booth instead of watching "
        "a video.",
        "jonas",
        Idea.Status.PARKED,
        44,
        (("lena", "Love it, but the sandbox doesn't exist yet."),),
        ("lena", "ben"),
        parked_reason="Needs a sandbox with realistic data; product can't build one before "
        "next quarter.",
        decided_by="tom",
    ),
    IdeaPlan(
        "SDRs write the first line of every outbound sequence",
        "Sequences with a personal first line get twice the replies. Give SDRs 20 minutes a "
        "morning to write them.",
        "nina",
        Idea.Status.DRAFT,
        3,
    ),
    IdeaPlan(
        "A security FAQ page instead of answering questionnaires one by one",
        "Draft: the 40 questions every questionnaire asks, answered once, public.",
        "priya",
        Idea.Status.DRAFT,
        2,
    ),
)


@dataclass(frozen=True)
class InsightPlan:
    kind: str
    text: str
    tags: tuple[str, ...]
    posted_by: str
    answer: str = ""  # "used" | "not_used" | "" (unanswered, posted in the last days)
    answer_text: str = ""
    answered_by: str = ""
    answer_channel: str = ""  # used in a campaign of this channel (the latest before the answer)
    from_channel: str = ""  # heard from the leads of a campaign of this channel


K = FieldInsight.Kind
INSIGHTS: tuple[InsightPlan, ...] = (
    InsightPlan(
        K.MESSAGE_WORKS,
        "“One forecast instead of fourteen spreadsheets” lands every time with mid-market "
        "heads of sales. Two prospects repeated it back to me this week.",
        ("spreadsheets", "forecasting"),
        "ben",
        "used",
        "Used as the headline of the LinkedIn ads and on the home page.",
        "omar",
        answer_channel="paid_social",
    ),
    InsightPlan(
        K.MESSAGE_WORKS,
        "Enterprise CFOs react to “forecast within 5 %” far more than to pipeline visibility. "
        "Open with their board meeting, not our dashboard.",
        ("roi", "forecasting"),
        "sofia",
        "used",
        "Used in the next webinar's invitation and its first slide.",
        "lena",
        answer_channel="webinar",
    ),
    InsightPlan(
        K.MESSAGE_WORKS,
        "Showing the shared SLA dashboard in the demo wins RevOps: they want marketing and "
        "sales on one number.",
        ("roi",),
        "chloe",
        "used",
        "Now the second chapter of the demo script and a section of the RevOps e-book.",
        "priya",
        answer_channel="content",
    ),
    InsightPlan(
        K.MESSAGE_STOPPED,
        "“AI-powered forecasting” gets eye-rolls now; two prospects said every vendor claims it.",
        ("competitor", "messaging"),
        "david",
        "used",
        "Removed from the ad copy and the webinar titles; we lead with accuracy numbers.",
        "omar",
        answer_channel="paid_search",
        from_channel="paid_search",
    ),
    InsightPlan(
        K.MESSAGE_STOPPED,
        "The 30-day free trial doesn't work for enterprise any more: they want a guided pilot "
        "with their own data.",
        ("pricing", "onboarding"),
        "grace",
        "not_used",
        "Pilots are a sales offer, not a campaign: marketing won't advertise them. Sales "
        "offers the pilot on the first call.",
        "maria",
    ),
    InsightPlan(
        K.MESSAGE_STOPPED,
        "Prospects quote last year's benchmark report back at us: its numbers are stale.",
        ("content", "roi"),
        "jonas",
        "used",
        "The new edition of the benchmark report uses this year's data.",
        "priya",
        answer_channel="content",
    ),
    InsightPlan(
        K.OBJECTION,
        "“We already have forecasting in our CRM.” Comes up on every second mid-market call.",
        ("competitor", "integrations"),
        "chloe",
        "used",
        "Answered in the one-page comparison with the CRM add-ons (in the sales folder and "
        "the mid-market nurture).",
        "priya",
        answer_channel="email",
    ),
    InsightPlan(
        K.OBJECTION,
        "Per-seat pricing is a blocker for companies with many part-time reps.",
        ("pricing",),
        "nina",
        "not_used",
        "Pricing is set by product for the year; passed to them. We won't build content "
        "around a price change we can't promise.",
        "maria",
    ),
    InsightPlan(
        K.OBJECTION,
        "Security teams want SSO and SCIM before a pilot starts, not after.",
        ("security", "integrations"),
        "sofia",
        "used",
        "In the security pack that now goes out with the AE's first e-mail.",
        "omar",
        answer_channel="email",
    ),
    InsightPlan(
        K.OBJECTION,
        "“Our data is too messy for any tool.” Prospects fear the import more than the price.",
        ("onboarding",),
        "ben",
        "used",
        "The pipeline-import guide answers it; it is in the welcome e-mail and the webinar "
        "follow-up.",
        "priya",
        answer_channel="webinar",
        from_channel="webinar",
    ),
    InsightPlan(
        K.OBJECTION,
        "Procurement asks for the DPA and the list of sub-processors in the first week.",
        ("security", "procurement"),
        "david",
        "used",
        "Both are on the trust page now, linked from the security pack.",
        "omar",
    ),
    InsightPlan(
        K.QUESTION,
        "Does it sync with HubSpot and Salesforce both ways, or read only?",
        ("integrations",),
        "jonas",
        "used",
        "The integrations page says two-way sync for both, with a diagram.",
        "lena",
        from_channel="paid_search",
    ),
    InsightPlan(
        K.QUESTION,
        "How many days until the first forecast? Prospects want a number.",
        ("onboarding", "roi"),
        "chloe",
        "not_used",
        "We have no reliable number yet; customer success is timing the last ten "
        "onboardings. Back to it next month.",
        "lena",
    ),
    InsightPlan(
        K.QUESTION,
        "Can we see the ROI of a customer our size (200–500 employees)?",
        ("roi",),
        "ben",
        "used",
        "The mid-market customer story answers it; sent in the customer story series.",
        "priya",
        answer_channel="email",
    ),
    # Not answered yet: the newest.
    InsightPlan(
        K.OBJECTION,
        "“We're switching CRMs next year; we'll look at forecasting after.” Three calls this week.",
        ("integrations", "competitor"),
        "nina",
    ),
    InsightPlan(
        K.QUESTION,
        "Is there a discount for paying a year up front, or for two years?",
        ("pricing",),
        "jonas",
        from_channel="webinar",
    ),
    InsightPlan(
        K.MESSAGE_STOPPED,
        "The subject line “Pipeline reviews your reps won't dread” gets no replies in outbound "
        "any more.",
        ("messaging",),
        "nina",
        from_channel="outbound",
    ),
    InsightPlan(
        K.QUESTION,
        "Does the data stay in the EU? Two German prospects asked before anything else.",
        ("security", "procurement"),
        "david",
    ),
    InsightPlan(
        K.OBJECTION,
        "The ROI calculator's defaults look too good; a CFO called it “marketing maths”.",
        ("roi",),
        "sofia",
    ),
)
del K


@dataclass(frozen=True)
class ShadowingPlan:
    person: str
    host: str
    focus: str
    learned: str = ""
    hours: tuple[int, int] = (9, 13)


SHADOWING_DONE: tuple[ShadowingPlan, ...] = (
    ShadowingPlan(
        "lena",
        "ben",
        "Discovery calls with mid-market prospects",
        "- Ben opens with the prospect's last forecast miss, not our features.\n- Half of every "
        "call is about how the data gets in; our content says nothing about it.\n- Webinar "
        "leads who asked a question are the easiest calls of the day.",
    ),
    ShadowingPlan(
        "priya",
        "sofia",
        "An enterprise demo and the security review after it",
        "- The security questionnaire has 180 questions; we answer the same 40 every time.\n"
        "- The CFO joined for ten minutes and only asked about accuracy.\n- Our case studies are "
        "too long for the champion to forward.",
        (9, 17),
    ),
    ShadowingPlan(
        "jonas",
        "omar",
        "How lead scoring and the handoff are set up",
        "- Four touches alone are 15 points: that's why some MQLs never opened an e-mail.\n"
        "- Marketing reads rejection feedback the same day; feedback that names the fix helps "
        "most.",
        (13, 17),
    ),
    ShadowingPlan(
        "chloe",
        "lena",
        "Planning and running a webinar",
        "- 70 % of registrations come in the last three days.\n- The Q&A list is the best "
        "opener for a first call: ask for it.",
        (13, 17),
    ),
    ShadowingPlan(
        "omar",
        "david",
        "An enterprise pipeline review",
        "- Enterprise deals stall in procurement, not in evaluation.\n- David tracks the buying "
        "group by hand; our ads could reach the same people.",
    ),
)
SHADOWING_AHEAD: tuple[ShadowingPlan, ...] = (
    ShadowingPlan("maria", "grace", "The enterprise forecast call", hours=(14, 17)),
    ShadowingPlan("david", "priya", "How a customer story is produced"),
    ShadowingPlan("ben", "omar", "Campaign reporting and attribution", hours=(13, 16)),
)
SHADOWING_CANCELLED = ShadowingPlan("nina", "priya", "Writing a nurture e-mail", hours=(14, 16))
SPOTLIGHT_TITLES = (
    "{company} signs after {origin}",
    "{company}: from first touch to signed in {days} days",
    "Joint win: {company}",
    "{company} chooses us over the CRM add-on",
    "{company} goes live with a {segment} rollout",
)
SPOTLIGHT_STORIES = (
    "{company} came in through **{campaign}**. {marketer} spotted the account's second touch "
    "and flagged it; {rep} called within the hour and opened with the question they had asked. "
    "Signed for {amount}.\n\n- What made it: the context on the handoff\n- What we repeat: the "
    "same-day call",
    "The first touch was **{campaign}**. {rep} found the buying group; {marketer} sent the "
    "CFO the forecast accuracy guide and the customer story of a company their size. "
    "{amount}, closed in {days} days.",
    "{rep} and {marketer} ran this one together: a tailored one-pager after the discovery "
    "call, the security pack before procurement asked, and a reference call with an existing "
    "customer. Came from **{campaign}**; signed for {amount}.",
)
ORIGINS = {
    "webinar": "a webinar", "event": "a conversation at the booth", "paid_search": "a search ad",
    "paid_social": "a LinkedIn ad", "content": "reading the report", "email": "an e-mail",
    "outbound": "an SDR sequence", "seo": "an organic search", "referral": "a customer referral",
    "partner": "a partner's introduction", "organic_social": "a LinkedIn post",
}  # fmt: skip
SEGMENT_WORDS = {"smb": "team-wide", "mid_market": "department-wide", "enterprise": "company-wide"}


# --- the whole -------------------------------------------------------------------------------


#: Every working-together model, children first.
TOGETHER_MODELS: tuple[type[models.Model], ...] = (
    SpotlightThanks,
    SpotlightPerson,
    Spotlight,
    ShadowingSession,
    ActionItem,
    MeetingAttendee,
    Meeting,
    IdeaVote,
    IdeaComment,
    Idea,
    FieldInsight,
    InsightTag,
    CampaignRating,
)


def together_flush() -> None:
    """Delete every working-together record (before the funnel: meetings, ratings and
    insights refer to campaigns, spotlights to deals)."""
    for model in TOGETHER_MODELS:
        model.objects.all().delete()


def together_write(*, now: datetime, users: dict[str, int], seed: int) -> dict[str, int]:
    """The demo's working-together records, relative to `now`; returns the rows written per
    kind. Writes nothing where the database already has such records, or the demo users are
    missing."""
    cast = Cast.of(users)
    if cast is None or any(model.objects.exists() for model in TOGETHER_MODELS):
        return {}
    rng = random.Random(f"{seed}:together")
    world = World.load(now)
    counts: dict[str, int] = {}
    shadowing = _shadowing_plans(rng, world)
    meetings = _meeting_plans(rng, cast, world, shadowing)
    counts |= _meetings_write(cast, meetings, shadowing)
    counts["campaign ratings"] = _ratings_write(rng, cast, world)
    counts |= _ideas_write(rng, cast, world)
    counts |= _insights_write(rng, cast, world)
    counts |= _spotlights_write(rng, cast, world)
    return counts


@dataclass
class CampaignFacts:
    pk: int
    external_id: str
    name: str
    channel: str
    starts_on: date
    ends_on: date
    leads: int = 0
    handed: int = 0
    accepted: int = 0
    decided: int = 0
    won: int = 0
    revenue: Decimal = Decimal(0)
    top_reason: str = ""
    top_reason_n: int = 0

    @property
    def timed(self) -> bool:
        return self.channel not in ALWAYS_ON_CHANNELS


@dataclass
class World:
    """What the demo reads of the funnel and the goals: campaigns with their closed-loop
    numbers (aggregates), and the moment it is."""

    now: datetime
    today: date
    campaigns: list[CampaignFacts]
    goals: list[tuple[int, str, date, date]]  # (pk, metric, first day, day after the last)

    @classmethod
    def load(cls, now: datetime) -> World:
        today = now.astimezone(_zone()).date()
        campaigns = {
            c["pk"]: CampaignFacts(**c)
            for c in Campaign.objects.order_by("starts_on", "external_id").values(
                "pk", "external_id", "name", "channel", "starts_on", "ends_on"
            )
        }
        for row in (
            Lead.objects.filter(campaign__isnull=False).values("campaign").annotate(n=Count("id"))
        ):
            campaigns[row["campaign"]].leads = row["n"]
        handoffs = Handoff.objects.filter(lead__campaign__isnull=False)
        for row in handoffs.values("lead__campaign").annotate(
            handed=Count("id"),
            accepted=Count("id", filter=Q(status=Handoff.Status.ACCEPTED)),
            decided=Count(
                "id", filter=Q(status__in=[Handoff.Status.ACCEPTED, Handoff.Status.REJECTED])
            ),
        ):
            facts = campaigns[row["lead__campaign"]]
            facts.handed, facts.accepted, facts.decided = (
                row["handed"],
                row["accepted"],
                row["decided"],
            )
        reasons = (
            handoffs.filter(status=Handoff.Status.REJECTED, reason__isnull=False)
            .values("lead__campaign", "reason__label")
            .annotate(n=Count("id"))
            .order_by("lead__campaign", "-n", "reason__label")
        )
        for row in reasons:
            facts = campaigns[row["lead__campaign"]]
            if not facts.top_reason:
                facts.top_reason, facts.top_reason_n = row["reason__label"], row["n"]
        for row in (
            Deal.objects.filter(status=Deal.Status.WON, lead__campaign__isnull=False)
            .values("lead__campaign")
            .annotate(n=Count("id"), revenue=Sum("amount"))
        ):
            facts = campaigns[row["lead__campaign"]]
            facts.won, facts.revenue = row["n"], row["revenue"] or Decimal(0)
        goals = [
            (pk, metric, start, next_period(period, start))
            for pk, metric, period, start in Goal.objects.order_by(
                "period_start", "pk"
            ).values_list("pk", "metric", "period", "period_start")
        ]
        return cls(now, today, list(campaigns.values()), goals)

    def goal_running(self, metrics: Sequence[str], *, on: date) -> int | None:
        """A goal running on `on`, on the first of `metrics` that has one (or on any)."""
        running = [(pk, metric) for pk, metric, start, end in self.goals if start <= on < end]
        ranked = sorted(
            running, key=lambda g: metrics.index(g[1]) if g[1] in metrics else len(metrics)
        )
        return ranked[0][0] if ranked else None

    def campaign_like(self, words: str, *, before: date) -> CampaignFacts | None:
        """The latest campaign whose name has `words`, started before `before`."""
        found = [
            c
            for c in self.campaigns
            if words.lower() in c.name.lower() and c.starts_on <= before and c.timed
        ]
        return found[-1] if found else None

    def campaign_of(self, channel: str, *, on: date) -> CampaignFacts | None:
        """The latest campaign of `channel` started by `on`, preferring one running then."""
        found = [c for c in self.campaigns if c.channel == channel and c.starts_on <= on]
        running = [c for c in found if c.ends_on >= on]
        return (running or found or [None])[-1]

    def campaign_after(self, channel: str, *, on: date) -> CampaignFacts | None:
        """The first campaign of `channel` running on `on` or starting after it."""
        found = [c for c in self.campaigns if c.channel == channel and c.ends_on >= on]
        return found[0] if found else None


# --- meetings --------------------------------------------------------------------------------


@dataclass
class ItemPlan:
    text: str
    owner: str
    due_on: date
    done_at: datetime | None = None


@dataclass
class MeetingPlan:
    kind: str
    starts_at: datetime
    minutes: int
    attendees: list[str]
    by: str
    title: str = ""
    campaign: int | None = None
    agenda: str = ""
    notes: str = ""
    decisions: str = ""
    items: list[ItemPlan] = field(default_factory=list)
    debriefs: int | None = None  # the index of the shadowing session it debriefs

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)


def _meeting_plans(
    rng: random.Random, cast: Cast, world: World, shadowing: list[ShadowingPlanned]
) -> list[MeetingPlan]:
    plans = _weekly_plans(rng, cast, world)
    plans += _campaign_plans(rng, cast, world)
    plans += _brainstorm_plans(rng, world)
    plans += _debrief_plans(rng, world, shadowing)
    plans += _leadership_plans(rng, cast, world, plans)
    for plan in plans:
        for item in plan.items:  # what would be done after `now` is still open
            if item.done_at is not None and item.done_at > world.now - timedelta(minutes=5):
                item.done_at = None
    return sorted(plans, key=lambda p: (p.starts_at, p.kind))


def _weeks(world: World) -> list[date]:
    """The Mondays of the weekly-meeting weeks, oldest first (the current one last)."""
    this_week = _monday(world.today)
    return [this_week - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


def _weekly_plans(rng: random.Random, cast: Cast, world: World) -> list[MeetingPlan]:
    days = [
        monday + timedelta(days=1)
        for monday in _weeks(world)
        if _at(monday + timedelta(days=1), 10, 45) <= world.now
    ]
    # A week skipped and a week with marketing alone, never among the latest three.
    middle = list(range(1, max(len(days) - 3, 1)))
    skipped, alone = rng.sample(middle, 2) if len(middle) >= 2 else (-1, -1)
    kept = [n for n in range(len(days)) if n != skipped]
    topics = rng.sample(TOPICS, len(TOPICS))
    standing = list(STANDING_ACTIONS)
    rng.shuffle(standing)
    plans: list[MeetingPlan] = []
    for position, n in enumerate(kept):
        day, left = days[n], len(kept) - 1 - position  # meetings after this one
        topic = topics[position % len(topics)]
        if n == alone:
            people = ["maria", *rng.sample(MARKETERS, 2)]
        else:
            people = ["maria", "tom", *rng.sample(MARKETERS, rng.randint(1, 2))]
            people += rng.sample((ENTERPRISE_MANAGER, *SALES_REPS), rng.randint(2, 3))
        plan = MeetingPlan(
            Meeting.Kind.WEEKLY_ALIGNMENT,
            _at(day, 10),
            45,
            people,
            by=("maria", "tom")[position % 2],
            agenda=WEEKLY_AGENDA.format(topic=topic.agenda),
        )
        actions = list(topic.actions)
        extra = rng.randint(1, 2) if left == 0 else rng.randint(0, 1)
        actions += [standing.pop() for _ in range(min(extra, len(standing)))]
        if not standing:
            standing = list(STANDING_ACTIONS)
            rng.shuffle(standing)
        plan.items = _weekly_items(rng, world, plan, actions, left)
        plan.notes = _weekly_notes(cast, plan, topic, plans[-1] if plans else None, n == alone)
        plan.decisions = f"- {topic.decision}"
        if n == alone:
            plan.decisions += "\n- Tom confirms by e-mail; it stands unless sales objects."
        plans.append(plan)
    return plans


def _weekly_items(
    rng: random.Random,
    world: World,
    plan: MeetingPlan,
    actions: list[tuple[str, str]],
    left: int,
) -> list[ItemPlan]:
    """The last meeting's items are mostly open and due this week or next; the one before
    leaves one open past its due date, and so does the one three back; the rest are done."""
    day = plan.starts_at.astimezone(_zone()).date()
    items = []
    if left == 0:
        soon = sorted(
            {
                _next_workday(max(world.today, day + timedelta(days=1)) + timedelta(days=d))
                for d in (0, 1, 2, 3, 7, 8)
            }
        )
        dues = sorted(rng.sample(soon, min(len(actions), len(soon))))
        open_count = rng.randint(2, min(4, len(actions)))
        opens = set(rng.sample(range(len(actions)), open_count))
    else:  # due on the Friday after or the Tuesday after; the open one on the Friday
        opens = {len(actions) - 1} if left in (1, 3) else set()
        dues = [
            day + timedelta(days=3 if k % 2 == 0 or k in opens else 7) for k in range(len(actions))
        ]
    for k, (owner, text) in enumerate(actions):
        due = dues[k % len(dues)]
        done_at = None
        if k not in opens:
            late = rng.random() < 0.15
            latest = _at(due + timedelta(days=2 if late else 0), 17)
            done_at = _office_time(
                rng, plan.ends_at + timedelta(hours=1), min(latest, world.now - timedelta(hours=1))
            )
        items.append(ItemPlan(text, owner, due, done_at))
    return items


def _weekly_notes(
    cast: Cast, plan: MeetingPlan, topic: Topic, previous: MeetingPlan | None, alone: bool
) -> str:
    monday = _monday(plan.starts_at.astimezone(_zone()).date())
    lines = [_week_numbers(monday - timedelta(weeks=1), monday)]
    if previous is not None and previous.items:
        done = [i for i in previous.items if i.done_at is not None and i.done_at < plan.starts_at]
        line = f"**Open items:** {len(done)} of {len(previous.items)} from last time done."
        carried = [i for i in previous.items if i not in done]
        if carried:
            who = ", ".join(f"{cast.first_name(i.owner)}: *{i.text}*" for i in carried)
            line += f" Carried over: {who}."
        lines.append(line)
    lines.append(f"**{topic.agenda}:** {topic.note}")
    if alone:
        lines.append(SALES_AWAY[monday.toordinal() % len(SALES_AWAY)])
    return "\n\n".join(lines)


def _week_numbers(begin: date, end: date) -> str:
    """Last week's handoffs as the meeting reads them (three small aggregates)."""
    handed = Handoff.objects.filter(
        handed_at__gte=_at(begin, 0), handed_at__lt=_at(end, 0)
    ).order_by()
    totals = handed.aggregate(
        mqls=Count("id"),
        accepted=Count("id", filter=Q(status=Handoff.Status.ACCEPTED)),
        rejected=Count("id", filter=Q(status=Handoff.Status.REJECTED)),
        late=Count("id", filter=Q(responded_at__gt=F("first_contact_due_at"))),
    )
    if not totals["mqls"]:
        return "**Last week's numbers:** no MQLs were handed to sales."
    decided = totals["accepted"] + totals["rejected"]
    rate = f" ({totals['accepted'] * 100 // decided} % acceptance)" if decided else ""
    text = (
        f"**Last week's numbers:** {totals['mqls']} MQLs handed to sales; "
        f"{totals['accepted']} accepted and {totals['rejected']} rejected so far{rate}. "
        f"{totals['late']} first contacts came after the SLA deadline."
    )
    top = (
        handed.filter(status=Handoff.Status.REJECTED, reason__isnull=False)
        .values("reason__label")
        .annotate(n=Count("id"))
        .order_by("-n", "reason__label")
        .first()
    )
    if top:
        text += f" Top rejection reason: *{top['reason__label']}* ({top['n']})"
        quote = (
            handed.filter(status=Handoff.Status.REJECTED, reason__label=top["reason__label"])
            .exclude(feedback="")
            .order_by("handed_at", "id")
            .values_list("feedback", flat=True)
            .first()
        )
        text += f": “{quote}”" if quote else "."
    return text


def _campaign_plans(rng: random.Random, cast: Cast, world: World) -> list[MeetingPlan]:
    """Kick-offs a few days before each campaign starts (a few timed ones without sales) and
    post-mortems 1–3 weeks after the ended ones (none yet for the latest two that ended more
    than two weeks ago; the always-on ones never end)."""
    campaigns = [c for c in world.campaigns if c.channel in BRIEFS]
    timed = [n for n, c in enumerate(campaigns) if c.timed]
    alone = set(rng.sample(timed, min(3, max(1, len(timed) // 4)))) if timed else set()
    ended = sorted(
        (c for c in campaigns if c.ends_on < world.today - timedelta(days=14)),
        key=lambda c: (c.ends_on, c.external_id),
    )
    not_yet = {c.pk for c in ended[-2:]}  # "post-mortem due" on the campaigns list
    plans = []
    for n, campaign in enumerate(campaigns):
        brief, owner = BRIEFS[campaign.channel], CHANNEL_OWNER[campaign.channel]
        sales = _campaign_sales(rng, campaign)
        kickoff = _at(_workday(campaign.starts_on - timedelta(days=rng.randint(3, 6))), 14)
        if kickoff + timedelta(hours=1) <= world.now:
            others = [m for m in MARKETERS if m != owner]
            people = list(dict.fromkeys(["maria", owner]))
            if n in alone:
                people += rng.sample(others, 1)
            else:
                people += sales
            plan = MeetingPlan(
                Meeting.Kind.CAMPAIGN_KICKOFF,
                kickoff,
                60,
                people,
                by=owner,
                title=f"Kick-off: {campaign.name}",
                campaign=campaign.pk,
                agenda=KICKOFF_AGENDA,
                notes=(
                    f"**Audience:** {brief.audience}.\n\n**Offer:** {brief.offer}.\n\n"
                    f"**Sales asked for:** {brief.sales_ask}."
                ),
                decisions=(
                    f"- Starts {campaign.starts_on:%d %b %Y}; {cast.first_name(owner)} owns it."
                    "\n- Leads go to the segment's queue."
                ),
            )
            if n in alone:
                plan.notes = (
                    f"**Audience:** {brief.audience}.\n\n**Offer:** {brief.offer}.\n\n"
                    "Nobody from sales could join; Maria sends Tom the brief."
                )
            first_rep = next((p for p in people if cast.team(p) == "sales"), "tom")
            plan.items = [
                ItemPlan(
                    f"Send sales the lead format and the talk track for {campaign.name}",
                    owner,
                    campaign.starts_on - timedelta(days=1),
                ),
                ItemPlan(
                    "Brief the reps on the campaign in the Monday stand-up",
                    first_rep,
                    campaign.starts_on,
                ),
            ]
            for item in plan.items:
                item.done_at = _office_time(
                    rng, plan.ends_at + timedelta(hours=1), _at(item.due_on, 17)
                )
            plans.append(plan)
        if campaign.ends_on >= world.today or campaign.pk in not_yet:
            continue
        review = _at(_workday(campaign.ends_on + timedelta(days=rng.randint(7, 21))), 15)
        if review + timedelta(hours=1) > world.now:
            continue
        people = list(dict.fromkeys(["maria", owner, *sales]))
        plans.append(
            MeetingPlan(
                Meeting.Kind.CAMPAIGN_POSTMORTEM,
                review,
                60,
                people,
                by=owner,
                title=f"Post-mortem: {campaign.name}",
                campaign=campaign.pk,
                agenda=POSTMORTEM_AGENDA,
                notes=_postmortem_notes(campaign, brief),
                decisions=f"- Next time: {brief.next_time}",
            )
        )
    return plans


def _campaign_sales(rng: random.Random, campaign: CampaignFacts) -> list[str]:
    """Who of sales sits in a campaign's meetings: a manager and one or two reps."""
    manager = ENTERPRISE_MANAGER if campaign.channel == "event" else HEAD_OF_SALES
    return [manager, *rng.sample(SALES_REPS, rng.randint(1, 2))]


def _postmortem_notes(campaign: CampaignFacts, brief: Brief) -> str:
    numbers = f"**Numbers:** {campaign.leads} leads, {campaign.handed} handed to sales"
    if campaign.decided:
        rate = campaign.accepted * 100 // campaign.decided
        numbers += f"; sales accepted {campaign.accepted} of {campaign.decided} ({rate} %)"
    if campaign.won:
        deals = "deal" if campaign.won == 1 else "deals"
        numbers += (
            f"; {campaign.won} {deals} won for €{float(campaign.revenue) / 1000:,.0f}k so far"
        )
    lines = [numbers + "."]
    if campaign.top_reason:
        lines.append(f"**Rejections:** mostly *{campaign.top_reason}* ({campaign.top_reason_n}).")
    lines.append(f"**What worked:** {brief.worked}")
    lines.append(f"**What didn't:** {brief.missed}")
    return "\n\n".join(lines)


def _brainstorm_plans(rng: random.Random, world: World) -> list[MeetingPlan]:
    plans = []
    weeks = _weeks(world)
    for brainstorm, back in zip(BRAINSTORMS, (rng.randint(5, 7), rng.randint(2, 3)), strict=True):
        start = _at(weeks[-1 - back] + timedelta(days=2), 14)
        if start + timedelta(minutes=90) > world.now:
            continue
        plan = MeetingPlan(
            Meeting.Kind.BRAINSTORM,
            start,
            90,
            list(brainstorm.attendees),
            by=brainstorm.attendees[0],
            title=brainstorm.title,
            agenda=brainstorm.agenda,
            notes=brainstorm.notes,
            decisions=brainstorm.decisions,
        )
        day = start.astimezone(_zone()).date()
        plan.items = [
            ItemPlan(
                text,
                owner,
                day + timedelta(days=7),
                _office_time(rng, plan.ends_at + timedelta(hours=2), _at(day + timedelta(7), 17)),
            )
            for owner, text in brainstorm.actions
        ]
        plans.append(plan)
    return plans


def _leadership_plans(
    rng: random.Random, cast: Cast, world: World, plans: list[MeetingPlan]
) -> list[MeetingPlan]:
    """Syncs of the two heads (Thursday afternoons, and Monday afternoons where one is not
    enough) in the weeks the other meetings leave short: 1 to 3 joint meetings a week, so
    that the 4-week windows add up to the `WINDOW_AIMS` where the other meetings leave
    room."""
    joint: dict[date, int] = {}
    for plan in plans:
        if cast.joint(plan.attendees):
            week = _monday(plan.starts_at.astimezone(_zone()).date())
            joint[week] = joint.get(week, 0) + 1
    topics = rng.sample(LEADERSHIP, len(LEADERSHIP))
    out: list[MeetingPlan] = []
    weeks, phase = _weeks(world), rng.randrange(len(WINDOW_AIMS))
    for n, monday in enumerate(weeks):
        aim = WINDOW_AIMS[(phase + n) % len(WINDOW_AIMS)]
        before = sum(  # the weeks before the habit count as if they had had it
            joint.get(week, 0) if week >= weeks[0] else 2
            for week in (monday - timedelta(weeks=k) for k in (1, 2, 3))
        )
        short = min(3, max(1, aim - before)) - joint.get(monday, 0)  # 1 to 3 in a week
        for day in (monday + timedelta(days=3), monday)[: max(min(short, 2), 0)]:
            start = _at(day, 16)
            if start + timedelta(minutes=30) > world.now:
                continue
            joint[monday] = joint.get(monday, 0) + 1
            topic = topics[len(out) % len(topics)]
            people = ["maria", "tom"] + (["grace"] if rng.random() < 0.3 else [])
            plan = MeetingPlan(
                Meeting.Kind.LEADERSHIP_SYNC,
                start,
                30,
                people,
                by=("tom", "maria")[len(out) % 2],
                agenda=f"1. Goals and scorecard: where we stand\n2. {topic.agenda}",
                notes=f"- {topic.note}",
                decisions=f"- {topic.decision}",
            )
            due = day + timedelta(days=4 if day.weekday() == 3 else 3)
            plan.items = [
                ItemPlan(
                    text,
                    owner,
                    due,
                    _office_time(rng, plan.ends_at + timedelta(hours=1), _at(due, 17)),
                )
                for owner, text in topic.actions
            ]
            out.append(plan)
    return out


# --- shadowing -------------------------------------------------------------------------------


@dataclass
class ShadowingPlanned:
    plan: ShadowingPlan
    starts_at: datetime
    ends_at: datetime
    status: str
    created_at: datetime
    logged_at: datetime | None = None


def _workdays(first: date, last: date) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def _shadowing_plans(rng: random.Random, world: World) -> list[ShadowingPlanned]:
    """Logged sessions over the two months (one of them earlier this month), one cancelled,
    and scheduled ones: one later this month and two in the next weeks."""
    today = world.today
    month_start = today.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    past_month = _workdays(month_start, today - timedelta(days=1))
    ahead_month = _workdays(today + timedelta(days=1), month_end)
    # This month: one logged and one scheduled (or two of the one kind there is room for).
    this_month_past = 1 if past_month else 0
    this_month_ahead = 2 - this_month_past if ahead_month else 0
    if not ahead_month:
        this_month_past = min(2, len(past_month))
    earlier = _workdays(today - timedelta(weeks=WEEKS), today - timedelta(days=1))
    earlier = [d for d in earlier if d < month_start] or earlier
    done_days = sorted(
        rng.sample(earlier, min(len(SHADOWING_DONE) - this_month_past, len(earlier)))
    )
    done_days += sorted(rng.sample(past_month, this_month_past))
    ahead_days = sorted(rng.sample(ahead_month, min(this_month_ahead, len(ahead_month))))
    later = _workdays(today + timedelta(days=2), today + timedelta(days=16))
    later = [d for d in later if d not in ahead_days]
    ahead_days += sorted(rng.sample(later, len(SHADOWING_AHEAD) - len(ahead_days)))
    out = []
    for plan, day in zip(SHADOWING_DONE, sorted(done_days), strict=False):
        starts, ends = _at(day, plan.hours[0]), _at(day, plan.hours[1])
        logged = min(ends + timedelta(hours=rng.randint(2, 26)), world.now - timedelta(minutes=10))
        out.append(
            ShadowingPlanned(
                plan,
                starts,
                ends,
                ShadowingSession.Status.DONE,
                starts - timedelta(days=rng.randint(5, 12)),
                max(logged, ends),
            )
        )
    for plan, day in zip(SHADOWING_AHEAD, sorted(ahead_days), strict=False):
        starts = _at(day, plan.hours[0])
        out.append(
            ShadowingPlanned(
                plan,
                starts,
                _at(day, plan.hours[1]),
                ShadowingSession.Status.SCHEDULED,
                min(starts - timedelta(days=rng.randint(4, 10)), world.now - timedelta(days=1)),
            )
        )
    cancelled_day = _workday(today - timedelta(days=rng.randint(18, 30)))
    starts = _at(cancelled_day, SHADOWING_CANCELLED.hours[0])
    out.append(
        ShadowingPlanned(
            SHADOWING_CANCELLED,
            starts,
            _at(cancelled_day, SHADOWING_CANCELLED.hours[1]),
            ShadowingSession.Status.CANCELLED,
            starts - timedelta(days=7),
        )
    )
    return out


def _debrief_plans(
    rng: random.Random, world: World, sessions: list[ShadowingPlanned]
) -> list[MeetingPlan]:
    """The enterprise-demo session (the second logged one) was debriefed in a meeting."""
    done = [n for n, s in enumerate(sessions) if s.status == ShadowingSession.Status.DONE]
    for n in done[1:2]:
        session = sessions[n]
        day = _next_workday(session.ends_at.astimezone(_zone()).date() + timedelta(days=2))
        start = _at(day, 11, 30)
        if start + timedelta(minutes=30) > world.now:
            return []
        plan = session.plan
        return [
            MeetingPlan(
                Meeting.Kind.SHADOWING_DEBRIEF,
                start,
                30,
                [plan.person, plan.host, "maria", "tom"],
                by=plan.person,
                title=f"Debrief: {plan.focus}",
                agenda="1. What I saw\n2. What marketing changes\n3. What sales changes",
                notes=plan.learned,
                decisions="- Security pack in the AE's first e-mail\n- Case studies get a "
                "one-page version for champions",
                items=[
                    ItemPlan(
                        "Write one-page versions of the two enterprise case studies",
                        plan.person,
                        day + timedelta(days=10),
                        _office_time(
                            rng, start + timedelta(hours=3), _at(day + timedelta(days=9), 17)
                        ),
                    )
                ],
                debriefs=n,
            )
        ]
    return []


# --- writing ---------------------------------------------------------------------------------


def _meetings_write(
    cast: Cast, plans: list[MeetingPlan], sessions: list[ShadowingPlanned]
) -> dict[str, int]:
    meetings = _bulk(
        Meeting,
        [
            Meeting(
                kind=p.kind,
                title=p.title,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                campaign_id=p.campaign,
                agenda=p.agenda,
                notes=p.notes,
                decisions=p.decisions,
                created_by=cast[p.by],
                created_at=p.starts_at - timedelta(days=1, hours=2),
                updated_at=p.ends_at + timedelta(minutes=20),
            )
            for p in plans
        ],
    )
    attendees = _bulk(
        MeetingAttendee,
        [
            MeetingAttendee(meeting=m, user=cast[name], team=cast.team(name))
            for m, p in zip(meetings, plans, strict=True)
            for name in dict.fromkeys(p.attendees)
        ],
    )
    items = _bulk(
        ActionItem,
        [
            ActionItem(
                meeting=m,
                text=i.text,
                owner=cast[i.owner],
                due_on=i.due_on,
                done_at=i.done_at,
                done_by=cast[i.owner] if i.done_at else None,
                created_by=cast[p.by],
                created_at=p.ends_at,
            )
            for m, p in zip(meetings, plans, strict=True)
            for i in p.items
        ],
    )
    debrief = {
        p.debriefs: m for m, p in zip(meetings, plans, strict=True) if p.debriefs is not None
    }
    shadowing = _bulk(
        ShadowingSession,
        [
            ShadowingSession(
                person=cast[s.plan.person],
                person_team=cast.team(s.plan.person),
                host=cast[s.plan.host],
                host_team=cast.team(s.plan.host),
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                focus=s.plan.focus,
                status=s.status,
                learned=s.plan.learned if s.status == ShadowingSession.Status.DONE else "",
                logged_at=s.logged_at,
                debrief=debrief.get(n),
                created_by=cast[s.plan.person],
                created_at=s.created_at,
            )
            for n, s in enumerate(sessions)
        ],
    )
    return {
        "meetings": len(meetings),
        "meeting attendees": len(attendees),
        "action items": len(items),
        "shadowing sessions": len(shadowing),
    }


def _ratings_write(rng: random.Random, cast: Cast, world: World) -> int:
    """Sales reps rate most campaigns with leads, about as well as sales accepted them."""
    raters = (ENTERPRISE_MANAGER, *SALES_REPS)
    rows = []
    for campaign in world.campaigns:
        if campaign.decided < RATING_MIN_DECIDED or rng.random() < 0.15:
            continue
        share = campaign.accepted / campaign.decided
        expected = 1 + (share - 0.55) * 4 / 0.3
        end = min(campaign.ends_on, world.today)
        said: set[str] = set()  # no two raters of a campaign say the same
        for name in rng.sample(raters, rng.randint(2, 4)):
            rating = min(5, max(1, round(expected + rng.uniform(-0.8, 0.8))))
            if campaign.timed:  # after it ended, or a few weeks into it
                day = min(
                    end + timedelta(days=rng.randint(2, 12)),
                    campaign.starts_on + timedelta(days=rng.randint(10, 40)),
                )
            else:  # always on: rated lately
                day = world.today - timedelta(days=rng.randint(3, 50))
            day = max(day, campaign.starts_on)
            at = min(
                _at(_next_workday(day), 11, rng.randint(0, 59)), world.now - timedelta(hours=1)
            )
            rows.append(
                CampaignRating(
                    campaign_id=campaign.pk,
                    rater=cast[name],
                    rating=rating,
                    comment=_comment(rng, rating, said),
                    created_at=at,
                    updated_at=at,
                )
            )
    return len(_bulk(CampaignRating, rows))


def _comment(rng: random.Random, rating: int, said: set[str]) -> str:
    fresh = [c for c in RATING_COMMENTS[rating] if c not in said] or list(RATING_COMMENTS[rating])
    comment = rng.choice(fresh)
    said.add(comment)
    return comment


def _ideas_write(rng: random.Random, cast: Cast, world: World) -> dict[str, int]:
    ideas, comments, votes = [], [], []
    now = world.now
    for plan in IDEAS:
        created = _office_time(
            rng,
            _at(world.today - timedelta(days=plan.days_ago), 9),
            _at(world.today - timedelta(days=plan.days_ago), 17),
        )
        created = min(created, now - timedelta(hours=6))
        idea = Idea(
            title=plan.title,
            body=plan.body,
            author=cast[plan.author],
            author_team=cast.team(plan.author),
            status=plan.status,
            parked_reason=plan.parked_reason,
            created_at=created,
            updated_at=created,
        )
        if plan.status != Idea.Status.DRAFT:
            idea.opened_at = created + timedelta(hours=rng.randint(2, 30))
            idea.updated_at = idea.opened_at
        if plan.status in (Idea.Status.ADOPTED, Idea.Status.PARKED):
            idea.decided_at = min(idea.opened_at + timedelta(days=rng.randint(8, 16)), now)
            idea.decided_by = cast[plan.decided_by]
            idea.updated_at = idea.decided_at
            if plan.campaign_like:
                found = world.campaign_like(plan.campaign_like, before=world.today)
                idea.campaign_id = found.pk if found else None
            if idea.campaign_id is None:
                decided = idea.decided_at.astimezone(_zone()).date()
                idea.goal_id = world.goal_running(plan.goal_metrics, on=decided)
        ideas.append(idea)
        if idea.opened_at is None:
            continue
        until = idea.decided_at or now - timedelta(hours=1)
        moments = sorted(
            _office_time(rng, idea.opened_at + timedelta(hours=1), until) for _ in plan.comments
        )
        comments += [
            IdeaComment(
                idea=idea, author=cast[name], team=cast.team(name), body=body, created_at=at
            )
            for (name, body), at in zip(plan.comments, moments, strict=True)
        ]
        votes += [
            IdeaVote(
                idea=idea,
                user=cast[name],
                team=cast.team(name),
                created_at=_office_time(rng, idea.opened_at + timedelta(minutes=30), until),
            )
            for name in dict.fromkeys(plan.voters)
            if name != plan.author
        ]
    _bulk(Idea, ideas)
    _bulk(IdeaComment, comments)
    _bulk(IdeaVote, votes)
    return {"ideas": len(ideas), "idea comments": len(comments), "idea votes": len(votes)}


def _insights_write(rng: random.Random, cast: Cast, world: World) -> dict[str, int]:
    """Answered insights over the two months (1–10 days to an answer), the unanswered ones in
    the last days."""
    names = sorted({tag for plan in INSIGHTS for tag in plan.tags})
    tags = {tag.name: tag for tag in _bulk(InsightTag, [InsightTag(name=n) for n in names])}
    answered = [p for p in INSIGHTS if p.answer]
    waiting = [p for p in INSIGHTS if not p.answer]
    today, now = world.today, world.now
    span = max(WEEKS * 7 - 12, len(answered))
    posted_days = sorted(rng.sample(range(12, 12 + span), len(answered)), reverse=True)
    waiting_days = sorted(rng.sample(range(0, 10), len(waiting)), reverse=True)
    rows, links = [], []
    for plan, back in [
        *zip(answered, posted_days, strict=True),
        *zip(waiting, waiting_days, strict=True),
    ]:
        day = today - timedelta(days=back)
        posted = min(_office_time(rng, _at(day, 8), _at(day, 18)), now - timedelta(minutes=30))
        source = world.campaign_of(plan.from_channel, on=day) if plan.from_channel else None
        insight = FieldInsight(
            kind=plan.kind,
            text=plan.text,
            campaign_id=source.pk if source else None,
            posted_by=cast[plan.posted_by],
            posted_at=posted,
            updated_at=posted,
        )
        if plan.answer:
            lag = timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 6))
            insight.answer = plan.answer
            insight.answer_text = plan.answer_text
            insight.answered_by = cast[plan.answered_by]
            insight.answered_at = min(posted + lag, now - timedelta(hours=1))
            insight.updated_at = insight.answered_at
            if plan.answer_channel:
                answered = insight.answered_at.astimezone(_zone()).date()
                used = world.campaign_after(plan.answer_channel, on=answered)
                insight.answer_campaign_id = used.pk if used else None
        rows.append(insight)
        links.append(plan.tags)
    _bulk(FieldInsight, rows)
    through = FieldInsight.tags.through
    through.objects.bulk_create(
        [
            through(fieldinsight_id=insight.pk, insighttag_id=tags[name].pk)
            for insight, names in zip(rows, links, strict=True)
            for name in names
        ]
    )
    return {"field insights": len(rows), "insight tags": len(tags)}


def _spotlights_write(rng: random.Random, cast: Cast, world: World) -> dict[str, int]:
    """Four joint wins among the newest won deals: the biggest, of distinct reps where there are
    enough (those of the last 75 days first), each with the rep, the marketer of the campaign
    it came from and maybe a head, thanked by several."""
    won = list(
        Deal.objects.filter(
            status=Deal.Status.WON,
            closed_at__lte=world.now - timedelta(days=1),
            lead__owner__isnull=False,
        )
        .order_by("-closed_at", "-external_id")
        .values(
            "pk", "external_id", "amount", "closed_at", "created_at", "lead__company",
            "lead__owner", "lead__segment", "lead__created_at", "lead__campaign__name",
            "lead__campaign__channel",
        )[:SPOTLIGHT_CANDIDATES]
    )  # fmt: skip
    since = world.now - timedelta(days=75)
    ranked = sorted(won, key=lambda d: (d["closed_at"] < since, -d["amount"], d["external_id"]))
    ranked = [(d, cast.name_of(d["lead__owner"])) for d in ranked]
    ranked = [(d, rep) for d, rep in ranked if rep is not None and cast.team(rep) == "sales"]
    chosen, reps = [], set()
    for deal, rep in ranked:
        if rep not in reps and len(chosen) < 4:
            chosen.append((deal, rep))
            reps.add(rep)
    for deal, rep in ranked:  # too few reps won lately: some win twice
        if len(chosen) < 3 and (deal, rep) not in chosen:
            chosen.append((deal, rep))
    chosen.sort(key=lambda pair: (pair[0]["closed_at"], pair[0]["external_id"]))
    spotlights, credits, thanks = [], [], []
    for n, (deal, rep) in enumerate(chosen):
        channel = deal["lead__campaign__channel"] or "content"
        marketer = CHANNEL_OWNER.get(channel, "priya")
        people = [rep, marketer] + (["maria"] if marketer != "maria" and n % 2 else [])
        campaign = deal["lead__campaign__name"] or "a referral"
        company = deal["lead__company"] or "A new customer"
        days = max((deal["closed_at"] - deal["lead__created_at"]).days, 1)
        words = {
            "company": company,
            "campaign": campaign,
            "origin": ORIGINS.get(channel, "a campaign"),
            "days": days,
            "segment": SEGMENT_WORDS.get(deal["lead__segment"], "company-wide"),
            "rep": cast.first_name(rep),
            "marketer": cast.first_name(marketer),
            "amount": f"€{float(deal['amount']):,.0f}",
        }
        created = min(
            _office_time(
                rng, deal["closed_at"] + timedelta(hours=20), deal["closed_at"] + timedelta(days=4)
            ),
            world.now - timedelta(hours=2),
        )
        spotlight = Spotlight(
            title=SPOTLIGHT_TITLES[n % len(SPOTLIGHT_TITLES)].format(**words)[:200],
            story=SPOTLIGHT_STORIES[n % len(SPOTLIGHT_STORIES)].format(**words),
            deal_id=deal["pk"],
            created_by=cast[marketer if n % 2 else rep],
            created_at=created,
            updated_at=created,
        )
        spotlights.append(spotlight)
        credits += [
            SpotlightPerson(spotlight=spotlight, user=cast[name], team=cast.team(name))
            for name in dict.fromkeys(people)
        ]
        thankers = rng.sample([name for name in EVERYONE if name not in people], rng.randint(3, 7))
        thanks += [
            SpotlightThanks(
                spotlight=spotlight,
                user=cast.users[name],
                created_at=_office_time(rng, created + timedelta(minutes=10), world.now),
            )
            for name in thankers
            if name in cast.users
        ]
    _bulk(Spotlight, spotlights)
    _bulk(SpotlightPerson, credits)
    _bulk(SpotlightThanks, thanks)
    return {
        "spotlights": len(spotlights),
        "spotlight people": len(credits),
        "spotlight thanks": len(thanks),
    }
