"""Writes of the alignment app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from alignment.roles import Role


@transaction.atomic
def api_token_rotate(*, user: AbstractBaseUser) -> Token:
    """Issue a fresh API token for the user; the previous one stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: AbstractBaseUser) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def user_set_role(*, user: AbstractBaseUser, role: Role) -> None:
    """Give the user exactly one Tandem role."""
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    user.groups.remove(*groups.values())
    user.groups.add(groups[role.value])
    user._tandem_role = role
