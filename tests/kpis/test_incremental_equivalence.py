"""The funnel's change log keeps the snapshots exactly what a full recompute would write.

A random sequence of writes goes through the services: ingest (campaigns, leads, touches,
stage events arriving late and out of order, contact attempts, deals opening and closing,
corrections of each), handoff decisions, and the admin's edits and deletions made the way
`leads/admin.py` makes them (through `funnel_record_change`). The writes come in batches: each
write commits on its own and queues the dirty recompute on commit, and that queue is debounced,
so a few writes land before it runs; in the test the on-commit callbacks of a batch run at its
end (the eager Celery task runs `kpis_recompute_dirty`). At the end the snapshots are dumped, a
full recompute runs over the range the nightly job covers, and the dump must not change.

The snapshots start as a full recompute of the empty funnel wrote them, over a fixed range, so
that a period the writes never touched compares equal too. The clock is frozen at NOW: cohort
and SLA metrics read `now`, and both paths must read the same one. The fixtures run once per
test function; each example runs in a savepoint that is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from alignment.roles import Role
from kpis.models import KpiSnapshot
from kpis.services import (
    kpis_recompute_dirty,
    kpis_recompute_unit,
    recompute_units,
)
from leads.models import (
    Campaign,
    ContactAttempt,
    Deal,
    FunnelChange,
    Handoff,
    Lead,
    StageEvent,
    Touch,
)
from leads.selectors import funnel_data_end
from leads.services import (
    attempts_upsert,
    campaigns_upsert,
    deals_upsert,
    handoff_accept,
    handoff_reject,
    handoffs_refresh_outcomes,
    leads_upsert,
    stage_events_upsert,
    touches_upsert,
)

pytestmark = pytest.mark.django_db
OUTCOMES_STORED = ("pk", "sql_reached_at", "lead_won", "window_attempts", "window_success")

NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)  # a Wednesday; campaigns may run past it
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: no week of the data starts in 2025
LAST_HOUR = int((NOW - START) / timedelta(hours=1)) - 1  # every event happens before NOW
# The range both paths cover: the baseline full recompute, and the full recompute at the end.
RANGE_START, RANGE_END = date(2025, 12, 1), date(2026, 6, 30)

CAMPAIGNS, LEADS = 3, 6
CHANNELS = ["webinar", "email", "paid_search"]
SEGMENTS = ["", "smb", "enterprise"]  # "enterprise" reaches the MQL threshold: auto handoff
OWNERS = [None, "sam", "sue"]
STAGES = ["mql", "sal", "sql", "opportunity", "won", "lost", "rejected", "recycled",
          "disqualified", "inquiry"]  # fmt: skip
REASONS = ["bad_fit", "no_budget", "not_ready"]
OUTCOMES = ["no_answer", "voicemail", "connected", "replied", "meeting_booked"]
AMOUNTS = [Decimal(0), Decimal("1000.00"), Decimal("2500.50")]
COSTS = [Decimal(0), Decimal(1000), Decimal("3333.33")]

FIELDS = ("metric", "period", "period_start", "dimension", "key", "model", "value",
          "numerator", "denominator")  # fmt: skip


def snapshots() -> set[tuple]:
    """Every snapshot row but its computed_at."""
    return set(KpiSnapshot.objects.values_list(*FIELDS))


def at(hour: int) -> datetime:
    return START + timedelta(hours=hour)


# --- the operations -------------------------------------------------------------------------
# Indices pick among the records that exist when the operation runs (modulo their number);
# `existing=None` ingests a new record, an index re-sends an existing one changed (an upsert).


@dataclass(frozen=True)
class CampaignUpsert:
    c: int
    channel: str
    starts: int  # days after START
    days: int
    cost: Decimal


@dataclass(frozen=True)
class LeadUpsert:
    lead: int
    hour: int
    campaign: int | None
    owner: str | None
    segment: str


@dataclass(frozen=True)
class TouchUpsert:
    existing: int | None
    lead: int
    campaign: int
    hour: int


@dataclass(frozen=True)
class StageUpsert:
    existing: int | None
    lead: int
    stage: str
    hour: int
    reason: str


@dataclass(frozen=True)
class Decide:
    lead: int
    accept: bool
    reason: str


@dataclass(frozen=True)
class AttemptUpsert:
    existing: int | None
    lead: int
    hour: int
    outcome: str


@dataclass(frozen=True)
class DealUpsert:
    existing: int | None
    lead: int
    amount: Decimal
    hour: int
    status: str
    close_after_days: int


@dataclass(frozen=True)
class AdminLead:
    lead: int
    campaign: int | None
    hour: int | None  # None keeps created_at
    owner: str | None
    segment: str


@dataclass(frozen=True)
class AdminDeal:
    deal: int
    amount: Decimal
    status: str
    close_after_days: int


@dataclass(frozen=True)
class AdminTouch:
    touch: int
    lead: int
    campaign: int
    hour: int


@dataclass(frozen=True)
class AdminAttempt:
    attempt: int
    lead: int
    hour: int
    outcome: str


@dataclass(frozen=True)
class AdminCampaign:
    c: int
    channel: str
    starts: int
    days: int
    cost: Decimal


@dataclass(frozen=True)
class AdminDelete:
    model: str
    index: int


hours = st.integers(0, LAST_HOUR)
lead_ix = st.integers(0, LEADS - 1)
campaign_ix = st.integers(0, CAMPAIGNS - 1)
existing = st.none() | st.integers(0, 7)
status = st.sampled_from(["open", "won", "lost"])
campaign_fields = {
    "c": campaign_ix,
    "channel": st.sampled_from(CHANNELS),
    "starts": st.integers(0, 120),
    "days": st.integers(0, 60),
    "cost": st.sampled_from(COSTS),
}

leads = st.builds(
    LeadUpsert,
    lead=lead_ix,
    hour=hours,
    campaign=st.none() | campaign_ix,
    owner=st.sampled_from(OWNERS),
    segment=st.sampled_from(SEGMENTS),
)
operations = st.one_of(
    st.builds(CampaignUpsert, **campaign_fields),
    leads,
    st.builds(TouchUpsert, existing=existing, lead=lead_ix, campaign=campaign_ix, hour=hours),
    st.builds(
        StageUpsert,
        existing=existing,
        lead=lead_ix,
        stage=st.sampled_from(STAGES),
        hour=hours,
        reason=st.sampled_from(REASONS),
    ),
    st.builds(Decide, lead=lead_ix, accept=st.booleans(), reason=st.sampled_from(REASONS)),
    st.builds(
        AttemptUpsert,
        existing=existing,
        lead=lead_ix,
        hour=hours,
        outcome=st.sampled_from(OUTCOMES),
    ),
    st.builds(
        DealUpsert,
        existing=existing,
        lead=lead_ix,
        amount=st.sampled_from(AMOUNTS),
        hour=hours,
        status=status,
        close_after_days=st.integers(0, 90),
    ),
    st.builds(
        AdminLead,
        lead=lead_ix,
        campaign=st.none() | campaign_ix,
        hour=st.none() | hours,
        owner=st.sampled_from(OWNERS),
        segment=st.sampled_from(SEGMENTS),
    ),
    st.builds(
        AdminDeal,
        deal=st.integers(0, 7),
        amount=st.sampled_from(AMOUNTS),
        status=status,
        close_after_days=st.integers(0, 90),
    ),
    st.builds(AdminTouch, touch=st.integers(0, 7), lead=lead_ix, campaign=campaign_ix, hour=hours),
    st.builds(
        AdminAttempt,
        attempt=st.integers(0, 7),
        lead=lead_ix,
        hour=hours,
        outcome=st.sampled_from(OUTCOMES),
    ),
    st.builds(AdminCampaign, **campaign_fields),
    st.builds(
        AdminDelete,
        model=st.sampled_from(["deal", "touch", "attempt", "lead", "campaign"]),
        index=st.integers(0, 7),
    ),
)


class Funnel:
    """Applies operations through the services and the admin; skips what does not apply."""

    def __init__(self, decider: object, request: object) -> None:
        self.decider = decider
        self.request = request
        self.serial = 0

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    @staticmethod
    def _pick(qs: object, index: int | None) -> object | None:
        rows = list(qs.order_by("pk"))
        return rows[index % len(rows)] if rows and index is not None else None

    @staticmethod
    def _campaign(index: int | None) -> str | None:
        if index is None:
            return None
        found = Campaign.objects.filter(external_id=f"C{index}").exists()
        return f"C{index}" if found else None

    def _lead(self, index: int) -> Lead | None:
        return Lead.objects.filter(external_id=f"L{index}").first() or self._pick(
            Lead.objects, index
        )

    @staticmethod
    def _closed(created_at: datetime, status: str, after_days: int) -> datetime | None:
        if status == "open":
            return None
        return max(created_at, min(created_at + timedelta(days=after_days), NOW))

    @staticmethod
    def _span(starts: int, days: int) -> tuple[date, date]:
        first = START.date() + timedelta(days=starts)
        return first, min(first + timedelta(days=days), RANGE_END)

    def _admin_save(self, obj: object, change: bool = True) -> bool:
        """Save `obj` as the admin's change form does (it validates the model first)."""
        try:
            obj.full_clean()
        except ValidationError:
            return False
        admin.site._registry[type(obj)].save_model(self.request, obj, None, change)
        return True

    def apply(self, op: object) -> str | None:
        """Apply `op`; return what was done (for the report), or None if it did not apply."""
        if isinstance(op, CampaignUpsert | AdminCampaign):
            first, last = self._span(op.starts, op.days)
            if isinstance(op, AdminCampaign):
                campaign = Campaign.objects.filter(external_id=f"C{op.c}").first()
                if campaign is None:
                    return None
                campaign.channel, campaign.cost = op.channel, op.cost
                campaign.starts_on, campaign.ends_on = first, last
                return "admin saved campaign" if self._admin_save(campaign) else None
            campaigns_upsert(
                rows=[
                    {
                        "external_id": f"C{op.c}",
                        "name": f"Campaign {op.c}",
                        "channel": op.channel,
                        "starts_on": first,
                        "ends_on": last,
                        "cost": op.cost,
                    }
                ]
            )
            return f"campaign C{op.c} {op.channel} {first}..{last} cost {op.cost}"

        if isinstance(op, LeadUpsert):
            leads_upsert(
                rows=[
                    {
                        "external_id": f"L{op.lead}",
                        "created_at": at(op.hour),
                        "campaign": self._campaign(op.campaign),
                        "owner": op.owner,
                        "segment": op.segment,
                        "attributes": {},
                    }
                ]
            )
            return f"lead L{op.lead} at {at(op.hour)} campaign {self._campaign(op.campaign)}"

        if isinstance(op, AdminLead):
            lead = self._lead(op.lead)
            if lead is None:
                return None
            lead.campaign = Campaign.objects.filter(external_id=self._campaign(op.campaign)).first()
            lead.owner = get_user_model().objects.filter(username=op.owner).first()
            lead.segment = op.segment
            if op.hour is not None:
                lead.created_at = at(op.hour)
            return f"admin saved lead {lead.external_id}" if self._admin_save(lead) else None

        if isinstance(op, TouchUpsert):
            lead, campaign = self._lead(op.lead), self._campaign(op.campaign)
            if lead is None or campaign is None:
                return None
            old = self._pick(Touch.objects, op.existing)
            touches_upsert(
                rows=[
                    {
                        "external_id": old.external_id if old else self._id("T"),
                        "lead": lead.external_id,
                        "campaign": campaign,
                        "occurred_at": at(op.hour),
                        "kind": "visit",
                    }
                ]
            )
            return f"touch of {lead.external_id} by {campaign} at {at(op.hour)}"

        if isinstance(op, AdminTouch):
            touch, lead = self._pick(Touch.objects, op.touch), self._lead(op.lead)
            campaign = Campaign.objects.filter(external_id=self._campaign(op.campaign)).first()
            if touch is None or lead is None or campaign is None:
                return None
            touch.lead, touch.campaign, touch.occurred_at = lead, campaign, at(op.hour)
            return "admin saved touch" if self._admin_save(touch) else None

        if isinstance(op, StageUpsert):
            lead = self._lead(op.lead)
            if lead is None:
                return None
            old = self._pick(StageEvent.objects.exclude(external_id=None), op.existing)
            stage_events_upsert(
                rows=[
                    {
                        "external_id": old.external_id if old else self._id("SE"),
                        "lead": lead.external_id,
                        "stage": op.stage,
                        "occurred_at": at(op.hour),
                        "reason": op.reason if op.stage == "rejected" else "",
                        "actor": None,
                        "note": "",
                    }
                ]
            )
            return f"stage {op.stage} of {lead.external_id} at {at(op.hour)}"

        if isinstance(op, Decide):
            pending = Handoff.objects.filter(status=Handoff.Status.PENDING)
            lead = self._lead(op.lead)
            handoff = pending.filter(lead=lead).first() or self._pick(pending, op.lead)
            if handoff is None:
                return None
            if op.accept:
                handoff_accept(handoff=handoff, by=self.decider)
            else:
                handoff_reject(handoff=handoff, by=self.decider, reason=op.reason, feedback="no")
            return f"{'accepted' if op.accept else 'rejected'} handoff of lead {handoff.lead_id}"

        if isinstance(op, AttemptUpsert):
            lead = self._lead(op.lead)
            if lead is None:
                return None
            old = self._pick(ContactAttempt.objects.exclude(external_id=None), op.existing)
            attempts_upsert(
                rows=[
                    {
                        "external_id": old.external_id if old else self._id("A"),
                        "lead": lead.external_id,
                        "occurred_at": at(op.hour),
                        "channel": "call",
                        "outcome": op.outcome,
                        "actor": "sam",
                    }
                ]
            )
            return f"attempt on {lead.external_id} at {at(op.hour)} {op.outcome}"

        if isinstance(op, AdminAttempt):
            attempt, lead = self._pick(ContactAttempt.objects, op.attempt), self._lead(op.lead)
            if attempt is None or lead is None:
                return None
            attempt.lead, attempt.occurred_at, attempt.outcome = lead, at(op.hour), op.outcome
            return "admin saved attempt" if self._admin_save(attempt) else None

        if isinstance(op, DealUpsert):
            lead = self._lead(op.lead)
            if lead is None:
                return None
            old = self._pick(Deal.objects, op.existing)
            created = at(op.hour)
            closed = self._closed(created, op.status, op.close_after_days)
            deals_upsert(
                rows=[
                    {
                        "external_id": old.external_id if old else self._id("D"),
                        "lead": lead.external_id,
                        "amount": op.amount,
                        "created_at": created,
                        "closed_at": closed,
                        "status": op.status,
                    }
                ]
            )
            return f"deal of {lead.external_id} {op.amount} {op.status} {created}..{closed}"

        if isinstance(op, AdminDeal):
            deal = self._pick(Deal.objects, op.deal)
            if deal is None:
                return None
            deal.amount, deal.status = op.amount, op.status
            deal.closed_at = self._closed(deal.created_at, op.status, op.close_after_days)
            return f"admin saved deal {deal.external_id}" if self._admin_save(deal) else None

        if isinstance(op, AdminDelete):
            model = {
                "deal": Deal,
                "touch": Touch,
                "attempt": ContactAttempt,
                "lead": Lead,
                "campaign": Campaign,
            }[op.model]
            obj = self._pick(model.objects, op.index)
            if obj is None:
                return None
            try:
                admin.site._registry[model].delete_model(self.request, obj)
            except ProtectedError:  # the admin refuses to delete a campaign still in use
                return None
            return f"admin deleted {op.model} {obj.pk}"

        raise AssertionError(f"unknown operation {op!r}")


