"""API tokens, roles, team heads, and the audit of a user's access."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from alignment.models import TeamHead
from alignment.roles import Role, Team, user_role
from alignment.services.audit import audit_diff, audit_filled, audit_record


def _audit_token(action: str, *, user: AbstractBaseUser, by: AbstractBaseUser | None) -> None:
    """The audit entry of a token issued: its user, never its key (the key is the secret)."""
    audit_record(
        actor=by,
        action=action,
        target=user,
        label=f"API token of {user.get_username()}",
        details={"user": user},
    )


@transaction.atomic
def api_token_rotate(*, user: AbstractBaseUser, by: AbstractBaseUser | None = None) -> Token:
    """Issue a fresh API token for the user; the previous one stops working. Audited, with
    `by` as who rotated it (None: the system, or an operator at the command line)."""
    had = Token.objects.filter(user=user).delete()[0] > 0
    token = Token.objects.create(user=user)
    _audit_token("api_token.rotated" if had else "api_token.created", user=user, by=by)
    return token


@transaction.atomic
def api_token_get_or_create(*, user: AbstractBaseUser, by: AbstractBaseUser | None = None) -> Token:
    """The user's API token, issued (and audited) if they have none."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        _audit_token("api_token.created", user=user, by=by)
    return token


@transaction.atomic
def user_set_role(*, user: AbstractBaseUser, role: Role) -> None:
    """Give the user exactly one Tandem role."""
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    user.groups.remove(*groups.values())
    user.groups.add(groups[role.value])
    user._tandem_role = role


def user_access(user: AbstractBaseUser) -> dict[str, object]:
    """What `user` may do, read from the database now: their Tandem role (its label; none
    without one), whether they can sign in, open the admin, and do everything."""
    fresh = get_user_model().objects.get(pk=user.pk)
    role = user_role(fresh)
    return {
        "role": role.label if role else None,
        "is_active": fresh.is_active,
        "is_staff": fresh.is_staff,
        "is_superuser": fresh.is_superuser,
    }


@transaction.atomic
def user_access_record(
    *, user: AbstractBaseUser, by: AbstractBaseUser | None, before: Mapping[str, object] | None
) -> dict[str, list]:
    """Audit a change of `user`'s access written outside the services (the admin's user form
    saves the user and their groups itself): `before` is `user_access` read before the write,
    None for a user just added. Records "user.created", or "user.access_changed" with what
    changed; nothing when nothing did. Returns the changes."""
    after = user_access(user)
    changes = audit_diff(audit_filled(before or {}), audit_filled(after))
    if before is None or changes:
        audit_record(
            actor=by,
            action="user.created" if before is None else "user.access_changed",
            target=user,
            changes=changes,
        )
    return changes


HEAD_ROLE = {Team.MARKETING: Role.MARKETING_MANAGER, Team.SALES: Role.SALES_MANAGER}


def team_head_clean(*, team: Team | str, user: AbstractBaseUser) -> Team:
    """Check `user` may head `team` (ValidationError naming the field otherwise)."""
    try:
        team = Team(team)
    except ValueError:
        raise ValidationError({"team": "Use marketing or sales."}) from None
    if user_role(user) != HEAD_ROLE[team]:
        raise ValidationError(
            {"user": f"The head of {team} must be a {HEAD_ROLE[team].label.lower()}."}
        )
    if TeamHead.objects.filter(user=user).exclude(team=team).exists():
        raise ValidationError({"user": f"{user} already heads the other team."})
    return team


@transaction.atomic
def team_head_set(
    *, team: Team | str, user: AbstractBaseUser, by: AbstractBaseUser | None = None
) -> TeamHead:
    """Make `user` the head of `team`: the one who approves versions for that team.

    The head of marketing is a marketing manager, the head of sales a sales manager; one
    person heads one team. Approvals already given by a previous head stay valid.
    """
    team = team_head_clean(team=team, user=user)
    previous = (
        TeamHead.objects.select_for_update(of=("self",))
        .filter(team=team.value)
        .select_related("user")
        .first()
    )
    head, _ = TeamHead.objects.update_or_create(
        team=team.value,
        defaults={
            "user": user,
            "appointed_at": timezone.now(),
            "appointed_by": by if getattr(by, "pk", None) else None,
        },
    )
    user._tandem_heads = team  # what `alignment.roles.user_heads` read of it before
    if previous is None or previous.user_id != user.pk:
        audit_record(
            actor=by,
            action="team_head.set",
            target=head,
            label=f"Head of {team.value}",
            changes={"user": [previous.user if previous else None, user]},
            details={"team": team},
        )
    return head
