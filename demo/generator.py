"""Demo data: a believable, deterministic company walking the demand waterfall.

`seed_demo()` creates named users in both teams, campaigns over a window of months, and leads
whose stories run inquiry → MQL → handoff → SAL/rejection → SQL → opportunity → won/lost, with
recycled leads coming back for a second handoff (some rejected "not ready" come back ready and
are won), and a few handoffs nobody looked at withdrawn when marketing's nurture takes their
lead back. It is built in three layers:

* **Simulation** (`LeadSimulator`): one lead at a time, a `Story` of plain values (epoch
  seconds, ids, codes) drawn from one `random.Random` stream. Nothing here touches the database.
* **Rows** (`RowFactory`): a story becomes tuples, one per row, with ids reserved up front so
  that rows can reference each other before they are written. Handoffs come from
  `leads.services.derive_handoffs` over the story's stage events, so they are exactly what the
  app would derive.
* **Writers**: PostgreSQL gets `COPY ... FROM STDIN`; SQLite gets `executemany` of prepared
  `INSERT`s. Both take the same tuples, chunk by chunk, so memory stays bounded.

The same seed and the same `now` give the same data, whatever the chunk size: campaigns, lead
volume and lead stories draw from separate random streams.

Around the funnel, `demo.agreements` signs the agreements (before) and sets the goals and
forecasts (after), and `demo.together` writes the teams' meetings, ratings, ideas, insights,
spotlights and shadowing sessions (last).
"""

from __future__ import annotations

import bisect
import json
import math
import random
import sys
import time
import unicodedata
from calendar import monthrange
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from tqdm import tqdm

from alignment import scoring
from alignment.models import TeamHead
from alignment.roles import Role, Team
from alignment.services.accounts import team_head_set, user_set_role
from demo.agreements import (
    DemoDefinition,
    agreements_flush,
    agreements_write,
    demo_people,
    numbers_write,
)
from demo.disputes import disputes_flush, disputes_write
from demo.together import ALWAYS_ON_CHANNELS, together_flush, together_write
from leads.models import (
    AttemptChannel,
    AttemptOutcome,
    Campaign,
    ContactAttempt,
    Deal,
    FunnelChange,
    Handoff,
    Lead,
    RejectionReason,
    SeedChannel,
    Stage,
    StageEvent,
    Touch,
)
from leads.services import (
    DerivedHandoff,
    derive_handoffs,
    handoff_apply_sla,
    handoff_note_attempts,
    handoffs_refresh_outcomes,
    sla_versions,
)

HOUR = 3600
DAY = 24 * HOUR
DEMO_PASSWORD = "demo"
MAX_HANDOFFS_PER_LEAD = 3
# Touches may follow up on a campaign for a while after it ends (replays, follow-up mails).
CAMPAIGN_GRACE_DAYS = 7

# Plain strings: psycopg would write an enum member's *name*, not its value.
INQUIRY, MQL, SAL, SQL = Stage.INQUIRY.value, Stage.MQL.value, Stage.SAL.value, Stage.SQL.value
OPPORTUNITY, WON, LOST = Stage.OPPORTUNITY.value, Stage.WON.value, Stage.LOST.value
REJECTED, RECYCLED = Stage.REJECTED.value, Stage.RECYCLED.value
DISQUALIFIED = Stage.DISQUALIFIED.value
SYSTEM, API = StageEvent.Source.SYSTEM.value, StageEvent.Source.API.value
SMB, MID_MARKET, ENTERPRISE = "smb", "mid_market", "enterprise"


class DemoDataExists(Exception):
    """The database already has leads; the demo only loads into an empty funnel."""


# --- weighted choices -------------------------------------------------------------------------


