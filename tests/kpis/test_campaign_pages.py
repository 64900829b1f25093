"""A campaign's habits on its pages: sales rates its leads, its kick-off and post-mortem meetings
with sales' presence, the campaign list's flags, and the post-mortem page with its numbers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from alignment.markdown import markdown_html
from alignment.models import CampaignRating, Meeting
from alignment.roles import Role
from alignment.services.campaign_ratings import campaign_rate
from alignment.services.meetings import meeting_create
from core.periods import period_start, periods_between
from kpis.pages.campaigns import campaign_postmortem, postmortem_agenda
from kpis.services import kpis_recompute
from leads.models import Campaign, Handoff
from leads.services import handoff_reject
from tests.conftest import World

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def day(offset: int) -> str:
    """The local date `offset` days from today, as the world builders take it."""
    return (TODAY() + timedelta(days=offset)).isoformat()


def at(offset: int, hour: int = 10) -> str:
    return f"{day(offset)}T{hour:02d}:00:00"


def recompute_since(first: date) -> None:
    kpis_recompute(
        kind="month", periods=periods_between("month", period_start("month", first), TODAY())
    )


def meeting(kind: str, campaign: str, attendees: list, offset: int = -60) -> Meeting:
    start = timezone.make_aware(datetime.fromisoformat(at(offset)))
    return meeting_create(
        kind=kind,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        attendees=attendees,
        by=None,
        campaign=Campaign.objects.get(external_id=campaign),
    )


KICKOFF, POSTMORTEM = Meeting.Kind.CAMPAIGN_KICKOFF, Meeting.Kind.CAMPAIGN_POSTMORTEM


@pytest.fixture
def rita(make_user: Callable[..., object]) -> object:
    return make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Rep")


@pytest.fixture
def spring(world: World, sales_rep: object, rita: object) -> World:
    """A webinar that ran from 75 to 15 days ago for 1,500: six leads, five handed to sales,
    one accepted (it reached SQL and won a deal of 6,000), three rejected (two bad fit, one no
    budget, each with feedback), one pending; the won lead was touched by the webinar first and
    by another campaign last."""
    world.campaign("Spring webinar", external_id="spring", starts_on=day(-75), ends_on=day(-15),
                   cost=1500)  # fmt: skip
    world.campaign("Retargeting", external_id="retarget", channel="paid_social",
                   starts_on=day(-75), ends_on=day(60), cost=0)  # fmt: skip
    won = world.lead(at(-70), campaign="spring", owner="sam", external_id="won")
    world.touch(won, "spring", at(-70))
    world.touch(won, "retarget", at(-60))
    world.stage(won, "mql", at(-69))
    world.stage(won, "sal", at(-68), actor="sam")
    world.stage(won, "sql", at(-65))
    world.deal(won, 6000, at(-60), status="won", closed_at=at(-30))
    said = [("bad_fit", "Students, not buyers"), ("bad_fit", "Wrong industry entirely"),
            ("no_budget", "Budget frozen until next year")]  # fmt: skip
    for n, (reason, feedback) in enumerate(said):
        lead = world.lead(at(-50 + n), campaign="spring", owner="sam", external_id=f"rej{n}")
        world.stage(lead, "mql", at(-49 + n))
        handoff_reject(
            handoff=Handoff.objects.get(lead__external_id=lead),
            by=sales_rep,
            reason=reason,
            feedback=feedback,
        )
    pending = world.lead(at(-40), campaign="spring", owner="rita", external_id="pending")
    world.stage(pending, "mql", at(-39))
    world.lead(at(-30), campaign="spring", external_id="cold")
    recompute_since(date.fromisoformat(day(-75)))
    return world


@pytest.fixture
def as_user(client: Client, make_user: Callable[..., object]) -> Callable[[object], Client]:
    def login(user: object) -> Client:
        client.force_login(user)
        return client

    return login


def _metric(html: str, key: str) -> str:
    found = re.search(rf'data-metric="{key}"[^>]*>([^<]*)<', html)
    assert found, key
    return found.group(1).strip()


# --- the post-mortem page -------------------------------------------------------------------


def test_the_post_mortem_shows_the_hand_computed_closed_loop_of_the_campaigns_whole_life(
    spring: World, as_user: Callable[[object], Client], marketing_rep: object
) -> None:
    client = as_user(marketing_rep)
    response = client.get("/campaigns/spring/post-mortem/")
    assert response.status_code == 200
    html = response.content.decode()
    shown = {k: _metric(html, k) for k in ("leads_created", "mqls", "acceptance_rate", "sqls",
             "deals_won", "attributed_revenue", "campaign_cost", "campaign_roi")}  # fmt: skip
    assert shown == {
        "leads_created": "6",
        "mqls": "5",
        "acceptance_rate": "25.0 %",  # 1 accepted of 4 decided (the pending one is not)
        "sqls": "1",
        "deals_won": "1",
        "attributed_revenue": "3,000",  # linear: half of 6,000 (two touches)
        "campaign_cost": "1,500",
        "campaign_roi": "100.0 %",  # (3,000 − 1,500) ÷ 1,500
    }
    assert "1 of 4 decided" in html
    months = response.context["c"].range_label
    assert months.startswith(period_start("month", date.fromisoformat(day(-75))).strftime("%b %Y"))
    assert months in html
    first = client.get("/campaigns/spring/post-mortem/?model=first_touch").content.decode()
    assert _metric(first, "attributed_revenue") == "6,000"
    assert _metric(first, "campaign_roi") == "300.0 %"  # (6,000 − 1,500) ÷ 1,500
    assert 'aria-current="true">First touch' in first
    last = client.get("/campaigns/spring/post-mortem/?model=last_touch").content.decode()
    assert _metric(last, "attributed_revenue") == "0"
    assert _metric(last, "campaign_roi") == "−100.0 %"


def test_the_post_mortem_shows_sales_ratings_and_the_rejection_reasons_with_quotes(
    spring: World,
    as_user: Callable[[object], Client],
    marketing_rep: object,
    sales_rep: object,
    rita: object,
) -> None:
    campaign = Campaign.objects.get(external_id="spring")
    campaign_rate(campaign=campaign, by=sales_rep, rating=2, comment="Half of them were students")
    campaign_rate(campaign=campaign, by=rita, rating=5, comment="The webinar ones were great")
    response = as_user(marketing_rep).get("/campaigns/spring/post-mortem/")
    html = response.content.decode()
    pm = response.context["pm"]
    assert (pm.ratings.count, pm.ratings.average) == (2, 3.5)
    assert "3.5" in html and "average of 2 sales ratings" in html
    assert "“Half of them were students”" in html and "Sam Rep" in html
    assert "“The webinar ones were great”" in html and "Rita Rep" in html
    assert [(r.code, r.count) for r in pm.reasons] == [("bad_fit", 2), ("no_budget", 1)]
    assert [q.feedback for q in pm.reasons[0].quotes] == [
        "Wrong industry entirely",  # the latest first
        "Students, not buyers",
    ]
    assert "3 rejected handoffs, by reason" in html
    for quote in (
        "Students, not buyers",
        "Wrong industry entirely",
        "Budget frozen until next year",
    ):
        assert f"“{quote}”" in html
    assert 'name="rating"' not in html  # the page reads ratings; the campaign page takes them


def test_the_post_mortem_lists_the_campaigns_meetings_with_sales_presence(
    spring: World,
    as_user: Callable[[object], Client],
    marketing_rep: object,
    sales_rep: object,
) -> None:
    meeting(KICKOFF, "spring", [marketing_rep], offset=-76)
    html = as_user(marketing_rep).get("/campaigns/spring/post-mortem/").content.decode()
    assert "Campaign kick-off" in html and "no one from sales" in html
    assert "Post-mortem due" in html  # it ended 15 days ago, no post-mortem yet
    meeting(POSTMORTEM, "spring", [marketing_rep, sales_rep], offset=-1)
    html = as_user(marketing_rep).get("/campaigns/spring/post-mortem/").content.decode()
    assert "sales at the table" in html and "Post-mortem due" not in html


def test_the_post_mortem_of_an_unknown_campaign_is_not_found(
    as_user: Callable[[object], Client], marketing_rep: object
) -> None:
    assert as_user(marketing_rep).get("/campaigns/nope/post-mortem/").status_code == 404


def test_starting_the_post_mortem_makes_its_meeting_with_the_numbers_as_agenda(
    spring: World, as_user: Callable[[object], Client], marketing_manager: object
) -> None:
    client = as_user(marketing_manager)
    assert client.get("/campaigns/spring/post-mortem/start/").status_code == 405
    response = client.post("/campaigns/spring/post-mortem/start/", {"model": "first_touch"})
    assert response.status_code == 302
    created = Meeting.objects.get()
    assert created.kind == "campaign_postmortem"
    assert created.campaign.external_id == "spring"
    assert list(created.attendees.all()) == [marketing_manager]
    try:
        expected = reverse("meeting-detail", args=[created.pk])
    except NoReverseMatch:  # before the meeting pages are mounted
        expected = "/campaigns/spring/post-mortem/#meetings"
    assert response["Location"] == expected
    agenda = created.agenda
    assert "## Post-mortem: Spring webinar" in agenda
    assert "- Acceptance: 25.0 % (1 of 4 decided handoffs accepted)" in agenda
    assert "- Won revenue (First touch): 6,000" in agenda
    assert "- Cost: 1,500" in agenda
    assert "- ROI: 300.0 %" in agenda
    assert "- Bad fit: 2" in agenda and '"Wrong industry entirely"' in agenda
    assert "- No kick-off meeting was held." in agenda


def test_the_post_mortem_agenda_renders_sales_words_inert(spring: World, sales_rep: object) -> None:
    campaign = Campaign.objects.get(external_id="spring")
    campaign_rate(campaign=campaign, by=sales_rep, rating=1,
                  comment='<script>alert(1)</script> [x](javascript:alert(2))')  # fmt: skip
    agenda = postmortem_agenda(campaign_postmortem(campaign=campaign))
    html = markdown_html(agenda)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "href" not in html  # the javascript: link stays text
    assert "<h2>Post-mortem: Spring webinar</h2>" in html


def test_the_post_mortem_agenda_quotes_sales_words_as_text_not_markdown(
    spring: World, sales_rep: object
) -> None:
    campaign = Campaign.objects.get(external_id="spring")
    campaign_rate(campaign=campaign, by=sales_rep, rating=2,
                  comment="**Junk** leads, see [the list](https://example.com/x)")  # fmt: skip
    html = markdown_html(postmortem_agenda(campaign_postmortem(campaign=campaign)))
    assert "**Junk** leads, see [the list](https://example.com/x)" in html
    assert "<strong>Junk" not in html and "href" not in html


# --- the campaign page: ratings and meetings ------------------------------------------------


def test_a_sales_rep_rates_a_campaigns_leads_and_rating_again_changes_it(
    spring: World, as_user: Callable[[object], Client], sales_rep: object
) -> None:
    client = as_user(sales_rep)
    page = client.get("/campaigns/spring/").content.decode()
    assert 'action="/campaigns/spring/rate/"' in page and 'type="radio" name="rating"' in page
    response = client.post("/campaigns/spring/rate/", {"rating": "2", "comment": "Students"})
    assert response.status_code == 302
    assert response["Location"] == "/campaigns/spring/#ratings"
    assert (
        client.post("/campaigns/spring/rate/", {"rating": "4", "comment": "Better"}).status_code
        == 302
    )
    rating = CampaignRating.objects.get()
    assert (rating.rater, rating.rating, rating.comment) == (sales_rep, 4, "Better")
    page = client.get("/campaigns/spring/").content.decode()
    assert "Your rating:" in page and "Change my rating" in page
    checked = re.findall(r'<input type="radio" name="rating" value="(\d)"[^>]*checked', page)
    assert checked == ["4"]
    assert "“Better”" in page and "average of 1 sales rating" in page


def test_a_campaign_whose_id_holds_odd_characters_is_rated_through_its_pages_links(
    world: World, as_user: Callable[[object], Client], sales_rep: object
) -> None:
    odd = "EU spring+webinar (2026) ä%"
    world.campaign("Odd", external_id=odd)
    client = as_user(sales_rep)
    page = client.get(reverse("campaign-detail", args=[odd])).content.decode()
    action = re.search(r'action="([^"]+/rate/)"', page).group(1)
    assert action == reverse("campaign-rate", args=[odd])
    assert client.post(action, {"rating": "3"}).status_code == 302
    assert CampaignRating.objects.get().campaign.external_id == odd
    assert client.get(reverse("campaign-postmortem", args=[odd])).status_code == 200


def test_a_sales_manager_rates_too(
    spring: World, as_user: Callable[[object], Client], sales_manager: object
) -> None:
    assert (
        as_user(sales_manager).post("/campaigns/spring/rate/", {"rating": "5"}).status_code == 302
    )
    assert CampaignRating.objects.get().rater == sales_manager


@pytest.mark.parametrize("rating", ["0", "6", "", "three", "2.5"])
def test_a_rating_outside_1_to_5_is_a_400_with_the_forms_errors_and_saves_nothing(
    spring: World, as_user: Callable[[object], Client], sales_rep: object, rating: str
) -> None:
    client = as_user(sales_rep)
    campaign_rate(campaign=Campaign.objects.get(external_id="spring"), by=sales_rep, rating=3,
                  comment="Fine")  # fmt: skip
    response = client.post("/campaigns/spring/rate/", {"rating": rating, "comment": "Changed"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Rate the campaign&#x27;s leads from 1 to 5." in html
    assert "Changed</textarea>" in html  # the form comes back as it was sent
    assert "Leads over time" in html  # on the campaign's page
    saved = CampaignRating.objects.get()
    assert (saved.rating, saved.comment) == (3, "Fine")


def test_a_comment_too_long_is_a_400(
    spring: World, as_user: Callable[[object], Client], sales_rep: object
) -> None:
    response = as_user(sales_rep).post(
        "/campaigns/spring/rate/", {"rating": "3", "comment": "x" * 2001}
    )
    assert response.status_code == 400
    assert not CampaignRating.objects.exists()


@pytest.mark.parametrize("role", [Role.MARKETING_REP, Role.MARKETING_MANAGER, Role.ADMIN])
def test_people_outside_sales_neither_see_the_form_nor_rate(
    spring: World,
    as_user: Callable[[object], Client],
    make_user: Callable[..., object],
    role: Role,
) -> None:
    client = as_user(make_user("outsider", role))
    assert 'name="rating"' not in client.get("/campaigns/spring/").content.decode()
    response = client.post("/campaigns/spring/rate/", {"rating": "5", "comment": "Great!"})
    assert response.status_code == 403
    assert "Only sales rates" in response.content.decode()
    assert not CampaignRating.objects.exists()


def test_rating_an_unknown_campaign_is_not_found_and_a_get_is_refused(
    spring: World, as_user: Callable[[object], Client], sales_rep: object
) -> None:
    client = as_user(sales_rep)
    assert client.post("/campaigns/nope/rate/", {"rating": "3"}).status_code == 404
    assert client.get("/campaigns/spring/rate/").status_code == 405


def test_the_rater_or_a_manager_removes_a_rating_and_another_rep_cannot(
    spring: World,
    as_user: Callable[[object], Client],
    sales_rep: object,
    rita: object,
    marketing_manager: object,
) -> None:
    campaign = Campaign.objects.get(external_id="spring")
    mine = campaign_rate(campaign=campaign, by=sales_rep, rating=2)
    url = f"/campaigns/spring/ratings/{mine.pk}/delete/"
    client = as_user(rita)
    assert url not in client.get("/campaigns/spring/").content.decode()
    assert client.post(url).status_code == 403
    assert CampaignRating.objects.filter(pk=mine.pk).exists()
    client = as_user(sales_rep)
    assert url in client.get("/campaigns/spring/").content.decode()
    assert client.post(url).status_code == 302
    assert not CampaignRating.objects.exists()
    hers = campaign_rate(campaign=campaign, by=rita, rating=1, comment="rude")
    client = as_user(marketing_manager)
    assert client.post(f"/campaigns/spring/ratings/{hers.pk}/delete/").status_code == 302
    assert not CampaignRating.objects.exists()
    assert client.post(f"/campaigns/retarget/ratings/{hers.pk}/delete/").status_code == 404


def test_the_campaign_page_tells_ratings_of_the_campaign_from_feedback_on_single_handoffs(
    spring: World, as_user: Callable[[object], Client], marketing_rep: object, rita: object
) -> None:
    campaign_rate(campaign=Campaign.objects.get(external_id="spring"), by=rita, rating=4,
                  comment="Good webinar crowd")  # fmt: skip
    html = as_user(marketing_rep).get("/campaigns/spring/").content.decode()
    assert "How sales rates this campaign's leads" in html
    assert "Ratings of the campaign, one per sales person" in html
    assert "What sales says on each handoff" in html and "Feedback on single handoffs" in html
    assert "“Good webinar crowd”" in html and "Rita Rep" in html
    assert "“Students, not buyers”" in html  # a handoff's feedback, in the other card


def test_the_campaign_page_shows_its_meetings_with_sales_presence(
    spring: World,
    as_user: Callable[[object], Client],
    marketing_rep: object,
    sales_rep: object,
) -> None:
    meeting(KICKOFF, "spring", [marketing_rep], offset=-80)
    meeting(POSTMORTEM, "spring", [marketing_rep, sales_rep], offset=-2)
    meeting(KICKOFF, "retarget", [sales_rep], offset=-70)  # another campaign's
    meeting(Meeting.Kind.BRAINSTORM, "spring", [sales_rep], offset=-20)  # not a kick-off
    response = as_user(marketing_rep).get("/campaigns/spring/")
    listed = response.context["campaign_meetings"].meetings
    assert [(m.kind, m.has_sales) for m in listed] == [(KICKOFF, False), (POSTMORTEM, True)]
    html = response.content.decode()
    card = html[html.index('id="meetings"') :]
    assert card.count("no one from sales") == 1 and card.count("sales at the table") == 1
    assert "Brainstorm" not in card
    assert 'href="/campaigns/spring/post-mortem/"' in card


def test_meetings_and_ratings_added_after_the_page_was_kept_show_at_once(
    spring: World,
    as_user: Callable[[object], Client],
    marketing_rep: object,
    sales_rep: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = as_user(marketing_rep)
    assert "No kick-off or post-mortem yet" in client.get("/campaigns/spring/").content.decode()

    def rebuilt(**kwargs: object) -> None:
        raise AssertionError("the kept fragment should have been served")

    monkeypatch.setattr("kpis.views.campaign_detail", rebuilt)
    meeting(KICKOFF, "spring", [marketing_rep, sales_rep], offset=-76)
    campaign_rate(campaign=Campaign.objects.get(external_id="spring"), by=sales_rep, rating=5,
                  comment="Loved it")  # fmt: skip
    html = client.get("/campaigns/spring/").content.decode()
    assert "sales at the table" in html and "“Loved it”" in html


# --- the campaign list's flags --------------------------------------------------------------


@pytest.fixture
def flagged(world: World, sales_rep: object, marketing_rep: object) -> World:
    """Five campaigns: a kick-off without sales, one with sales, one ended 15 days ago with no
    post-mortem, one ended 10 days ago, one ended 15 days ago with a post-mortem held without
    sales."""
    running = {"starts_on": day(-60), "ends_on": day(30)}
    world.campaign("Kick-off without sales", external_id="kick-mkt", **running)
    world.campaign("Kick-off with sales", external_id="kick-both", **running)
    world.campaign(
        "Ended 15 days ago", external_id="ended-15", starts_on=day(-60), ends_on=day(-15)
    )
    world.campaign(
        "Ended 10 days ago", external_id="ended-10", starts_on=day(-60), ends_on=day(-10)
    )
    world.campaign("Post-mortem, no sales", external_id="pm-mkt", starts_on=day(-60),
                   ends_on=day(-15))  # fmt: skip
    meeting(KICKOFF, "kick-mkt", [marketing_rep])
    meeting(KICKOFF, "kick-both", [marketing_rep, sales_rep])
    meeting(POSTMORTEM, "pm-mkt", [marketing_rep], offset=-5)
    recompute_since(date.fromisoformat(day(-60)))
    return world


def _row(html: str, key: str) -> str:
    rows = [r for r in html.split("<tr>") if f'href="/campaigns/{key}/"' in r]
    assert len(rows) == 1, key
    return rows[0].split("</th>")[0]


def test_the_campaign_list_flags_kickoffs_without_sales_and_post_mortems_due(
    flagged: World, as_user: Callable[[object], Client], marketing_rep: object
) -> None:
    response = as_user(marketing_rep).get("/campaigns/")
    flags = response.context["flags"]
    assert flags["kick-mkt"].no_kickoff_with_sales and flags["kick-mkt"].kickoff_without_sales
    assert not flags["kick-both"].no_kickoff_with_sales
    assert flags["ended-15"].postmortem_due
    assert not flags["ended-10"].postmortem_due
    assert not flags["pm-mkt"].postmortem_due and flags["pm-mkt"].postmortem_without_sales
    html = response.content.decode()
    assert "no kick-off with sales" in _row(html, "kick-mkt")
    assert "no kick-off with sales" not in _row(html, "kick-both")
    assert "post-mortem due" in _row(html, "ended-15")
    assert "no kick-off with sales" in _row(html, "ended-15")  # it never had one
    assert "post-mortem due" not in _row(html, "ended-10")
    assert "post-mortem due" not in _row(html, "pm-mkt")
    assert "post-mortem without sales" in _row(html, "pm-mkt")
    for key in ("kick-mkt", "kick-both", "ended-15", "ended-10"):
        assert "post-mortem without sales" not in _row(html, key)


def test_the_list_flags_do_not_go_stale_when_a_meeting_is_added_after_the_list_was_kept(
    flagged: World,
    as_user: Callable[[object], Client],
    sales_rep: object,
    marketing_rep: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = as_user(marketing_rep)
    html = client.get("/campaigns/").content.decode()
    assert "post-mortem due" in _row(html, "ended-15")
    assert "no kick-off with sales" in _row(html, "kick-mkt")

    def rebuilt(f: object) -> None:
        raise AssertionError("the kept list should have been served")

    monkeypatch.setattr("kpis.views._campaign_list_rows", rebuilt)
    meeting(POSTMORTEM, "ended-15", [marketing_rep, sales_rep], offset=-1)
    meeting(KICKOFF, "kick-mkt", [sales_rep], offset=-59)
    html = client.get("/campaigns/").content.decode()
    assert "post-mortem due" not in _row(html, "ended-15")
    assert "no kick-off with sales" not in _row(html, "kick-mkt")


def test_the_list_reads_as_many_queries_for_many_campaigns_as_for_few(
    world: World,
    as_user: Callable[[object], Client],
    marketing_rep: object,
    sales_rep: object,
) -> None:
    from django.core.cache import cache

    client = as_user(marketing_rep)

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/campaigns/").status_code == 200
        return len(captured)

    for n in range(2):
        world.campaign(f"c{n}", starts_on=day(-60), ends_on=day(-20))
        meeting(KICKOFF, f"c{n}", [sales_rep])
    few = queries()
    for n in range(2, 9):
        world.campaign(f"c{n}", starts_on=day(-60), ends_on=day(-20))
        meeting(KICKOFF if n % 2 else POSTMORTEM, f"c{n}", [marketing_rep, sales_rep][: n % 2 + 1])
    assert queries() == few


@pytest.mark.parametrize("external_id", ["hubspot/source/ORGANIC_SEARCH", 'a b?c#d\r\n"q"'])
def test_a_campaign_whose_id_holds_a_slash_or_a_question_mark_has_its_pages(
    client: Client, world: World, make_user: Callable[..., object], external_id: str
) -> None:
    world.campaign("Odd", external_id=external_id, starts_on="2026-03-01", ends_on="2026-03-31")
    client.force_login(make_user("mia", Role.MARKETING_MANAGER))
    listing = client.get("/campaigns/?start=2026-03-01&end=2026-03-31", follow=True)
    assert listing.status_code == 200
    detail = reverse("campaign-detail", args=[external_id])
    assert detail in listing.content.decode()
    page = client.get(detail)
    assert page.status_code == 200 and page.context["campaign"].external_id == external_id
    postmortem = client.get(reverse("campaign-postmortem", args=[external_id]))
    assert postmortem.status_code == 200
    assert client.get(reverse("campaign-csv", args=[external_id, "funnel"])).status_code in (
        200,
        404,
    )
