from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from alignment import selectors
from alignment.models import Idea, IdeaComment, IdeaVote
from alignment.roles import Role
from alignment.services import ideas as svc
from leads.models import Campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(marketing_rep: object) -> Idea:
    return svc.idea_create(by=marketing_rep, title="Webinar for CFOs", body="Half *done*.")


@pytest.fixture
def opened(draft: Idea, marketing_rep: object) -> Idea:
    return svc.idea_open(idea=draft, by=marketing_rep)


def test_a_new_idea_is_a_draft_of_its_author_with_their_team(
    draft: Idea, marketing_rep: object
) -> None:
    assert draft.status == Idea.Status.DRAFT
    assert draft.author == marketing_rep
    assert draft.author_team == "marketing"
    assert draft.opened_at is None


def test_an_idea_needs_a_title(sales_rep: object) -> None:
    with pytest.raises(ValidationError) as error:
        svc.idea_create(by=sales_rep, title="   ", body="text")
    assert "title" in error.value.message_dict
    assert not Idea.objects.exists()


def test_only_the_author_edits_a_draft(
    draft: Idea, marketing_manager: object, sales_rep: object, marketing_rep: object
) -> None:
    for other in (marketing_manager, sales_rep):
        with pytest.raises(PermissionDenied):
            svc.idea_update(idea=draft, by=other, title="Hijacked", body="")
    draft.refresh_from_db()
    assert draft.title == "Webinar for CFOs"
    svc.idea_update(idea=draft, by=marketing_rep, title="Webinar for CFOs, v2", body="More.")
    draft.refresh_from_db()
    assert (draft.title, draft.body) == ("Webinar for CFOs, v2", "More.")


def test_an_open_idea_stays_as_it_was_posted(opened: Idea, marketing_rep: object) -> None:
    with pytest.raises(PermissionDenied):
        svc.idea_update(idea=opened, by=marketing_rep, title="Changed")
    opened.refresh_from_db()
    assert opened.title == "Webinar for CFOs"


def test_only_the_author_opens_a_draft(
    draft: Idea, sales_manager: object, marketing_rep: object
) -> None:
    with pytest.raises(PermissionDenied):
        svc.idea_open(idea=draft, by=sales_manager)
    draft.refresh_from_db()
    assert draft.status == Idea.Status.DRAFT
    svc.idea_open(idea=draft, by=marketing_rep)
    draft.refresh_from_db()
    assert draft.status == Idea.Status.OPEN and draft.opened_at is not None
    with pytest.raises(ValidationError):
        svc.idea_open(idea=draft, by=marketing_rep)


def test_a_draft_takes_no_comments(draft: Idea, marketing_rep: object) -> None:
    with pytest.raises(ValidationError):
        svc.idea_comment(idea=draft, by=marketing_rep, body="Note to self")
    assert not IdeaComment.objects.exists()


def test_comments_keep_the_commenters_team(
    opened: Idea, sales_rep: object, admin_user: object
) -> None:
    svc.idea_comment(idea=opened, by=sales_rep, body="Prospects ask about this.")
    svc.idea_comment(idea=opened, by=admin_user, body="Fine by me.")
    assert list(opened.comments.values_list("team", flat=True)) == ["sales", ""]
    with pytest.raises(ValidationError):
        svc.idea_comment(idea=opened, by=sales_rep, body="  ")
    assert opened.comments.count() == 2


def test_votes_are_counted_per_team_one_per_person(
    opened: Idea,
    make_user: object,
    sales_rep: object,
    sales_manager: object,
    marketing_manager: object,
    admin_user: object,
) -> None:
    for user in (sales_rep, sales_manager, marketing_manager, admin_user):
        svc.idea_vote(idea=opened, by=user)
    svc.idea_vote(idea=opened, by=sales_rep)  # again: still one vote
    assert IdeaVote.objects.filter(idea=opened, user=sales_rep).count() == 1
    counted = selectors.ideas_in_critique().get(pk=opened.pk)
    assert (counted.marketing_votes, counted.sales_votes, counted.other_votes) == (1, 2, 1)
    assert counted.vote_count == 4
    svc.idea_unvote(idea=opened, by=sales_manager)
    counted = selectors.ideas_in_critique().get(pk=opened.pk)
    assert (counted.sales_votes, counted.vote_count) == (1, 3)


def test_a_vote_keeps_the_team_the_voter_was_in(opened: Idea, make_user: object) -> None:
    from alignment.services.accounts import user_set_role

    pat = make_user("pat", Role.SALES_REP)
    svc.idea_vote(idea=opened, by=pat)
    user_set_role(user=pat, role=Role.MARKETING_REP)
    assert IdeaVote.objects.get(user=pat).team == "sales"