class Weighted:
    """Values with weights; `pick` is one bisect over the cumulative weights."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = tuple(value for value, _ in pairs)
        cum, total = [], 0.0
        for _, weight in pairs:
            total += weight
            cum.append(total)
        self.cum, self.total = cum, total

    def pick(self, rng: random.Random) -> Any:
        index = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.values[min(index, len(self.values) - 1)]


# --- the demo company -----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: Role
    title: str
    segment: str = ""  # sales reps and managers: the segment they work
    speed: float = 1.0  # sales reps: how long they take to make the first call (1 = median)


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alex", "Alex", "Morgan", Role.ADMIN, "Revenue operations lead"),
    DemoUser("maria", "Maria", "Schneider", Role.MARKETING_MANAGER, "Head of marketing"),
    DemoUser("tom", "Tom", "Becker", Role.SALES_MANAGER, "Head of sales"),
    DemoUser("grace", "Grace", "Okafor", Role.SALES_MANAGER, "Enterprise sales", ENTERPRISE),
    DemoUser("lena", "Lena", "Fischer", Role.MARKETING_REP, "Demand generation"),
    DemoUser("omar", "Omar", "Haddad", Role.MARKETING_REP, "Marketing operations"),
    DemoUser("priya", "Priya", "Raman", Role.MARKETING_REP, "Content marketing"),
    DemoUser("jonas", "Jonas", "Weber", Role.SALES_REP, "Sales development", SMB, 0.7),
    DemoUser("nina", "Nina", "Kowalski", Role.SALES_REP, "Sales development", SMB, 2.2),
    DemoUser("ben", "Ben", "Carter", Role.SALES_REP, "Account executive", MID_MARKET, 1.0),
    DemoUser("chloe", "Chloé", "Martin", Role.SALES_REP, "Account executive", MID_MARKET, 1.3),
    DemoUser("david", "David", "Kim", Role.SALES_REP, "Enterprise AE", ENTERPRISE, 1.6),
    DemoUser("sofia", "Sofia", "Rossi", Role.SALES_REP, "Enterprise AE", ENTERPRISE, 0.9),
)
HEAD_OF_MARKETING, HEAD_OF_SALES = "maria", "tom"  # they sign the SLA and the lead definition
# What `make run` prints: every demo user logs in with DEMO_PASSWORD.
DEMO_LOGINS: list[tuple[str, str]] = [(u.username, u.role.label) for u in DEMO_USERS]


# --- vocabulary -----------------------------------------------------------------------------

FIRST_NAMES = (
    "Anna", "Lukas", "Sophie", "Jan", "Emma", "Felix", "Laura", "Noah", "Julia", "Elias",
    "Hannah", "Paul", "Clara", "Leon", "Mia", "Sarah", "Tim", "Lea", "Max", "Olivia", "James",
    "Charlotte", "Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Jack", "Camille",
    "Louis", "Hugo", "Manon", "Lucas", "Inès", "Daan", "Fleur", "Sem", "Erik", "Astrid", "Lars",
    "Ingrid", "Mateo", "Lucía", "Pablo", "Carmen", "Giulia", "Marco", "Francesca", "Luca",
    "Zofia", "Jakub", "Michael", "Jennifer", "Robert", "Jessica", "Daniel", "Kevin", "Arjun",
    "Mei", "Wei", "Aisha", "Fatima", "Yusuf", "Elif", "Mehmet", "Sean", "Siobhan",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Koch", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans",
    "Thomas", "Johnson", "Roberts", "Martin", "Bernard", "Dubois", "Laurent", "Lefebvre",
    "de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Andersson", "Johansson", "Nilsson",
    "Larsen", "Hansen", "García", "Fernández", "López", "Martínez", "Rossi", "Russo", "Bianchi",
    "Romano", "Kowalski", "Nowak", "Wiśniewski", "Miller", "Davis", "Anderson", "Clark",
    "Patel", "Shah", "Chen", "Wang", "Kim", "Yılmaz", "Demir", "Haddad", "Khan", "O'Brien",
    "Murphy", "Novak", "Horváth",
)  # fmt: skip
COMPANY_PREFIXES = (
    "Nordwind", "Bluefin", "Kestrel", "Alder", "Brightwater", "Copperleaf", "Eastgate", "Fjord",
    "Granite", "Harbor", "Ironbridge", "Juniper", "Lakeside", "Meridian", "Northstar",
    "Oakridge", "Pinecrest", "Redwood", "Silverline", "Summit", "Tidewater", "Vantage",
    "Westbrook", "Zenith", "Aurora", "Beacon", "Cobalt", "Evergreen", "Falcon", "Horizon",
    "Keystone", "Lumen", "Mosaic", "Nimbus", "Pioneer", "Sterling", "Trident", "Helix",
)  # fmt: skip
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Manufacturing": ("Components", "Industries", "Werke", "Machining", "Plastics"),
    "Software": ("Software", "Labs", "Cloud", "Digital", "Systems"),
    "Retail": ("Retail", "Stores", "Commerce", "Outfitters"),
    "Financial services": ("Capital", "Finance", "Insurance", "Leasing"),
    "Healthcare": ("Health", "Medical", "Care", "Diagnostics"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport"),
    "Professional services": ("Consulting", "Advisory", "Partners"),
    "Energy": ("Energy", "Power", "Renewables"),
    "Education": ("Academy", "Learning", "Education"),
    "Media": ("Media", "Studios", "Publishing"),
    "Telecommunications": ("Telecom", "Networks", "Connect"),
    "Wholesale": ("Trading", "Supply", "Distribution"),
}
INDUSTRY_NAMES = tuple(INDUSTRIES)
COUNTRIES: dict[str, tuple[int, str]] = {  # code: (weight, legal form)
    "DE": (24, "GmbH"), "GB": (16, "Ltd"), "US": (12, "Inc."), "FR": (9, "SAS"),
    "NL": (8, "B.V."), "AT": (5, "GmbH"), "CH": (5, "AG"), "SE": (4, "AB"), "ES": (4, "S.L."),
    "IT": (4, "S.p.A."), "PL": (3, "sp. z o.o."), "DK": (2, "A/S"), "IE": (2, "Ltd"),
    "BE": (2, "NV"),
}  # fmt: skip
COUNTRY_CODES = tuple(COUNTRIES)
COUNTRY_PICK = Weighted([(code, weight) for code, (weight, _) in COUNTRIES.items()])
SEGMENT_PICK = Weighted([(SMB, 55), (MID_MARKET, 30), (ENTERPRISE, 15)])
EMPLOYEES = {SMB: (10, 199), MID_MARKET: (200, 1999), ENTERPRISE: (2000, 60000)}
JOB_TITLES = Weighted(
    [
        ("Head of Sales", 10), ("VP Sales", 8), ("Sales Operations Manager", 10),
        ("Revenue Operations Lead", 8), ("CFO", 6), ("Finance Manager", 6),
        ("Chief Revenue Officer", 4), ("CEO", 5), ("Sales Manager", 10),
        ("Account Executive", 6), ("Marketing Manager", 6), ("Business Analyst", 5),
        ("Consultant", 4), ("Student", 2), ("Intern", 2),
    ]
)  # fmt: skip
POOR_FIT_TITLES = frozenset({"Student", "Intern", "Consultant"})
SENIORITY = {
    "CEO": "c_level", "CFO": "c_level", "Chief Revenue Officer": "c_level", "VP Sales": "vp",
    "Head of Sales": "head", "Revenue Operations Lead": "head",
    "Sales Operations Manager": "manager", "Finance Manager": "manager",
    "Sales Manager": "manager", "Marketing Manager": "manager",
    "Account Executive": "individual", "Business Analyst": "individual",
    "Consultant": "individual", "Student": "student", "Intern": "student",
}  # fmt: skip
assert set(SENIORITY) == set(JOB_TITLES.values)
# What a touch tells marketing automation about a lead's interest: counted in the lead's
# `engagement` attributes, which the lead definition's rules score.
ENGAGEMENT_OF_KIND = {
    "demo_request": "demo_requests", "webinar_attended": "webinars_attended",
    "event_meeting": "meetings", "sequence_reply": "replies",
    "content_download": "downloads", "lead_form": "downloads",
}  # fmt: skip
# Once a lead is an MQL, marketing holds back its nurture while sales works it; an open
# opportunity's buying group still attends webinars, reads the e-mails and meets at events.
P_TOUCH_AFTER_MQL = 0.35
DEAL_TOUCHES = Weighted([(1, 30), (2, 35), (3, 25), (4, 10)])
TOUCH_COUNT = Weighted([(1, 22), (2, 24), (3, 18), (4, 12), (5, 9), (6, 7), (7, 5), (8, 3)])
TOUCH_KINDS = {
    SeedChannel.WEBINAR.value: ("webinar_registration", "webinar_attended"),
    SeedChannel.EVENT.value: ("booth_scan", "event_meeting"),
    SeedChannel.PAID_SEARCH.value: ("ad_click",),
    SeedChannel.PAID_SOCIAL.value: ("ad_click", "lead_form"),
    SeedChannel.EMAIL.value: ("email_click",),
    SeedChannel.CONTENT.value: ("content_download",),
    SeedChannel.OUTBOUND.value: ("sequence_reply",),
    SeedChannel.SEO.value: ("organic_visit", "demo_request"),
    SeedChannel.REFERRAL.value: ("referral",),
    SeedChannel.PARTNER.value: ("partner_referral",),
    SeedChannel.ORGANIC_SOCIAL.value: ("social_click",),
}

# Sales' verdicts. Codes are the default RejectionReason list (leads migration 0002).
REJECTION_REASONS = Weighted(
    [
        ("bad_fit", 24), ("not_ready", 20), ("no_budget", 14), ("wrong_contact", 12),
        ("unresponsive", 13), ("duplicate", 7), ("competitor", 6), ("other", 4),
    ]
)  # fmt: skip
POOR_FIT_REASONS = Weighted([("bad_fit", 6), ("wrong_contact", 3), ("other", 1)])
# Reasons a rep can see in the record without calling anyone.
DESK_REJECTIONS = frozenset({"bad_fit", "duplicate", "wrong_contact"})
RECYCLE_AFTER_REJECTION = {
    "not_ready": 0.7, "no_budget": 0.6, "unresponsive": 0.45, "competitor": 0.3,
    "wrong_contact": 0.25, "other": 0.1, "bad_fit": 0.05, "duplicate": 0.0,
}  # fmt: skip
REJECTION_FEEDBACK = {
    "bad_fit": (
        "Student doing research, no buying authority",
        "Eight-person agency, far below our ICP",
        "They run their forecast on paper and like it; not a software buyer",
        "Looking for a white-label reseller deal, not a customer",
    ),
    "no_budget": (
        "Budget frozen until next fiscal year",
        "Likes the product, but no budget before Q1",
        "Pre-funding startup, can't afford a paid plan",
    ),
    "wrong_contact": (
        "Intern downloaded the e-book; the CFO owns forecasting",
        "Marketing coordinator, doesn't own the sales process",
        "Left the company two months ago, e-mail bounced",
    ),
    "duplicate": (
        "Already in an open opportunity with the enterprise team",
        "Same person as last week's webinar lead",
    ),
    "not_ready": (
        "Just exploring, asked us to check back in six months",
        "Happy with spreadsheets until their reorg is done",
        "Evaluating next year; wants the newsletter for now",
    ),
    "unresponsive": (
        "Six attempts over two weeks, no reply",
        "Phone number invalid and e-mails unanswered",
        "Booked a call and no-showed twice",
    ),
    "competitor": (
        "Signed with a competitor last month",
        "Locked into a three-year contract with their current vendor",
    ),
    "other": (
        "Wants free consulting, not a product",
        "Job seeker looking for a sales role",
        "Press inquiry, forwarded to PR",
    ),
}
ACCEPTANCE_FEEDBACK = (
    "Great fit, already comparing three vendors",
    "Clear pain: the forecast lives in fourteen spreadsheets",
    "Decision maker, budget approved for this quarter",
    "Warm lead, came out of the webinar with good questions",
    "Good company, contact is junior; working on getting the VP in",
    "Asked for pricing on the first call",
)
REJECTION_RATING = Weighted([(1, 35), (2, 40), (3, 25)])
ACCEPTANCE_RATING = Weighted([(3, 25), (4, 45), (5, 30)])
LOST_REASONS = (
    "Chose a competitor on price",
    "Budget cut after a reorganisation",
    "Project postponed to next year",
    "Champion left the company",
    "Stayed with their spreadsheet model",
    "Went dark after the proposal",
)
# Sales funnel odds and timings per segment.
P_ACCEPT = {SMB: 0.75, MID_MARKET: 0.8, ENTERPRISE: 0.83}
P_SQL = {SMB: 0.45, MID_MARKET: 0.5, ENTERPRISE: 0.58}
P_OPPORTUNITY = 0.6
P_WON = {SMB: 0.42, MID_MARKET: 0.36, ENTERPRISE: 0.3}
DEAL_AMOUNT = {SMB: (5_000, 20_000), MID_MARKET: (15_000, 50_000), ENTERPRISE: (40_000, 120_000)}
SALES_CYCLE_MEDIAN_DAYS = {SMB: 21, MID_MARKET: 40, ENTERPRISE: 75}
P_REMQL = 0.4  # a recycled lead that marketing nurtures back to MQL
# A lead rejected for its timing ("not ready", "no budget") that nurture brings back is often
# ready then: it comes back more often, and sales takes it and wins it more often. These are
# most of the rejections later won (the ledger's `rejected_then_won_rate`).
TIMING_REASONS = frozenset({"not_ready", "no_budget"})
P_REMQL_RIPE = 0.6
P_ACCEPT_RIPE, P_SQL_RIPE, P_OPPORTUNITY_RIPE, P_WON_RIPE = 0.9, 0.7, 0.8, 0.55
# A handoff nobody looks at: after two to four weeks without a decision, marketing's nurture
# takes the lead back (a `recycled` event), which withdraws the pending handoff.
P_UNLOOKED = 0.045

ATTEMPT_COUNT = Weighted([(1, 25), (2, 22), (3, 18), (4, 14), (5, 11), (6, 10)])
FIRST_ATTEMPT_CHANNEL = Weighted([("call", 55), ("email", 38), ("social", 4), ("meeting", 3)])
FOLLOW_UP_CHANNEL = Weighted([("call", 45), ("email", 45), ("social", 10)])
ATTEMPT_OUTCOMES = {
    "call": Weighted(
        [("no_answer", 45), ("voicemail", 30), ("connected", 20), ("meeting_booked", 5)]
    ),
    "email": Weighted([("no_answer", 70), ("replied", 25), ("meeting_booked", 5)]),
    "social": Weighted([("no_answer", 75), ("replied", 25)]),
    "meeting": Weighted([("connected", 60), ("meeting_booked", 40)]),
}
SILENT_OUTCOMES = {"call": Weighted([("no_answer", 60), ("voicemail", 40)])}
CLOSING_OUTCOMES = frozenset({"connected", "meeting_booked"})
assert set(ATTEMPT_OUTCOMES) == set(AttemptChannel.values)
assert {o for w in ATTEMPT_OUTCOMES.values() for o in w.values} <= set(AttemptOutcome.values)


# --- the window -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The days the demo covers, ending today, in the organisation's time zone."""

    days: tuple[date, ...]
    midnights: tuple[int, ...]  # epoch seconds of each day's start
    now: int  # epoch seconds; nothing happens after it

    @classmethod
    def ending(cls, now: datetime, months: int) -> Window:
        zone = ZoneInfo(settings.TIME_ZONE)
        today = now.astimezone(zone).date()
        first = _months_before(today, months) + timedelta(days=1)
        days = tuple(first + timedelta(days=n) for n in range((today - first).days + 1))
        midnights = tuple(
            int(datetime.combine(day, datetime.min.time(), zone).timestamp()) for day in days
        )
        return cls(days, midnights, int(now.timestamp()))


