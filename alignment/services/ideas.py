"""The ideas board: a half-done idea is written as a draft (private to its author), opened for
critique (both teams comment and vote; each vote keeps the voter's team as it was), and ends
adopted, optionally linked to a campaign or a goal, or parked with a reason.

Rules, decided here for the pages and the API alike:
- only its author sees and edits a draft; once open the title and body are fixed, so that the
  critique refers to what was posted;
- anyone signed in comments on and votes for an open idea, one vote each; the author does not
  vote for their own idea (the votes say how many others back it);
- its author or a manager decides (adopts or parks) an open idea; the author may also park
  (abandon) their own draft; parking needs a reason;
- its author deletes their own draft; a manager deletes any idea.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from alignment.models import Goal, Idea, IdeaComment, IdeaVote
from alignment.roles import user_is_manager, user_team

TITLE_MAX = Idea._meta.get_field("title").max_length

User = AbstractBaseUser | AnonymousUser

EDIT_REFUSED = "Only its author edits a draft; once open for critique it stays as it was posted."
DRAFT_PRIVATE = "A draft is its author's alone until they open it for critique."
DECIDE_REFUSED = "Its author or a manager decides an idea."


def _is_author(idea: Idea, user: User) -> bool:
    return bool(user.is_authenticated and idea.author_id == user.pk)


# --- who may do what (pages and API ask the same functions) --------------------------------


def idea_can_view(*, idea: Idea, user: User) -> bool:
    """Open and decided ideas are everyone's; a draft is its author's alone."""
    if not user.is_authenticated:
        return False
    return idea.status != Idea.Status.DRAFT or _is_author(idea, user)


def idea_can_edit(*, idea: Idea, user: User) -> bool:
    """Only its author edits an idea, and only while it is a draft."""
    return idea.status == Idea.Status.DRAFT and _is_author(idea, user)


def idea_can_open(*, idea: Idea, user: User) -> bool:
    return idea_can_edit(idea=idea, user=user)


def idea_can_comment(*, idea: Idea, user: User) -> bool:
    return user.is_authenticated and idea.status == Idea.Status.OPEN


def idea_can_vote(*, idea: Idea, user: User) -> bool:
    """Anyone but its author votes for an open idea."""
    return idea_can_comment(idea=idea, user=user) and not _is_author(idea, user)


def idea_can_adopt(*, idea: Idea, user: User) -> bool:
    """Its author or a manager decides an idea once it has been open for critique."""
    if idea.status != Idea.Status.OPEN:
        return False
    return _is_author(idea, user) or user_is_manager(user)


def idea_can_park(*, idea: Idea, user: User) -> bool:
    """As adopting; besides, its author may park their own draft."""
    if idea.status == Idea.Status.DRAFT:
        return _is_author(idea, user)
    return idea_can_adopt(idea=idea, user=user)


def idea_can_delete(*, idea: Idea, user: User) -> bool:
    """Its author deletes their draft; a manager deletes any idea (with its critique)."""
    if idea.status == Idea.Status.DRAFT:
        return _is_author(idea, user)
    return user_is_manager(user)


def _refuse(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- writes ---------------------------------------------------------------------------------


def _clean_text(*, title: Any, body: Any) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").replace("\r\n", "\n").strip()
    if not title:
        raise ValidationError({"title": "Give the idea a title."})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": f"Keep the title to {TITLE_MAX} characters."})
    return title, body


@transaction.atomic
def idea_create(*, by: AbstractBaseUser, title: str, body: str = "") -> Idea:
    """A draft idea of `by`, with the team they are in now."""
    title, body = _clean_text(title=title, body=body)
    return Idea.objects.create(title=title, body=body, author=by, author_team=user_team(by))


def _locked(idea: Idea) -> Idea:
    return Idea.objects.select_for_update().get(pk=idea.pk)


@transaction.atomic
def idea_update(
    *, idea: Idea, by: AbstractBaseUser, title: str | None = None, body: str | None = None
) -> Idea:
    """Change a draft's title or body (what is not given stays): its author's alone."""
    idea = _locked(idea)
    _refuse(idea_can_edit(idea=idea, user=by), EDIT_REFUSED)
    idea.title, idea.body = _clean_text(
        title=idea.title if title is None else title, body=idea.body if body is None else body
    )
    idea.save(update_fields=["title", "body", "updated_at"])
    return idea


@transaction.atomic
def idea_open(*, idea: Idea, by: AbstractBaseUser) -> Idea:
    """The author brings a draft to both teams for critique."""
    idea = _locked(idea)
    _refuse(
        idea.status != Idea.Status.DRAFT or _is_author(idea, by),
        "Only its author opens a draft for critique.",
    )
    if idea.status != Idea.Status.DRAFT:
        raise ValidationError({"status": "This idea is no longer a draft."})
    idea.status = Idea.Status.OPEN
    idea.opened_at = timezone.now()
    idea.save(update_fields=["status", "opened_at", "updated_at"])
    return idea


def _refuse_unless_open(idea: Idea, what: str) -> None:
    if idea.status != Idea.Status.OPEN:
        raise ValidationError({"status": f"Only an idea open for critique takes {what}."})


@transaction.atomic
def idea_comment(*, idea: Idea, by: AbstractBaseUser, body: str) -> IdeaComment:
    """A comment on an open idea, with the commenter's team as it is now."""
    _refuse(idea_can_view(idea=idea, user=by), DRAFT_PRIVATE)
    _refuse_unless_open(idea, "comments")
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": "Write the comment."})
    return IdeaComment.objects.create(idea=idea, author=by, team=user_team(by), body=body)