# --- the property ---------------------------------------------------------------------------


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def baseline(
    frozen_now: datetime,
    make_user: Callable[..., object],
    sales_rep: object,
    heads: tuple[object, object],
    admin_user: object,
    signed_definition: Callable[..., object],
) -> Iterator[tuple[object, object]]:
    """Two sales reps (sam, sue), a lead definition that hands off enterprise leads, and the
    snapshots of an empty funnel over the whole range, as a full recompute wrote them."""
    make_user("sue", Role.SALES_REP)
    signed_definition(
        [{"field": "segment", "operator": "equals", "value": "enterprise", "points": 60}],
        threshold=50,
    )
    recompute_periods(RANGE_START, RANGE_END)
    kpis_recompute_dirty()
    assert not FunnelChange.objects.exists()
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    yield heads[1], request


def recompute_periods(since: date, until: date | None = None) -> None:
    """Run the units of a full recompute from `since` one after the other, as the nightly job
    does in one process: the days of every month, then each kind's periods."""
    for kind, month in recompute_units(since=since, until=until):
        kpis_recompute_unit(kind=kind, month=month, since=since, until=until)


def full_recompute() -> None:
    """Recompute every period the nightly full recompute covers: from RANGE_START to the end
    of the month of today or of the last campaign's end."""
    assert funnel_data_end() <= RANGE_END
    recompute_periods(RANGE_START, funnel_data_end())


