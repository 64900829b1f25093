"""Spotlights: a won deal's story with the people of both teams, thanked once per person."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from alignment.models import Spotlight, SpotlightThanks
from alignment.roles import Role
from alignment.selectors import deals_won_recent, spotlight_list, spotlights_latest
from alignment.services.accounts import user_set_role
from alignment.services.spotlights import (
    spotlight_create,
    spotlight_delete,
    spotlight_thank,
    spotlight_unthank,
    spotlight_update,
)
from leads.models import Deal
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def won(world: World) -> Deal:
    lead = world.lead("2026-03-01T10:00", external_id="acme", name="Ann Buyer")
    deal = world.deal(lead, 12000, "2026-03-10T10:00", status="won", closed_at="2026-04-02T10:00")
    return Deal.objects.get(external_id=deal)


@pytest.fixture
def open_deal(world: World) -> Deal:
    lead = world.lead("2026-03-01T10:00")
    return Deal.objects.get(external_id=world.deal(lead, 5000, "2026-03-10T10:00"))


def joint(by: object, deal: Deal, people: list, **extra: object) -> Spotlight:
    values = {"title": "Acme signed", "story": "Webinar, then a demo.", **extra}
    return spotlight_create(by=by, deal=deal, people=people, **values)


def test_a_spotlight_tells_a_won_deal_with_people_of_both_teams_and_their_teams(
    won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    spotlight = joint(marketing_rep, won, [marketing_rep, sales_rep, sales_rep])
    credits = {c.user.username: c.team for c in spotlight.credits.select_related("user")}
    assert credits == {"mia": "marketing", "sam": "sales"}
    assert spotlight.created_by == marketing_rep
    assert spotlight.deal == won


def test_a_spotlight_needs_a_won_deal(
    open_deal: Deal, marketing_rep: object, sales_rep: object
) -> None:
    with pytest.raises(ValidationError) as error:
        joint(marketing_rep, open_deal, [marketing_rep, sales_rep])
    assert "not won" in error.value.message_dict["deal"][0]
    with pytest.raises(ValidationError) as error:
        joint(marketing_rep, None, [marketing_rep, sales_rep])
    assert "deal" in error.value.message_dict
    assert not Spotlight.objects.exists()


def test_a_spotlight_needs_people_of_both_teams(
    won: Deal,
    marketing_rep: object,
    marketing_manager: object,
    sales_rep: object,
    admin_user: object,
) -> None:
    for people in ([marketing_rep, marketing_manager], [sales_rep, admin_user], []):
        with pytest.raises(ValidationError) as error:
            joint(marketing_rep, won, people)
        assert "joint win" in error.value.message_dict["people"][0]
    assert not Spotlight.objects.exists()


def test_a_spotlight_needs_a_title_and_a_story(
    won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    with pytest.raises(ValidationError) as error:
        joint(marketing_rep, won, [marketing_rep, sales_rep], title="  ", story="")
    assert set(error.value.message_dict) == {"title", "story"}


def test_a_person_keeps_the_team_they_were_credited_with_after_moving(
    won: Deal, marketing_rep: object, sales_rep: object, make_user: Callable[..., object]
) -> None:
    spotlight = joint(marketing_rep, won, [marketing_rep, sales_rep])
    user_set_role(user=marketing_rep, role=Role.SALES_REP)
    newcomer = make_user("nia", Role.MARKETING_REP)
    spotlight_update(
        spotlight=spotlight, by=marketing_rep, people=[marketing_rep, sales_rep, newcomer]
    )
    teams = dict(spotlight.credits.values_list("user__username", "team"))
    assert teams == {"mia": "marketing", "sam": "sales", "nia": "marketing"}


def test_an_update_keeps_the_win_joint(won: Deal, marketing_rep: object, sales_rep: object) -> None:
    spotlight = joint(marketing_rep, won, [marketing_rep, sales_rep])
    with pytest.raises(ValidationError):
        spotlight_update(spotlight=spotlight, by=marketing_rep, people=[sales_rep])
    assert spotlight.credits.count() == 2


def test_the_creator_and_managers_edit_a_spotlight_others_do_not(
    won: Deal, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    spotlight = joint(marketing_rep, won, [marketing_rep, sales_rep])
    with pytest.raises(PermissionDenied):
        spotlight_update(spotlight=spotlight, by=sales_rep, title="Mine now")
    spotlight.refresh_from_db()
    assert spotlight.title == "Acme signed"
    spotlight_update(spotlight=spotlight, by=marketing_rep, title="Acme, signed in April")
    spotlight_update(spotlight=spotlight, by=sales_manager, story="**Both** teams.")
    spotlight.refresh_from_db()
    assert (spotlight.title, spotlight.story) == ("Acme, signed in April", "**Both** teams.")


def test_a_rep_cannot_delete_someone_elses_spotlight_but_can_delete_their_own(
    won: Deal, marketing_rep: object, sales_rep: object, marketing_manager: object
) -> None:
    theirs = joint(marketing_rep, won, [marketing_rep, sales_rep])
    with pytest.raises(PermissionDenied):
        spotlight_delete(spotlight=theirs, by=sales_rep)
    assert Spotlight.objects.filter(pk=theirs.pk).exists()
    mine = joint(sales_rep, won, [marketing_rep, sales_rep], title="Mine")
    spotlight_delete(spotlight=mine, by=sales_rep)
    spotlight_delete(spotlight=theirs, by=marketing_manager)
    assert not Spotlight.objects.exists()


def test_everyone_thanks_once_and_can_take_it_back(
    won: Deal, marketing_rep: object, sales_rep: object, sales_manager: object
) -> None:
    spotlight = joint(marketing_rep, won, [marketing_rep, sales_rep])
    first = spotlight_thank(spotlight=spotlight, by=sales_manager)
    assert spotlight_thank(spotlight=spotlight, by=sales_manager) == first
    spotlight_thank(spotlight=spotlight, by=sales_rep)
    assert spotlight_list().get(pk=spotlight.pk).thanks_count == 2
    spotlight_unthank(spotlight=spotlight, by=sales_manager)
    spotlight_unthank(spotlight=spotlight, by=sales_manager)  # nothing left to take back
    assert list(SpotlightThanks.objects.values_list("user__username", flat=True)) == ["sam"]


def test_the_latest_spotlights_say_whether_the_viewer_thanked(
    won: Deal, marketing_rep: object, sales_rep: object
) -> None:
    older = joint(marketing_rep, won, [marketing_rep, sales_rep], title="Older")
    newer = joint(marketing_rep, won, [marketing_rep, sales_rep], title="Newer")
    spotlight_thank(spotlight=older, by=sales_rep)
    latest = spotlights_latest(limit=3, viewer=sales_rep)
    assert [(s.title, s.thanked, s.thanks_count) for s in latest] == [
        ("Newer", False, 0),
        ("Older", True, 1),
    ]
    assert [s.pk for s in spotlights_latest(limit=1)] == [newer.pk]


def test_the_deal_choices_are_the_latest_won_deals_and_keep_one_asked_for(
    world: World, won: Deal, open_deal: Deal
) -> None:
    later = world.deal(
        world.lead("2026-04-01T10:00"), 800, "2026-04-02T10:00",
        status="won", closed_at="2026-05-01T10:00",
    )  # fmt: skip
    assert [d.external_id for d in deals_won_recent()] == [later, won.external_id]
    assert [d.external_id for d in deals_won_recent(limit=1)] == [later]
    kept = deals_won_recent(limit=1, include=[won.pk])
    assert [d.external_id for d in kept] == [later, won.external_id]
