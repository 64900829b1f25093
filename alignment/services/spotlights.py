"""Spotlights: joint wins put where both teams see them. A spotlight tells the story of a won
deal and names the people of both teams who made it (each with the team they were in then);
everyone can thank them, once each.

Anyone signed in puts a win in the spotlight; its creator and the managers change or delete
it (a rep can't delete someone else's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alignment.models import Spotlight, SpotlightPerson, SpotlightThanks
from alignment.roles import Team, user_is_manager, user_team
from alignment.services.versions import actor
from config.dates import date_in_range_problem

#: A deal's status once it is won (`leads.Deal.Status.WON`; alignment does not import leads).
WON = "won"
TITLE_MAX = Spotlight._meta.get_field("title").max_length
STORY_MAX = 20_000


# --- who may do what -----------------------------------------------------------------------


def spotlight_can_create(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Everyone signed in puts joint wins in the spotlight."""
    return bool(user.is_authenticated)


def spotlight_can_edit(*, spotlight: Spotlight, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Its creator and the managers (and admins)."""
    if not user.is_authenticated:
        return False
    return spotlight.created_by_id == user.pk or user_is_manager(user)


def spotlight_can_delete(*, spotlight: Spotlight, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Its creator and the managers: a rep can't delete someone else's spotlight."""
    return spotlight_can_edit(spotlight=spotlight, user=user)


def spotlight_can_thank(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated)


# --- checks --------------------------------------------------------------------------------


def _people(people: Sequence[AbstractBaseUser] | None) -> list[AbstractBaseUser]:
    """`people` without repeats, in order."""
    seen: dict[Any, AbstractBaseUser] = {}
    for user in people or ():
        if getattr(user, "pk", None) is not None:
            seen.setdefault(user.pk, user)
    return list(seen.values())


def spotlight_deal_errors(deal: Any) -> dict[str, str]:
    if deal is None:
        return {"deal": "Choose the won deal the story is about."}
    if getattr(deal, "status", None) != WON:
        return {"deal": f"Deal {deal.external_id} is {deal.status}, not won: spotlights are wins."}
    return {}


def spotlight_team_errors(teams: Sequence[str]) -> dict[str, str]:
    """A joint win: at least one marketing and one sales person."""
    missing = [t.value for t in Team if t.value not in teams]
    if not missing:
        return {}
    return {
        "people": "A spotlight is a joint win: name at least one marketing and one sales "
        f"person (no {' and no '.join(missing)} person yet)."
    }


def _text_errors(*, title: str, story: str) -> dict[str, str]:
    errors = {}
    if not title:
        errors["title"] = "Give the win a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    if not story:
        errors["story"] = "Tell the story: what each team did to win the deal."
    elif len(story) > STORY_MAX:
        errors["story"] = f"Keep the story under {STORY_MAX:,} characters."
    return errors


# --- writes --------------------------------------------------------------------------------


@transaction.atomic
def spotlight_create(
    *,
    by: AbstractBaseUser,
    title: str,
    story: str,
    deal: Any,
    people: Sequence[AbstractBaseUser],
    created_at: datetime | None = None,
) -> Spotlight:
    """A joint win: a won deal's story and the people of both teams who made it, each with
    the team they are in now."""
    if not spotlight_can_create(user=by):
        raise PermissionDenied("Sign in to put a win in the spotlight.")
    title, story = (title or "").strip(), (story or "").strip()
    chosen = _people(people)
    teams = {u.pk: user_team(u) for u in chosen}
    errors = {
        **_text_errors(title=title, story=story),
        **spotlight_deal_errors(deal),
        **spotlight_team_errors(list(teams.values())),
    }
    if created_at is not None and (problem := date_in_range_problem(created_at)):
        errors["created_at"] = problem
    if errors:
        raise ValidationError(errors)
    spotlight = Spotlight.objects.create(
        title=title,
        story=story,
        deal=deal,
        created_by=actor(by),
        created_at=created_at or timezone.now(),
    )
    SpotlightPerson.objects.bulk_create(
        [SpotlightPerson(spotlight=spotlight, user=u, team=teams[u.pk]) for u in chosen]
    )
    return spotlight


@transaction.atomic
def spotlight_update(
    *,
    spotlight: Spotlight,
    by: AbstractBaseUser,
    title: str | None = None,
    story: str | None = None,
    deal: Any = None,
    people: Sequence[AbstractBaseUser] | None = None,
) -> Spotlight:
    """Change a spotlight's title, story, deal or people (None: unchanged). The people who
    stay keep the team they were credited with; those added get the team they are in now."""
    if not spotlight_can_edit(spotlight=spotlight, user=by):
        raise PermissionDenied("Only the person who posted a spotlight, or a manager, edits it.")
    spotlight = Spotlight.objects.select_for_update().get(pk=spotlight.pk)
    title = spotlight.title if title is None else title.strip()
    story = spotlight.story if story is None else story.strip()
    errors = _text_errors(title=title, story=story)
    if deal is not None and deal.pk != spotlight.deal_id:
        errors.update(spotlight_deal_errors(deal))
        spotlight.deal = deal
    if people is not None:
        chosen = _people(people)
        kept = dict(spotlight.credits.values_list("user_id", "team"))
        teams = {u.pk: kept[u.pk] if u.pk in kept else user_team(u) for u in chosen}
        errors.update(spotlight_team_errors(list(teams.values())))
    if errors:
        raise ValidationError(errors)
    if people is not None:
        spotlight.credits.exclude(user_id__in=teams).delete()
        SpotlightPerson.objects.bulk_create(
            [
                SpotlightPerson(spotlight=spotlight, user=u, team=teams[u.pk])
                for u in chosen
                if u.pk not in kept
            ]
        )
    spotlight.title, spotlight.story = title, story
    spotlight.save()
    return spotlight


@transaction.atomic
def spotlight_delete(*, spotlight: Spotlight, by: AbstractBaseUser) -> None:
    """Delete a spotlight with its people and thanks (its creator or a manager)."""
    if not spotlight_can_delete(spotlight=spotlight, user=by):
        raise PermissionDenied(
            "Only the person who posted a spotlight, or a manager, deletes it: "
            "reps can't delete others' records."
        )
    spotlight.delete()


@transaction.atomic
def spotlight_thank(*, spotlight: Spotlight, by: AbstractBaseUser) -> SpotlightThanks:
    """`by` thanks the people of a spotlight: once; thanking again changes nothing."""
    if not spotlight_can_thank(user=by):
        raise PermissionDenied("Sign in to say thanks.")
    try:
        with transaction.atomic():
            thanks, _ = SpotlightThanks.objects.get_or_create(spotlight=spotlight, user=by)
    except IntegrityError:  # the same person's second click, at the same moment
        thanks = SpotlightThanks.objects.get(spotlight=spotlight, user=by)
    return thanks


@transaction.atomic
def spotlight_unthank(*, spotlight: Spotlight, by: AbstractBaseUser) -> None:
    """Take one's thanks back (nothing happens if there were none)."""
    if not spotlight_can_thank(user=by):
        raise PermissionDenied("Sign in to say thanks.")
    SpotlightThanks.objects.filter(spotlight=spotlight, user=by).delete()
