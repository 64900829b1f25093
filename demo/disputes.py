"""The demo's disputes (issue 12): marketing contests rejections, the two heads settle them.

`disputes_write` runs right after the funnel is loaded (`demo.generator.seed_demo`), in the
seed's transaction, before the goals and the meetings read the funnel's numbers. The story,
relative to `now`:

* Over the last two months, the marketer who runs a lead's channel disputed some rejections
  within the window after the decision, mostly "no budget", "not ready" and "bad fit" ones,
  saying what the record shows (the company, the title, how often sales called).
* Maria and Tom settled most of them: one records the outcome, the other confirms it a few
  hours or days later. Some rejections are upheld; some are overturned with a note, and the
  lead is handed off again to another rep, who calls it, mostly accepts it and sometimes wins
  it (so a disputed rejection can end up among the rejections later won).
* The newest disputes are still open (no outcome yet), and one or two wait for Tom to confirm
  the outcome Maria recorded: the heads have something to do when they log in.

Everything goes through the real services with explicit moments (`dispute_raise`,
`dispute_record_outcome`, `dispute_confirm`, whose overturn writes the system `mql` event and
the new handoff; then the ingest services for the new rep's attempts, decision and deal), so
the rows are what the app would have written. The few things the services stamp with the real
clock are set to the story's moments afterwards: the events' `recorded_at`, and `notified_at`
(the head awaited was e-mailed when the outcome was recorded, so no mail goes out now).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, F, Max, OuterRef, Subquery

from alignment.models import RoundRobinMember
from demo.together import CHANNEL_OWNER, HEAD_OF_MARKETING, HEAD_OF_SALES, MARKETERS
from leads.models import ContactAttempt, Deal, Dispute, Handoff, StageEvent
from leads.selectors import attempts_before_decision
from leads.services import attempts_upsert, deals_upsert, stage_events_upsert
from leads.services_disputes import dispute_confirm, dispute_raise, dispute_record_outcome

#: Marketing disputes the rejections of the last two months (disputes began then).
DAYS = 60
#: What two heads settle by hand in two months, whatever the lead volume.
MAX_DISPUTES = 30
MIN_DISPUTES = 6
#: How likely marketing disputes a rejection, by reason: the judgement calls most.
P_DISPUTE = {
    "no_budget": 0.24, "not_ready": 0.24, "bad_fit": 0.22, "wrong_contact": 0.05,
    "unresponsive": 0.05, "competitor": 0.03, "other": 0.03, "duplicate": 0.0,
}  # fmt: skip
#: How likely the heads overturn a rejection: more so when sales never called.
P_OVERTURN_UNCALLED, P_OVERTURN_CALLED = 0.65, 0.3

COMMENTS = {
    "bad_fit": (
        "{company} has {employees} employees in {industry}: that is our ICP, and the contact is "
        "{title_a}. What made it a bad fit?",
        "Bad fit after {calls}? The account matches the {segment} profile we agreed in the "
        "lead definition.",
        "The {title} booked time with us at the webinar. I'd like to understand the 'bad fit' "
        "at {company} before we stop marketing to them.",
    ),
    "no_budget": (
        "They asked for the annual-plan pricing on the webinar; 'no budget' after {calls} "
        "seems early.",
        "Budget season at {company} starts next month, the {title} told us at the booth. This "
        "is a lead to work, not to close.",
        "'No budget' after {calls}? The {title} downloaded the ROI template twice since.",
    ),
    "not_ready": (
        "Requested a demo and read the pricing page this month: what does 'not ready' rest on? "
        "It came after {calls}.",
        "'Not ready' after {calls}: the SLA asks for a full cadence before we give up a lead.",
        "The {title} at {company} came to two webinars in a row. Not ready for a call?",
    ),
    "wrong_contact": (
        "The {title} is the one who asked for the demo and copied their CFO. Please talk to "
        "them before closing the lead.",
        "Wrong contact, fine, but {company} is a fit: can sales ask for the right person "
        "instead of rejecting?",
    ),
    "unresponsive": (
        "The {title} replied to our nurture e-mail last week. Unresponsive to sales after {calls}?",
    ),
    "competitor": (
        "Their contract with the competitor ends this year, they told us on the webinar. Worth "
        "a conversation now.",
    ),
    "other": ("The feedback doesn't say why this one was rejected, after {calls}.",),
}
#: Titles marketing itself would not defend.
UNDEFENDED_TITLES = frozenset({"Student", "Intern", "Consultant"})
UPHELD_NOTES = (
    "Went through the call notes together: the rejection stands. Back to nurture.",
    "Sales talked to the {title} and the answer was clear. Upheld; marketing keeps nurturing "
    "the account.",
    "Upheld: the record looked good, the conversation didn't. We'll look at the scoring rule "
    "that made it an MQL.",
    "",  # upheld without a note
)
#: Why the heads overturned: a decision after hardly any contact, a lead whose timing
#: changed, or one that fits after all.
OVERTURNED_NOTES = {
    "uncalled": (
        "Agreed: a rejection after {calls} is too early to judge. Reopened for another rep, "
        "who reports back in the weekly meeting.",
        "Nobody talked to the {title} before deciding. Another rep takes it, with a first call "
        "within the SLA.",
    ),
    "timing": (
        "The timing signals were there after the rejection. Handed off again to another rep.",
        "The {title} is back in the buying conversation, marketing showed us the signals. "
        "Reopened for another rep.",
    ),
    "fit": (
        "{company} fits the ICP; the contact can open the door to the buyer. Another rep takes it.",
        "Checked against the lead definition together: this is a fit. Handed off again.",
    ),
}
TIMING = frozenset({"not_ready", "no_budget", "competitor"})
REJECTED_AGAIN = (
    "Second look after the dispute: spoke to the {title}, they want to revisit next year.",
    "Called after the dispute; the project is on hold until their reorganisation is done.",
)
UNANSWERED_AGAIN = "Three calls after the dispute, no answer and no reply to the e-mails."

OPEN, AWAITING, RESOLVED = "open", "awaiting", "resolved"


def disputes_flush() -> None:
    """Delete every dispute (before the handoffs, which they protect)."""
    Dispute.objects.all().delete()


@dataclass(frozen=True)
class Rejection:
    """A rejection marketing may dispute, with what the record shows about its lead."""

    handoff_id: int
    lead_id: int
    lead: str  # external id
    segment: str
    company: str
    attributes: dict
    channel: str
    decided_at: datetime
    attempts: int  # before the decision
    last_event_at: datetime  # the lead's latest stage event
    handed_again: bool  # a later handoff of the lead: an overturn reopens nothing
    reason: str


@dataclass
class Plan:
    rejection: Rejection
    raised_by: str
    raised_at: datetime
    comment: str
    state: str = RESOLVED
    outcome: str = ""
    note: str = ""
    outcome_by: str = ""
    outcome_at: datetime | None = None
    confirmed_by: str = ""
    confirmed_at: datetime | None = None


def disputes_write(*, now: datetime, users: dict[str, int], seed: int) -> dict[str, int]:
    """The demo's disputes, relative to `now`; returns the rows written per kind (the
    handoffs, stage events, attempts and deals the overturns led to included). Writes nothing
    where the database has disputes already, or the heads are missing."""
    names = [HEAD_OF_MARKETING, HEAD_OF_SALES, *MARKETERS]
    people = get_user_model().objects.in_bulk([users[n] for n in names if n in users])
    cast = {name: people[users[name]] for name in names if users.get(name) in people}
    if len(cast) < len(names) or Dispute.objects.exists():
        return {}
    writer = _Writer(random.Random(f"{seed}:disputes"), now, cast)
    return writer.write()


class _Writer:
    def __init__(
        self, rng: random.Random, now: datetime, cast: dict[str, AbstractBaseUser]
    ) -> None:
        self.rng, self.now, self.cast = rng, now, cast
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.window = timedelta(days=settings.DISPUTE_WINDOW_DAYS)
        self.counts = {"disputes": 0, "handoffs": 0, "stage events": 0, "contact attempts": 0}
        self.counts["deals"] = 0
        self.numbers: dict[type, int] = {}  # the last external id number of each kind

    def write(self) -> dict[str, int]:
        plans = self._plans(self._rejections())
        if not plans:
            return {}
        # The reopened leads go to the rotation's reps in turn, from a fresh rotation: the
        # turns it counted were the handoffs the seed (or its flush) replaced.
        RoundRobinMember.objects.update(last_turn=0, assigned_count=0)
        for plan in plans:
            self._play(plan)
        self.counts["disputes"] = len(plans)
        return {label: n for label, n in self.counts.items() if n}

    # -- what happened

    def _rejections(self) -> list[Rejection]:
        """The rejections of the window that marketing may dispute (in decision order)."""
        earliest = self.now - timedelta(days=DAYS) - self.window
        rows = (
            Handoff.objects.filter(
                status=Handoff.Status.REJECTED,
                decided_at__gte=earliest,
                decided_at__lte=self.now - timedelta(hours=2),
            )
            .annotate(
                attempts=attempts_before_decision(),
                last_event_at=Subquery(
                    StageEvent.objects.filter(lead=OuterRef("lead_id"))
                    .order_by()
                    .values("lead")
                    .annotate(m=Max("occurred_at"))
                    .values("m")
                ),
                handed_again=Exists(
                    Handoff.objects.filter(
                        lead=OuterRef("lead_id"), handed_at__gt=OuterRef("handed_at")
                    )
                ),
            )
            .order_by("decided_at", "lead__external_id")
            .values(
                "pk", "lead_id", "lead__external_id", "lead__segment", "lead__company",
                "lead__attributes", "lead__campaign__channel", "decided_at", "attempts",
                "last_event_at", "handed_again", "reason__code",
            )
        )  # fmt: skip
        return [
            Rejection(
                handoff_id=r["pk"],
                lead_id=r["lead_id"],
                lead=r["lead__external_id"],
                segment=r["lead__segment"],
                company=r["lead__company"],
                attributes=r["lead__attributes"] or {},
                channel=r["lead__campaign__channel"] or "",
                decided_at=r["decided_at"],
                attempts=r["attempts"] or 0,
                last_event_at=r["last_event_at"],
                handed_again=r["handed_again"],
                reason=r["reason__code"] or "other",
            )
            for r in rows
        ]

    def _plans(self, rejections: list[Rejection]) -> list[Plan]:
        """Which rejections are disputed, by whom and when, and how far each got."""
        rng, begin = self.rng, self.now - timedelta(days=DAYS)
        drawn = []
        for rejection in rejections:
            weight = P_DISPUTE.get(rejection.reason, 0.04)
            if _title(rejection.attributes) in UNDEFENDED_TITLES:
                weight = 0.0
            key = rng.random() ** (1 / weight) if weight else 0.0  # weighted, no replacement
            # Marketing reads the rejections in its weekly review: a few hours to ten days.
            raised = self._office(rejection.decided_at + timedelta(hours=rng.uniform(3, 240)))
            raised = min(raised, rejection.decided_at + self.window - timedelta(hours=1))
            if weight and begin <= raised <= self.now:
                drawn.append((key, rejection, raised))
        expected = sum(P_DISPUTE.get(r.reason, 0.04) for _, r, _ in drawn)
        drawn = [d for d in drawn if d[0] > 0]
        wanted = min(len(drawn), MAX_DISPUTES, max(MIN_DISPUTES, round(expected)))
        chosen, leads = [], set()
        for _, rejection, raised in sorted(drawn, key=lambda d: -d[0]):
            if len(chosen) < wanted and rejection.lead_id not in leads:  # one per lead
                leads.add(rejection.lead_id)
                chosen.append((raised, rejection))
        chosen.sort(key=lambda c: (c[0], c[1].lead))
        plans = [
            Plan(
                rejection,
                self._raiser(rejection),
                raised,
                self._text(COMMENTS.get(rejection.reason, COMMENTS["other"]), rejection),
            )
            for raised, rejection in chosen
        ]
        self._settle(plans)
        return plans

    def _raiser(self, rejection: Rejection) -> str:
        """The marketer who runs the lead's channel; Maria's channels (referrals, partners)
        are mostly watched by her team."""
        owner = CHANNEL_OWNER.get(rejection.channel)
        if owner in MARKETERS or (owner in self.cast and self.rng.random() < 0.4):
            return owner
        return self.rng.choice(MARKETERS)

    def _settle(self, plans: list[Plan]) -> None:
        """The newest one or two stay open (two when the second was raised lately), the one or
        two before wait for Tom to confirm what Maria recorded, the rest are settled (some
        upheld, some overturned)."""
        rng, count = self.rng, len(plans)
        lately = count >= 6 and plans[-2].raised_at >= self.now - timedelta(days=10)
        opened = min(count, rng.randint(1, 2) if lately else 1)
        awaiting = min(count - opened, 1 if count < 5 else rng.randint(1, 2))
        for n, plan in enumerate(plans):
            place = count - n
            if place <= opened:
                plan.state = OPEN
                continue
            plan.state = AWAITING if place <= opened + awaiting else RESOLVED
            recorder = HEAD_OF_MARKETING if plan.state == AWAITING else rng.choice(
                (HEAD_OF_MARKETING, HEAD_OF_SALES)
            )  # fmt: skip
            plan.outcome_by = recorder
            earliest = plan.raised_at + timedelta(hours=2)
            if plan.state == AWAITING:  # recorded lately: Tom has not got to it yet
                earliest = max(earliest, self.now - timedelta(days=4))
            plan.outcome_at = self._between(
                earliest, days=(0, 3) if plan.state == AWAITING else (1, 7)
            )
            if plan.state == RESOLVED:
                plan.confirmed_by = HEAD_OF_SALES if recorder == HEAD_OF_MARKETING else (
                    HEAD_OF_MARKETING
                )  # fmt: skip
                plan.confirmed_at = self._between(plan.outcome_at + timedelta(hours=1), (0, 3))
            rejection = plan.rejection
            p = P_OVERTURN_CALLED if rejection.attempts else P_OVERTURN_UNCALLED
            plan.outcome = (
                Dispute.Outcome.OVERTURNED if rng.random() < p else Dispute.Outcome.UPHELD
            )
            if not self._reopens(plan):
                plan.outcome = Dispute.Outcome.UPHELD
        settled = [p for p in plans if p.state == RESOLVED]
        outcomes = {p.outcome for p in settled}
        if len(settled) >= 2 and Dispute.Outcome.OVERTURNED not in outcomes:
            plan = next((p for p in reversed(settled) if self._reopens(p)), None)
            if plan is not None:
                plan.outcome = Dispute.Outcome.OVERTURNED
        if len(settled) >= 2 and Dispute.Outcome.UPHELD not in outcomes:
            settled[0].outcome = Dispute.Outcome.UPHELD
        for plan in plans:
            if plan.outcome == Dispute.Outcome.UPHELD:
                plan.note = self._text(UPHELD_NOTES, plan.rejection)
            elif plan.outcome == Dispute.Outcome.OVERTURNED:
                rejection = plan.rejection
                why = "timing" if rejection.reason in TIMING else "fit"
                why = "uncalled" if rejection.attempts <= 1 else why
                plan.note = self._text(OVERTURNED_NOTES[why], rejection)

    def _reopens(self, plan: Plan) -> bool:
        """Whether overturning hands the lead off again (`services_disputes._reopen`): its
        rejection is its latest handoff, and nothing happened to it after the settling."""
        rejection, at = plan.rejection, plan.confirmed_at or plan.outcome_at
        return not rejection.handed_again and rejection.last_event_at < at

    # -- the services

    def _play(self, plan: Plan) -> None:
        cast, rejection = self.cast, plan.rejection
        handoff = Handoff.objects.get(pk=rejection.handoff_id)
        dispute = dispute_raise(
            handoff=handoff, by=cast[plan.raised_by], comment=plan.comment, now=plan.raised_at
        )
        if plan.state == OPEN:
            return
        dispute = dispute_record_outcome(
            dispute=dispute,
            by=cast[plan.outcome_by],
            outcome=plan.outcome,
            note=plan.note,
            now=plan.outcome_at,
        )
        # The head it awaits was e-mailed then: the notice is not sent again.
        notified = plan.outcome_at + timedelta(minutes=self.rng.randint(1, 4))
        Dispute.objects.filter(pk=dispute.pk).update(notified_at=notified)
        if plan.state == AWAITING:
            return
        dispute = dispute_confirm(
            dispute=dispute, by=cast[plan.confirmed_by], now=plan.confirmed_at
        )
        if dispute.reopen_event_id is None:
            return
        event = dispute.reopen_event_id
        StageEvent.objects.filter(pk=event).update(recorded_at=F("occurred_at"))
        self.counts["handoffs"] += 1  # the reopened one, opened by the event
        self.counts["stage events"] += 1
        self._work(Handoff.objects.select_related("owner", "lead").get(opening_event_id=event))

    def _work(self, handoff: Handoff) -> None:
        """The rep the reopened lead went to calls it, decides, and sometimes wins it (each
        step only when it happened by now)."""
        rng, lead, rep = self.rng, handoff.lead, handoff.owner
        if rep is None:
            return
        at, attempts = self._office(handoff.handed_at + timedelta(minutes=rng.randint(20, 240))), []
        for _ in range(3):
            if at > self.now:
                break
            outcome = rng.choice(("connected", "meeting_booked", "no_answer"))
            attempts.append((at, "call", outcome))
            if outcome != "no_answer":
                break
            at = self._office(at + timedelta(hours=rng.uniform(20, 50)))
        if not attempts:
            return
        self._attempts(lead.external_id, rep.get_username(), attempts)
        unanswered = attempts[-1][2] == "no_answer"
        after = timedelta(hours=rng.uniform(30, 70) if unanswered else rng.uniform(0.5, 24))
        decided = self._office(attempts[-1][0] + after)
        if decided > self.now or (unanswered and len(attempts) < 3):
            return
        if unanswered:
            note = UNANSWERED_AGAIN
            self._events(lead.external_id, [("rejected", decided, rep, "unresponsive", note)])
            return
        if rng.random() >= 0.85:
            note = rng.choice(REJECTED_AGAIN).format(title=_title(lead.attributes))
            self._events(lead.external_id, [("rejected", decided, rep, "not_ready", note)])
            return
        steps = [("sal", decided, rep, "", "")]
        sql = self._office(decided + timedelta(days=rng.uniform(1, 5)))
        if rng.random() < 0.75 and sql <= self.now:
            steps.append(("sql", sql, rep, "", ""))
            opened = self._office(sql + timedelta(days=rng.uniform(2, 6)))
            if rng.random() < 0.85 and opened <= self.now:
                steps.append(("opportunity", opened, rep, "", ""))
        self._events(lead.external_id, steps)
        if steps[-1][0] != "opportunity":
            return
        opened = steps[-1][1]
        amounts = list(
            Deal.objects.filter(lead__segment=lead.segment)
            .order_by("-created_at", "-amount")
            .values_list("amount", flat=True)[:40]
        )
        amount = rng.choice(amounts) if amounts else Decimal(10_000)
        closes = self._office(opened + timedelta(days=rng.uniform(7, 21)))
        won = rng.random() < 0.7 and closes <= self.now
        self._deal(lead.external_id, amount, opened, closes if won else None)
        if won:
            self._events(lead.external_id, [("won", closes, rep, "", "")])

    def _attempts(self, lead: str, actor: str, attempts: list[tuple[datetime, str, str]]) -> None:
        rows = []
        for at, channel, outcome in attempts:
            rows.append(
                {
                    "external_id": self._number(ContactAttempt, "att"), "lead": lead,
                    "occurred_at": at, "channel": channel, "outcome": outcome, "actor": actor,
                }
            )  # fmt: skip
        attempts_upsert(rows=rows)
        self.counts["contact attempts"] += len(rows)

    def _events(self, lead: str, steps: list[tuple]) -> None:
        rows = [
            {
                "external_id": self._number(StageEvent, "se"), "lead": lead, "stage": stage,
                "occurred_at": at, "actor": actor.get_username(), "reason": reason, "note": note,
            }
            for stage, at, actor, reason, note in steps
        ]  # fmt: skip
        stage_events_upsert(rows=rows)
        StageEvent.objects.filter(external_id__in=[r["external_id"] for r in rows]).update(
            recorded_at=F("occurred_at")
        )
        self.counts["stage events"] += len(rows)

    def _deal(self, lead: str, amount: Decimal, opened: datetime, won: datetime | None) -> None:
        status = Deal.Status.WON if won else Deal.Status.OPEN
        deals_upsert(
            rows=[
                {
                    "external_id": self._number(Deal, "deal"), "lead": lead, "amount": amount,
                    "created_at": opened, "closed_at": won, "status": status.value,
                }
            ]
        )  # fmt: skip
        self.counts["deals"] += 1

    def _number(self, model: type, prefix: str) -> str:
        """The next external id, after the generator's (numbered from 1, one per row)."""
        if model not in self.numbers:
            self.numbers[model] = model.objects.exclude(external_id=None).count()
        self.numbers[model] += 1
        return f"{prefix}-{self.numbers[model]}"

    # -- words and moments

    def _text(self, options: tuple[str, ...], rejection: Rejection) -> str:
        attributes = rejection.attributes
        title = _title(attributes)
        calls = {0: "no call at all", 1: "a single attempt"}.get(
            rejection.attempts, f"{rejection.attempts} attempts"
        )
        return self.rng.choice(options).format(
            company=rejection.company,
            employees=f"{attributes.get('employees', 0):,}",
            industry=(attributes.get("industry") or "their industry").lower(),
            title=title,
            title_a=f"{'an' if title[:1].lower() in 'aeiou' else 'a'} {title}",
            segment={"smb": "SMB", "mid_market": "mid-market"}.get(
                rejection.segment, rejection.segment.replace("_", " ")
            ),
            calls=calls,
        )

    def _office(self, at: datetime) -> datetime:
        """`at` in office hours (8:00 to 18:00 on weekdays, organisation time), else a moment
        in the first hours after the next opening."""
        local = at.astimezone(self.zone)
        if local.weekday() < 5 and time(8) <= local.time() < time(18):
            return at.replace(microsecond=0)
        day = local.date() + timedelta(days=0 if local.time() < time(8) else 1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        opening = datetime.combine(day, time(8), self.zone)
        return opening + timedelta(minutes=self.rng.randint(5, 150))

    def _between(self, earliest: datetime, days: tuple[float, float]) -> datetime:
        """A moment in office hours `days` after `earliest`, but no later than now."""
        at = self._office(earliest + timedelta(days=self.rng.uniform(*days)))
        if at <= self.now:
            return at
        span = max((self.now - earliest).total_seconds(), 0)
        return min(earliest + timedelta(seconds=self.rng.uniform(0, span)), self.now).replace(
            microsecond=0
        )


def _title(attributes: dict) -> str:
    return attributes.get("job_title") or "contact"
