from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from alignment.roles import Role
from core.periods import KINDS, period_start, previous_period
from kpis.models import RecomputeJob
from kpis.pages.common import tile
from kpis.selectors import KpiTable
from kpis.services import kpis_recompute
from leads.models import Handoff
from leads.services import handoff_reject
from tests.conftest import World, ago, csv_rows

pytestmark = pytest.mark.django_db


def recompute_recent() -> None:
    """Snapshots for the last four periods of every kind, as the engine would write them."""
    today = timezone.localdate()
    for kind in KINDS:
        periods = [period_start(kind, today)]
        for _ in range(3):
            periods.insert(0, previous_period(kind, periods[0]))
        kpis_recompute(kind=kind, periods=periods)


@pytest.fixture
def numbers(world: World, sales_rep: object, make_user: Callable[..., object]) -> World:
    """Two campaigns, four handoffs (won, rejected, pending past its SLA, pending fresh)."""
    make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Rep")
    begin = (timezone.localdate() - timedelta(days=90)).isoformat()
    end = (timezone.localdate() + timedelta(days=30)).isoformat()
    world.campaign("web", channel="webinar", starts_on=begin, ends_on=end, cost=1200)
    world.campaign("search", channel="paid_search", starts_on=begin, ends_on=end, cost=600)

    won = world.lead(ago(days=12), campaign="web", owner="sam", external_id="won")
    world.touch(won, "search", ago(days=12))
    world.touch(won, "web", ago(days=11))
    world.stage(won, "mql", ago(days=10))
    world.stage(won, "sal", ago(days=9), actor="sam")
    world.stage(won, "sql", ago(days=8))
    world.deal(won, 9000, ago(days=7), status="won", closed_at=ago(days=2))

    rejected = world.lead(ago(days=6), campaign="search", owner="rita", external_id="nobudget")
    world.stage(rejected, "mql", ago(days=5))
    handoff_reject(
        handoff=Handoff.objects.get(lead__external_id=rejected),
        by=make_user("rex", Role.SALES_MANAGER),
        reason="no_budget",
        feedback="Budget frozen until next year",
        rating=2,
    )

    late = world.lead(ago(days=3), campaign="web", owner="sam", external_id="late")
    world.stage(late, "mql", ago(days=2))
    fresh = world.lead(ago(hours=3), campaign="web", owner="sam", external_id="fresh")
    world.stage(fresh, "mql", ago(hours=1))
    recompute_recent()
    return world


@pytest.fixture
def as_user(client: Client, make_user: Callable[..., object]) -> Callable[[Role | None], Client]:
    def login(role: Role | None) -> Client:
        from django.contrib.auth import get_user_model

        username = f"user-{role or 'none'}"
        user = get_user_model().objects.filter(username=username).first()
        client.force_login(user or make_user(username, role))
        return client

    return login


# --- who sees what (SPEC §8) ----------------------------------------------------------------

PAGES = [
    "/", "/meeting/", "/campaigns/", "/campaigns/web/", "/definitions/", "/leads/inbox/",
    "/evidence/not_followed_up/",
]  # fmt: skip
ALLOWED = {
    Role.MARKETING_REP: {"/leads/inbox/": 403},
    Role.MARKETING_MANAGER: {"/leads/inbox/": 403},
    Role.SALES_REP: {},
    Role.SALES_MANAGER: {},
    Role.ADMIN: {},
    None: {"/leads/inbox/": 403},
}


