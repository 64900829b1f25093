from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignment.roles import Role
from core.catalog import METRICS, Aggregation
from core.periods import next_period, periods_between
from kpis import engine
from kpis.models import KpiSnapshot, RecomputeJob
from kpis.services import (
    DirtyRun,
    kpis_recompute,
    kpis_recompute_dirty,
    recompute_job_run,
    recompute_job_start,
    recompute_units,
)
from leads.changes import funnel_changed
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
from tests.conftest import World, goal

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)


def snapshot_rows() -> list[tuple]:
    return sorted(
        KpiSnapshot.objects.values_list(
            "metric",
            "period",
            "period_start",
            "dimension",
            "key",
            "model",
            "value",
            "numerator",
            "denominator",
        )
    )


@pytest.fixture
def some_funnel(world: World) -> World:
    world.campaign("A", starts_on="2026-03-01", ends_on="2026-03-31", cost=1000)
    lead = world.lead("2026-03-02T09:00:00+00:00", campaign="A")
    world.touch(lead, "A", "2026-03-02T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-03T10:00:00+00:00")
    world.stage(lead, "sal", "2026-03-03T12:00:00+00:00")
    world.deal(
        lead, 900, "2026-03-05T10:00:00+00:00", status="won", closed_at="2026-03-09T10:00:00+00:00"
    )
    return world


def test_recomputing_twice_gives_identical_snapshots(some_funnel: World) -> None:
    kpis_recompute(kind="month", periods=[MARCH])
    first = snapshot_rows()
    kpis_recompute(kind="month", periods=[MARCH])
    assert snapshot_rows() == first
    assert len(first) > 50


