"""The spotlights pages through real HTTP: everyone posts and thanks; the creator and the
managers edit and delete; a story's Markdown renders inert."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from alignment.models import Spotlight, SpotlightThanks
from alignment.services.spotlights import spotlight_create, spotlight_thank
from leads.models import Deal, Lead
from tests.conftest import World, csv_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(world: World) -> Deal:
    lead = world.lead("2026-03-01T10:00", external_id="acme-lead")
    Lead.objects.filter(external_id=lead).update(company="Acme GmbH", name="Ann Buyer")
    deal = world.deal(lead, 12000, "2026-03-10T10:00", status="won", closed_at="2026-04-02T10:00",
                      external_id="D-acme")  # fmt: skip
    return Deal.objects.get(external_id=deal)


@pytest.fixture
def open_deal(world: World) -> Deal:
    lead = world.lead("2026-03-01T10:00")
    return Deal.objects.get(external_id=world.deal(lead, 5000, "2026-03-10T10:00"))


@pytest.fixture
def spotlight(won: Deal, marketing_rep: object, sales_rep: object) -> Spotlight:
    return spotlight_create(
        by=marketing_rep,
        title="Acme signed",
        story="The **webinar** brought Ann; Sam closed.",
        deal=won,
        people=[marketing_rep, sales_rep],
    )


def logged_in(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


def post_new(client: Client, **extra: object) -> object:
    data = {"title": "Acme signed", "deal": "D-acme", "people": ["mia", "sam"],
            "story": "Webinar, then a demo.", **extra}  # fmt: skip
    return client.post("/spotlights/new/", data)


def test_the_list_shows_the_win_its_deal_its_people_by_team_and_the_thanks(
    client: Client, spotlight: Spotlight, sales_manager: object, sales_rep: object
) -> None:
    spotlight_thank(spotlight=spotlight, by=sales_rep)
    html = logged_in(client, sales_manager).get("/spotlights/").content.decode()
    assert "Acme signed" in html
    assert "12,000" in html and "Acme GmbH" in html
    assert 'class="person person-marketing"' in html and 'class="person person-sales"' in html
    assert "The webinar brought Ann; Sam closed." in html  # the excerpt, as plain text
    assert 'name="do" value="thank"' in html  # sally has not thanked yet
    assert "Thanked by Sam Rep" in html
    assert 'aria-current="page">Spotlights' in html


def test_anyone_puts_a_won_deal_with_both_teams_in_the_spotlight(
    client: Client, won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    response = post_new(logged_in(client, sales_rep))
    spotlight = Spotlight.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/spotlights/{spotlight.pk}/"
    assert spotlight.created_by == sales_rep
    assert dict(spotlight.credits.values_list("user__username", "team")) == {
        "mia": "marketing",
        "sam": "sales",
    }


def test_a_spotlight_of_one_team_or_of_an_open_deal_is_refused_with_a_400(
    client: Client,
    won: Deal,
    open_deal: Deal,
    marketing_rep: object,
    marketing_manager: object,
    sales_rep: object,
) -> None:
    client = logged_in(client, marketing_rep)
    one_team = post_new(client, people=["mia", "max"])
    assert one_team.status_code == 400
    assert "joint win" in one_team.content.decode()
    not_won = post_new(client, deal=open_deal.external_id)
    assert not_won.status_code == 400
    assert "not won" in not_won.content.decode()
    assert post_new(client, title="").status_code == 400
    assert post_new(client, people=["mia", "sam", "ghost"]).status_code == 400
    assert not Spotlight.objects.exists()


def test_the_new_page_lists_won_deals_and_prefills_the_one_asked_for(
    client: Client, won: Deal, open_deal: Deal, marketing_rep: object, sales_rep: object
) -> None:
    client = logged_in(client, marketing_rep)
    page = client.get("/spotlights/new/?deal=D-acme")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="D-acme" selected>D-acme · Acme GmbH (Ann Buyer) · 12,000' in html
    assert open_deal.external_id not in html
    assert '<p class="people-team-label">Marketing</p>' in html
    assert '<p class="people-team-label">Sales</p>' in html
    assert 'value="sam" id="id_people_1"><span>Sam Rep (sam)</span>' in html
    refused = client.get(f"/spotlights/new/?deal={open_deal.external_id}").content.decode()
    assert "is not a won deal" in refused


def test_the_creator_and_managers_edit_others_get_a_403_and_nothing_changes(
    client: Client, spotlight: Spotlight, sales_rep: object, sales_manager: object
) -> None:
    data = {"title": "Renamed", "deal": "D-acme", "people": ["mia", "sam"], "story": "New."}
    refused = logged_in(client, sales_rep)
    assert refused.get(f"/spotlights/{spotlight.pk}/edit/").status_code == 403
    assert refused.post(f"/spotlights/{spotlight.pk}/edit/", data).status_code == 403
    spotlight.refresh_from_db()
    assert spotlight.title == "Acme signed"
    manager = logged_in(client, sales_manager)
    assert manager.get(f"/spotlights/{spotlight.pk}/edit/").status_code == 200
    assert manager.post(f"/spotlights/{spotlight.pk}/edit/", data).status_code == 302
    spotlight.refresh_from_db()
    assert (spotlight.title, spotlight.story) == ("Renamed", "New.")


def test_a_rep_cannot_delete_someone_elses_spotlight_but_can_delete_their_own(
    client: Client,
    spotlight: Spotlight,
    won: Deal,
    marketing_rep: object,
    sales_rep: object,
) -> None:
    refused = logged_in(client, sales_rep).post(f"/spotlights/{spotlight.pk}/delete/")
    assert refused.status_code == 403
    assert Spotlight.objects.filter(pk=spotlight.pk).exists()
    detail = client.get(f"/spotlights/{spotlight.pk}/").content.decode()
    assert "/delete/" not in detail and "/edit/" not in detail
    own = logged_in(client, marketing_rep)
    assert "/delete/" in own.get(f"/spotlights/{spotlight.pk}/").content.decode()
    response = own.post(f"/spotlights/{spotlight.pk}/delete/")
    assert response.status_code == 302
    assert not Spotlight.objects.exists()
    assert client.get(f"/spotlights/{spotlight.pk}/delete/").status_code == 405


def test_thanks_toggle_once_per_person_with_and_without_htmx(
    client: Client, spotlight: Spotlight, sales_manager: object
) -> None:
    client = logged_in(client, sales_manager)
    url = f"/spotlights/{spotlight.pk}/thanks/"
    back = client.post(url, {"do": "thank", "next": "/spotlights/"})
    assert (back.status_code, back["Location"]) == (302, "/spotlights/")
    client.post(url, {"do": "thank", "next": "https://evil.example/"})  # twice: still once
    assert SpotlightThanks.objects.filter(spotlight=spotlight).count() == 1
    swapped = client.post(url, {"do": "unthank", "thankers": "1"}, HTTP_HX_REQUEST="true")
    html = swapped.content.decode()
    assert swapped.status_code == 200
    assert 'id="thanks-' in html and 'name="do" value="thank"' in html and "<html" not in html
    assert not SpotlightThanks.objects.exists()
    again = client.post(url, {"do": "thank"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'aria-pressed="true"' in again and 'aria-label="1 thanks"' in again


def test_markdown_in_a_story_renders_inert(
    client: Client, won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    story = (
        "<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n"
        '<img src=x onerror="alert(3)">\n\n**bold**'
    )
    spotlight = spotlight_create(
        by=marketing_rep, title="<b>Risky</b>", story=story, deal=won,
        people=[marketing_rep, sales_rep],
    )  # fmt: skip
    html = logged_in(client, sales_rep).get(f"/spotlights/{spotlight.pk}/").content.decode()
    body = html[html.index('<div class="md">') :]
    body = body[: body.index("</div>")]
    assert "<script" not in body and 'href="javascript:' not in body and "<img" not in body
    assert "<strong>bold</strong>" in body
    assert "&lt;script&gt;" in body  # shown as text, not run
    assert "&lt;b&gt;Risky&lt;/b&gt;" in html
    listed = client.get("/spotlights/").content.decode()
    assert "<script>alert" not in listed and "<img" not in listed


def test_the_pages_need_a_login_and_a_missing_spotlight_is_a_404(
    client: Client, spotlight: Spotlight, make_user: Callable[..., object]
) -> None:
    assert client.get("/spotlights/").status_code == 302
    assert client.get("/spotlights/new/").status_code == 302
    client.force_login(make_user("nobody"))
    assert client.get("/spotlights/999999/").status_code == 404
    assert client.get("/spotlights/").status_code == 200


def test_the_lead_page_offers_to_put_its_won_deal_in_the_spotlight(
    client: Client, won: Deal, open_deal: Deal, marketing_rep: object
) -> None:
    html = logged_in(client, marketing_rep).get(f"/leads/{won.lead_id}/").content.decode()
    assert 'href="/spotlights/new/?deal=D-acme">Put it in the spotlight</a>' in html
    other = client.get(f"/leads/{open_deal.lead_id}/").content.decode()
    assert "Put it in the spotlight" not in other


def test_a_spotlight_keeps_someone_who_has_left_when_it_is_edited(
    client: Client, spotlight: Spotlight, marketing_rep: object, sales_rep: object
) -> None:
    sales_rep.is_active = False
    sales_rep.save()
    client = logged_in(client, marketing_rep)
    page = client.get(f"/spotlights/{spotlight.pk}/edit/").content.decode()
    assert 'value="sam" id="id_people_1" checked' in page
    data = {"title": "Acme, again", "deal": "D-acme", "people": ["mia", "sam"], "story": "S."}
    assert client.post(f"/spotlights/{spotlight.pk}/edit/", data).status_code == 302
    spotlight.refresh_from_db()
    assert spotlight.title == "Acme, again"
    assert dict(spotlight.credits.values_list("user__username", "team"))["sam"] == "sales"


def test_the_list_downloads_as_csv_with_the_people_by_team_and_the_viewers_thanks(
    client: Client, spotlight: Spotlight, sales_manager: object, sales_rep: object
) -> None:
    spotlight_thank(spotlight=spotlight, by=sales_rep)
    client = logged_in(client, sales_rep)
    assert 'class="csv" href="?format=csv"' in client.get("/spotlights/").content.decode()
    rows = csv_rows(client.get("/spotlights/?format=csv"))
    assert rows[0][:5] == ["Spotlight", "Deal", "Amount", "Company", "Won on"]
    assert rows[1][:8] == ["Acme signed", "D-acme", "12000", "Acme GmbH",
                           "2026-04-02 10:00:00", "mia", "Sam Rep", ""]  # fmt: skip
    assert rows[1][8:11] == ["1", "Sam Rep", "yes"]
    assert rows[1][-1] == "The **webinar** brought Ann; Sam closed."
    other = csv_rows(logged_in(client, sales_manager).get("/spotlights/?format=csv"))
    assert other[1][10] == "no"  # whether *they* thanked