def test_the_author_does_not_vote_for_their_own_idea(opened: Idea, marketing_rep: object) -> None:
    with pytest.raises(PermissionDenied):
        svc.idea_vote(idea=opened, by=marketing_rep)
    assert not IdeaVote.objects.exists()


def test_the_author_or_a_manager_adopts_an_open_idea(
    opened: Idea, sales_rep: object, sales_manager: object, world: object
) -> None:
    campaign = Campaign.objects.get(external_id=world.campaign("cfo-webinar"))
    with pytest.raises(PermissionDenied):
        svc.idea_adopt(idea=opened, by=sales_rep, campaign=campaign)
    opened.refresh_from_db()
    assert opened.status == Idea.Status.OPEN
    svc.idea_adopt(idea=opened, by=sales_manager, campaign=campaign)
    opened.refresh_from_db()
    assert opened.status == Idea.Status.ADOPTED
    assert opened.campaign == campaign and opened.decided_by == sales_manager
    assert opened.decided_at is not None


def test_a_draft_is_not_adopted(draft: Idea, marketing_rep: object) -> None:
    with pytest.raises(ValidationError):
        svc.idea_adopt(idea=draft, by=marketing_rep)


def test_parking_needs_a_reason(opened: Idea, marketing_rep: object) -> None:
    with pytest.raises(ValidationError) as error:
        svc.idea_park(idea=opened, by=marketing_rep, reason="  ")
    assert "reason" in error.value.message_dict
    opened.refresh_from_db()
    assert opened.status == Idea.Status.OPEN
    svc.idea_park(idea=opened, by=marketing_rep, reason="No budget this quarter.")
    opened.refresh_from_db()
    assert (opened.status, opened.parked_reason) == (Idea.Status.PARKED, "No budget this quarter.")


def test_the_author_parks_their_own_draft(draft: Idea, marketing_rep: object) -> None:
    svc.idea_park(idea=draft, by=marketing_rep, reason="Someone did it already.")
    draft.refresh_from_db()
    assert draft.status == Idea.Status.PARKED


def test_a_rep_neither_parks_nor_deletes_anothers_idea(opened: Idea, sales_rep: object) -> None:
    with pytest.raises(PermissionDenied):
        svc.idea_park(idea=opened, by=sales_rep, reason="Meh.")
    with pytest.raises(PermissionDenied):
        svc.idea_delete(idea=opened, by=sales_rep)
    opened.refresh_from_db()
    assert opened.status == Idea.Status.OPEN


def test_the_author_deletes_a_draft_but_only_a_manager_an_opened_idea(
    draft: Idea, marketing_rep: object, sales_manager: object
) -> None:
    svc.idea_open(idea=draft, by=marketing_rep)
    draft.refresh_from_db()
    with pytest.raises(PermissionDenied):
        svc.idea_delete(idea=draft, by=marketing_rep)
    svc.idea_delete(idea=draft, by=sales_manager)
    assert not Idea.objects.exists()
    own = svc.idea_create(by=marketing_rep, title="Another")
    svc.idea_delete(idea=own, by=marketing_rep)
    assert not Idea.objects.exists()


def test_drafts_are_private_to_their_author(
    draft: Idea, marketing_rep: object, marketing_manager: object
) -> None:
    assert svc.idea_can_view(idea=draft, user=marketing_rep)
    assert not svc.idea_can_view(idea=draft, user=marketing_manager)
    assert list(selectors.ideas_visible(viewer=marketing_manager)) == []
    assert selectors.ideas_drafts_of_others(viewer=marketing_manager) == 1
    with pytest.raises(PermissionDenied):
        svc.idea_delete(idea=draft, by=marketing_manager)


def test_the_board_has_a_column_per_status_with_the_viewers_drafts_only(
    marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    mine = svc.idea_create(by=sales_rep, title="Mine")
    svc.idea_create(by=marketing_rep, title="Theirs")
    popular = svc.idea_open(
        idea=svc.idea_create(by=marketing_rep, title="Popular"), by=marketing_rep
    )
    quiet = svc.idea_open(idea=svc.idea_create(by=marketing_rep, title="Quiet"), by=marketing_rep)
    svc.idea_vote(idea=popular, by=sales_rep)
    parked = svc.idea_create(by=marketing_rep, title="Parked")
    svc.idea_park(idea=parked, by=marketing_rep, reason="Later.")
    board = {c.status: c for c in selectors.ideas_board(viewer=sales_rep)}
    assert list(board) == ["draft", "open", "adopted", "parked"]
    assert [i.title for i in board["draft"].rows] == [mine.title]
    assert [i.title for i in board["open"].rows] == [popular.title, quiet.title]
    assert board["open"].rows[0].viewer_voted
    assert [i.title for i in board["parked"].rows] == ["Parked"]
    assert board["adopted"].total == 0