def test_a_recompute_that_fails_half_way_keeps_the_previous_snapshots(
    some_funnel: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    kpis_recompute(kind="month", periods=[MARCH])
    before = snapshot_rows()

    def explode(*args: object) -> None:
        raise RuntimeError("worker died")

    monkeypatch.setattr(engine, "_percentile_metrics", explode)
    with pytest.raises(RuntimeError):
        kpis_recompute(kind="month", periods=[MARCH])
    assert snapshot_rows() == before


def test_a_recompute_replaces_only_its_own_periods(some_funnel: World) -> None:
    kpis_recompute(kind="month", periods=[MARCH])
    kpis_recompute(kind="week", periods=[date(2026, 3, 2)])
    kpis_recompute(kind="month", periods=[MARCH])
    assert KpiSnapshot.objects.filter(period="week").exists()


def test_it_refuses_a_period_that_is_not_a_period_start(db: None) -> None:
    with pytest.raises(ValueError, match="starts of a month"):
        kpis_recompute(kind="month", periods=[date(2026, 3, 2)])


def _dirty() -> set[tuple[str, date]]:
    return set(FunnelChange.objects.values_list("period", "period_start"))


def test_a_write_marks_its_day_dirty_in_the_same_transaction(world: World) -> None:
    world.lead("2026-03-02T09:00:00+00:00")
    assert _dirty() == {("day", date(2026, 3, 2))}


def test_a_late_outcome_marks_the_cohorts_old_day_dirty(world: World) -> None:
    lead = world.lead("2026-03-02T09:00:00+00:00")
    world.stage(lead, "mql", "2026-03-03T10:00:00+00:00")
    FunnelChange.objects.all().delete()
    world.deal(
        lead, 100, "2026-06-01T10:00:00+00:00", status="won", closed_at="2026-06-10T10:00:00+00:00"
    )
    assert {("day", date(2026, 3, 3)), ("day", date(2026, 6, 10))} <= _dirty()


def test_an_open_deal_marks_the_days_it_opens_and_closes_not_its_whole_pipeline(
    world: World,
) -> None:
    lead = world.lead("2026-01-02T09:00:00+00:00")
    FunnelChange.objects.all().delete()
    world.deal(
        lead, 100, "2026-01-05T10:00:00+00:00", status="won", closed_at="2026-04-10T10:00:00+00:00"
    )
    assert _dirty() == {("day", date(2026, 1, 2)), ("day", date(2026, 1, 5)),
                        ("day", date(2026, 4, 10))}  # fmt: skip


def test_an_open_deal_moves_the_pipeline_of_every_later_period_after_a_dirty_recompute(
    world: World,
) -> None:
    lead = world.lead("2026-01-02T09:00:00+00:00")
    deal = world.deal(lead, 100, "2026-01-05T10:00:00+00:00")
    kpis_recompute_dirty(now=datetime(2026, 3, 15, tzinfo=UTC))
    for month in (1, 2, 3):
        assert _total("pipeline_open", "month", date(2026, month, 1)) == 100
    world.deal(lead, 100, "2026-01-05T10:00:00+00:00", status="won",
               closed_at="2026-02-10T10:00:00+00:00", external_id=deal)  # fmt: skip
    assert _dirty() == {("day", date(2026, 1, 2)), ("day", date(2026, 1, 5)),
                        ("day", date(2026, 2, 10))}  # fmt: skip
    kpis_recompute_dirty(now=datetime(2026, 3, 15, tzinfo=UTC))
    assert _total("pipeline_open", "month", date(2026, 1, 1)) == 100
    assert (
        not KpiSnapshot.objects.filter(
            metric="pipeline_open", period="month", period_start__gte=date(2026, 2, 1), dimension=""
        )
        .exclude(numerator=0)
        .exists()
    )


def test_a_failed_ingest_marks_nothing(world: World) -> None:
    from leads.errors import RowsInvalid
    from leads.services import touches_upsert

    with pytest.raises(RowsInvalid):
        touches_upsert(
            rows=[
                {
                    "external_id": "T",
                    "lead": "nope",
                    "campaign": "nope",
                    "occurred_at": datetime.now(UTC),
                }
            ]
        )
    assert not FunnelChange.objects.exists()


def test_recomputing_the_dirty_periods_clears_them(some_funnel: World) -> None:
    assert FunnelChange.objects.exists()
    kpis_recompute_dirty()
    assert not FunnelChange.objects.exists()
    row = KpiSnapshot.objects.get(
        metric="revenue_won", period="month", period_start=MARCH, dimension=""
    )
    assert row.value == 900


def test_a_period_marked_again_during_its_recompute_stays_dirty(
    some_funnel: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = engine.days_refresh

    def compute_while_a_write_lands(**kwargs: object) -> set:
        result = original(**kwargs)
        funnel_changed(at=date(2026, 3, 15))  # a write committed while we computed
        return result

    monkeypatch.setattr("kpis.services.days_refresh", compute_while_a_write_lands)
    FunnelChange.objects.update(marked_at=datetime(2026, 1, 1, tzinfo=UTC))
    kpis_recompute_dirty()
    assert _dirty() == {("day", date(2026, 3, 15))}


def test_on_commit_the_dirty_periods_are_recomputed_without_a_manual_step(
    world: World, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        world.lead("2026-03-02T09:00:00+00:00")
    row = KpiSnapshot.objects.get(
        metric="leads_created", period="month", period_start=MARCH, dimension=""
    )
    assert row.value == 1
    assert not FunnelChange.objects.exists()


def test_a_full_recompute_covers_every_kind_and_month_and_reports_progress(
    some_funnel: World, django_capture_on_commit_callbacks: object
) -> None:
    units = recompute_units(since=date(2026, 1, 1), until=date(2026, 3, 31))
    days = [("day", date(2025, 12, 1)), *(("day", date(2026, m, 1)) for m in (1, 2, 3))]
    assert units[:4] == days  # the days of every month first: the periods are their sums
    assert units[4:] == [  # then each kind's periods, a year at a time
        ("week", date(2025, 1, 1)),  # the week of 29 Dec 2025 holds 1 Jan
        ("week", date(2026, 1, 1)),
        ("month", date(2026, 1, 1)),
        ("quarter", date(2026, 1, 1)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = recompute_job_start(since=date(2026, 1, 1))
    job.refresh_from_db()
    assert (job.status, job.done_units, job.failed_units) == ("done", job.total_units, 0)
    assert job.progress == 1
    assert KpiSnapshot.objects.filter(period="quarter", period_start=date(2026, 1, 1)).exists()


def test_a_full_recompute_computes_the_quarter_and_week_that_hold_the_first_data_day(
    world: World, django_capture_on_commit_callbacks: object
) -> None:
    lead = world.lead("2025-12-02T09:00:00+00:00")  # a Tuesday, in the last month of Q4 2025
    world.stage(lead, "mql", "2025-12-03T10:00:00+00:00")
    KpiSnapshot.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        job = recompute_job_start()  # what "Recompute now" and the nightly task run
    job.refresh_from_db()
    assert (job.status, job.done_units, job.failed_units) == ("done", job.total_units, 0)
    assert job.since == date(2025, 12, 2)
    for kind, start in [("month", date(2025, 12, 1)), ("quarter", date(2025, 10, 1)),
                        ("week", date(2025, 12, 1))]:  # fmt: skip
        assert _total("leads_created", kind, start) == 1, kind
        assert _total("mqls", kind, start) == 1, kind


def test_running_a_job_in_process_recomputes_the_units_it_counted(world: World) -> None:
    world.lead("2025-11-04T09:00:00+00:00")
    KpiSnapshot.objects.all().delete()
    job = recompute_job_start(since=date(2025, 11, 4), fan_out=False)
    recompute_job_run(job=job)
    assert (job.status, job.done_units, job.failed_units) == ("done", job.total_units, 0)
    assert _total("leads_created", "quarter", date(2025, 10, 1)) == 1


def _total(metric: str, kind: str, start: date) -> Decimal:
    return KpiSnapshot.objects.get(
        metric=metric, period=kind, period_start=start, dimension="", key="", model=""
    ).numerator


def test_the_command_recomputes_everything(
    some_funnel: World, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("recompute_kpis", "--since", "2026-03-01", "--no-progress")
    assert "Recomputed" in capsys.readouterr().out
    assert RecomputeJob.objects.get().status == "done"
    assert (
        KpiSnapshot.objects.filter(metric="mqls", period="month", period_start=MARCH, dimension="")
        .get()
        .value
        == 1
    )


# --- a quarter is its months ------------------------------------------------------------------

NOW = datetime(2026, 3, 28, 12, tzinfo=UTC)
CENT = Decimal("0.01")  # attribution credits are rounded per stored cell


@pytest.fixture
def two_quarters(
    world: World,
    sales_rep: object,
    make_user: Callable[..., object],
    monkeypatch: pytest.MonkeyPatch,
    heads: tuple[object, object],
    marketing_rep: object,
) -> World:
    """Campaigns, leads, handoffs and deals from 2 December 2025 (the last month of a quarter)
    to March 2026, some of each crossing the turn of the quarter; the clock stands at 28 March."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    make_user("rita", Role.SALES_REP)
    world.campaign("A", channel="webinar", starts_on="2025-12-02", ends_on="2026-01-31", cost=6100)
    world.campaign(
        "B", channel="paid_search", starts_on="2025-12-10", ends_on="2026-02-28", cost=8100
    )
    world.campaign("C", channel="webinar", starts_on="2026-01-05", ends_on="2026-01-20", cost=1600)
    at = lambda day, hours=0: (day + timedelta(hours=hours)).isoformat()  # noqa: E731
    for n in range(18):
        created = datetime(2025, 12, 3, 9, tzinfo=UTC) + timedelta(days=5 * n)  # to 26 Feb
        campaign = ["A", "B", "C", None][n % 4]
        lead = world.lead(
            at(created), campaign=campaign, owner=[None, "sam", "rita"][n % 3],
            segment=["smb", "", "enterprise"][n % 3],
        )  # fmt: skip
        for i, touch in enumerate("ABC"[: n % 3 + 1]):
            world.touch(lead, touch, at(created, -24 * (i + 1)))
        if n % 5 == 4:
            continue  # never handed off
        handed = created + timedelta(days=n % 4 + 1)  # some cross into the next month
        world.stage(lead, "mql", at(handed))
        if n % 3:
            world.attempt(lead, at(handed, n % 7), outcome=["no_answer", "connected"][n % 2])
        if n % 6 == 5:
            world.stage(lead, "rejected", at(handed, 30), reason="bad_fit")
            continue
        if n % 7 == 6:
            if n > 10:  # recycled before sales decided: withdrawn
                world.stage(lead, "recycled", at(handed, 50))
            continue  # still pending
        world.stage(lead, "sal", at(handed, 20))
        if n % 2:
            continue
        world.stage(lead, "sql", at(handed, 72))
        status = ["won", "lost", "open"][n % 3]
        opened = handed + timedelta(days=4)
        closed = None if status == "open" else at(opened, 24 * (3 + n % 5))
        world.deal(lead, 1000 + 250 * n, at(opened), status=status, closed_at=closed)
    # Marketing disputes two of the three rejections; the heads settle both, one overturned.
    rejected = [
        lead
        for (lead,) in Lead.objects.filter(handoffs__status="rejected")
        .values_list("external_id")
        .order_by("created_at")
    ]
    for lead, outcome in zip(rejected, ["upheld", "overturned"], strict=False):
        decided = Handoff.objects.get(lead__external_id=lead, status="rejected").decided_at
        world.dispute(lead, by=marketing_rep, at=at(decided, 48), outcome=outcome, heads=heads)
    return world


def _snapshots() -> dict[tuple[str, str, str, str], dict[tuple[str, date], KpiSnapshot]]:
    """(metric, dimension, key, model) → (kind, period start) → snapshot."""
    cells: dict[tuple[str, str, str, str], dict[tuple[str, date], KpiSnapshot]] = {}
    for r in KpiSnapshot.objects.filter(period__in=["month", "quarter"]):
        cells.setdefault((r.metric, r.dimension, r.key, r.model), {})[
            (r.period, r.period_start)
        ] = r
    return cells


def test_a_quarter_adds_up_its_months_for_every_additive_metric_member_and_model(
    two_quarters: World,
) -> None:
    KpiSnapshot.objects.all().delete()
    job = recompute_job_start(fan_out=False)  # the nightly full recompute, in this process
    recompute_job_run(job=job)
    assert (job.status, job.failed_units) == ("done", 0)
    checked: set[str] = set()
    for (metric, dimension, key, model), cells in _snapshots().items():
        definition = METRICS[metric]
        for quarter in (date(2025, 10, 1), date(2026, 1, 1)):
            months = periods_between("month", quarter, next_period("quarter", quarter))[:3]
            whole = cells.get(("quarter", quarter))
            parts = [cells.get(("month", m)) for m in months]
            where = (metric, dimension, key, model, quarter)
            if definition.summable:
                total = sum((p.numerator for p in parts if p), Decimal(0))
                assert abs((whole.numerator if whole else 0) - total) <= CENT, where
                if definition.denominator_sums:
                    total = sum((p.denominator for p in parts if p), Decimal(0))
                    assert (whole.denominator if whole else 0) == total, where
            elif definition.aggregation is Aggregation.STOCK:
                last = parts[-1].numerator if parts[-1] else definition.empty_value()
                assert (whole.numerator if whole else definition.empty_value()) == last, where
            else:
                continue  # percentiles and attainments do not add up
            if whole and (whole.numerator or whole.denominator):
                checked.add(metric)
    # Every such metric the engine computes from the funnel (alignment's come from goals and
    # forecasts, which this world has none of) was compared with something; joint meetings
    # too, since every period has its weeks (and no meetings: zero a week).
    assert checked == {
        m.key
        for m in METRICS.values()
        if (m.summable or m.aggregation is Aggregation.STOCK)
        and (m.family != "alignment" or m.key == "joint_meetings_per_week")
    }


# --- properties -------------------------------------------------------------------------------


def _random_funnel(seed: int) -> None:
    """A small random funnel written straight through the services."""
    rng = random.Random(seed)
    world = World()
    for name in ("A", "B", "C"):
        world.campaign(
            name, starts_on="2026-01-01", ends_on="2026-06-30", cost=rng.randint(0, 5000)
        )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(rng.randint(3, 12)):
        created = start + timedelta(hours=rng.randint(0, 24 * 150))
        lead = world.lead(created.isoformat(), campaign=rng.choice(["A", "B", None]))
        for _ in range(rng.randint(0, 3)):
            world.touch(
                lead,
                rng.choice("ABC"),
                (created + timedelta(hours=rng.randint(0, 500))).isoformat(),
            )
        if rng.random() < 0.7:
            handed = created + timedelta(hours=rng.randint(1, 300))
            world.stage(lead, "mql", handed.isoformat())
            if rng.random() < 0.6:
                world.attempt(lead, (handed + timedelta(hours=rng.randint(0, 30))).isoformat())
            outcome = rng.choice(["sal", "rejected", None])
            if outcome:
                world.stage(
                    lead,
                    outcome,
                    (handed + timedelta(hours=rng.randint(1, 200))).isoformat(),
                    reason="bad_fit",
                )
            if outcome == "sal" and rng.random() < 0.7:
                opened = handed + timedelta(days=rng.randint(1, 20))
                status = rng.choice(["won", "lost", "open"])
                closed = (
                    (opened + timedelta(days=rng.randint(0, 40))).isoformat()
                    if status != "open"
                    else None
                )
                world.deal(
                    lead,
                    Decimal(rng.randint(0, 10**6)) / 100,
                    opened.isoformat(),
                    status=status,
                    closed_at=closed,
                )


def _wipe() -> None:
    for model in (Touch, ContactAttempt, Deal, Handoff, StageEvent, Lead, Campaign, FunnelChange):
        model.objects.all().delete()


ADDITIVE = ["leads_created", "mqls", "sals", "rejections", "sqls", "opportunities", "deals_won",
            "deals_lost", "revenue_won", "avg_deal_size", "win_rate", "handoffs_pending",
            "acceptance_rate", "sql_rate", "mql_to_won_rate", "sla_first_contact_rate",
            "sla_cadence_rate", "campaign_cost", "cost_per_lead"]  # fmt: skip


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_monthly_numerators_and_denominators_add_up_to_the_quarter(db: None, seed: int) -> None:
    _wipe()
    _random_funnel(seed)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    months = {
        (v.metric, v.period_start): v
        for v in engine.compute(
            kind="month", periods=[date(2026, m, 1) for m in (1, 2, 3)], now=now
        )
        if v.dimension == "" and v.model == ""
    }
    quarter = {
        v.metric: v
        for v in engine.compute(kind="quarter", periods=[date(2026, 1, 1)], now=now)
        if v.dimension == "" and v.model == ""
    }
    for metric in ADDITIVE:
        parts = [months[(metric, date(2026, m, 1))] for m in (1, 2, 3)]
        assert sum(p.numerator for p in parts) == pytest.approx(quarter[metric].numerator), metric
        if quarter[metric].denominator is not None:
            assert sum(p.denominator for p in parts) == quarter[metric].denominator, metric


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_every_models_credits_add_up_to_the_revenue_won(db: None, seed: int) -> None:
    _wipe()
    _random_funnel(seed)
    periods = [date(2026, m, 1) for m in range(1, 9)]
    found = engine.compute(kind="month", periods=periods)
    revenue = {
        v.period_start: v.numerator
        for v in found
        if v.metric == "revenue_won" and v.dimension == ""
    }
    for model in ("first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay"):
        for period in periods:
            credited = sum(
                v.numerator
                for v in found
                if v.metric == "attributed_revenue"
                and v.model == model
                and v.period_start == period
                and v.dimension == "campaign"
            )
            assert credited == revenue[period], (model, period)


def test_the_command_leaves_existing_snapshots_alone_when_asked(some_funnel: World) -> None:
    call_command("recompute_kpis", "--since", "2026-03-01", "--no-progress")
    call_command("recompute_kpis", "--if-empty", "--no-progress")
    assert RecomputeJob.objects.count() == 1


# --- what changes with time alone -----------------------------------------------------------


def _ratio(metric: str, kind: str, start: date) -> tuple[Decimal, Decimal | None]:
    row = KpiSnapshot.objects.get(
        metric=metric, period=kind, period_start=start, dimension="", key="", model=""
    )
    return row.numerator, row.denominator


def test_a_first_contact_deadline_that_passes_counts_its_handoff_with_no_write_between(
    world: World,
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")  # due by 13:00
    kpis_recompute_dirty(now=datetime(2026, 3, 2, 11, tzinfo=UTC))
    assert _ratio("sla_first_contact_rate", "month", MARCH) == (0, 0)
    assert not FunnelChange.objects.exists()
    kpis_recompute_dirty(now=datetime(2026, 3, 2, 14, tzinfo=UTC))  # the sweep, an hour late
    assert _ratio("sla_first_contact_rate", "month", MARCH) == (0, 1)


def test_a_passing_first_contact_deadline_counts_a_pending_handoff_as_not_followed_up(
    world: World,
) -> None:
    lead = world.lead("2026-03-01T08:00:00+00:00")
    world.stage(lead, "mql", "2026-03-02T09:00:00+00:00")  # due by 13:00
    kpis_recompute_dirty(now=datetime(2026, 3, 2, 11, tzinfo=UTC))
    assert _ratio("followed_up_rate", "month", MARCH) == (0, 0)
    kpis_recompute_dirty(now=datetime(2026, 3, 2, 14, tzinfo=UTC))  # no write between
    assert _ratio("followed_up_rate", "month", MARCH) == (0, 1)


def test_after_an_upgrade_the_first_dirty_run_builds_every_day_in_full(
    some_funnel: World, django_capture_on_commit_callbacks: object
) -> None:
    from kpis.models import EngineMark, KpiDaily

    KpiDaily.objects.all().delete()
    EngineMark.objects.create(name="rebuild", at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        kpis_recompute_dirty()
    assert KpiDaily.objects.filter(metric="revenue_won", day__month=3).exists()
    assert RecomputeJob.objects.get().status == "done"
    assert not EngineMark.objects.filter(name="rebuild").exists()


def test_a_goal_edit_recomputes_the_goals_of_its_periods_only(
    world: World, marketing_manager: object
) -> None:
    world.lead("2026-03-02T09:00:00+00:00")
    kpis_recompute_dirty(now=datetime(2026, 3, 10, tzinfo=UTC))
    goal(marketing_manager, metric="leads_created", target=Decimal(4), name="Leads in March",
         specific="Marketing brings 4 leads in March.")  # fmt: skip
    logged = set(FunnelChange.objects.values_list("period", "period_start", "part"))
    assert logged == {("week", date(2026, 3, d), "goals") for d in (2, 9, 16, 23, 30)} | {
        ("week", date(2026, 2, 23), "goals"), ("month", MARCH, "goals"),
        ("quarter", date(2026, 1, 1), "goals")}  # fmt: skip
    kpis_recompute_dirty(now=datetime(2026, 3, 11, tzinfo=UTC))
    assert _ratio("scorecard_attainment", "month", MARCH) == (Decimal("0.25"), 1)


# --- disputes in the change log ---------------------------------------------------------------


def _logged() -> set[tuple[date, str]]:
    return set(FunnelChange.objects.values_list("period_start", "part"))


def _cell(metric: str, start: date, dimension: str = "", key: str = "") -> tuple:
    row = KpiSnapshot.objects.get(
        metric=metric, period="month", period_start=start, dimension=dimension, key=key, model=""
    )
    return row.numerator, row.denominator


@pytest.fixture
def rejected_in_march(world: World) -> Handoff:
    """A lead of campaign A handed off on 2 March and rejected on 3 March, recomputed."""
    world.campaign("A", starts_on="2026-03-01", ends_on="2026-03-31")
    world.campaign("B", starts_on="2026-03-01", ends_on="2026-03-31")
    world.lead("2026-03-01T09:00:00+00:00", campaign="A", external_id="L-1")
    world.stage("L-1", "mql", "2026-03-02T10:00:00+00:00")
    world.stage("L-1", "rejected", "2026-03-03T10:00:00+00:00", reason="bad_fit")
    kpis_recompute_dirty(now=datetime(2026, 3, 20, tzinfo=UTC))
    return Handoff.objects.get()


def test_raising_and_settling_a_dispute_moves_its_numbers_through_the_change_log(
    rejected_in_march: Handoff, marketing_rep: object, heads: tuple[object, object]
) -> None:
    from leads.selectors import lead_activity
    from leads.services_disputes import dispute_confirm, dispute_raise, dispute_record_outcome

    april = date(2026, 4, 1)
    assert _cell("dispute_rate", MARCH) == (0, 1)
    dispute = dispute_raise(
        handoff=rejected_in_march, by=marketing_rep, comment="They have budget now.",
        now=datetime(2026, 3, 10, 9, tzinfo=UTC),
    )  # fmt: skip
    assert _logged() == {(date(2026, 3, 3), "decisions")}  # the rejection's day, not today's
    kpis_recompute_dirty(now=datetime(2026, 3, 20, tzinfo=UTC))
    assert _cell("dispute_rate", MARCH) == (1, 1)
    assert _cell("dispute_rate", MARCH, "reason", "bad_fit") == (1, 1)

    dispute = dispute_record_outcome(
        dispute=dispute, by=heads[0], outcome="upheld", now=datetime(2026, 3, 31, 17, tzinfo=UTC)
    )
    assert _logged() == set()  # awaiting the other head: nothing is settled yet
    dispute_confirm(dispute=dispute, by=heads[1], now=datetime(2026, 4, 1, 9, tzinfo=UTC))
    assert _logged() == {(april, "disputes")}  # the day the second head confirmed
    kpis_recompute_dirty(now=datetime(2026, 4, 2, tzinfo=UTC))
    assert _cell("dispute_overturn_rate", april) == (0, 1)
    assert _cell("dispute_rate", MARCH) == (1, 1)  # still disputed, whatever the outcome
    assert _cell("dispute_overturn_rate", april, "campaign", "A") == (0, 1)
    assert lead_activity(lead_ids=[rejected_in_march.lead_id])["disputes"] == {april}


def test_moving_a_lead_with_a_settled_dispute_moves_the_overturn_rate_of_its_settling_day(
    world: World,
    rejected_in_march: Handoff,
    marketing_rep: object,
    heads: tuple[object, object],
    sales_rep: object,
) -> None:
    world.dispute(
        "L-1", by=marketing_rep, at="2026-03-10T09:00:00+00:00", outcome="overturned", heads=heads
    )  # reopened: handed off again to sam on 10 March
    kpis_recompute_dirty(now=datetime(2026, 3, 20, tzinfo=UTC))
    assert _cell("dispute_overturn_rate", MARCH, "campaign", "A") == (1, 1)
    world.lead("2026-03-01T09:00:00+00:00", campaign="B", external_id="L-1")  # the CRM moves it
    assert (date(2026, 3, 10), "disputes") in _logged()
    kpis_recompute_dirty(now=datetime(2026, 3, 20, tzinfo=UTC))
    assert _cell("dispute_overturn_rate", MARCH, "campaign", "B") == (1, 1)
    assert not KpiSnapshot.objects.filter(
        metric="dispute_overturn_rate", dimension="campaign", key="A"
    ).exists()
    assert _cell("mqls", MARCH, "campaign", "B") == (2, None)  # the rejection and the reopening


# --- full recompute jobs: bounded, in units, dead when their worker died, retried -------------

NOVEMBER = date(2026, 11, 1)


@pytest.fixture
def november(world: World) -> World:
    """A lead, its MQL and a won deal in November 2026: a full recompute since 1 November is
    six units (the days of October to December, then the weeks, months and quarters of 2026)."""
    world.campaign("N", starts_on="2026-11-01", ends_on="2026-11-30", cost=300)
    lead = world.lead("2026-11-03T09:00:00+00:00", campaign="N")
    world.stage(lead, "mql", "2026-11-04T10:00:00+00:00")
    world.deal(
        lead, 500, "2026-11-05T10:00:00+00:00", status="won", closed_at="2026-11-20T10:00:00+00:00"
    )
    return world


class Killed(Exception):
    """What a process killed between two units leaves behind: nothing after that unit."""


def _killed_after(count: int) -> Callable[[], None]:
    done = []

    def on_unit() -> None:
        done.append(1)
        if len(done) == count:
            raise Killed

    return on_unit


@pytest.mark.parametrize(
    ("since", "words"),
    [
        (date(1, 1, 1), "Must be in the years 1970 to 2100"),
        (date(9999, 12, 31), "Must be in the years 1970 to 2100"),
        (date(1990, 1, 1), "at most 20 years (RECOMPUTE_MAX_YEARS): start on 2006-12-01 or later"),
        (date(2100, 1, 1), "Nothing to recompute after 2026-12-"),
    ],
)
def test_a_recompute_since_a_day_out_of_bounds_is_refused_and_creates_nothing(
    november: World, since: date, words: str
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        recompute_job_start(since=since)
    assert list(refused.value.message_dict) == ["since"]
    assert words in refused.value.message_dict["since"][0]
    assert not RecomputeJob.objects.exists()


def test_the_default_recompute_stays_within_the_bounds_whatever_old_data_there_is(
    november: World,
) -> None:
    from django.test import override_settings

    # Stored before dates were checked: a campaign that ends on the calendar's last day.
    Campaign.objects.filter(external_id="N").update(ends_on=date(9999, 12, 31))
    with override_settings(RECOMPUTE_MAX_YEARS=1, DATE_MAX_YEAR=2027):
        job = recompute_job_start(fan_out=False)
    assert (job.since, job.until) == (date(2026, 12, 1), date(2027, 12, 31))
    # The days from the quarter holding 1 December 2026 on, then 3 kinds of 2 years.
    assert job.total_units == job.units.count() == 15 + 3 * 2


def test_without_a_broker_a_job_started_by_a_request_runs_in_a_thread_not_in_the_request(
    november: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: object
) -> None:
    import threading

    from django.test import override_settings

    import kpis.services

    ran, release = [], threading.Event()

    def run_here(*, job: RecomputeJob) -> None:
        release.wait(5)
        ran.append((threading.current_thread().name, job.pk))

    monkeypatch.setattr(kpis.services, "recompute_job_run", run_here)
    monkeypatch.setattr(kpis.services.connections, "close_all", lambda: None)
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=True, KPI_RECOMPUTE_IN_BACKGROUND=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = recompute_job_start(since=NOVEMBER)  # what "Recompute now" runs
    assert ran == [] and not job.fan_out  # the caller returned before any unit ran
    release.set()
    for thread in threading.enumerate():
        if thread.name == kpis.services.JOB_THREAD_NAME:
            thread.join(5)
    assert ran == [(kpis.services.JOB_THREAD_NAME, job.pk)]


def test_a_job_killed_between_units_is_seen_dead_and_a_retry_runs_only_the_units_left(
    november: World,
) -> None:
    from django.core.exceptions import ValidationError

    from kpis.services import (
        recompute_job_retry,
        recompute_job_status,
        recompute_jobs_dead_mark,
    )

    job = recompute_job_start(since=NOVEMBER, fan_out=False)
    with pytest.raises(Killed):
        recompute_job_run(job=job, on_unit=_killed_after(4))  # the days, then the weeks
    job.refresh_from_db()
    assert (job.status, job.done_units, job.total_units) == ("running", 4, 6)
    later = timezone.now() + timedelta(minutes=6)
    assert recompute_job_status(job) == "running"  # a unit moved a moment ago
    assert recompute_job_status(job, later) == "dead"  # …and then none for five minutes
    with pytest.raises(ValidationError, match="is running"):
        recompute_job_retry(job=job, queue=False)
    assert recompute_jobs_dead_mark() == 0
    assert recompute_jobs_dead_mark(now=later) == 1  # the beat sweep
    job.refresh_from_db()
    assert job.status == "dead" and job.finished_at is not None

    job = recompute_job_retry(job=job, queue=False, now=later)
    assert (job.status, job.finished_at) == ("running", None)
    ran = []
    recompute_job_run(job=job, on_unit=lambda: ran.append(1))
    assert (job.status, job.done_units, len(ran)) == ("done", 6, 2)  # the month and quarter
    assert set(job.units.values_list("status", flat=True)) == {"done"}
    with pytest.raises(ValidationError, match="is done"):
        recompute_job_retry(job=job)
    resumed = snapshot_rows()
    KpiSnapshot.objects.all().delete()
    recompute_job_run(job=recompute_job_start(since=NOVEMBER, fan_out=False))
    assert snapshot_rows() == resumed  # the values of a clean recompute


def test_a_unit_that_fails_fails_the_job_and_a_retry_runs_that_unit_again(
    november: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: object
) -> None:
    import kpis.services
    from kpis.services import recompute_job_retry

    real = kpis.services.periods_compute

    def quarters_fail(*, kind: str, **kwargs: object) -> list:
        if kind == "quarter":
            raise RuntimeError("quarters are broken today")
        return real(kind=kind, **kwargs)

    monkeypatch.setattr(kpis.services, "periods_compute", quarters_fail)
    job = recompute_job_start(since=NOVEMBER, fan_out=False)
    recompute_job_run(job=job)
    assert (job.status, job.done_units, job.failed_units) == ("failed", 5, 1)
    assert job.error == "quarter 2026-01-01: quarters are broken today"
    assert not KpiSnapshot.objects.filter(period="quarter").exists()

    monkeypatch.setattr(kpis.services, "periods_compute", real)
    with django_capture_on_commit_callbacks(execute=True):
        job = recompute_job_retry(job=job)  # fanned out (eager under the test settings)
    job.refresh_from_db()
    assert (job.status, job.done_units, job.failed_units, job.error) == ("done", 6, 0, "")
    assert _total("deals_won", "quarter", date(2026, 10, 1)) == 1


def test_a_job_stuck_running_from_before_the_units_were_kept_is_marked_dead_and_retried_whole(
    november: World,
) -> None:
    from django.core.exceptions import ValidationError

    from kpis.services import recompute_job_retry, recompute_jobs_dead_mark

    # As the issue found them: "since year 1", 56,728 units, running for ever; and a sane one.
    stuck = RecomputeJob.objects.create(
        since=date(1, 1, 1), until=date(2026, 12, 1), status="running", total_units=56728,
        done_units=184,
    )  # fmt: skip
    sane = RecomputeJob.objects.create(
        since=NOVEMBER, until=date(2026, 12, 1), status="running", total_units=6, done_units=3
    )
    RecomputeJob.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert recompute_jobs_dead_mark() == 2
    with pytest.raises(ValidationError, match="Must be in the years 1970 to 2100"):
        recompute_job_retry(job=stuck, queue=False)
    stuck.refresh_from_db()
    assert stuck.status == "dead"
    job = recompute_job_retry(job=sane, queue=False)
    recompute_job_run(job=job)
    assert (job.status, job.done_units, job.total_units) == ("done", 6, 6)


def test_a_unit_reported_twice_is_counted_once(november: World) -> None:
    from kpis.services import recompute_job_unit_done

    job = recompute_job_start(since=NOVEMBER, fan_out=False)
    for _ in range(2):  # a task delivered again after its worker was lost
        recompute_job_unit_done(job_id=str(job.pk), kind="day", month=date(2026, 10, 1))
    job.refresh_from_db()
    assert (job.done_units, job.status) == (1, "running")


# --- the change log: one bad entry blocks no other ----------------------------------------------


def test_a_poisoned_change_log_entry_is_set_aside_with_its_error_and_the_others_recompute(
    november: World, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from kpis.selectors import changes_set_aside
    from leads.changes import funnel_changes

    now = timezone.now()
    # Written before dates were checked, or by a bug: the log takes them as they are.
    FunnelChange.objects.create(period="day", period_start=date(9999, 12, 31), marked_at=now)
    FunnelChange.objects.create(period="month", period_start=date(2026, 11, 15), marked_at=now)
    good = FunnelChange.objects.filter(period_start__year=2026).exclude(period="month").count()
    with caplog.at_level(logging.ERROR, logger="kpis.services"):
        run = kpis_recompute_dirty()
    assert run.recomputed == good > 0
    assert sorted(run.failed) == [
        "day 9999-12-31: Must be in the years 1970 to 2100 (DATE_MIN_YEAR, DATE_MAX_YEAR).",
        "month 2026-11-15: ValueError: Not all of (datetime.date(2026, 11, 15),) are starts "
        "of a month.",
    ]
    assert caplog.text.count("Could not recompute the logged") == 2
    assert [r.levelname for r in caplog.records] == ["ERROR", "ERROR"]
    # The good entries' numbers are in, whole: the failed batch's days were recomputed again.
    assert _total("leads_created", "month", NOVEMBER) == 1
    assert _total("deals_won", "week", date(2026, 11, 16)) == 1
    assert _total("mqls", "quarter", date(2026, 10, 1)) == 1
    assert funnel_changes() == []
    assert [str(c) for c in changes_set_aside()] == ["day 9999-12-31", "month 2026-11-15"]
    assert changes_set_aside()[1].error.startswith("ValueError: Not all of")
    assert kpis_recompute_dirty() == DirtyRun()  # set aside: not tried again

    november.lead("2026-11-06T09:00:00+00:00")  # a later write goes through
    assert kpis_recompute_dirty().recomputed == 1
    assert _total("leads_created", "month", NOVEMBER) == 2
    # A full recompute that covers an entry set aside clears it; one out of bounds stays.
    recompute_job_run(job=recompute_job_start(since=NOVEMBER, fan_out=False))
    assert [str(c) for c in changes_set_aside()] == ["day 9999-12-31"]


def test_an_entry_set_aside_is_cleared_once_it_is_logged_again_and_recomputes(
    world: World,
) -> None:
    from kpis.models import ChangeSetAside

    ChangeSetAside.objects.create(
        period="day", period_start=date(2026, 3, 2), part="leads", error="RuntimeError: a bug",
        failed_at=timezone.now(),
    )  # fmt: skip
    world.lead("2026-03-02T10:00:00+00:00")  # the same day logged again (after a fix)
    assert kpis_recompute_dirty().recomputed == 1
    assert _total("leads_created", "month", MARCH) == 1
    assert not ChangeSetAside.objects.exists()


def test_when_the_database_fails_the_run_raises_and_sets_nothing_aside(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    import kpis.services
    from kpis.models import ChangeSetAside

    world.lead("2026-03-02T09:00:00+00:00")

    def gone(**kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(kpis.services, "days_refresh", gone)
    with pytest.raises(OperationalError):
        kpis_recompute_dirty()
    assert FunnelChange.objects.count() == 1  # the next run (a retry, the sweep) takes it
    assert not ChangeSetAside.objects.exists()


def test_a_run_killed_after_writing_days_has_the_next_run_recompute_their_periods(
    some_funnel: World,
) -> None:
    from kpis.models import EngineMark

    kpis_recompute_dirty()
    some_funnel.lead("2026-03-20T09:00:00+00:00")
    # What a run killed midway leaves: the day's partials written, its periods not, its
    # entry still logged, and its mark.
    engine.days_refresh(days=[date(2026, 3, 20)], now=timezone.now())
    EngineMark.objects.create(name="dirty-run", at=timezone.now())
    assert _total("leads_created", "month", MARCH) == 1
    kpis_recompute_dirty()
    assert _total("leads_created", "month", MARCH) == 2
    assert _total("leads_created", "week", date(2026, 3, 16)) == 1
    assert not EngineMark.objects.filter(name="dirty-run").exists()
