from __future__ import annotations

import pytest
from django.test import Client

from alignment.models import Idea, IdeaComment, IdeaVote
from alignment.services import ideas as svc
from leads.models import Campaign
from tests.alignment.inert import assert_inert
from tests.conftest import csv_rows

pytestmark = pytest.mark.django_db


def _as(client: Client, user: object) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def draft(marketing_rep: object) -> Idea:
    return svc.idea_create(by=marketing_rep, title="Webinar for CFOs", body="Half done.")


@pytest.fixture
def opened(draft: Idea, marketing_rep: object) -> Idea:
    return svc.idea_open(idea=draft, by=marketing_rep)


def test_a_person_writes_a_draft_and_opens_it_for_critique(
    client: Client, sales_rep: object
) -> None:
    _as(client, sales_rep)
    assert client.get("/ideas/new/").status_code == 200
    response = client.post("/ideas/new/", {"title": "Case study day", "body": "Invite **3**."})
    idea = Idea.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ideas/{idea.pk}/"
    assert (idea.status, idea.author_team) == ("draft", "sales")
    page = client.get(f"/ideas/{idea.pk}/").content.decode()
    assert "<strong>3</strong>" in page and "Open for critique" in page
    client.post(f"/ideas/{idea.pk}/open/")
    idea.refresh_from_db()
    assert idea.status == "open"


def test_an_idea_without_a_title_is_a_400_and_nothing_is_saved(
    client: Client, sales_rep: object
) -> None:
    response = _as(client, sales_rep).post("/ideas/new/", {"title": "", "body": "x"})
    assert response.status_code == 400
    assert "Give the idea a title." in response.content.decode()
    assert not Idea.objects.exists()


