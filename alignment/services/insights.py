"""Field insights: sales posts what prospects say (a message that works, one that stopped
working, an objection, a question), tagged and optionally tied to a campaign; marketing answers
each one: used (in which content or campaign) or not used (and why).

Who does what, for the pages and the API alike:
- sales people (and admins) post; the poster changes their insight while it is unanswered;
- marketing people (and admins) answer, and may answer again or withdraw the answer;
- the poster or a manager deletes an insight.

The time to answer is a metric (`insight_answer_median_days`, by answer time): every write that
sets, moves or removes an `answered_at` logs the periods of the old and the new moment
(`alignment.signals.together_changed`, part "insights"), so that the engine recomputes them.
Answering again keeps the first answer's time: how long the insight waited for an answer does
not change when marketing corrects what it said.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from alignment.models import FieldInsight, InsightTag
from alignment.roles import Role, Team, user_is_manager, user_role, user_team
from alignment.signals import together_changed
from config.dates import date_in_range_problem

User = AbstractBaseUser | AnonymousUser

POST_REFUSED = "Sales posts what prospects say."
EDIT_REFUSED = "Only its poster changes an insight."
ANSWER_REFUSED = "Marketing answers field insights."
CHANGE_ANSWER_REFUSED = "Only who answered it, or a manager, changes or withdraws an answer."
DELETE_REFUSED = "Its poster or a manager deletes an insight."

MAX_TAGS = 10
TAG_MAX = InsightTag._meta.get_field("name").max_length


# --- who may do what ------------------------------------------------------------------------


def insight_can_post(*, user: User) -> bool:
    """Sales posts what prospects say; admins too (for the integrations and the demo)."""
    return user_team(user) == Team.SALES or user_role(user) == Role.ADMIN


def insight_can_edit(*, insight: FieldInsight, user: User) -> bool:
    """Its poster changes it until marketing has answered it."""
    return user.is_authenticated and insight.posted_by_id == user.pk and insight.answered_at is None


def insight_can_answer(*, user: User) -> bool:
    """Marketing answers (its reps and its manager), and admins."""
    return user_team(user) == Team.MARKETING or user_role(user) == Role.ADMIN


def insight_can_change_answer(*, insight: FieldInsight, user: User) -> bool:
    """Marketing answers an insight that waits; an answer given is its answerer's to change or
    withdraw (a rep changes only their own word), or a manager's or an admin's."""
    if not insight_can_answer(user=user):
        return False
    if insight.answered_at is None or insight.answered_by_id in (None, user.pk):
        return True
    return user_is_manager(user)


def insight_can_delete(*, insight: FieldInsight, user: User) -> bool:
    """Its poster or a manager."""
    if not user.is_authenticated:
        return False
    return insight.posted_by_id == user.pk or user_is_manager(user)


def _refuse(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- cleaning -------------------------------------------------------------------------------


def insight_tag_names(tags: Iterable[str] | str | None) -> list[str]:
    """Tags as slugs ("Price too high" → "price-too-high"), each once, in the order given; a
    string is split on commas."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    names = []
    for tag in tags:
        name = slugify(str(tag))[:TAG_MAX].strip("-")
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ValidationError({"tags": f"Use at most {MAX_TAGS} tags."})
    return names


def _tags(names: list[str]) -> list[InsightTag]:
    """The tags named, created on first use."""
    existing = {t.name: t for t in InsightTag.objects.filter(name__in=names)}
    InsightTag.objects.bulk_create(
        [InsightTag(name=n) for n in names if n not in existing], ignore_conflicts=True
    )
    return list(InsightTag.objects.filter(name__in=names))


def _campaign_model() -> type:
    return FieldInsight._meta.get_field("campaign").related_model


def _clean_campaign(campaign: Any, field: str) -> Any:
    if campaign is not None and not isinstance(campaign, _campaign_model()):
        raise ValidationError({field: "Choose a campaign."})
    return campaign


def _clean(*, kind: Any, text: Any) -> tuple[str, str]:
    errors = {}
    if kind not in FieldInsight.Kind.values:
        errors["kind"] = f"Use one of {', '.join(FieldInsight.Kind.values)}."
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        errors["text"] = "Write what the prospect said."
    if errors:
        raise ValidationError(errors)
    return kind, text


def _clean_posted_at(posted_at: datetime | None, now: datetime) -> datetime:
    if posted_at is None:
        return now
    if problem := date_in_range_problem(posted_at):
        raise ValidationError({"posted_at": problem})
    if posted_at > now:
        raise ValidationError({"posted_at": "An insight is posted once it was heard, not later."})
    return posted_at


def _answer_moved(*moments: datetime | None) -> None:
    """Log the periods of each answer time that appears, moves or goes."""
    spans = [(m, m) for m in dict.fromkeys(moments) if m is not None]
    if spans:
        together_changed(spans=spans, part="insights")


# --- writes ---------------------------------------------------------------------------------