@transaction.atomic
def idea_vote(*, idea: Idea, by: AbstractBaseUser) -> IdeaVote:
    """`by` votes for an open idea; voting again keeps the one vote."""
    _refuse(idea_can_view(idea=idea, user=by), DRAFT_PRIVATE)
    _refuse_unless_open(idea, "votes")
    _refuse(not _is_author(idea, by), "The author does not vote for their own idea.")
    vote, _ = IdeaVote.objects.get_or_create(idea=idea, user=by, defaults={"team": user_team(by)})
    return vote


@transaction.atomic
def idea_unvote(*, idea: Idea, by: AbstractBaseUser) -> None:
    """`by` takes their vote back (nothing happens without one)."""
    _refuse(idea_can_view(idea=idea, user=by), DRAFT_PRIVATE)
    _refuse_unless_open(idea, "votes")
    IdeaVote.objects.filter(idea=idea, user=by).delete()


def _campaign_model() -> type:
    return Idea._meta.get_field("campaign").related_model


@transaction.atomic
def idea_adopt(
    *, idea: Idea, by: AbstractBaseUser, campaign: Any = None, goal: Goal | None = None
) -> Idea:
    """Adopt an open idea, optionally naming the campaign or the goal it became."""
    idea = _locked(idea)
    _refuse(idea_can_view(idea=idea, user=by), DRAFT_PRIVATE)
    if idea.status != Idea.Status.OPEN:
        raise ValidationError({"status": "Only an idea open for critique is adopted."})
    _refuse(idea_can_adopt(idea=idea, user=by), DECIDE_REFUSED)
    if campaign is not None and not isinstance(campaign, _campaign_model()):
        raise ValidationError({"campaign": "Choose a campaign."})
    if goal is not None and not isinstance(goal, Goal):
        raise ValidationError({"goal": "Choose a goal."})
    idea.status = Idea.Status.ADOPTED
    idea.decided_at = timezone.now()
    idea.decided_by = by
    idea.campaign = campaign
    idea.goal = goal
    idea.parked_reason = ""
    idea.save(
        update_fields=[
            "status", "decided_at", "decided_by", "campaign", "goal", "parked_reason", "updated_at",
        ]
    )  # fmt: skip
    return idea


@transaction.atomic
def idea_park(*, idea: Idea, by: AbstractBaseUser, reason: str) -> Idea:
    """Park an open idea (or its author's own draft) with the reason why."""
    idea = _locked(idea)
    _refuse(idea_can_view(idea=idea, user=by), DRAFT_PRIVATE)
    if idea.status not in {Idea.Status.DRAFT, Idea.Status.OPEN}:
        raise ValidationError({"status": "This idea was already decided."})
    _refuse(idea_can_park(idea=idea, user=by), DECIDE_REFUSED)
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the idea is parked."})
    idea.status = Idea.Status.PARKED
    idea.decided_at = timezone.now()
    idea.decided_by = by
    idea.parked_reason = reason
    idea.save(update_fields=["status", "decided_at", "decided_by", "parked_reason", "updated_at"])
    return idea


@transaction.atomic
def idea_delete(*, idea: Idea, by: AbstractBaseUser) -> None:
    """Delete an idea with its comments and votes: its author's draft, or any by a manager."""
    _refuse(idea_can_view(idea=idea, user=by), DRAFT_PRIVATE)
    _refuse(
        idea_can_delete(idea=idea, user=by),
        "Its author deletes a draft; only a manager deletes an idea once it was opened.",
    )
    idea.delete()
