"""The joint dashboard's builder: the demand waterfall and a period in progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise

import plotly.graph_objects as go
import pytest
from django.test import Client
from django.utils import timezone

from alignment.roles import Role
from kpis.charts import figure
from kpis.models import KpiSnapshot
from kpis.pages.campaigns import campaign_detail
from kpis.pages.dashboard import dashboard
from kpis.selectors import KpiFilter
from kpis.services import kpis_recompute
from tests.conftest import World

pytestmark = pytest.mark.django_db
FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
RANGE = {"period": "month", "start": MAR, "end": date(2026, 4, 30)}


# --- the demand waterfall is one set of leads ----------------------------------------------


@pytest.fixture
def crossing(world: World, sales_rep: object) -> World:
    """Leads whose flow events fall in the range though the leads do not, and back."""
    world.campaign("A", channel="webinar", starts_on="2026-02-01", ends_on="2026-04-30")
    world.campaign("B", channel="paid_search", starts_on="2026-02-01", ends_on="2026-04-30")
    early = world.lead("2026-02-27T09:00:00+00:00", campaign="A", owner="sam")  # before it
    world.stage(early, "mql", "2026-03-02T09:00:00+00:00")
    world.stage(early, "sal", "2026-03-02T12:00:00+00:00")
    world.stage(early, "sql", "2026-03-03T12:00:00+00:00")
    twice = world.lead("2026-03-03T09:00:00+00:00", campaign="A", owner="sam")  # two handoffs
    world.stage(twice, "mql", "2026-03-03T10:00:00+00:00")
    world.stage(twice, "rejected", "2026-03-04T10:00:00+00:00", reason="bad_fit")
    world.stage(twice, "mql", "2026-03-20T10:00:00+00:00")
    world.stage(twice, "sal", "2026-03-21T10:00:00+00:00")
    skipped = world.lead("2026-03-05T09:00:00+00:00", campaign="B")  # a deal, no SAL event
    world.stage(skipped, "mql", "2026-03-06T09:00:00+00:00")
    world.deal(
        skipped, 800, "2026-03-09T09:00:00+00:00", status="won", closed_at="2026-04-02T09:00:00Z"
    )
    world.lead("2026-04-10T09:00:00+00:00", campaign="B")  # not handed off yet
    old = world.lead("2026-01-15T09:00:00+00:00", campaign="B", owner="sam")  # wins in range
    world.stage(old, "mql", "2026-01-16T09:00:00+00:00")
    world.deal(
        old, 500, "2026-02-01T09:00:00+00:00", status="won", closed_at="2026-03-10T09:00:00Z"
    )
    kpis_recompute(kind="month", periods=[FEB, MAR, APR], now=datetime(2026, 6, 1, tzinfo=UTC))
    return world


def _slices() -> list[tuple[str | None, str | None]]:
    members = KpiSnapshot.objects.filter(
        metric__in=["leads_created", "funnel_mqls", "mqls"],
        dimension__in=["owner", "campaign", "channel"],
    ).values_list("dimension", "key")
    return [(None, None), *sorted(set(members))]


def test_under_any_filter_no_step_of_the_waterfall_exceeds_the_one_before(
    crossing: World,
) -> None:
    slices = _slices()
    assert {d for d, _ in slices} == {None, "owner", "campaign", "channel"}
    for dimension, key in slices:
        funnel = dashboard(KpiFilter(**RANGE, dimension=dimension, key=key)).funnel
        counts = [row[1] for row in funnel.rows]
        assert all(b <= a for a, b in pairwise(counts)), (dimension, key, counts)
        assert all(row[3] is None or row[3] >= 0 for row in funnel.rows), (dimension, key)
    sam = dashboard(KpiFilter(**RANGE, dimension="owner", key="sam")).funnel
    assert [row[1] for row in sam.rows] == [1, 1, 1, 0, 0, 0]  # the one lead of sam's range
    everyone = dashboard(KpiFilter(**RANGE)).funnel
    assert [row[1] for row in everyone.rows] == [3, 2, 2, 1, 1, 1]


def test_the_waterfall_says_which_leads_it_counts_and_as_of_when(crossing: World) -> None:
    note = dashboard(KpiFilter(**RANGE, dimension="owner", key="sam")).funnel.note
    assert note.startswith("Leads created from 1 Mar 2026 to 30 Apr 2026 owned by sam")
    assert "reached each stage by 1 Jun 2026" in note
    assert (
        "from channel webinar"
        in dashboard(KpiFilter(**RANGE, dimension="channel", key="webinar")).funnel.note
    )


def test_a_campaigns_funnel_is_the_dashboards_waterfall_filtered_to_it(crossing: World) -> None:
    for key in ("A", "B"):
        page = campaign_detail(key=key, f=KpiFilter(**RANGE))
        filtered = dashboard(KpiFilter(**RANGE, dimension="campaign", key=key))
        assert page.funnel.rows == filtered.funnel.rows, key
        assert page.funnel.note == filtered.funnel.note


# --- a period in progress compares like with like ------------------------------------------

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
DAY_ONE = datetime(2026, 12, 1, 8, tzinfo=UTC)  # 8 hours into December


@pytest.fixture
def first_of_december(world: World, monkeypatch: pytest.MonkeyPatch) -> KpiFilter:
    """Twenty leads in November; the clock stands at 08:00 on 1 December."""
    for day in range(1, 21):
        lead = world.lead(f"2026-11-{day:02d}T09:00:00+00:00")
        if day % 4 == 0:
            world.deal(lead, 1000, f"2026-11-{day:02d}T10:00:00+00:00", status="won",
                       closed_at=f"2026-11-{day:02d}T12:00:00+00:00")  # fmt: skip
    monkeypatch.setattr(timezone, "now", lambda: DAY_ONE)
    kpis_recompute(kind="month", periods=[NOV, DEC], now=DAY_ONE)
    return KpiFilter(period="month", start=NOV, end=DEC)


def test_on_the_first_of_a_month_the_tiles_say_so_far_and_give_no_verdict(
    first_of_december: KpiFilter,
) -> None:
    d = dashboard(first_of_december)
    assert d.elapsed == Decimal(8) / Decimal(31 * 24)  # to the second, not a whole day
    assert d.too_early
    leads = next(t for t in d.tiles if t.metric == "leads_created")
    assert leads.current.value == 0
    assert (leads.change, leads.verdict) == (None, "")  # was −100 % "bad" against the pace
    assert leads.partial and leads.too_early
    assert all(t.verdict == "" for t in d.tiles)


def test_once_enough_of_the_period_has_gone_by_the_tiles_compare_with_the_pace(
    first_of_december: KpiFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    halfway = datetime(2026, 12, 16, 12, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: halfway)
    leads = next(t for t in dashboard(first_of_december).tiles if t.metric == "leads_created")
    assert leads.partial and not leads.too_early
    assert (leads.basis, leads.verdict) == (Decimal(10), "bad")  # 0 so far against 10 by now


def test_the_trends_mark_the_period_in_progress(first_of_december: KpiFilter) -> None:
    d = dashboard(first_of_december)
    for ds in [*d.trends, d.sla_trend]:
        assert ds.partial, ds.slug
        assert ds.rows[-1][0] == "Dec 2026 (so far)", ds.slug
        assert ds.rows[0][0] == "Nov 2026", ds.slug
    volume = figure(next(ds for ds in d.trends if ds.slug == "volume"))
    legs = [t for t in volume["data"] if t.get("hoverinfo") == "skip"]
    assert len(legs) == 4  # one per series: a dotted leg from November to December
    assert all(t["x"] == ["2026-11-01", "2026-12-01"] and t["line"]["dash"] == "dot" for t in legs)
    assert all(t["y"][-1] is None for t in volume["data"] if t.get("showlegend", True))
    revenue = figure(next(ds for ds in d.trends if ds.slug == "revenue"))
    assert revenue["data"][0]["marker"]["opacity"] == [1.0, 0.45]  # a faded last bar
    for fig in (volume, revenue):
        go.Figure(fig)  # plotly.js knows every property
    over = dashboard(KpiFilter(period="month", start=date(2026, 10, 1), end=date(2026, 11, 30)))
    assert not any(ds.partial for ds in over.trends)  # a range that ends in a closed period


def test_the_page_says_so_far_and_too_early(
    first_of_december: KpiFilter, client: Client, make_user: Callable[..., object]
) -> None:
    client.force_login(make_user("mia", Role.MARKETING_REP))
    html = client.get("/?period=month&start=2026-11-01&end=2026-12-01").content.decode()
    assert "so far</span>" in html
    assert "too early to compare" in html
    assert "the last so far" in html