class OfficeHours:
    """When the sales floor works: Monday to Friday, 8:00 to 18:00 in the organisation's time
    zone (the business hours SLA v2 counts). Epoch seconds over the window's midnights, cheap
    enough for every attempt and decision of a million leads."""

    OPENS, CLOSES = 8 * HOUR, 18 * HOUR

    def __init__(self, window: Window) -> None:
        self.midnights, self.weekdays = window.midnights, [d.weekday() for d in window.days]

    def _day(self, at: int) -> int:
        """The index of the day `at` falls on (days after the window go on 24 hours apart)."""
        last = len(self.midnights) - 1
        if at >= self.midnights[last]:
            return last + (at - self.midnights[last]) // DAY
        return max(bisect.bisect_right(self.midnights, at) - 1, 0)

    def _bounds(self, day: int) -> tuple[int, int] | None:
        """The opening and closing of a day; None for a weekend."""
        last = len(self.midnights) - 1
        midnight = self.midnights[min(day, last)] + max(day - last, 0) * DAY
        weekday = (self.weekdays[min(day, last)] + max(day - last, 0)) % 7
        return None if weekday >= 5 else (midnight + self.OPENS, midnight + self.CLOSES)

    def after(self, at: int, seconds: int) -> int:
        """`seconds` of working time after `at` (from the next opening when closed)."""
        day = self._day(at)
        while True:
            bounds = self._bounds(day)
            if bounds is not None and at < bounds[1]:
                at = max(at, bounds[0])
                if at + seconds <= bounds[1]:
                    return at + seconds
                seconds -= bounds[1] - at
            day += 1
            at = 0


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


# --- campaigns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignKind:
    channel: str
    # What one response (a touch) costs. A B2B lead takes about three responses to qualify,
    # so this is a third of the channel's cost per lead (events €400+, e-mail €120).
    cost_per_response: tuple[float, float]
    days: tuple[int, int]
    weight: float  # share of touches while it runs
    names: tuple[str, ...]  # placeholders {q} (quarter) and {year}


TIMED_KINDS = {
    kind.channel: kind
    for kind in (
        CampaignKind(
            SeedChannel.WEBINAR.value,
            (52, 84),
            (21, 42),
            2.0,
            (
                "Q{q} Webinar: Forecasting without spreadsheets",
                "Q{q} Webinar: Pipeline reviews your reps won't dread",
                "Q{q} Webinar: From MQL to revenue in 90 days",
                "Q{q} Webinar: Building a RevOps team of one",
                "Q{q} Webinar: Win-rate benchmarks {year}",
                "Q{q} Webinar: The CFO's guide to sales forecasts",
            ),
        ),
        CampaignKind(
            SeedChannel.PAID_SEARCH.value,
            (52, 85),
            (60, 120),
            3.0,
            (
                "Paid search Q{q} {year}: forecasting software (EMEA)",
                "Paid search Q{q} {year}: competitor terms",
                "Paid search Q{q} {year}: pipeline management (DACH)",
                "Paid search Q{q} {year}: sales analytics (UK & IE)",
            ),
        ),
        CampaignKind(
            SeedChannel.EVENT.value,
            (115, 190),
            (7, 21),
            3.0,
            (
                "SaaStock Europe {year}: booth",
                "Sales Ops Summit Berlin {year}",
                "RevOps Roadshow London {year}",
                "B2B Marketing Expo {year}",
                "Finance Transformation Forum Amsterdam {year}",
            ),
        ),
        CampaignKind(
            SeedChannel.PAID_SOCIAL.value,
            (55, 95),
            (30, 60),
            2.0,
            (
                "LinkedIn Ads Q{q}: forecast accuracy guide",
                "LinkedIn Ads Q{q}: RevOps leaders",
                "LinkedIn Ads Q{q}: CFO retargeting",
            ),
        ),
        CampaignKind(
            SeedChannel.CONTENT.value,
            (68, 115),
            (45, 90),
            1.5,
            (
                "E-book: The {year} Revenue Operations Benchmark",
                "Report: State of Sales Forecasting {year}",
                "Template pack: the pipeline review agenda",
                "Guide: an SLA between marketing and sales",
            ),
        ),
        CampaignKind(
            SeedChannel.EMAIL.value,
            (45, 80),
            (35, 60),
            1.5,
            (
                "Newsletter Q{q} {year}: product update",
                "Nurture Q{q}: dormant trial accounts",
                "E-mail Q{q}: customer story series",
            ),
        ),
        CampaignKind(
            SeedChannel.OUTBOUND.value,
            (85, 130),
            (30, 60),
            1.0,
            ("Outbound Q{q}: SDR sequence DACH", "Outbound Q{q}: Nordics mid-market"),
        ),
    )
}
ALWAYS_ON_KINDS = (
    CampaignKind(SeedChannel.SEO.value, (90, 135), (0, 0), 2.5, ("Organic search (always on)",)),
    CampaignKind(SeedChannel.REFERRAL.value, (75, 120), (0, 0), 0.6, ("Customer referrals",)),
    CampaignKind(
        SeedChannel.PARTNER.value, (115, 185), (0, 0), 0.8, ("Partner program: consultancies",)
    ),
    CampaignKind(
        SeedChannel.ORGANIC_SOCIAL.value, (40, 68), (0, 0), 0.8, ("Organic social: LinkedIn page",)
    ),
)
assert {kind.channel for kind in ALWAYS_ON_KINDS} == ALWAYS_ON_CHANNELS
# The order channels take turns in over the window; ~16 timed campaigns a year.
CHANNEL_ROTATION = (
    "webinar", "paid_search", "event", "paid_social", "content", "webinar", "email",
    "paid_search", "webinar", "event", "content", "paid_social", "outbound", "webinar", "email",
    "paid_search",
)  # fmt: skip
TIMED_CAMPAIGNS_PER_YEAR = 16