def test_every_page_answers_each_role_as_the_spec_says(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    """The page-role matrix: everyone reads the shared pages; the inbox is for sales."""
    matrix = {
        str(role): {page: as_user(role).get(page).status_code for page in PAGES} for role in ALLOWED
    }
    assert matrix == {
        str(role): {page: ALLOWED[role].get(page, 200) for page in PAGES} for role in ALLOWED
    }


@pytest.mark.parametrize("page", [*PAGES, "/csv/funnel/", "/meeting/section/week/"])
def test_every_page_needs_a_login(client: Client, numbers: World, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_login_page_is_open_and_logs_a_user_in(client: Client, sales_rep: object) -> None:
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "sam", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message(client: Client, sales_rep: object) -> None:
    response = client.post("/login/", {"username": "sam", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_the_navigation_marks_the_current_page_and_shows_the_inbox_to_sales_only(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    marketing = as_user(Role.MARKETING_REP).get("/campaigns/").content.decode()
    assert '<a href="/campaigns/" aria-current="page">Campaigns</a>' in marketing
    assert 'href="/leads/inbox/"' not in marketing
    sales = as_user(Role.SALES_REP).get("/").content.decode()
    assert 'href="/leads/inbox/"' in sales
    assert '<a href="/" aria-current="page">Dashboard</a>' in sales


# --- the joint dashboard ------------------------------------------------------------------


def test_the_dashboard_draws_its_charts_from_local_plotly_with_a_table_and_csv_for_each(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    html = as_user(Role.MARKETING_REP).get("/").content.decode()
    assert "/static/vendor/plotly.min.js" in html
    assert "cdn" not in _without_tokens(html).lower()  # a random CSRF token may spell it
    charts = html.count('class="chart" data-figure=')
    assert charts >= 6  # funnel, SLA, three trends, reasons
    assert html.count("Show the data") >= charts
    assert html.count('href="/csv/') >= charts


def test_every_chart_is_a_valid_plotly_figure(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    import plotly.graph_objects as go

    from kpis.charts import figure

    client = as_user(Role.MARKETING_REP)
    d = client.get("/?period=week").context["d"]
    c = client.get("/campaigns/web/").context["c"]
    datasets = [d.funnel, d.sla_trend, d.reasons, *d.trends, c.funnel, c.trend, c.models_data]
    figures = [figure(ds) for ds in datasets]
    assert all(figures)
    for fig in figures:
        go.Figure(fig)  # raises on any property plotly.js would not know


def test_the_tiles_show_ratios_as_x_of_y_in_the_team_colours(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    response = as_user(Role.SALES_MANAGER).get("/?period=quarter")
    tiles = {t.metric: t for t in response.context["d"].tiles}
    acceptance = tiles["acceptance_rate"].current
    assert acceptance.denominator is not None
    shown = f"{int(acceptance.numerator)} of {int(acceptance.denominator)}"
    assert shown in response.content.decode()
    assert {t.team for t in tiles.values()} == {"marketing", "joint", "sales"}
    assert 'class="card tile tile-marketing"' in response.content.decode()


def _table(cells: dict[tuple[str, date], tuple[str, str | None]]) -> KpiTable:
    rows = [
        SimpleNamespace(
            metric=metric,
            period_start=period,
            numerator=Decimal(n),
            denominator=None if d is None else Decimal(d),
            value=Decimal(n) if d is None else Decimal(n) / Decimal(d),
            computed_at=timezone.now(),
        )
        for (metric, period), (n, d) in cells.items()
    ]
    periods = sorted({p for _, p in cells})
    return KpiTable(metrics=[m for m, _ in cells], periods=periods, dimension=None, rows=rows)


def test_a_period_in_progress_compares_counts_with_the_previous_period_pro_rated() -> None:
    before, now = date(2026, 10, 1), date(2026, 11, 1)
    table = _table(
        {
            ("mqls", before): ("100", None),
            ("mqls", now): ("60", None),
            ("acceptance_rate", before): ("40", "100"),
            ("acceptance_rate", now): ("30", "60"),
            ("cost_per_lead", before): ("1000", "100"),
            ("cost_per_lead", now): ("600", "50"),
        }
    )
    half = Decimal("0.5")
    mqls = tile(table, "mqls", now, before, half)  # 60 so far vs 50 at the same pace
    assert (mqls.basis, round(mqls.change, 1), mqls.change_unit, mqls.verdict) == (
        Decimal(50),
        Decimal("20.0"),
        "%",
        "good",
    )
    rate = tile(table, "acceptance_rate", now, before, half)  # rates are not pro-rated
    assert (rate.change, rate.change_unit, rate.verdict) == (Decimal(10), "pts", "good")
    cost = tile(table, "cost_per_lead", now, before, half)  # 12 vs 10: up, and lower is better
    assert (cost.prorated, round(cost.change), cost.verdict) == (False, 20, "bad")
    assert tile(table, "mqls", now, before).verdict == "bad"  # a period that is over: 60 < 100


def test_a_channel_filter_changes_the_numbers(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_MANAGER)

    def funnel(query: str) -> dict[str, object]:
        return {row[0]: row[1] for row in client.get(f"/{query}").context["d"].funnel.rows}

    assert (funnel("")["Leads"], funnel("")["MQLs"]) == (4, 4)
    assert (funnel("?channel=webinar")["Leads"], funnel("?channel=webinar")["MQLs"]) == (3, 3)
    assert funnel("?channel=paid_search")["MQLs"] == 1
    assert funnel("?campaign=search")["Leads"] == 1
    assert funnel("?owner=sam")["MQLs"] == 3


def test_the_filters_live_in_the_query_string_and_reach_every_link(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    html = as_user(Role.MARKETING_REP).get("/?period=week&channel=webinar").content.decode()
    assert 'href="/csv/funnel/?period=week&amp;channel=webinar"' in html
    assert "period=week&amp;channel=webinar&amp;model=first_touch#campaigns" in html


def test_filtering_by_two_slices_at_once_is_explained_and_falls_back_to_the_totals(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    response = as_user(Role.MARKETING_REP).get("/?channel=webinar&owner=sam")
    assert response.status_code == 400  # the page, with why and the totals
    assert "one of channel, campaign or owner at a time" in response.content.decode()
    assert response.context["d"].filter.dimension is None


def test_a_range_that_ends_before_it_starts_is_refused_in_words(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_REP)
    response = client.get("/?start=2026-05-01&end=2026-01-01")
    assert "The range starts after it ends." in response.content.decode()
    assert client.get("/csv/funnel/?start=2026-05-01&end=2026-01-01").status_code == 400


def test_a_shorter_range_gives_fewer_periods_in_the_trends(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_REP)
    default = client.get("/").context["d"]
    end = timezone.localdate()
    start = previous_period("month", period_start("month", end))
    short = client.get(f"/?start={start}&end={end}").context["d"]
    assert len(default.trends[0].rows) == 12
    assert len(short.trends[0].rows) == 2


def test_the_sla_panel_counts_breaches_live_and_leaves_contacted_handoffs_out(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_MANAGER)
    assert client.get("/").context["d"].sla.breaches == 1  # "late": 2 days, no attempt
    numbers.attempt("late", ago(days=1), actor="sam")  # contacted, but after the deadline
    assert client.get("/").context["d"].sla.breaches == 1
    numbers.attempt("fresh", ago(minutes=30), actor="sam")
    numbers.stage("late", "sal", ago(minutes=5), actor="sam")
    assert client.get("/").context["d"].sla.breaches == 0
    assert client.get("/?owner=rita").context["d"].sla.breaches == 0


def test_the_rejection_reasons_come_from_the_snapshots(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    reasons = as_user(Role.MARKETING_REP).get("/").context["d"].reasons
    assert [(label, count) for label, count, _ in reasons.rows] == [("No budget", 1)]


def test_the_campaign_table_switches_the_attribution_model(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_MANAGER)

    def revenue(model: str) -> dict[str, object]:
        rows = client.get(f"/?model={model}").context["d"].campaign_rows
        return {r.key: r.values["attributed_revenue"].value for r in rows}

    assert revenue("first_touch") == {"search": 9000, "web": 0}
    assert revenue("last_touch") == {"search": 0, "web": 9000}
    assert revenue("linear") == {"search": 4500, "web": 4500}


def test_the_page_says_when_the_numbers_were_computed(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    html = as_user(Role.SALES_REP).get("/").content.decode()
    assert "data-freshness=" in html
    assert " s ago" in html or " min ago" in html


def test_without_shared_goals_the_dashboard_says_so(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    assert "No shared goals yet" in as_user(Role.SALES_REP).get("/").content.decode()


def test_running_goals_show_their_progress_and_pace(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    goal_create = pytest.importorskip("alignment.services.goals").goal_create
    goal_create(
        by=None,
        name="Joint MQL goal",
        metric="mqls",
        target=100,
        period="quarter",
        period_start=period_start("quarter", timezone.localdate()),
    )
    recompute_recent()
    html = as_user(Role.MARKETING_REP).get("/").content.decode()
    assert "Joint MQL goal" in html
    assert "No shared goals yet" not in html
    assert "of 100" in html


# --- recompute now -------------------------------------------------------------------------


def test_a_manager_starts_a_recompute_and_the_dashboard_follows_it(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_MANAGER)
    assert "Recompute now" in client.get("/").content.decode()
    response = client.post("/recompute/", {"next_query": "period=week"})
    job = RecomputeJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/?period=week&job={job.pk}"
    page = client.get(response["Location"]).content.decode()
    assert f'data-job-url="/api/v1/recompute/{job.pk}/"' in page
    assert job.requested_by.username == "user-marketing_manager"
    # In a test transaction the fan-out waits for a commit; the browser test sees it finish.
    assert client.get(f"/api/v1/recompute/{job.pk}/").json()["total_units"] == job.total_units > 0


def test_reps_neither_see_nor_use_the_recompute_button(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_REP)
    assert "Recompute now" not in client.get("/").content.decode()
    assert client.post("/recompute/").status_code == 403
    assert not RecomputeJob.objects.exists()


def test_a_recompute_since_year_1_is_refused_with_a_400_that_says_why(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_MANAGER)
    for since, words in [
        ("0001-01-01", "From: Must be in the years 1970 to 2100"),
        ("1990-01-01", "From: A recompute goes back at most 20 years (RECOMPUTE_MAX_YEARS)"),
        ("yesterday", "From: Enter a valid date."),
    ]:
        response = client.post("/recompute/", {"since": since})
        assert response.status_code == 400, since
        html = response.content.decode()
        assert "Recompute refused" in html and words in html, since
    assert not RecomputeJob.objects.exists()
    since = (timezone.localdate() - timedelta(days=40)).isoformat()
    assert client.post("/recompute/", {"since": since}).status_code == 302
    assert RecomputeJob.objects.get().since.isoformat() == since


def _dead_job() -> RecomputeJob:
    """A job whose worker died after the days of its first month: nothing moved for an hour."""
    from kpis.services import recompute_job_start, recompute_job_unit_done

    job = recompute_job_start(since=timezone.localdate() - timedelta(days=40))  # queued on commit
    first = job.units.first()
    recompute_job_unit_done(job_id=str(job.pk), kind=first.kind, month=first.month)
    RecomputeJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job.refresh_from_db()
    return job


def test_a_job_whose_worker_died_shows_dead_and_a_manager_retries_the_parts_left(
    as_user: Callable[[Role | None], Client],
    numbers: World,
    django_capture_on_commit_callbacks: object,
) -> None:
    job = _dead_job()
    left = job.total_units - 1
    client = as_user(Role.MARKETING_MANAGER)
    html = client.get(f"/?job={job.pk}").content.decode()
    assert "Recompute stopped" in html and "whatever ran it stopped" in html
    assert "data-job-url" not in html  # nothing to follow: the page does not poll it
    assert f"Retry the {left} parts left" in html
    assert client.get(f"/api/v1/recompute/{job.pk}/").json()["status"] == "dead"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/recompute/{job.pk}/retry/", {"next_query": "period=week"})
    assert response["Location"] == f"/?period=week&job={job.pk}"
    job.refresh_from_db()
    assert (job.status, job.done_units) == ("done", job.total_units)
    refused = client.post(f"/recompute/{job.pk}/retry/")
    assert refused.status_code == 400
    assert "This recompute is done: start a new one instead." in refused.content.decode()


def test_reps_cannot_retry_a_recompute(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    job = _dead_job()
    client = as_user(Role.SALES_REP)
    assert "Retry the" not in client.get(f"/?job={job.pk}").content.decode()
    assert client.post(f"/recompute/{job.pk}/retry/").status_code == 403
    job.refresh_from_db()
    assert job.status == "running"


def test_the_changes_the_engine_set_aside_are_listed_to_managers_only(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    from kpis.services import kpis_recompute_dirty
    from leads.models import FunnelChange

    FunnelChange.objects.create(
        period="day", period_start=date(9999, 12, 31), part="leads", marked_at=timezone.now()
    )
    assert kpis_recompute_dirty().failed
    html = as_user(Role.SALES_MANAGER).get("/").content.decode()
    assert "Changes that could not be recomputed" in html
    assert "Day 9999-12-31 (leads): Must be in the years 1970 to 2100" in html
    assert "could not be recomputed" not in as_user(Role.SALES_REP).get("/").content.decode()


# --- ranges out of bounds -----------------------------------------------------------------------

OUT_OF_BOUNDS = [
    ("start=0001-01-01", "From: Must be in the years 1970 to 2100"),
    ("end=9999-12-31", "To: Must be in the years 1970 to 2100"),
    ("start=9999-12-31&end=9999-12-31", "From: Must be in the years 1970 to 2100"),
    ("start=2000-01-01", "From: Choose at most 10 years from start to end (KPI_RANGE_MAX_YEARS)."),
    ("start=2010-01-01&end=2024-01-01", "From: Choose at most 10 years from start to end"),
]


def test_every_page_and_download_of_a_range_refuses_one_out_of_bounds_with_a_400(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_REP)
    for page in ["/", "/campaigns/", "/campaigns/web/", "/evidence/not_followed_up/"]:
        for query, words in OUT_OF_BOUNDS:
            response = client.get(f"{page}?{query}")
            assert response.status_code == 400, (page, query)
            assert words in response.content.decode(), (page, query)
    for download in ["/csv/funnel/?", "/campaigns/?format=csv&", "/campaigns/web/csv/funnel/?"]:
        response = client.get(f"{download}end=9999-12-31")
        assert response.status_code == 400, download
        assert "Must be in the years 1970 to 2100" in response.content.decode(), download


# --- CSV downloads --------------------------------------------------------------------------


def test_every_dashboard_chart_downloads_its_data_ascsv_rows(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_REP)
    for dataset in ["tiles", "funnel", "volume", "rates", "revenue", "sla", "reasons", "campaigns"]:
        rows = csv_rows(client.get(f"/csv/{dataset}/?period=week"))
        assert len(rows) >= 2, dataset
        assert len({len(r) for r in rows}) == 1, dataset  # a header, rows of the same width


def test_the_funnel_csv_holds_counts_conversion_and_drop_off(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    rows = csv_rows(as_user(Role.MARKETING_REP).get("/csv/funnel/?channel=webinar"))
    assert rows[0] == [
        "Stage", "Count", "From previous stage (%)", "From previous stage numerator",
        "From previous stage denominator", "Drop-off",
    ]  # fmt: skip
    # The conversion rounded as the table shows it (33.3 %), beside the counts it divides.
    assert rows[1:4] == [
        ["Leads", "3", "", "", "", ""],
        ["MQLs", "3", "100", "3", "3", "0"],
        ["SALs", "1", "33.3", "1", "3", "2"],
    ]


def test_an_unknown_chart_has_nocsv_rows(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    assert as_user(Role.MARKETING_REP).get("/csv/nothing/").status_code == 404


def test_csv_cells_never_start_a_spreadsheet_formula(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    numbers.campaign("=HYPERLINK(1)", external_id="evil", channel="email", cost=10)
    recompute_recent()
    rows = csv_rows(as_user(Role.MARKETING_REP).get("/campaigns/?format=csv"))
    assert [r[0] for r in rows if "HYPERLINK" in r[0]] == ["'=HYPERLINK(1)"]


def test_the_campaign_csv_carries_each_roi_as_shown_beside_its_numerator_and_denominator(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    rows = csv_rows(as_user(Role.MARKETING_REP).get("/campaigns/?model=first_touch&format=csv"))
    roi = rows[0].index("Campaign ROI (%)")
    assert rows[0][roi + 1 : roi + 3] == ["Campaign ROI numerator", "Campaign ROI denominator"]
    by_name = {r[0]: r for r in rows[1:]}
    value, numerator, denominator = by_name["search"][roi : roi + 3]
    assert value == f"{float(numerator) / float(denominator) * 100:.1f}"  # 1412.5, as the page
    assert by_name["web"][roi] == "-100"  # no revenue: a negative number, not neutralised text
    assert by_name["search"][rows[0].index("Attributed revenue")] == "9000"


def test_the_tiles_csv_gives_each_value_in_its_unit_as_its_tile_shows_it(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    rows = csv_rows(as_user(Role.MARKETING_REP).get("/csv/tiles/?period=week"))
    assert rows[0][:6] == ["Metric", "Period", "Unit", "Value", "Numerator", "Denominator"]
    win = next(r for r in rows if r[0] == "Win rate")
    assert win[2:6] == ["%", "100", "1", "1"]
    change = rows[0].index("Change")
    assert all(re.fullmatch(r"(-?\d+(\.\d)?)?", r[change]) for r in rows[1:])  # numbers


def test_the_campaign_list_csv_follows_the_pages_filters_and_refuses_a_bad_one(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_REP)
    html = client.get("/campaigns/?channel=webinar").content.decode()
    assert 'class="csv" href="?channel=webinar&amp;format=csv"' in html
    rows = csv_rows(client.get("/campaigns/?channel=webinar&format=csv"))
    assert [r[0] for r in rows[1:]] == ["web"]
    bad = client.get("/campaigns/?start=2026-05-01&end=2026-01-01&format=csv")
    assert bad.status_code == 400 and "after it ends" in bad.content.decode()


def test_a_campaign_csv_is_named_safely_whatever_the_campaign_is_called(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    numbers.campaign('a/b"c\r\nd', external_id="odd", channel="email", cost=10)
    response = as_user(Role.MARKETING_REP).get("/campaigns/odd/csv/funnel/")
    disposition = response["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="tandem-a-b-c-d-funnel-\d{4}-\d{2}-\d{2}\.csv"', disposition
    ), disposition
    assert csv_rows(response)[0][0] == "Stage"


# --- the meeting view ---------------------------------------------------------------------


def test_the_meeting_view_shows_each_section_from_its_own_template(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_REP)
    html = client.get("/meeting/").content.decode()
    for slug in ["week", "goals", "sla", "reasons"]:
        assert f'data-section="{slug}"' in html
        assert f'data-url="/meeting/section/{slug}/"' in html
    assert "/static/js/meeting.js" in html
    partial = client.get("/meeting/section/sla/")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert client.get("/meeting/section/nothing/").status_code == 404


def test_the_meeting_lists_sla_breaches_by_owner(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    data = as_user(Role.SALES_MANAGER).get("/meeting/section/sla/").context["data"]
    assert data.total_breaches == 1
    assert [(r.name, r.breaches) for r in data.rows if r.breaches] == [("Sam Rep", 1)]


def test_the_meeting_quotes_sales_feedback_for_the_top_rejection_reasons(
    as_user: Callable[[Role | None], Client], world: World, sales_rep: object
) -> None:
    last_week = previous_period("week", period_start("week", timezone.localdate()))
    moment = timezone.make_aware(
        timezone.datetime.combine(last_week + timedelta(days=2), timezone.datetime.min.time())
    ).isoformat()
    lead = world.lead(moment, owner="sam")
    world.stage(lead, "mql", moment)
    handoff_reject(
        handoff=Handoff.objects.get(lead__external_id=lead),
        by=sales_rep,
        reason="bad_fit",
        feedback="A student project, not a company",
    )
    Handoff.objects.filter(lead__external_id=lead).update(
        decided_at=timezone.datetime.fromisoformat(moment) + timedelta(hours=2)
    )
    recompute_recent()
    html = as_user(Role.MARKETING_REP).get("/meeting/section/reasons/").content.decode()
    assert "Bad fit" in html
    assert "A student project, not a company" in html


def test_the_meeting_compares_last_week_with_the_week_before_and_the_4_week_average(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    data = as_user(Role.MARKETING_REP).get("/meeting/section/week/").context["data"]
    mqls = next(r for r in data.rows if r.metric == "mqls")
    weeks = [mqls.last.value, mqls.before.value]
    assert mqls.average.value is not None
    assert all(v is not None for v in weeks)
    assert data.label  # e.g. "9–15 Nov 2026"


# --- campaigns and definitions --------------------------------------------------------------


def test_the_campaign_list_shows_every_campaign_with_its_closed_loop(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    numbers.campaign("Idle", external_id="idle", channel="email", cost=0)
    response = as_user(Role.SALES_REP).get("/campaigns/?model=first_touch")
    rows = {r.key: r for r in response.context["rows"]}
    assert set(rows) == {"web", "search", "idle"}
    assert rows["search"].values["attributed_revenue"].value == 9000
    assert as_user(Role.SALES_REP).get("/campaigns/?channel=webinar").context["rows"][0].key == (
        "web"
    )


def test_a_campaign_page_shows_its_numbers_per_model_and_sales_feedback(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_REP)
    response = client.get("/campaigns/search/")
    detail = response.context["c"]
    assert {m.model: m.revenue.value for m in detail.models}["first_touch"] == 9000
    assert dict((row[0], row[1]) for row in detail.funnel.rows)["MQLs"] == 1
    html = response.content.decode()
    assert "Budget frozen until next year" in html
    assert response.context["ratings"]["rated"] == 1
    rows = csv_rows(client.get("/campaigns/search/csv/models/"))
    assert rows[0] == ["Model", "Attributed revenue", "ROI (%)", "ROI numerator", "ROI denominator"]
    assert client.get("/campaigns/search/csv/nothing/").status_code == 404
    assert client.get("/campaigns/missing/").status_code == 404


def test_the_definitions_page_lists_every_metric_and_model(
    as_user: Callable[[Role | None], Client],
) -> None:
    from core.attribution import MODELS
    from core.catalog import METRICS

    html = as_user(Role.MARKETING_REP).get("/definitions/").content.decode()
    assert all(f'id="{key}"' in html for key in METRICS)
    assert all(f'id="model-{key}"' in html for key in MODELS)


# --- query counts ---------------------------------------------------------------------------


@pytest.fixture
def many(world: World, sales_rep: object) -> World:
    """Thirty handoffs over ten campaigns: enough to reveal a query per row."""
    begin = (timezone.localdate() - timedelta(days=90)).isoformat()
    for n in range(10):
        world.campaign(f"c{n}", channel="webinar" if n % 2 else "email", starts_on=begin)
    for n in range(30):
        lead = world.lead(ago(days=n % 20 + 1), campaign=f"c{n % 10}", owner="sam")
        world.touch(lead, f"c{(n + 1) % 10}", ago(days=n % 20 + 1))
        world.stage(lead, "mql", ago(days=n % 20, hours=1))
        if n % 3 == 0:
            world.stage(lead, "rejected", ago(days=n % 20), reason="bad_fit", note="no fit")
    recompute_recent()
    return world


# The dashboard adds the viewer's action items and the joint wins (with their people), the
# meeting view one to three queries for each slide of the working-together records: bounded,
# whatever the number of rows.
QUERY_LIMITS = {
    "/": 20,
    "/?owner=sam": 20,
    "/?model=u_shaped&channel=email": 20,
    "/meeting/": 24,
    "/meeting/section/reasons/": 8,
    "/meeting/section/evidence/": 6,
    "/evidence/not_followed_up/": 10,  # a sales rep's: their own and everyone's, counted
    "/evidence/rejected_without_contact/?owner=sam&page=2": 10,
    "/campaigns/": 10,
    "/campaigns/c1/": 12,
    "/definitions/": 6,
    "/csv/campaigns/": 8,
}


def test_every_page_reads_a_bounded_number_of_queries(
    as_user: Callable[[Role | None], Client],
    many: World,
    django_assert_max_num_queries: Callable,
) -> None:
    client = as_user(Role.SALES_MANAGER)
    for page, limit in QUERY_LIMITS.items():
        with django_assert_max_num_queries(limit):
            assert client.get(page).status_code == 200, page


# --- a campaign's row and its page, attribution wording, the SLA card -----------------------


def test_a_campaign_row_and_its_page_agree_by_default_and_say_their_range(
    as_user: Callable[[Role | None], Client], world: World
) -> None:
    from core.periods import periods_between
    from kpis.pages.common import format_value

    today = timezone.localdate()
    began = today - timedelta(days=420)  # before the last 12 months
    world.campaign("old", channel="event", starts_on=began.isoformat(),
                   ends_on=(today + timedelta(days=30)).isoformat(), cost=4500)  # fmt: skip
    world.lead(ago(days=400), campaign="old")  # outside the list's default range
    world.lead(ago(days=5), campaign="old")
    kpis_recompute(kind="month", periods=periods_between("month", began.replace(day=1), today))
    client = as_user(Role.MARKETING_MANAGER)

    listed = client.get("/campaigns/")
    row = next(r for r in listed.context["rows"] if r.key == "old")
    page = client.get("/campaigns/old/")
    totals = page.context["c"].totals
    for metric, unit in [("campaign_cost", "currency"), ("leads_created", "count"),
                         ("attributed_revenue", "currency"), ("campaign_roi", "ratio")]:  # fmt: skip
        assert format_value(totals[metric].value, unit) == format_value(
            row.values[metric].value, unit
        ), metric
    label = listed.context["f"].range_label
    assert label == page.context["c"].range_label
    assert label in listed.content.decode() and label in page.content.decode()
    # a range chosen on the list follows the row to its page
    quarters = client.get("/campaigns/?period=quarter").content.decode()
    assert 'href="/campaigns/old/?period=quarter"' in quarters


def test_revenue_credited_through_other_leads_deals_is_explained_and_the_chart_labels_it(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    from kpis import charts
    from kpis.pages.common import format_value

    # "search" touched the lead "won" (a lead of "web"): no won deal of its own, yet credited
    response = as_user(Role.MARKETING_MANAGER).get("/campaigns/search/?model=first_touch")
    c = response.context["c"]
    assert c.totals["deals_won"].value == 0
    assert c.totals["attributed_revenue"].value == 9000
    html = response.content.decode()
    assert "credit for its touches on leads that came in through other campaigns" in html
    assert "none of its own leads has won a deal yet, so all of it is such credit" in html
    assert 'Attributed revenue <span class="faint">(First touch)</span>' in html
    bars = charts.figure(c.models_data)["data"][0]
    text = dict(zip(bars["y"], bars["text"], strict=True))
    first = next(m for m in c.models if m.model == "first_touch")
    assert text[first.label] == f"9,000 · ROI {format_value(first.roi.value, 'ratio')}"


def test_the_sla_card_tells_the_live_breaches_from_the_periods_rates(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    response = as_user(Role.SALES_MANAGER).get("/")
    d = response.context["d"]
    assert d.sla.breaches == 1  # "late": handed 2 days ago, no attempt
    html = response.content.decode()
    start = html.index('aria-labelledby="sla-h"')
    card = html[start : html.index("</section>", start)]
    assert "1</span> pending handoff missed its first-contact deadline" in card
    assert "Now, whenever handed over" in card
    assert f"Handoffs made in {d.focus_label}, followed to today" in card
    assert "so the two need not match" in card


# --- the page cache (kpis.render_cache) ------------------------------------------------------


def _without_tokens(html: str) -> str:
    """A page without what differs between two requests by design: its CSRF tokens, its CSP
    nonce (which is why no cached fragment may hold an inline script or style), and what
    follows the clock ("computed 3 s ago", the meeting view's "updated 10:42"), which a second
    boundary between the two requests moves."""
    import re

    html = re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": | nonce=)"[^"]+"', r"\1", html)
    html = re.sub(r"\b\d+ (?:s|min|h|d) ago\b", "… ago", html)
    return re.sub(r"(data-refreshed>)\d\d:\d\d<", r"\1…<", html)


def _queries(client: Client, page: str) -> tuple[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200, page
    return _without_tokens(response.content.decode()), len(queries)


@pytest.mark.parametrize("page", ["/", "/?period=week&channel=webinar"])
def test_the_dashboard_served_twice_is_the_same_page_read_with_fewer_queries(
    as_user: Callable[[Role | None], Client],
    numbers: World,
    page: str,
    django_assert_max_num_queries: Callable,
) -> None:
    client = as_user(Role.SALES_MANAGER)
    first, built = _queries(client, page)
    second, served = _queries(client, page)
    assert second == first
    assert served <= built - 6
    # session, user, role, version, breaches, open disputes, goals, changes set aside…
    with django_assert_max_num_queries(9):
        client.get(page)


def test_a_recompute_changes_what_the_dashboard_serves(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_REP)
    leads = {row[0]: row[1] for row in client.get("/").context["d"].funnel.rows}["Leads"]
    numbers.lead(ago(hours=2), campaign="web")
    recompute_recent()
    after = client.get("/")
    assert {row[0]: row[1] for row in after.context["d"].funnel.rows}["Leads"] == leads + 1
    assert f"{int(leads) + 1:,} leads became" in after.content.decode()


def test_a_recompute_by_hand_reaches_a_cached_dashboard(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    from kpis.models import KpiSnapshot

    client = as_user(Role.MARKETING_REP)
    assert "No rejections in the range" not in client.get("/").content.decode()
    KpiSnapshot.objects.filter(metric="rejections").delete()  # gone, but nothing says so…
    assert "No rejections in the range" not in client.get("/").content.decode()
    recompute_recent()  # …until the next swap of snapshots
    assert "No rejections in the range" not in client.get("/").content.decode()
    KpiSnapshot.objects.filter(metric="rejections").delete()
    from kpis.versions import kpis_snapshots_changed

    kpis_snapshots_changed()
    assert "No rejections in the range" in client.get("/").content.decode()


def test_roles_never_share_a_cached_dashboard(
    client: Client, numbers: World, make_user: Callable[..., object]
) -> None:
    rep = make_user("rita-rep", Role.SALES_REP, first_name="Rita", last_name="Quick")
    manager = make_user("max-man", Role.MARKETING_MANAGER, first_name="Max", last_name="Slow")
    client.force_login(rep)
    as_rep = client.get("/").content.decode()
    client.force_login(manager)
    as_manager = client.get("/").content.decode()
    assert 'href="/leads/inbox/">Open inbox' in as_rep
    assert "Open inbox" not in as_manager
    assert "Recompute now" in as_manager and "Recompute now" not in as_rep
    assert 'href="/profile/" >Rita Quick</a>' in as_rep
    assert 'href="/profile/" >Max Slow</a>' in as_manager and "Max Slow" not in as_rep
    assert 'href="/profile/" >Rita Quick</a>' not in as_manager


def test_what_the_dashboard_keeps_holds_nothing_of_the_user(
    client: Client, numbers: World, make_user: Callable[..., object]
) -> None:
    from django.core.cache import cache
    from django.test import RequestFactory

    from kpis import render_cache

    zoe = make_user("zoe", Role.MARKETING_MANAGER, first_name="Zoe", last_name="Zed")
    client.force_login(zoe)
    html = client.get("/?period=week").content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    request = RequestFactory().get("/?period=week")
    request.user = zoe
    kept = cache.get(render_cache.page_key(request, "home"))
    assert kept is not None and kept.html
    for part in kept.html.values():
        assert token not in part and "csrfmiddlewaretoken" not in part
        assert "Zoe" not in part and "zoe" not in part


def test_the_clock_moves_the_tiles_and_the_pace_of_a_cached_dashboard(
    as_user: Callable[[Role | None], Client], numbers: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = as_user(Role.MARKETING_REP)
    today = timezone.localdate()
    first = client.get("/")
    morning = timezone.make_aware(datetime.combine(today, datetime.min.time())) + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: morning)
    early = client.get("/").context["d"]
    monkeypatch.setattr(timezone, "now", lambda: morning + timedelta(hours=22))
    late = client.get("/").context["d"]
    assert early.elapsed < late.elapsed
    assert [t.basis for t in early.tiles] != [t.basis for t in late.tiles]
    assert early.funnel == late.funnel == first.context["d"].funnel  # from the cache


@pytest.mark.parametrize(
    "page",
    ["/meeting/", "/meeting/section/week/", "/meeting/section/reasons/", "/campaigns/",
     "/campaigns/web/", "/campaigns/?period=quarter&model=first_touch"],
)  # fmt: skip
def test_the_meeting_and_campaign_pages_served_twice_are_the_same_read_with_fewer_queries(
    as_user: Callable[[Role | None], Client], numbers: World, page: str
) -> None:
    client = as_user(Role.SALES_MANAGER)
    first, built = _queries(client, page)
    second, served = _queries(client, page)
    assert second == first
    assert served < built


def test_the_meetings_live_sections_follow_the_breaches_between_recomputes(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.SALES_MANAGER)
    assert client.get("/meeting/section/sla/").context["data"].total_breaches == 1
    Handoff.objects.filter(lead__external_id="late").update(first_contact_due_at=None)
    assert client.get("/meeting/section/sla/").context["data"].total_breaches == 0
    assert 'aria-label="0 handoffs breach the SLA"' in client.get("/meeting/").content.decode()


def test_a_cached_meeting_slide_says_how_long_ago_it_was_computed_as_of_now(
    as_user: Callable[[Role | None], Client], numbers: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = as_user(Role.MARKETING_REP)
    assert " s ago" in client.get("/meeting/section/week/").content.decode()
    later = timezone.now() + timedelta(minutes=7)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "computed 7 min ago" in client.get("/meeting/section/week/").content.decode()


def test_an_unknown_campaign_is_not_found_and_nothing_is_kept_of_it(
    as_user: Callable[[Role | None], Client], numbers: World
) -> None:
    client = as_user(Role.MARKETING_REP)
    assert client.get("/campaigns/soon/").status_code == 404
    numbers.campaign("soon", channel="event")
    assert client.get("/campaigns/soon/").status_code == 200