def test_only_the_author_edits_a_draft(
    client: Client, draft: Idea, marketing_manager: object, sales_rep: object, marketing_rep: object
) -> None:
    for other in (marketing_manager, sales_rep):
        _as(client, other)
        assert client.get(f"/ideas/{draft.pk}/edit/").status_code == 403
        response = client.post(f"/ideas/{draft.pk}/edit/", {"title": "Hijacked", "body": ""})
        assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.title == "Webinar for CFOs"
    _as(client, marketing_rep)
    assert client.get(f"/ideas/{draft.pk}/edit/").status_code == 200
    response = client.post(f"/ideas/{draft.pk}/edit/", {"title": "CFO webinar", "body": "v2"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.body) == ("CFO webinar", "v2")


def test_an_open_idea_is_no_longer_edited(
    client: Client, opened: Idea, marketing_rep: object
) -> None:
    response = _as(client, marketing_rep).post(
        f"/ideas/{opened.pk}/edit/", {"title": "Changed", "body": ""}
    )
    assert response.status_code == 403
    opened.refresh_from_db()
    assert opened.title == "Webinar for CFOs"


def test_a_draft_is_private_to_its_author(
    client: Client, draft: Idea, marketing_manager: object, marketing_rep: object
) -> None:
    _as(client, marketing_manager)
    assert client.get(f"/ideas/{draft.pk}/").status_code == 403
    board = client.get("/ideas/").content.decode()
    assert "Webinar for CFOs" not in board
    assert "1 draft being written by others" in board
    _as(client, marketing_rep)
    assert "Webinar for CFOs" in client.get("/ideas/").content.decode()


def test_the_board_shows_votes_per_team_and_comments(
    client: Client,
    opened: Idea,
    sales_rep: object,
    sales_manager: object,
    marketing_manager: object,
) -> None:
    for user in (sales_rep, sales_manager, marketing_manager):
        svc.idea_vote(idea=opened, by=user)
    svc.idea_comment(idea=opened, by=sales_rep, body="Yes please")
    board = _as(client, sales_rep).get("/ideas/").content.decode()
    assert "1 marketing · 2 sales" in board
    assert "1 comment" in board
    assert "You voted" in board


def test_votes_are_one_per_person_and_can_be_taken_back(
    client: Client, opened: Idea, sales_rep: object
) -> None:
    _as(client, sales_rep)
    client.post(f"/ideas/{opened.pk}/vote/", {"action": "vote"})
    client.post(f"/ideas/{opened.pk}/vote/", {"action": "vote"})
    assert IdeaVote.objects.filter(idea=opened).count() == 1
    assert "Take my vote back" in client.get(f"/ideas/{opened.pk}/").content.decode()
    client.post(f"/ideas/{opened.pk}/vote/", {"action": "unvote"})
    assert not IdeaVote.objects.exists()


def test_the_author_cannot_vote_for_their_own_idea(
    client: Client, opened: Idea, marketing_rep: object
) -> None:
    response = _as(client, marketing_rep).post(f"/ideas/{opened.pk}/vote/", {"action": "vote"})
    assert response.status_code == 403
    assert not IdeaVote.objects.exists()


def test_comments_show_each_commenters_team(
    client: Client, opened: Idea, sales_rep: object
) -> None:
    _as(client, sales_rep)
    response = client.post(f"/ideas/{opened.pk}/comments/", {"body": "Prospects ask for it."})
    assert response.status_code == 302
    page = client.get(f"/ideas/{opened.pk}/").content.decode()
    assert "Prospects ask for it." in page
    assert 'class="owner owner-sales"' in page
    assert client.post(f"/ideas/{opened.pk}/comments/", {"body": " "}).status_code == 400
    assert IdeaComment.objects.count() == 1


def test_markdown_in_an_idea_and_a_comment_renders_inert(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    evil = (
        "<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n"
        '<img src=x onerror="alert(3)">'
    )
    idea = svc.idea_create(by=marketing_rep, title="XSS", body=evil)
    idea = svc.idea_open(idea=idea, by=marketing_rep)
    svc.idea_comment(idea=idea, by=sales_rep, body=evil)
    page = _as(client, sales_rep).get(f"/ideas/{idea.pk}/").content.decode()
    assert_inert(page)
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # shown as text, twice


def test_a_manager_adopts_an_open_idea_into_a_campaign(
    client: Client, opened: Idea, sales_manager: object, world: object
) -> None:
    campaign = Campaign.objects.get(external_id=world.campaign("cfo-webinar"))
    response = _as(client, sales_manager).post(
        f"/ideas/{opened.pk}/adopt/", {"campaign": campaign.pk, "goal": ""}
    )
    assert response.status_code == 302
    opened.refresh_from_db()
    assert (opened.status, opened.campaign) == ("adopted", campaign)
    board = client.get("/ideas/").content.decode()
    assert f'href="/campaigns/{campaign.external_id}/"' in board


def test_a_rep_who_is_not_the_author_neither_adopts_nor_parks(
    client: Client, opened: Idea, sales_rep: object
) -> None:
    _as(client, sales_rep)
    assert client.post(f"/ideas/{opened.pk}/adopt/", {}).status_code == 403
    assert client.post(f"/ideas/{opened.pk}/park/", {"reason": "No."}).status_code == 403
    page = client.get(f"/ideas/{opened.pk}/").content.decode()
    assert "Adopt it" not in page and "Park it" not in page
    opened.refresh_from_db()
    assert opened.status == "open"


def test_parking_without_a_reason_is_a_400(
    client: Client, opened: Idea, marketing_rep: object
) -> None:
    _as(client, marketing_rep)
    response = client.post(f"/ideas/{opened.pk}/park/", {"reason": "  "})
    assert response.status_code == 400
    assert "Say why the idea is parked." in response.content.decode()
    opened.refresh_from_db()
    assert opened.status == "open"
    client.post(f"/ideas/{opened.pk}/park/", {"reason": "No budget."})
    assert "No budget." in client.get("/ideas/").content.decode()


def test_reps_cant_delete_others_ideas(
    client: Client, opened: Idea, sales_rep: object, marketing_rep: object, sales_manager: object
) -> None:
    assert _as(client, sales_rep).post(f"/ideas/{opened.pk}/delete/").status_code == 403
    assert _as(client, marketing_rep).post(f"/ideas/{opened.pk}/delete/").status_code == 403
    assert Idea.objects.filter(pk=opened.pk).exists()
    assert _as(client, sales_manager).post(f"/ideas/{opened.pk}/delete/").status_code == 302
    assert not Idea.objects.exists()


def test_the_author_deletes_their_draft(client: Client, draft: Idea, marketing_rep: object) -> None:
    assert _as(client, marketing_rep).post(f"/ideas/{draft.pk}/delete/").status_code == 302
    assert not Idea.objects.exists()


def test_the_board_refuses_an_unknown_status(client: Client, sales_rep: object) -> None:
    response = _as(client, sales_rep).get("/ideas/?status=nonsense")
    assert response.status_code == 400


def test_the_board_shows_one_status_in_full(
    client: Client, marketing_rep: object, sales_rep: object
) -> None:
    for n in range(14):
        idea = svc.idea_create(by=marketing_rep, title=f"Parked idea {n}")
        svc.idea_park(idea=idea, by=marketing_rep, reason="Later")
    _as(client, sales_rep)
    board = client.get("/ideas/").content.decode()
    assert board.count("Parked idea ") == 12 and "All 14" in board
    assert client.get("/ideas/?status=parked").content.decode().count("Parked idea ") == 14


def test_the_ideas_pages_use_the_together_tabs(
    client: Client, opened: Idea, sales_rep: object
) -> None:
    _as(client, sales_rep)
    for url in ("/ideas/", "/ideas/new/", f"/ideas/{opened.pk}/"):
        assert 'href="/ideas/" aria-current="page"' in client.get(url).content.decode()


def test_post_only_endpoints_refuse_get(client: Client, opened: Idea, sales_rep: object) -> None:
    _as(client, sales_rep)
    for action in ("open", "comments", "vote", "adopt", "park", "delete"):
        assert client.get(f"/ideas/{opened.pk}/{action}/").status_code == 405


# --- the board as CSV ------------------------------------------------------------------------


def test_the_board_downloads_as_csv_with_the_viewers_own_drafts_only(
    client: Client, draft: Idea, marketing_rep: object, sales_rep: object
) -> None:
    svc.idea_create(by=sales_rep, title="=cmd|' /C calc'!A0", body="Mine")
    shared = svc.idea_open(
        idea=svc.idea_create(by=marketing_rep, title="Partner webinar"), by=marketing_rep
    )
    svc.idea_vote(idea=shared, by=sales_rep)
    for n in range(13):  # more parked ones than the board shows
        svc.idea_park(
            idea=svc.idea_create(by=sales_rep, title=f"Parked {n}"), by=sales_rep, reason="Later"
        )
    page = _as(client, sales_rep).get("/ideas/").content.decode()
    assert 'class="csv" href="?format=csv"' in page
    rows = csv_rows(client.get("/ideas/?format=csv"))
    header = rows[0]
    titles = [r[1] for r in rows[1:]]
    assert "Webinar for CFOs" not in titles  # someone else's draft stays private
    assert titles[:2] == ["'=cmd|' /C calc'!A0", "Partner webinar"]
    assert len([t for t in titles if t.startswith("Parked")]) == 13  # every one, not 12
    partner = rows[1 + titles.index("Partner webinar")]
    assert partner[header.index("Status")] == "Open for critique"
    assert partner[header.index("Sales votes")] == "1"
    assert partner[header.index("You voted")] == "yes"
    opened = csv_rows(client.get("/ideas/?status=open&format=csv"))
    assert [r[1] for r in opened[1:]] == ["Partner webinar"]
    assert client.get("/ideas/?status=nope&format=csv").status_code == 400