@dataclass(frozen=True)
class CampaignPlan:
    number: int
    name: str
    channel: str
    starts_on: date
    ends_on: date
    cost: Decimal
    weight: float


def plan_campaigns(rng: random.Random, window: Window, leads: int) -> list[CampaignPlan]:
    """Always-on campaigns over the whole window plus timed ones spread over it, each costing
    what its expected responses cost (so that ROI reads the same at any lead volume)."""
    first_day, today, days = window.days[0], window.days[-1], len(window.days)
    plans = [
        CampaignPlan(
            number=0,
            name=kind.names[0],
            channel=kind.channel,
            starts_on=first_day,
            ends_on=today,
            cost=Decimal(0),
            weight=kind.weight,
        )
        for kind in ALWAYS_ON_KINDS
    ]
    timed = max(4, round(TIMED_CAMPAIGNS_PER_YEAR * days / 365))
    used: dict[str, int] = {}
    for slot in range(timed):
        kind = TIMED_KINDS[CHANNEL_ROTATION[slot % len(CHANNEL_ROTATION)]]
        start = first_day + timedelta(days=int((slot + rng.random() * 0.8) * days / timed))
        template = kind.names[used.get(kind.channel, 0) % len(kind.names)]
        used[kind.channel] = used.get(kind.channel, 0) + 1
        end = min(start + timedelta(days=rng.randint(*kind.days)), today)
        plans.append(
            CampaignPlan(
                number=0,
                name=template.format(q=(start.month - 1) // 3 + 1, year=start.year),
                channel=kind.channel,
                starts_on=start,
                ends_on=end,
                cost=Decimal(0),
                weight=kind.weight,
            )
        )
    plans.sort(key=lambda p: (p.starts_on, p.name))
    plans = [replace(plan, number=number) for number, plan in enumerate(plans, start=1)]
    responses = expected_responses(plans, window, leads)
    kinds = {kind.channel: kind for kind in (*TIMED_KINDS.values(), *ALWAYS_ON_KINDS)}
    return [
        replace(
            plan,
            cost=_money(
                responses[plan.number] * rng.uniform(*kinds[plan.channel].cost_per_response)
            ),
        )
        for plan in plans
    ]


# A lead's touches after its first, and how many days later they come (on average).
LATER_RESPONSES, RESPONSE_LAG_DAYS = 2.2, 8


def expected_responses(
    plans: Sequence[CampaignPlan], window: Window, leads: int
) -> dict[int, float]:
    """How many touches each campaign can expect to date: each day's expected touches
    (the first touches of the day's leads, as `lead_times` spreads them without its noise,
    and the later touches of the leads of the days before) shared by the campaigns then."""
    calendar = CampaignCalendar(plans, {p.number: p.number for p in plans}, window)
    days = len(window.days)
    activity = [calendar.activity(n) for n in range(days)]
    mean = sum(activity) / days
    volume = [_day_volume(day, n / days, activity[n] / mean) for n, day in enumerate(window.days)]
    scale = leads / sum(volume)
    decay = math.exp(-1 / RESPONSE_LAG_DAYS)
    later = [LATER_RESPONSES * (1 - decay) * decay**k for k in range(6 * RESPONSE_LAG_DAYS)]
    touches = [
        scale * (volume[n] + sum(volume[n - k - 1] * p for k, p in enumerate(later) if k < n))
        for n in range(days)
    ]
    weights = {p.number: p.weight for p in plans}
    out = dict.fromkeys(weights, 0.0)
    for n, running in enumerate(calendar.by_day):
        for number in running.values:
            out[number] += touches[n] * weights[number] / activity[n]
    return out


def _money(value: float) -> Decimal:
    return Decimal(round(value, -2)).quantize(Decimal("0.01"))


class CampaignCalendar:
    """The campaigns running on each day of the window: where a touch on that day comes from."""

    def __init__(
        self,
        plans: Sequence[CampaignPlan],
        ids: dict[int, int],
        window: Window,
        external: dict[int, str] | None = None,
    ) -> None:
        self.start = window.midnights[0]
        grace = timedelta(days=CAMPAIGN_GRACE_DAYS)
        self.by_day = [
            Weighted(
                [
                    (ids[p.number], p.weight)
                    for p in plans
                    if p.starts_on <= day <= p.ends_on + grace
                ]
            )
            for day in window.days
        ]
        self.channel = {ids[plan.number]: plan.channel for plan in plans}
        self.external = external or {}  # id → external id, as the lead's `campaign` field

    def activity(self, day: int) -> float:
        """How much marketing runs on a day (the touch weights of its campaigns)."""
        return self.by_day[day].total

    def pick(self, rng: random.Random, at: int) -> int:
        day = min(max((at - self.start) // DAY, 0), len(self.by_day) - 1)
        return self.by_day[day].pick(rng)


# --- lead volume ----------------------------------------------------------------------------

# Leads arrive in office hours (organisation time zone), less at weekends, in August and
# over Christmas, more as the company grows and while more campaigns run.
HOUR_OF_DAY = Weighted(
    list(enumerate([1, .5, .3, .3, .3, .5, 1, 3, 6, 9, 10, 10, 8, 9, 10, 9, 8, 6, 4, 3, 3, 2, 2, 1.5]))
)  # fmt: skip
WEEKDAY_FACTOR = (1.0, 1.05, 1.05, 1.0, 0.85, 0.3, 0.25)


def lead_times(
    rng: random.Random, calendar: CampaignCalendar, window: Window, count: int
) -> Iterator[int]:
    """`count` lead creation times (epoch seconds, ascending) over the window."""
    days = len(window.days)
    mean_activity = sum(calendar.activity(n) for n in range(days)) / days
    weights = [
        _day_weight(rng, day, n / days, calendar.activity(n) / mean_activity)
        for n, day in enumerate(window.days)
    ]
    weights[-1] *= max(window.now - window.midnights[-1], 1) / DAY  # today is not over yet
    cumulative = list(accumulate(weights))
    handed_out = 0
    for start, running in zip(window.midnights, cumulative, strict=True):
        due = round(count * running / cumulative[-1]) - handed_out
        handed_out += due
        yield from sorted(_time_of_day(rng, start, window.now) for _ in range(due))


def _day_weight(rng: random.Random, day: date, progress: float, activity: float) -> float:
    return _day_volume(day, progress, activity) * rng.uniform(0.85, 1.15)


def _day_volume(day: date, progress: float, activity: float) -> float:
    """A day's expected share of leads: growth, season, weekday and how much marketing runs."""
    season = 0.75 if day.month == 8 else 1.0
    if (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2):
        season = 0.45
    trend = 0.7 + 0.6 * progress
    return trend * season * WEEKDAY_FACTOR[day.weekday()] * (0.6 + 0.4 * activity)


def _time_of_day(rng: random.Random, start: int, now: int) -> int:
    at = start + HOUR_OF_DAY.pick(rng) * HOUR + rng.randrange(HOUR)
    return at if at <= now else rng.randint(start, now)


# --- the simulation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rep:
    id: int
    speed: float


@dataclass(frozen=True)
class SalesFloor:
    """Who owns a segment's handoffs (round robin) and who may overrule a rep."""

    reps: dict[str, tuple[Rep, ...]]
    managers: dict[str, int]

    @classmethod
    def of(cls, user_ids: dict[str, int]) -> SalesFloor:
        segments = (SMB, MID_MARKET, ENTERPRISE)
        managers = [u for u in DEMO_USERS if u.role is Role.SALES_MANAGER]
        head = next(user_ids[u.username] for u in managers if not u.segment)
        return cls(
            reps={
                segment: tuple(
                    Rep(user_ids[u.username], u.speed)
                    for u in DEMO_USERS
                    if u.role is Role.SALES_REP and u.segment == segment
                )
                for segment in segments
            },
            managers={
                segment: next(
                    (user_ids[u.username] for u in managers if u.segment == segment), head
                )
                for segment in segments
            },
        )


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    company: str
    attributes: dict[str, Any]
    poor_fit: bool


@dataclass
class HandoffNotes:
    """What the rep adds to a handoff besides the decision the stage events carry."""

    owner_id: int
    feedback: str = ""
    rating: int | None = None
    score: scoring.Score | None = None  # the score that made the lead an MQL


@dataclass(frozen=True)
class DealPlan:
    amount: Decimal
    created: int
    closed: int | None
    status: str
    lost_reason: str


@dataclass
class Story:
    """One lead's life in plain values; times are epoch seconds."""

    created: int
    segment: str
    person: Person
    touches: list[tuple[int, int, str]] = field(default_factory=list)  # at, campaign, kind
    # stage, at, actor, reason, note, source
    events: list[tuple[str, int, int | None, str, str, str]] = field(default_factory=list)
    handoffs: list[HandoffNotes] = field(default_factory=list)
    attempts: list[tuple[int, str, str, int]] = field(default_factory=list)  # at, channel, ...
    deals: list[DealPlan] = field(default_factory=list)
    owner_id: int | None = None
    ripe: bool = False  # recycled after a rejection for its timing: it may come back ready
    engagement: dict[str, int] = field(default_factory=dict)  # counted from the touches
    # Under the demo's lead definition: who the lead is, and what it did (after every touch).
    fit: scoring.Score | None = None
    engaged: scoring.Score | None = None

    @property
    def points(self) -> int:
        return self.fit.points + self.engaged.points

    def attributes(self) -> dict[str, Any]:
        """The lead's attributes as marketing automation has them now."""
        return {**self.person.attributes, "engagement": dict(self.engagement)}

    def event(
        self,
        stage: str,
        at: int,
        actor: int | None = None,
        reason: str = "",
        note: str = "",
        source: str = SYSTEM,
    ) -> None:
        self.events.append((stage, at, actor, reason, note, source))


class LeadSimulator:
    """Draws lead stories from one random stream; every time it produces is ≤ `now`."""

    def __init__(
        self,
        rng: random.Random,
        calendar: CampaignCalendar,
        floor: SalesFloor,
        now: int,
        definition: DemoDefinition,
        office: OfficeHours,
    ) -> None:
        self.rng, self.calendar, self.floor, self.now = rng, calendar, floor, now
        self.definition = definition
        self.office = office
        self._turn = dict.fromkeys(floor.reps, 0)

    def story(self, created: int) -> Story:
        segment = SEGMENT_PICK.pick(self.rng)
        story = Story(created, segment, self._person(segment))
        story.event(INQUIRY, created)
        mql_at = self._first_mql(story, self._touch_times(created))
        handoffs = 0
        while mql_at is not None:
            story.event(MQL, mql_at, note=self._mql_note(story, again=handoffs > 0))
            handoffs += 1
            back = self._handoff(story, mql_at)
            mql_at = self._recycle(story, back, again=handoffs < MAX_HANDOFFS_PER_LEAD)
        return story

    # -- marketing

    def _person(self, segment: str) -> Person:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country, industry = COUNTRY_PICK.pick(rng), rng.choice(INDUSTRY_NAMES)
        brand = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(INDUSTRIES[industry])}"
        low, high = EMPLOYEES[segment]
        employees = _round_headcount(math.exp(rng.uniform(math.log(low), math.log(high))))
        title = JOB_TITLES.pick(rng)
        return Person(
            name=f"{first} {last}",
            email=f"{_slug(first)}.{_slug(last)}@{_slug(brand)}.example",
            company=f"{brand} {COUNTRIES[country][1]}",
            attributes={
                "industry": industry,
                "employees": employees,
                "country": country,
                "job_title": title,
                "seniority": SENIORITY[title],
            },
            poor_fit=title in POOR_FIT_TITLES,
        )

    def _touch_times(self, created: int) -> list[int]:
        times, at = [created], created
        for _ in range(TOUCH_COUNT.pick(self.rng) - 1):
            at += int(self.rng.expovariate(1 / (4 * DAY))) + 30 * 60
            if at > self.now:
                break
            times.append(at)
        return times

    def _touch(self, story: Story, at: int) -> None:
        """A touch from a campaign running then; the lead is scored again with what it says."""
        campaign = self.calendar.pick(self.rng, at)
        kind = self.rng.choice(TOUCH_KINDS[self.calendar.channel[campaign]])
        story.touches.append((at, campaign, kind))
        engagement = story.engagement
        engagement["touches"] = engagement.get("touches", 0) + 1
        counter = ENGAGEMENT_OF_KIND.get(kind)
        if counter:
            engagement[counter] = engagement.get(counter, 0) + 1
        if story.fit is None:  # the first touch brings the lead and its campaign's channel
            story.fit = self.definition.fit(self._lead_fields(story))
        story.engaged = self.definition.engagement(engagement)

    def score(self, story: Story) -> scoring.Score:
        """The lead's whole score now, with its matched rules."""
        return self.definition.total(story.fit, story.engaged)

    def _lead_fields(self, story: Story) -> dict[str, Any]:
        """The lead as `leads.services.leads_score` reads it."""
        person, campaign = story.person, story.touches[0][1]
        return {
            "email": person.email, "name": person.name, "company": person.company,
            "segment": story.segment, "campaign": self.calendar.external.get(campaign, ""),
            "channel": self.calendar.channel[campaign], "attributes": story.attributes(),
        }  # fmt: skip

    def _first_mql(self, story: Story, times: list[int]) -> int | None:
        """Scoring makes a lead an MQL minutes after the touch that lifts its score to the
        threshold (a lead that never reaches it stays an inquiry); nurture slows down then."""
        rng, mql_at = self.rng, None
        for at in times:
            if mql_at is not None and rng.random() >= P_TOUCH_AFTER_MQL:
                continue
            self._touch(story, at)
            if mql_at is None and story.points >= self.definition.threshold:
                mql_at = min(at + rng.randint(2 * 60, 3 * HOUR), self.now)
        return mql_at

    def _mql_note(self, story: Story, *, again: bool) -> str:
        """What the MQL stage event says: the note `leads.services` writes for a score."""
        definition, points = self.definition, story.points
        if definition.version is None:
            return ""
        if again:
            return (
                f"Back from nurture with score {points} (threshold {definition.threshold}, "
                f"lead definition v{definition.version})."
            )
        return (
            f"Score {points} reached the MQL threshold {definition.threshold} "
            f"of lead definition v{definition.version}."
        )

    def _recycle(self, story: Story, back: int | None, *, again: bool) -> int | None:
        """Back to nurture at `back`; maybe a later touch makes the lead an MQL again."""
        if back is None or back > self.now:
            return None
        story.event(RECYCLED, back)
        if not again or self.rng.random() >= (P_REMQL_RIPE if story.ripe else P_REMQL):
            story.ripe = False
            return None
        touch_at = back + self.rng.randint(20 * DAY, 120 * DAY if story.ripe else 150 * DAY)
        if touch_at > self.now:
            return None
        if len(story.touches) < TOUCH_COUNT.values[-1]:
            self._touch(story, touch_at)
        mql_at = touch_at + self.rng.randint(2 * 60, 3 * HOUR)
        return mql_at if mql_at <= self.now else None

    # -- the handoff

    def _handoff(self, story: Story, handed: int) -> int | None:
        """Sales decides (unless it is still pending, or nobody looks at it and nurture takes
        the lead back); returns when the lead is recycled."""
        rep = self._owner(story)
        notes = HandoffNotes(rep.id, score=self.score(story))
        story.handoffs.append(notes)
        ripe, story.ripe = story.ripe, False
        if self.rng.random() < P_UNLOOKED:
            return self._unlooked(story, rep, handed)
        # Sales takes the leads that score well above the threshold a little more often.
        margin = min(max(story.points - self.definition.threshold, 0) / 60, 1)
        p_accept = 0.15 if story.person.poor_fit else P_ACCEPT[story.segment] - 0.05 + 0.1 * margin
        if self.rng.random() < (P_ACCEPT_RIPE if ripe and not story.person.poor_fit else p_accept):
            return self._accept(story, rep, notes, handed, ripe=ripe)
        return self._reject(story, rep, notes, handed)

    def _unlooked(self, story: Story, rep: Rep, handed: int) -> int:
        """Nobody decides: at most one late e-mail, and two to four weeks later marketing's
        nurture review (in office hours) takes the lead back, withdrawing the handoff. Returns
        when (the handoff stays pending if that is after now)."""
        rng = self.rng
        if rng.random() < 0.3:
            late = self.office.after(handed + rng.randint(3 * DAY, 12 * DAY), 0)
            self._log(story, rep, [(late, "email", "no_answer")])
        return self.office.after(handed + rng.randint(14 * DAY, 28 * DAY), 0)

    def _owner(self, story: Story) -> Rep:
        """The lead's owner again, or the segment's next rep in turn."""
        reps = self.floor.reps[story.segment]
        rep = next((r for r in reps if r.id == story.owner_id), None)
        if rep is None:
            rep = reps[self._turn[story.segment] % len(reps)]
            self._turn[story.segment] += 1
            story.owner_id = rep.id
        return rep

    def _accept(
        self, story: Story, rep: Rep, notes: HandoffNotes, handed: int, *, ripe: bool = False
    ) -> int | None:
        rng = self.rng
        decided = self._decided(handed)
        self._log(story, rep, self._attempts(rep, handed, until=handed + 30 * DAY))
        if decided > self.now:
            return None
        story.event(SAL, decided, rep.id, source=API)
        if rng.random() < 0.35:
            notes.feedback = rng.choice(ACCEPTANCE_FEEDBACK)
        if rng.random() < 0.7:
            notes.rating = ACCEPTANCE_RATING.pick(rng)
        return self._sales(story, rep, decided, ripe=ripe)

    def _reject(self, story: Story, rep: Rep, notes: HandoffNotes, handed: int) -> int | None:
        rng = self.rng
        reason = (POOR_FIT_REASONS if story.person.poor_fit else REJECTION_REASONS).pick(rng)
        if reason == "unresponsive":
            attempts = self._attempts(rep, handed, handed + 21 * DAY, rng.randint(3, 6), True)
            last = attempts[-1][0] if attempts else handed
            decided = self.office.after(last, rng.randint(HOUR, 8 * HOUR))
        else:
            decided = self._decided(handed)
            at_desk = reason in DESK_REJECTIONS and rng.random() < 0.5
            attempts = [] if at_desk else self._attempts(rep, handed, until=decided)
        self._log(story, rep, attempts)
        if decided > self.now:
            return None
        notes.feedback = rng.choice(REJECTION_FEEDBACK[reason])
        notes.rating = REJECTION_RATING.pick(rng)
        decider = rep.id if rng.random() < 0.88 else self.floor.managers[story.segment]
        story.event(REJECTED, decided, decider, reason, notes.feedback, API)
        if rng.random() < RECYCLE_AFTER_REJECTION[reason]:
            story.ripe = reason in TIMING_REASONS
            return decided + rng.randint(DAY, 10 * DAY)
        return None

    def _decided(self, handed: int) -> int:
        """When the rep decides: after a delay, in working hours."""
        return self.office.after(handed + self._decision_delay(), 0)

    def _decision_delay(self) -> int:
        rng, draw = self.rng, self.rng.random()
        if draw < 0.4:
            return rng.randint(15 * 60, 8 * HOUR)
        if draw < 0.7:
            return rng.randint(8 * HOUR, 3 * DAY)
        if draw < 0.9:
            return rng.randint(3 * DAY, 10 * DAY)
        return rng.randint(10 * DAY, 40 * DAY)  # the handoffs nobody looks at

    def _attempts(
        self, rep: Rep, handed: int, until: int, count: int = 0, silent: bool = False
    ) -> list[tuple[int, str, str]]:
        """A rep's cadence in working hours: a skewed first-call delay, then every one to three
        days."""
        rng = self.rng
        if not silent and rng.random() < 0.04:
            return []  # never logged a single attempt
        count = count or ATTEMPT_COUNT.pick(rng)
        delay = max(300, int(rng.lognormvariate(math.log(1.6 * HOUR * rep.speed), 1.0)))
        at = self.office.after(handed, delay)
        attempts: list[tuple[int, str, str]] = []
        while len(attempts) < count and at < until:
            channels = FOLLOW_UP_CHANNEL if attempts or silent else FIRST_ATTEMPT_CHANNEL
            channel = channels.pick(rng)
            if silent:
                outcome = "voicemail" if channel == "call" and rng.random() < 0.4 else "no_answer"
            else:
                outcome = ATTEMPT_OUTCOMES[channel].pick(rng)
            attempts.append((at, channel, outcome))
            if outcome in CLOSING_OUTCOMES and rng.random() < 0.75:
                break
            at = self.office.after(at + rng.randint(int(0.8 * DAY), int(3.2 * DAY)), 0)
        return attempts

    def _log(self, story: Story, rep: Rep, attempts: list[tuple[int, str, str]]) -> None:
        story.attempts.extend((at, ch, out, rep.id) for at, ch, out in attempts if at <= self.now)

    # -- sales

    def _sales(self, story: Story, rep: Rep, accepted: int, *, ripe: bool = False) -> int | None:
        """SAL → SQL → opportunity → deal; returns when the lead is recycled, if it is."""
        rng = self.rng
        if rng.random() >= (P_SQL_RIPE if ripe else P_SQL[story.segment]):
            return self._stall(story, rep, accepted)
        sql_at = accepted + self._days(6, 0.7)
        if sql_at > self.now:
            return None
        story.event(SQL, sql_at, rep.id, source=API)
        if rng.random() >= (P_OPPORTUNITY_RIPE if ripe else P_OPPORTUNITY):
            return self._stall(story, rep, sql_at)
        opened = sql_at + self._days(8, 0.7)
        if opened > self.now:
            return None
        story.event(OPPORTUNITY, opened, rep.id, source=API)
        return self._deal(story, rep, opened, ripe=ripe)

    def _stall(self, story: Story, rep: Rep, since: int) -> int | None:
        """A lead that goes no further: recycled, disqualified, or left where it is."""
        draw = self.rng.random()
        if draw < 0.35:
            return since + self.rng.randint(20 * DAY, 60 * DAY)
        if draw < 0.5:
            at = since + self.rng.randint(5 * DAY, 40 * DAY)
            if at <= self.now:
                story.event(DISQUALIFIED, at, rep.id, source=API)
        return None

    def _deal(self, story: Story, rep: Rep, opened: int, *, ripe: bool = False) -> int | None:
        rng, segment = self.rng, story.segment
        amount = Decimal(int(rng.uniform(*DEAL_AMOUNT[segment]) / 500) * 500)
        closes = opened + self._days(SALES_CYCLE_MEDIAN_DAYS[segment], 0.5)
        won = rng.random() < (P_WON_RIPE if ripe else P_WON[segment])
        room = TOUCH_COUNT.values[-1] - len(story.touches)
        count = min(DEAL_TOUCHES.pick(rng), room)
        for at in sorted(rng.randint(opened, min(closes, self.now)) for _ in range(count)):
            self._touch(story, at)
        if closes > self.now:
            story.deals.append(DealPlan(amount, opened, None, Deal.Status.OPEN.value, ""))
            return None
        if won:
            story.deals.append(DealPlan(amount, opened, closes, Deal.Status.WON.value, ""))
            story.event(WON, closes, rep.id, source=API)
            return None
        lost_reason = rng.choice(LOST_REASONS)
        story.deals.append(DealPlan(amount, opened, closes, Deal.Status.LOST.value, lost_reason))
        story.event(LOST, closes, rep.id, note=lost_reason, source=API)
        return closes + rng.randint(30 * DAY, 90 * DAY) if rng.random() < 0.3 else None

    def _days(self, median: float, sigma: float) -> int:
        return max(HOUR, int(self.rng.lognormvariate(math.log(median * DAY), sigma)))


@lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def _round_headcount(value: float) -> int:
    step = 10 if value < 500 else 100 if value < 5000 else 1000
    return max(step, int(round(value / step) * step))


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # identity hash: tables key the row buffers
class Table:
    """The columns the generator fills, in the order of its tuples."""

    model: type[models.Model]
    columns: tuple[str, ...]

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)


CAMPAIGNS = Table(
    Campaign,
    (
        "id", "external_id", "name", "channel", "starts_on", "ends_on", "cost", "created_at",
        "updated_at",
    ),
)  # fmt: skip
LEADS = Table(
    Lead,
    (
        "id", "external_id", "email", "name", "company", "created_at", "campaign_id",
        "owner_id", "segment", "attributes", "score", "stage", "stage_changed_at",
        "updated_at",
    ),
)  # fmt: skip
TOUCHES = Table(Touch, ("id", "external_id", "lead_id", "campaign_id", "occurred_at", "kind"))
STAGE_EVENTS = Table(
    StageEvent,
    (
        "id", "external_id", "lead_id", "stage", "occurred_at", "actor_id", "reason", "note",
        "source", "recorded_at",
    ),
)  # fmt: skip
HANDOFFS = Table(
    Handoff,
    (
        "id", "lead_id", "handed_at", "owner_id", "status", "decided_at", "decided_by_id",
        "reason_id", "feedback", "rating", "matched_rules", "opening_event_id",
        "closing_event_id", "sla_id", "first_contact_due_at",
        "cadence_due_at",
        "next_attempt_due_at", "first_attempt_at", "responded_at", "speed_to_lead_hours",
    ),
)  # fmt: skip
SLA_FACTS = HANDOFFS.columns[-7:]
ATTEMPTS = Table(
    ContactAttempt,
    ("id", "external_id", "lead_id", "occurred_at", "channel", "outcome", "actor_id", "note"),
)
DEALS = Table(
    Deal,
    (
        "id", "external_id", "lead_id", "amount", "created_at", "closed_at", "status",
        "lost_reason",
    ),
)  # fmt: skip
# In the order they are written: referenced rows first.
TABLES = (CAMPAIGNS, LEADS, TOUCHES, STAGE_EVENTS, HANDOFFS, ATTEMPTS, DEALS)
Rows = dict[Table, list[tuple]]


def _dt(at: int) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class RowFactory:
    """Numbers rows: ids continue after the tables' current maximum, external ids from 1."""

    def __init__(self, definition: DemoDefinition) -> None:
        self.definition = definition
        self.first_ids = {
            t: (t.model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1 for t in TABLES
        }
        self.next_ids = dict(self.first_ids)
        self.reasons = dict(RejectionReason.objects.values_list("code", "pk"))
        self.sla_versions = sla_versions()

    def _take(self, table: Table) -> tuple[int, int]:
        row_id = self.next_ids[table]
        self.next_ids[table] = row_id + 1
        return row_id, row_id - self.first_ids[table] + 1

    def campaigns(self, plans: Sequence[CampaignPlan], rows: Rows) -> dict[int, int]:
        """Campaign rows; returns the id of each plan number."""
        ids = {}
        for plan in plans:
            row_id, number = self._take(CAMPAIGNS)
            ids[plan.number] = row_id
            planned = datetime.combine(
                plan.starts_on - timedelta(days=14), datetime.min.time(), UTC
            )
            rows[CAMPAIGNS].append(
                (
                    row_id, f"cmp-{number}", plan.name, plan.channel, plan.starts_on,
                    plan.ends_on, plan.cost, planned, planned,
                )
            )  # fmt: skip
        return ids

    def lead(self, story: Story, rows: Rows) -> None:
        lead_id, number = self._take(LEADS)
        person, events = story.person, story.events
        last_stage, last_at = events[-1][0], _dt(events[-1][1])
        rows[LEADS].append(
            (
                lead_id, f"lead-{number}", person.email, person.name, person.company,
                _dt(story.created), story.touches[0][1], story.owner_id, story.segment,
                story.attributes(), self.definition.stored_points(story.points), last_stage,
                last_at, last_at,
            )
        )  # fmt: skip
        self._touches(lead_id, story, rows[TOUCHES])
        timed_events = self._events(lead_id, story, rows[STAGE_EVENTS])
        attempts = self._attempts(lead_id, story, rows[ATTEMPTS])
        if story.handoffs:
            self._handoffs(lead_id, story, timed_events, attempts, rows[HANDOFFS])
        self._deals(lead_id, story, rows[DEALS])

    def _touches(self, lead_id: int, story: Story, out: list[tuple]) -> None:
        for at, campaign, kind in story.touches:
            row_id, number = self._take(TOUCHES)
            out.append((row_id, f"touch-{number}", lead_id, campaign, _dt(at), kind))

    def _events(self, lead_id: int, story: Story, out: list[tuple]) -> list[dict[str, Any]]:
        timed = []
        for stage, at, actor, reason, note, source in story.events:
            row_id, number = self._take(STAGE_EVENTS)
            occurred = _dt(at)
            out.append(
                (row_id, f"se-{number}", lead_id, stage, occurred, actor, reason, note, source,
                 occurred)
            )  # fmt: skip
            timed.append(
                {
                    "id": row_id, "stage": stage, "occurred_at": occurred, "actor_id": actor,
                    "reason": reason, "note": note,
                }
            )  # fmt: skip
        return timed

    def _handoffs(
        self,
        lead_id: int,
        story: Story,
        events: list[dict[str, Any]],
        attempts: list[tuple[datetime, str]],
        out: list[tuple],
    ) -> None:
        """The app's own replay of the events decides the handoffs; the story adds notes."""
        for derived, notes in zip(derive_handoffs(events), story.handoffs, strict=True):
            row_id, _ = self._take(HANDOFFS)
            out.append(
                (
                    row_id, lead_id, derived.handed_at, notes.owner_id, str(derived.status),
                    derived.decided_at, derived.decided_by_id,
                    self.reasons.get(derived.reason_code), notes.feedback or derived.note,
                    notes.rating, self.definition.matched_rules(notes.score),
                    derived.opening_event_id, derived.closing_event_id,
                    *self._sla_facts(derived, attempts),
                )
            )  # fmt: skip

    def _sla_facts(self, derived: DerivedHandoff, attempts: list[tuple[datetime, str]]) -> tuple:
        """Deadlines and speed to lead, by the same code as `handoffs_refresh_sla` (a
        withdrawal is no response: the status tells `handoff_apply_sla`)."""
        handoff = Handoff(
            handed_at=derived.handed_at, status=str(derived.status), decided_at=derived.decided_at
        )
        handoff_note_attempts(handoff=handoff, attempts=attempts)
        starts, terms = self.sla_versions
        handoff_apply_sla(handoff=handoff, starts=starts, terms=terms)
        return tuple(getattr(handoff, column) for column in SLA_FACTS)

    def _attempts(self, lead_id: int, story: Story, out: list[tuple]) -> list[tuple[datetime, str]]:
        times = []
        for at, channel, outcome, actor in story.attempts:
            row_id, number = self._take(ATTEMPTS)
            occurred = _dt(at)
            times.append((occurred, outcome))
            out.append((row_id, f"att-{number}", lead_id, occurred, channel, outcome, actor, ""))
        return times

    def _deals(self, lead_id: int, story: Story, out: list[tuple]) -> None:
        for deal in story.deals:
            row_id, number = self._take(DEALS)
            closed = _dt(deal.closed) if deal.closed is not None else None
            out.append(
                (
                    row_id, f"deal-{number}", lead_id, deal.amount, _dt(deal.created), closed,
                    deal.status, deal.lost_reason,
                )
            )  # fmt: skip


def _empty_rows() -> Rows:
    return {table: [] for table in TABLES}


# --- writers --------------------------------------------------------------------------------


class Writer(Protocol):
    counts: dict[Table, int]

    def begin(self) -> None: ...

    def write(self, rows: Rows) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class _Layout:
    """A table's full column list: the generator's columns, then model defaults for the rest."""

    columns: tuple[str, ...]
    fields: tuple[models.Field, ...]
    defaults: tuple[Any, ...]

    @classmethod
    def of(cls, table: Table) -> _Layout:
        meta = table.model._meta
        rest = [
            f for f in meta.concrete_fields if f.attname not in table.columns and f.has_default()
        ]
        return cls(
            columns=table.columns + tuple(f.attname for f in rest),
            fields=tuple(meta.get_field(name) for name in table.columns) + tuple(rest),
            defaults=tuple(f.get_default() for f in rest),
        )

    def insert_target(self, table: Table) -> str:
        quote = connection.ops.quote_name
        return f"{quote(table.model._meta.db_table)} ({', '.join(map(quote, self.columns))})"


class _BaseWriter:
    def __init__(self) -> None:
        self.layouts = {table: _Layout.of(table) for table in TABLES}
        self.counts = dict.fromkeys(TABLES, 0)

    def begin(self) -> None:
        pass

    def write(self, rows: Rows) -> None:
        for table in TABLES:
            if rows[table]:
                self._write(table, self.layouts[table], rows[table])
                self.counts[table] += len(rows[table])

    def _write(self, table: Table, layout: _Layout, rows: list[tuple]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class SqliteWriter(_BaseWriter):
    """Prepared INSERTs with explicit ids, values adapted by the model fields."""

    batch_size = 2000

    def _write(self, table: Table, layout: _Layout, rows: list[tuple]) -> None:
        placeholders = ", ".join(["%s"] * len(layout.columns))
        sql = f"INSERT INTO {layout.insert_target(table)} VALUES ({placeholders})"
        preps = [f.get_db_prep_save for f in layout.fields]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.batch_size):
                cursor.executemany(
                    sql,
                    [
                        tuple(
                            prep(v, connection)
                            for prep, v in zip(preps, row + layout.defaults, strict=True)
                        )
                        for row in rows[start : start + self.batch_size]
                    ],
                )


class PostgresWriter(_BaseWriter):
    """COPY FROM STDIN through psycopg 3; sequences move past the explicit ids at the end."""

    def begin(self) -> None:
        # Check foreign keys row by row instead of queueing millions of deferred checks.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def _write(self, table: Table, layout: _Layout, rows: list[tuple]) -> None:
        own = len(table.columns)
        json_at = [i for i, f in enumerate(layout.fields[:own]) if isinstance(f, models.JSONField)]
        defaults = tuple(
            json.dumps(v) if isinstance(f, models.JSONField) else v
            for f, v in zip(layout.fields[own:], layout.defaults, strict=True)
        )
        connection.ensure_connection()
        sql = f"COPY {layout.insert_target(table)} FROM STDIN"
        with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    values = list(row)
                    for i in json_at:
                        values[i] = json.dumps(values[i])
                    row = tuple(values)
                copy.write_row(row + defaults)

    def finish(self) -> None:
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [t.model for t in TABLES]):
                cursor.execute(sql)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _writer() -> Writer:
    return PostgresWriter() if connection.vendor == "postgresql" else SqliteWriter()


# --- seeding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedResult:
    counts: dict[str, int]  # table label → rows written
    seconds: float
    first_day: date
    now: datetime


def ensure_demo_users() -> dict[str, int]:
    """Create the demo users that are missing (password "demo"); return every user's id.

    Users that already exist are left as they are: their password and role stay theirs.
    """
    user_model = get_user_model()
    names = [spec.username for spec in DEMO_USERS]
    ids = dict(user_model.objects.filter(username__in=names).values_list("username", "pk"))
    password = ""
    for spec in DEMO_USERS:
        if spec.username in ids:
            continue
        password = password or make_password(DEMO_PASSWORD)
        user = user_model.objects.create(
            username=spec.username,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=f"{spec.username}@tandem-demo.example",
            password=password,
            is_staff=spec.role is Role.ADMIN,
            is_superuser=spec.role is Role.ADMIN,
        )
        user_set_role(user=user, role=spec.role)
        ids[spec.username] = user.pk
    heads = user_model.objects.in_bulk([ids[HEAD_OF_MARKETING], ids[HEAD_OF_SALES]])
    if not TeamHead.objects.exists():
        team_head_set(team=Team.MARKETING, user=heads[ids[HEAD_OF_MARKETING]])
        team_head_set(team=Team.SALES, user=heads[ids[HEAD_OF_SALES]])
    return ids


def flush_funnel() -> None:
    """Delete every lead, campaign and funnel record (children first, leads in chunks), the
    working-together records (they refer to campaigns and deals), the disputes (they protect
    their handoffs), and the goals, forecasts,
    payout curves and agreement versions the demo writes (the default SLA v1 stays: the demo
    signs it again)."""
    together_flush()
    disputes_flush()
    for model in (Deal, ContactAttempt, Handoff, StageEvent, Touch):
        model.objects.all().delete()
    while ids := list(Lead.objects.order_by("pk").values_list("pk", flat=True)[:10_000]):
        Lead.objects.filter(pk__in=ids).delete()
    Campaign.objects.all().delete()
    agreements_flush()


def seed_demo(
    *,
    leads: int = 2000,
    months: int = 12,
    seed: int = 42,
    now: datetime | None = None,
    flush: bool = False,
    chunk_size: int = 10_000,
    progress: bool = False,
) -> SeedResult:
    """Load the demo company in one transaction: all of it, or nothing.

    The agreements come first (the SLA versions and the lead definition the handoffs are
    derived and scored under), then the funnel, then what is set from its numbers (SAL
    commitments, goals and their check-ins, forecasts).
    """
    started, began = time.monotonic(), timezone.now()
    now = now or timezone.now()
    now = (now if timezone.is_aware(now) else timezone.make_aware(now)).astimezone(UTC)
    now = now.replace(microsecond=0)
    window = Window.ending(now, months)
    with transaction.atomic():
        if flush:
            flush_funnel()
        elif Lead.objects.exists():
            raise DemoDataExists("The database already has leads.")
        user_ids = ensure_demo_users()
        people = demo_people(user_ids)
        start = _dt(window.midnights[0])
        definition = agreements_write(start=start, now=now, people=people)
        writer = _writer()
        writer.begin()
        factory = RowFactory(definition)
        calendar = _load_campaigns(writer, factory, window, seed, leads)
        floor = SalesFloor.of(user_ids)
        simulator = LeadSimulator(
            random.Random(f"{seed}:leads"), calendar, floor, window.now, definition,
            OfficeHours(window),
        )  # fmt: skip
        times = lead_times(random.Random(f"{seed}:volume"), calendar, window, leads)
        _load_leads(writer, factory, simulator, times, leads, chunk_size, progress)
        writer.finish()
        handoffs_refresh_outcomes()  # the cohorts' outcomes, from what was just loaded
        # Marketing's disputes and what the overturns led to are part of the funnel the goals
        # and the meetings read.
        disputed = disputes_write(now=now, users=user_ids, seed=seed)
        numbers = numbers_write(start=start, now=now, people=people, seed=seed)
        numbers |= together_write(now=now, users=user_ids, seed=seed)
        # The bulk load logs no change: the whole demo is computed after it (`recompute_kpis`).
        # What the goal services logged on the way goes too, or a recompute of those periods
        # alone would run first and `recompute_kpis --if-empty` would find numbers and stop.
        FunnelChange.objects.filter(marked_at__gte=began).delete()
    funnel = {t.label: n + disputed.pop(t.label, 0) for t, n in writer.counts.items()}
    counts = {"users": len(user_ids)} | funnel | disputed | numbers
    return SeedResult(counts, time.monotonic() - started, window.days[0], now)


def _load_campaigns(
    writer: Writer, factory: RowFactory, window: Window, seed: int, leads: int
) -> CampaignCalendar:
    rows = _empty_rows()
    plans = plan_campaigns(random.Random(f"{seed}:campaigns"), window, leads)
    ids = factory.campaigns(plans, rows)
    external = {ids[p.number]: f"cmp-{n}" for n, p in enumerate(plans, start=1)}
    calendar = CampaignCalendar(plans, ids, window, external)
    writer.write(rows)
    return calendar


def _load_leads(
    writer: Writer,
    factory: RowFactory,
    simulator: LeadSimulator,
    times: Iterator[int],
    total: int,
    chunk_size: int,
    progress: bool,
) -> None:
    """Simulate lead after lead; write every `chunk_size` leads (memory stays bounded)."""
    bar = tqdm(
        total=total, desc="Demo leads", unit="lead", unit_scale=True, file=sys.stderr,
        disable=not progress,
    )  # fmt: skip
    with bar:
        rows = _empty_rows()
        for count, created in enumerate(times, start=1):
            factory.lead(simulator.story(created), rows)
            if count % chunk_size == 0 or count == total:
                writer.write(rows)
                bar.update(len(rows[LEADS]))
                rows = _empty_rows()