@transaction.atomic
def insight_post(
    *,
    by: AbstractBaseUser,
    kind: str,
    text: str,
    tags: Iterable[str] | None = None,
    campaign: Any = None,
    posted_at: datetime | None = None,
) -> FieldInsight:
    """What a prospect said, posted by sales; `posted_at` (default now) when it was heard."""
    _refuse(insight_can_post(user=by), POST_REFUSED)
    kind, text = _clean(kind=kind, text=text)
    names = insight_tag_names(tags)
    insight = FieldInsight.objects.create(
        kind=kind,
        text=text,
        campaign=_clean_campaign(campaign, "campaign"),
        posted_by=by,
        posted_at=_clean_posted_at(posted_at, timezone.now()),
    )
    if names:
        insight.tags.set(_tags(names))
    return insight


def _locked(insight: FieldInsight) -> FieldInsight:
    return FieldInsight.objects.select_for_update().get(pk=insight.pk)


_UNSET: Any = object()


@transaction.atomic
def insight_update(
    *,
    insight: FieldInsight,
    by: AbstractBaseUser,
    kind: str | None = None,
    text: str | None = None,
    tags: Iterable[str] | None = None,
    campaign: Any = _UNSET,
) -> FieldInsight:
    """Change an unanswered insight (what is not given stays): its poster's alone."""
    insight = _locked(insight)
    _refuse(insight.posted_by_id == by.pk, EDIT_REFUSED)
    if insight.answered_at is not None:
        raise ValidationError(
            {"text": "Marketing has answered this insight; it stays as it was answered."}
        )
    insight.kind, insight.text = _clean(
        kind=insight.kind if kind is None else kind, text=insight.text if text is None else text
    )
    if campaign is not _UNSET:
        insight.campaign = _clean_campaign(campaign, "campaign")
    insight.save(update_fields=["kind", "text", "campaign", "updated_at"])
    if tags is not None:
        insight.tags.set(_tags(insight_tag_names(tags)))
    return insight


@transaction.atomic
def insight_answer(
    *,
    insight: FieldInsight,
    by: AbstractBaseUser,
    answer: str,
    text: str = "",
    campaign: Any = None,
) -> FieldInsight:
    """Marketing's answer: "used" names the content or campaign it went into (`text` or
    `campaign`), "not_used" says why not (`text`). Answering again replaces the answer and
    who gave it (only they or a manager answer again: `insight_can_change_answer`); the
    first answer's time stays."""
    _refuse(insight_can_answer(user=by), ANSWER_REFUSED)
    insight = _locked(insight)
    _refuse(insight_can_change_answer(insight=insight, user=by), CHANGE_ANSWER_REFUSED)
    text = (text or "").replace("\r\n", "\n").strip()
    campaign = _clean_campaign(campaign, "campaign")
    if answer not in FieldInsight.Answer.values:
        raise ValidationError({"answer": "Answer used or not_used."})
    if answer == FieldInsight.Answer.USED and not (text or campaign):
        raise ValidationError({"text": "Say which content or campaign it went into."})
    if answer == FieldInsight.Answer.NOT_USED and not text:
        raise ValidationError({"text": "Say why it is not used."})
    before = insight.answered_at
    insight.answer = answer
    insight.answer_text = text
    insight.answer_campaign = campaign if answer == FieldInsight.Answer.USED else None
    insight.answered_by = by
    insight.answered_at = before or max(timezone.now(), insight.posted_at)
    insight.save(
        update_fields=[
            "answer", "answer_text", "answer_campaign", "answered_by", "answered_at", "updated_at",
        ]
    )  # fmt: skip
    _answer_moved(before, insight.answered_at)
    return insight


@transaction.atomic
def insight_unanswer(*, insight: FieldInsight, by: AbstractBaseUser) -> FieldInsight:
    """Marketing withdraws its answer (who gave it, or a manager): the insight waits again (and
    its wait counts again)."""
    _refuse(insight_can_answer(user=by), ANSWER_REFUSED)
    insight = _locked(insight)
    _refuse(insight_can_change_answer(insight=insight, user=by), CHANGE_ANSWER_REFUSED)
    before = insight.answered_at
    if before is None:
        return insight
    insight.answer = ""
    insight.answer_text = ""
    insight.answer_campaign = None
    insight.answered_by = None
    insight.answered_at = None
    insight.save(
        update_fields=[
            "answer", "answer_text", "answer_campaign", "answered_by", "answered_at", "updated_at",
        ]
    )  # fmt: skip
    _answer_moved(before)
    return insight


@transaction.atomic
def insight_delete(*, insight: FieldInsight, by: AbstractBaseUser) -> None:
    """Delete an insight: its poster or a manager. An answered one takes its answer time out
    of the metric."""
    _refuse(insight_can_delete(insight=insight, user=by), DELETE_REFUSED)
    insight = _locked(insight)
    before = insight.answered_at
    insight.delete()
    _answer_moved(before)