def _difference(incremental: set[tuple], full: set[tuple], limit: int = 20) -> str:
    lines = [f"- incremental {row}" for row in sorted(incremental - full, key=str)[:limit]]
    lines += [f"+ full        {row}" for row in sorted(full - incremental, key=str)[:limit]]
    return "\n".join(lines)


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# The shrunk failures this test found, kept as regression cases.
@example(  # a new campaign's cost was never recomputed (campaigns_upsert marked nothing)
    setup=[CampaignUpsert(c=0, channel="webinar", starts=0, days=0, cost=Decimal(0))],
    batches=[[]],
)
@example(  # an open deal is in the pipeline of the weeks after today that a full recompute covers
    setup=[LeadUpsert(lead=0, hour=0, campaign=None, owner=None, segment="")],
    batches=[[DealUpsert(None, 0, Decimal(0), hour=0, status="open", close_after_days=0)]],
)
@example(  # a campaign ending later brings weeks into a full recompute: the open deal's pipeline
    setup=[LeadUpsert(lead=0, hour=0, campaign=None, owner=None, segment="")],
    batches=[
        [DealUpsert(None, 0, Decimal(1000), hour=0, status="open", close_after_days=0)],
        [CampaignUpsert(c=0, channel="webinar", starts=100, days=20, cost=Decimal(0))],
    ],
)
@example(  # the same in the admin
    setup=[
        CampaignUpsert(c=0, channel="webinar", starts=0, days=0, cost=Decimal(0)),
        LeadUpsert(lead=0, hour=0, campaign=None, owner=None, segment=""),
    ],
    batches=[
        [DealUpsert(None, 0, Decimal(1000), hour=0, status="open", close_after_days=0)],
        [AdminCampaign(c=0, channel="webinar", starts=100, days=20, cost=Decimal(0))],
    ],
)
@example(  # a campaign's new channel is a dimension of its leads' records (outside its days)
    setup=[
        CampaignUpsert(c=0, channel="webinar", starts=0, days=0, cost=Decimal(0)),
        LeadUpsert(lead=0, hour=1000, campaign=0, owner=None, segment=""),  # in February
    ],
    batches=[[], [CampaignUpsert(c=0, channel="email", starts=0, days=0, cost=Decimal(0))]],
)
@example(  # the same edit in the admin
    setup=[
        CampaignUpsert(c=0, channel="webinar", starts=0, days=0, cost=Decimal(0)),
        LeadUpsert(lead=0, hour=1000, campaign=0, owner=None, segment=""),  # in February
    ],
    batches=[[], [AdminCampaign(c=0, channel="email", starts=0, days=0, cost=Decimal(0))]],
)
@given(
    setup=st.tuples(
        st.lists(st.builds(CampaignUpsert, **campaign_fields), min_size=1, max_size=2),
        st.lists(leads, min_size=1, max_size=3),
    ).map(lambda parts: [*parts[0], *parts[1]]),
    batches=st.lists(st.lists(operations, min_size=1, max_size=6), min_size=1, max_size=3),
)
def test_incremental_recompute_leaves_the_same_snapshots_as_a_full_recompute(
    baseline: tuple[object, object],
    django_capture_on_commit_callbacks: Callable[..., object],
    setup: list[object],
    batches: list[list[object]],
) -> None:
    decider, request = baseline
    funnel = Funnel(decider, request)
    with transaction.atomic():  # each example starts from the baseline
        try:
            for batch in [setup + batches[0], *batches[1:]]:  # the setup lands with the first
                # Each write commits on its own and queues the dirty recompute on commit; the
                # queue is debounced, so a few writes land before it runs: a batch.
                with django_capture_on_commit_callbacks(execute=True):
                    for op in batch:
                        done = funnel.apply(op)
                        if done:
                            note(done)
                note("-- the on-commit recompute of the dirty periods runs")
                assert not FunnelChange.objects.exists(), "the recompute left periods dirty"
            incremental = snapshots()
            # The handoffs' stored outcomes are what their leads' records say now.
            outcomes = list(Handoff.objects.order_by("pk").values_list(*OUTCOMES_STORED))
            handoffs_refresh_outcomes()
            assert list(Handoff.objects.order_by("pk").values_list(*OUTCOMES_STORED)) == outcomes

            full_recompute()
            full = snapshots()

            if incremental != full:  # (pytest's own diff of two large sets takes long)
                pytest.fail(
                    "the dirty-period recompute left other snapshots than a full recompute:\n"
                    + _difference(incremental, full)
                )
        finally:
            transaction.set_rollback(True)
