"""The goals pages (kpis/views_goals.py): who reads and writes what, forms and their 400s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from alignment.models import Goal, GoalCheckIn, PayoutCurve, RevenueForecast
from alignment.roles import Role
from core.periods import next_period, period_start, previous_period
from tests.conftest import csv_rows, goal, scored_quarter

pytestmark = pytest.mark.django_db

ROLES = [Role.MARKETING_REP, Role.SALES_REP, Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN]
MANAGERS = {Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN}


def this_month() -> date:
    return period_start("month", timezone.localdate())


def next_month() -> date:
    return next_period("month", this_month())


def next_quarter() -> date:
    return next_period("quarter", period_start("quarter", timezone.localdate()))


@pytest.fixture
def as_user(client: Client, make_user: Callable[..., object]) -> Callable[[Role], Client]:
    def login(role: Role) -> Client:
        from django.contrib.auth import get_user_model

        username = f"user-{role}"
        user = get_user_model().objects.filter(username=username).first()
        client.force_login(user or make_user(username, role))
        return client

    return login


@pytest.fixture
def running(marketing_manager: object) -> Goal:
    """A goal of the running month (created the day before it began)."""
    start = this_month()
    before = timezone.make_aware(timezone.datetime.combine(start, timezone.datetime.min.time()))
    return goal(
        marketing_manager,
        now=before - timedelta(days=1),
        name="SALs this month",
        period_start=start,
        target=Decimal(20),
    )


def goal_post(**extra: str) -> dict[str, str]:
    return {
        "name": "More SQLs",
        "owner_team": "sales",
        "metric": "sqls",
        "target": "25",
        "direction": "",
        "period": f"month:{next_month().isoformat()}",
        "weight": "1",
        "specific": "Sales turns 25 SALs into SQLs.",
        **extra,
    }


# --- who reads and who writes (SPEC §8) -----------------------------------------------------


def test_every_goals_page_needs_a_login(client: Client, running: Goal) -> None:
    pk = running.pk
    pages = ["/goals/", "/goals/new/", f"/goals/{pk}/", f"/goals/{pk}/edit/", "/scorecard/",
             "/forecasts/"]  # fmt: skip
    for page in pages:
        response = client.get(page)
        assert (page, response.status_code) == (page, 302)
        assert response["Location"].startswith("/login/?next=")
    for page in [f"/goals/{pk}/delete/", f"/goals/{pk}/check-in/", "/goals/new/", "/forecasts/"]:
        response = client.post(page, {})
        assert (page, response.status_code) == (page, 302)
    assert Goal.objects.count() == 1


def test_everyone_reads_the_goals_the_scorecard_and_the_forecasts(
    as_user: Callable[[Role], Client], running: Goal
) -> None:
    pages = ["/goals/", f"/goals/{running.pk}/", "/scorecard/", "/forecasts/"]
    matrix = {str(role): {p: as_user(role).get(p).status_code for p in pages} for role in ROLES}
    assert matrix == {str(role): dict.fromkeys(pages, 200) for role in ROLES}


def test_only_managers_open_the_goal_forms(
    as_user: Callable[[Role], Client], running: Goal
) -> None:
    pages = ["/goals/new/", f"/goals/{running.pk}/edit/"]
    matrix = {str(role): {p: as_user(role).get(p).status_code for p in pages} for role in ROLES}
    assert matrix == {
        str(role): dict.fromkeys(pages, 200 if role in MANAGERS else 403) for role in ROLES
    }


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.SALES_REP])
def test_a_rep_writes_nothing(as_user: Callable[[Role], Client], running: Goal, role: Role) -> None:
    client = as_user(role)
    pk = running.pk
    posts = {
        "/goals/new/": goal_post(),
        f"/goals/{pk}/edit/": goal_post(name="Renamed"),
        f"/goals/{pk}/delete/": {},
        f"/goals/{pk}/check-in/": {"status": "on_track", "note": "fine"},
        "/scorecard/": {"effective_from": timezone.localdate().isoformat(), "threshold": "0.4",
                        "threshold_payout": "0.5", "target": "1", "cap": "1.5",
                        "cap_payout": "1.5"},
        "/forecasts/": {"period": "quarter", "period_start": next_quarter().isoformat(),
                        "amount": "1000"},
    }  # fmt: skip
    assert {page: client.post(page, data).status_code for page, data in posts.items()} == (
        dict.fromkeys(posts, 403)
    )
    running.refresh_from_db()
    assert running.name == "SALs this month"
    assert Goal.objects.count() == 1
    assert not GoalCheckIn.objects.exists()
    assert not PayoutCurve.objects.exists()
    assert not RevenueForecast.objects.exists()


def test_a_rep_sees_no_controls_to_change_goals(
    as_user: Callable[[Role], Client], running: Goal
) -> None:
    page = as_user(Role.SALES_REP).get("/goals/").content.decode()
    assert "New goal" not in page and f"/goals/{running.pk}/edit/" not in page
    detail = as_user(Role.SALES_REP).get(f"/goals/{running.pk}/").content.decode()
    assert f"/goals/{running.pk}/check-in/" not in detail
    assert "/delete/" not in detail and "/edit/" not in detail
    manager = as_user(Role.SALES_MANAGER).get("/goals/").content.decode()
    assert "New goal" in manager and f"/goals/{running.pk}/edit/" in manager
    managed = as_user(Role.SALES_MANAGER).get(f"/goals/{running.pk}/").content.decode()
    assert f"/goals/{running.pk}/check-in/" in managed and "/delete/" in managed


def test_the_navigation_links_the_goals_for_everyone(as_user: Callable[[Role], Client]) -> None:
    for role in ROLES:
        page = as_user(role).get("/scorecard/").content.decode()
        assert '<a href="/goals/" aria-current="page">Goals</a>' in page


# --- the goals page -------------------------------------------------------------------------


def test_the_goals_page_shows_the_running_month_and_quarter_with_pace_and_check_in(
    as_user: Callable[[Role], Client], running: Goal, marketing_manager: object
) -> None:
    GoalCheckIn.objects.create(
        goal=running, week=this_month(), status="at_risk", note="Webinar slipped",
        by=marketing_manager, at=timezone.now(),
    )  # fmt: skip
    page = as_user(Role.MARKETING_REP).get("/goals/").content.decode()
    assert "SALs this month" in page
    assert "Both teams" in page and "SALs" in page  # owner and metric label
    assert 'class="pace"' in page  # the pace line
    assert "At risk" in page and "Webinar slipped" in page
    quarter = period_start("quarter", timezone.localdate())
    assert f"Q{(quarter.month - 1) // 3 + 1} {quarter.year}" in page
    assert "No shared goals for Q" in page  # the quarter has none


def test_the_goals_page_shows_a_chosen_period(
    as_user: Callable[[Role], Client], running: Goal
) -> None:
    later = as_user(Role.SALES_REP).get("/goals/", {"period": f"month:{next_month()}"})
    assert later.status_code == 200
    assert "SALs this month" not in later.content.decode()
    assert as_user(Role.SALES_REP).get(
        "/goals/", {"period": "fortnight:2026-01-01"}
    ).status_code == (400)


# --- creating and changing goals ------------------------------------------------------------


def test_a_manager_sets_a_goal_owned_by_one_team(as_user: Callable[[Role], Client]) -> None:
    response = as_user(Role.MARKETING_MANAGER).post("/goals/new/", goal_post())
    created = Goal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/goals/{created.pk}/"
    assert (created.owner_team, created.metric, created.direction) == ("sales", "sqls", "higher")
    assert (created.period, created.period_start, created.target) == ("month", next_month(), 25)


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"target": ""}, "A goal must be measurable: set a target."),
        ({"metric": ""}, "A goal must be measurable: choose a metric of the catalog."),
        ({"period": ""}, "A goal must be time-bound: choose a week, month or quarter."),
        ({"period": "month:2020-01-01"}, "That period is over; its scorecard is final."),
        ({"period": "month:2030-01-02"}, "does not start a month"),
        ({"period": "soon"}, "Choose a week, month or quarter from the list."),
        ({"name": ""}, "Name the goal."),
        ({"weight": "0"}, "The weight must be above zero."),
        ({"dimension": "channel"}, "Name both a dimension and its member, or neither."),
        ({"target": "many"}, "Enter a number."),
    ],
)
def test_a_goal_that_is_not_smart_answers_400_with_the_message_and_saves_nothing(
    as_user: Callable[[Role], Client], changes: dict, field_message: str
) -> None:
    response = as_user(Role.SALES_MANAGER).post("/goals/new/", goal_post(**changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert field_message in page
    assert 'class="errorlist' in page
    assert "More SQLs" in page or changes.get("name") == ""  # the input is kept
    assert not Goal.objects.exists()


def test_the_form_lists_the_catalogs_metrics_by_team_with_their_units(
    as_user: Callable[[Role], Client],
) -> None:
    page = as_user(Role.SALES_MANAGER).get("/goals/new/").content.decode()
    assert '<optgroup label="Marketing metrics">' in page
    assert '<optgroup label="Sales metrics">' in page
    assert "Win rate · ratio, higher is better" in page
    assert "scorecard_attainment" not in page  # goals cannot target attainments
    assert f'value="month:{this_month().isoformat()}" selected' in page


def test_a_manager_edits_a_running_goal(as_user: Callable[[Role], Client], running: Goal) -> None:
    client = as_user(Role.SALES_MANAGER)
    form = client.get(f"/goals/{running.pk}/edit/").content.decode()
    assert 'value="SALs this month"' in form
    period = f"month:{this_month().isoformat()}"
    response = client.post(
        f"/goals/{running.pk}/edit/",
        goal_post(name="SALs, both", owner_team="both", metric="sals", period=period),
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert (running.name, running.metric, running.target) == ("SALs, both", "sals", 25)
    bad = client.post(f"/goals/{running.pk}/edit/", goal_post(target="-1", period=period))
    assert bad.status_code == 400
    assert "The target must be above zero." in bad.content.decode()
    running.refresh_from_db()
    assert running.target == 25


def test_a_finished_goal_can_neither_change_nor_go(
    as_user: Callable[[Role], Client], marketing_manager: object
) -> None:
    start = scored_quarter(marketing_manager)
    old = Goal.objects.get(metric="sals", period_start=start)
    client = as_user(Role.MARKETING_MANAGER)
    period = f"quarter:{start.isoformat()}"
    edit = client.post(f"/goals/{old.pk}/edit/", goal_post(metric="sals", period=period))
    assert edit.status_code == 400
    assert "over" in edit.content.decode()
    gone = client.post(f"/goals/{old.pk}/delete/")
    assert gone.status_code == 400
    assert "its scorecard is final" in gone.content.decode()
    assert Goal.objects.filter(pk=old.pk).exists()


def test_a_manager_deletes_a_running_goal(as_user: Callable[[Role], Client], running: Goal) -> None:
    response = as_user(Role.MARKETING_MANAGER).post(f"/goals/{running.pk}/delete/")
    assert response.status_code == 302
    assert not Goal.objects.exists()
    assert as_user(Role.MARKETING_MANAGER).get(f"/goals/{running.pk}/").status_code == 404


# --- check-ins ------------------------------------------------------------------------------


def test_a_check_in_a_week_and_a_second_replaces_the_first(
    as_user: Callable[[Role], Client], running: Goal
) -> None:
    client = as_user(Role.SALES_MANAGER)
    url = f"/goals/{running.pk}/check-in/"
    assert client.post(url, {"status": "at_risk", "note": "Slow start"}).status_code == 302
    assert client.post(url, {"status": "on_track", "note": "Caught up"}).status_code == 302
    check_in = GoalCheckIn.objects.get()
    assert (check_in.status, check_in.note) == ("on_track", "Caught up")
    today = timezone.localdate()
    assert check_in.week == today - timedelta(days=today.weekday())
    page = client.get(f"/goals/{running.pk}/").content.decode()
    assert "Caught up" in page and "Slow start" not in page


def test_a_check_in_without_a_status_answers_400(
    as_user: Callable[[Role], Client], running: Goal
) -> None:
    response = as_user(Role.SALES_MANAGER).post(
        f"/goals/{running.pk}/check-in/", {"status": "great"}
    )
    assert response.status_code == 400
    assert not GoalCheckIn.objects.exists()


def test_a_check_in_on_a_goal_that_has_not_started_answers_400_with_the_reason(
    as_user: Callable[[Role], Client], marketing_manager: object
) -> None:
    later = goal(marketing_manager, now=timezone.now(), period_start=next_month())
    response = as_user(Role.MARKETING_MANAGER).post(
        f"/goals/{later.pk}/check-in/", {"status": "on_track"}
    )
    assert response.status_code == 400
    assert "has not started" in response.content.decode()
    assert not GoalCheckIn.objects.exists()


# --- the scorecard --------------------------------------------------------------------------


def test_the_scorecard_shows_weights_capped_attainments_and_each_teams_pay(
    as_user: Callable[[Role], Client], marketing_manager: object
) -> None:
    start = scored_quarter(marketing_manager)
    response = as_user(Role.SALES_REP).get("/scorecard/", {"period": f"quarter:{start}"})
    assert response.status_code == 200
    page = response.content.decode()
    # Deals won: 200 % attained, 150 % counted, 1.5 / 4 of the scorecard
    assert "200.0 %" in page and "150.0 %" in page and "37.5 %" in page
    assert '<td class="num" data-attainment>82.5 %</td>' in page
    assert '<div class="tile-value" data-payout="joint">78.1 %</div>' in page
    assert '<div class="tile-value" data-payout="marketing">50.0 %</div>' in page
    assert '<div class="tile-value" data-payout="sales">100.0 %</div>' in page
    assert "data-figure=" in page
    assert "Change the payout curve" not in page  # a rep reads, managers edit


def test_the_scorecard_downloads_as_csv_with_each_attainment_beside_its_parts(
    as_user: Callable[[Role], Client], marketing_manager: object
) -> None:
    start = scored_quarter(marketing_manager)
    client = as_user(Role.SALES_REP)
    page = client.get("/scorecard/", {"period": f"quarter:{start}"}).content.decode()
    assert f'class="csv" href="?period=quarter%3A{start}&amp;format=csv"' in page
    response = client.get("/scorecard/", {"period": f"quarter:{start}", "format": "csv"})
    assert response["Content-Disposition"] == (
        f'attachment; filename="tandem-scorecard-quarter-{start}.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["Goal", "Owned by", "Metric", "Unit", "Target", "Actual", "Weight",
                       "Attainment (%)", "Attainment numerator", "Attainment denominator",
                       "Capped (%)", "Contribution (%)", "At pace (%)"]  # fmt: skip
    by_goal = {r[0]: r for r in rows[1:]}
    # Deals won: 20 of 10, 200 % attained, 150 % counted, 1.5 / 4 of the scorecard
    assert by_goal["Deals won"][4:12] == ["10", "20", "1", "200", "20", "10", "150", "37.5"]
    assert by_goal["More SALs"][7:10] == ["75", "30", "40"]
    assert rows[-1][0] == "Scorecard attainment" and rows[-1][11] == "82.5"


def test_the_goals_download_as_csv_for_the_chosen_period(
    as_user: Callable[[Role], Client], marketing_manager: object, running: Goal
) -> None:
    start = scored_quarter(marketing_manager)
    client = as_user(Role.MARKETING_REP)
    assert 'class="csv" href="?format=csv"' in client.get("/goals/").content.decode()
    running_rows = csv_rows(client.get("/goals/?format=csv"))
    assert [r[1] for r in running_rows[1:]] == ["SALs this month"]
    rows = csv_rows(client.get("/goals/", {"period": f"quarter:{start}", "format": "csv"}))
    header = rows[0]
    assert header[7:15] == ["Unit", "Target", "Actual", "Actual numerator",
                            "Actual denominator", "Attainment (%)", "Attainment numerator",
                            "Attainment denominator"]  # fmt: skip
    mqls = next(r for r in rows[1:] if r[1] == "MQLs")
    assert mqls[2:9] == ["MQLs", "", "Marketing", "higher", "1", "count", "100"]
    assert mqls[9:15] == ["30", "30", "", "30", "30", "100"]
    assert mqls[header.index("Pace")] == "Off track"
    assert client.get("/goals/?period=bogus&format=csv").status_code == 400


def test_the_scorecard_defaults_to_the_running_quarter(
    as_user: Callable[[Role], Client],
) -> None:
    page = as_user(Role.SALES_REP).get("/scorecard/").content.decode()
    quarter = period_start("quarter", timezone.localdate())
    assert f'value="quarter:{quarter.isoformat()}" selected' in page
    assert "No goals in" in page and "See the shared goals" in page


def test_a_manager_sets_the_payout_curve_and_a_bad_one_answers_400(
    as_user: Callable[[Role], Client],
) -> None:
    client = as_user(Role.SALES_MANAGER)
    today = timezone.localdate()
    curve = {"effective_from": today.isoformat(), "threshold": "0.4", "threshold_payout": "0.3",
             "target": "1", "cap": "1.6", "cap_payout": "1.8"}  # fmt: skip
    assert "Change the payout curve" in client.get("/scorecard/").content.decode()
    assert client.post("/scorecard/", curve).status_code == 302
    assert PayoutCurve.objects.get().cap == Decimal("1.6")
    bad = client.post("/scorecard/", {**curve, "cap": "0.9"})
    assert bad.status_code == 400
    assert "The cap must be above the target." in bad.content.decode()
    back = client.post(
        "/scorecard/", {**curve, "effective_from": (today - timedelta(days=1)).isoformat()}
    )
    assert back.status_code == 400
    assert "not back" in back.content.decode()
    assert PayoutCurve.objects.get().cap == Decimal("1.6")


# --- forecasts ------------------------------------------------------------------------------


def test_a_manager_enters_a_forecast_for_a_period_that_has_not_started(
    as_user: Callable[[Role], Client],
) -> None:
    client = as_user(Role.MARKETING_MANAGER)
    data = {"period": "quarter", "period_start": next_quarter().isoformat(), "amount": "120000"}
    assert client.post("/forecasts/", data).status_code == 302
    assert RevenueForecast.objects.get().amount == 120000
    page = client.get("/forecasts/").content.decode()
    assert "120k" in page and "not started" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_start": "running"}, "this one has begun"),
        ({"period_start": ""}, "Say which period the forecast is for."),
        ({"amount": "-5"}, "The forecast is an amount of at least 0."),
        ({"period": "year"}, "Select a valid choice."),
    ],
)
def test_a_forecast_refused_answers_400_with_the_message(
    as_user: Callable[[Role], Client], changes: dict, message: str
) -> None:
    data = {"period": "month", "period_start": next_month().isoformat(), "amount": "5000"}
    data.update(changes)
    if data["period_start"] == "running":
        data["period_start"] = this_month().isoformat()
    response = as_user(Role.SALES_MANAGER).post("/forecasts/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RevenueForecast.objects.exists()


def test_the_forecasts_show_the_accuracy_of_finished_periods(
    as_user: Callable[[Role], Client], marketing_manager: object
) -> None:
    from kpis.models import KpiSnapshot

    done = previous_period("month", this_month())
    RevenueForecast.objects.create(
        period="month", period_start=done, amount=Decimal(80000), entered_at=timezone.now()
    )
    for metric, numerator, denominator, value in [
        ("revenue_won", 100000, None, 100000),
        ("forecast_accuracy", 80000, 100000, Decimal("0.8")),
    ]:
        KpiSnapshot.objects.create(
            metric=metric, period="month", period_start=done, value=value, numerator=numerator,
            denominator=denominator, computed_at=timezone.now(),
        )  # fmt: skip
    page = as_user(Role.SALES_REP).get("/forecasts/").content.decode()
    assert "80k" in page and "100k" in page and "80.0 %" in page
    assert "data-figure=" in page


def test_the_forecasts_download_as_csv_with_the_amounts_and_the_accuracy_as_shown(
    as_user: Callable[[Role], Client], marketing_manager: object
) -> None:
    from kpis.models import KpiSnapshot

    done = previous_period("month", this_month())
    RevenueForecast.objects.create(
        period="month", period_start=done, amount=Decimal("80000.40"), entered_at=timezone.now(),
        note="-10 % if the fair is cancelled", entered_by=marketing_manager,
    )  # fmt: skip
    RevenueForecast.objects.create(
        period="quarter", period_start=next_quarter(), amount=Decimal(90000),
        entered_at=timezone.now(),
    )  # fmt: skip
    KpiSnapshot.objects.create(
        metric="forecast_accuracy", period="month", period_start=done, value=Decimal("0.79996"),
        numerator=Decimal(79996), denominator=Decimal(100000), computed_at=timezone.now(),
    )  # fmt: skip
    KpiSnapshot.objects.create(
        metric="revenue_won", period="month", period_start=done, value=Decimal(100000),
        numerator=Decimal(100000), computed_at=timezone.now(),
    )  # fmt: skip
    client = as_user(Role.SALES_REP)
    assert 'class="csv" href="?format=csv"' in client.get("/forecasts/").content.decode()
    rows = csv_rows(client.get("/forecasts/?format=csv"))
    assert rows[0] == ["Period", "Kind", "Starts", "State", "Forecast", "Revenue won",
                       "Accuracy (%)", "Entered at", "Entered by", "Note"]  # fmt: skip
    upcoming, ended = rows[1], rows[2]  # the latest period first
    assert upcoming[3:7] == ["Upcoming", "90000", "", ""]
    assert ended[2:7] == [done.isoformat(), "Ended", "80000", "100000", "80"]
    assert ended[8:] == ["max", "'-10 % if the fair is cancelled"]


# --- the dashboard's and the meeting view's call to action ----------------------------------


@pytest.mark.parametrize(("role", "link"), [(Role.SALES_MANAGER, "/goals/new/"),
                                            (Role.MARKETING_REP, "/goals/")])  # fmt: skip
def test_without_goals_the_dashboard_and_meeting_view_call_to_set_them(
    as_user: Callable[[Role], Client], role: Role, link: str
) -> None:
    client = as_user(role)
    for page in ("/", "/meeting/"):
        html = client.get(page).content.decode()
        assert "No shared goals yet" in html
        assert f'href="{link}"' in html
    manager = as_user(Role.SALES_MANAGER).get("/").content.decode()
    assert "Set the shared goals for this month" in manager


@pytest.mark.parametrize(
    "url",
    [
        "/goals/?period=quarter:9999-10-01",
        "/goals/?period=week:0001-01-01",
        "/scorecard/?period=quarter:9999-10-01",
        "/goals/new/?period=month:9999-12-01",
    ],
)
def test_a_period_at_the_edge_of_the_calendar_is_refused_not_a_server_error(
    client: Client, marketing_manager: object, url: str
) -> None:
    client.force_login(marketing_manager)
    assert client.get(url).status_code in {200, 400}


def test_a_forecast_or_curve_dated_at_the_edge_of_the_calendar_is_refused_with_a_message(
    client: Client, marketing_manager: object
) -> None:
    client.force_login(marketing_manager)
    response = client.post(
        "/forecasts/", {"period": "quarter", "period_start": "9999-10-01", "amount": "1000"}
    )
    assert response.status_code == 400 and "in the years 1970 to 2100" in response.content.decode()
    response = client.post(
        "/scorecard/",
        {"effective_from": "9999-12-31", "threshold": "0.5", "threshold_payout": "0.5",
         "target": "1", "cap": "1.5", "cap_payout": "1.5"},
    )  # fmt: skip
    assert response.status_code == 400 and "in the years 1970 to 2100" in response.content.decode()
    assert not RevenueForecast.objects.exists() and not PayoutCurve.objects.exists()
