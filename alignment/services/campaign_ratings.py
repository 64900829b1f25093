"""Sales' ratings of a campaign's leads: one per sales person and campaign, 1–5 with a comment.

Rating again changes one's rating (never a second one). Only sales people rate — reps and
sales managers, the people who work the leads; the rater or a manager removes a rating.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from alignment.models import CampaignRating
from alignment.roles import Team, user_is_manager, user_team

MAX_COMMENT = 2000
RATING_WORDS = "Rate the campaign's leads from 1 to 5."


def campaign_rating_can_rate(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Sales people (reps and sales managers) rate a campaign's leads: they work them."""
    return user_team(user) == Team.SALES.value


def campaign_rating_can_change(*, rating: CampaignRating, user: AbstractBaseUser) -> bool:
    """A rating is its rater's word: only they change it."""
    return rating.rater_id == user.pk and campaign_rating_can_rate(user=user)


def campaign_rating_can_delete(*, rating: CampaignRating, user: AbstractBaseUser) -> bool:
    """The rater takes their rating back; a manager removes one (an abusive comment)."""
    return rating.rater_id == user.pk or user_is_manager(user)


def _clean(rating: Any, comment: Any) -> tuple[int, str]:
    errors = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = RATING_WORDS
    comment = (comment or "").replace("\r\n", "\n").strip() if isinstance(comment, str) else None
    if comment is None:
        errors["comment"] = "A comment is text."
    elif len(comment) > MAX_COMMENT:
        errors["comment"] = f"Keep the comment under {MAX_COMMENT:,} characters."
    if errors:
        raise ValidationError(errors)
    return rating, comment


@transaction.atomic
def campaign_rate(
    *, campaign: Any, by: AbstractBaseUser, rating: int, comment: str = ""
) -> CampaignRating:
    """`by`'s rating of `campaign`'s leads: created the first time, changed after."""
    if not campaign_rating_can_rate(user=by):
        raise PermissionDenied(
            "Only sales rates a campaign's leads: they are the ones who work them."
        )
    rating, comment = _clean(rating, comment)
    record, _ = CampaignRating.objects.update_or_create(
        campaign=campaign, rater=by, defaults={"rating": rating, "comment": comment}
    )
    return record


@transaction.atomic
def campaign_rating_delete(*, rating: CampaignRating, by: AbstractBaseUser) -> None:
    if not campaign_rating_can_delete(rating=rating, user=by):
        raise PermissionDenied("Only the person who rated, or a manager, removes a rating.")
    rating.delete()
