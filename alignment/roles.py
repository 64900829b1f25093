"""Teams and roles. Each role is a Django group; a user holds one role."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Team(StrEnum):
    MARKETING = "marketing"
    SALES = "sales"


class Role(StrEnum):
    MARKETING_REP = "marketing_rep"
    MARKETING_MANAGER = "marketing_manager"
    SALES_REP = "sales_rep"
    SALES_MANAGER = "sales_manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def team(self) -> Team | None:
        return ROLE_TEAMS.get(self)

    @property
    def is_manager(self) -> bool:
        return self in {Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.ADMIN}


ROLE_LABELS = {
    Role.MARKETING_REP: "Marketing rep",
    Role.MARKETING_MANAGER: "Marketing manager",
    Role.SALES_REP: "Sales rep",
    Role.SALES_MANAGER: "Sales manager",
    Role.ADMIN: "Admin",
}
ROLE_TEAMS = {
    Role.MARKETING_REP: Team.MARKETING,
    Role.MARKETING_MANAGER: Team.MARKETING,
    Role.SALES_REP: Team.SALES,
    Role.SALES_MANAGER: Team.SALES,
}
# Most senior first: a user in several groups gets the first that matches.
_PRECEDENCE = [
    Role.ADMIN,
    Role.SALES_MANAGER,
    Role.MARKETING_MANAGER,
    Role.SALES_REP,
    Role.MARKETING_REP,
]


#: Marks the team a user heads among the names `user_role` reads (no group's name has it).
_HEADS = "heads:"


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    """The user's role, read once per user object (one query, which also reads the team the
    user heads: `user_heads`)."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_tandem_role", False)
    if cached is not False:
        return cached
    if user.is_superuser:
        role: Role | None = Role.ADMIN
    else:
        names = list(_groups_and_headship(user))
        heads = [n.removeprefix(_HEADS) for n in names if n.startswith(_HEADS)]
        user._tandem_heads = Team(heads[0]) if heads else None
        role = role_of_groups(n for n in names if not n.startswith(_HEADS))
    user._tandem_role = role
    return role


def _groups_and_headship(user: AbstractBaseUser) -> Iterable[str]:
    """The user's group names and, marked, the team they head: one query."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Concat

    from alignment.models import TeamHead

    heads = (
        TeamHead.objects.filter(user_id=user.pk)
        .order_by()
        .annotate(mark=Concat(Value(_HEADS), "team", output_field=CharField()))
        .values_list("mark", flat=True)
    )
    return user.groups.order_by().values_list("name", flat=True).union(heads, all=True)


def user_heads(user: AbstractBaseUser | AnonymousUser) -> Team | None:
    """The team the user heads, read once per user object: with the role (`user_role`), so
    no query of its own unless the role was known without one. For what a page shows; a
    write asks `alignment.selectors.user_heads_team` afresh."""
    if not user.is_authenticated:
        return None
    user_role(user)
    cached = getattr(user, "_tandem_heads", False)
    if cached is False:
        from alignment.models import TeamHead

        team = TeamHead.objects.filter(user_id=user.pk).values_list("team", flat=True).first()
        cached = Team(team) if team else None
        user._tandem_heads = cached
    return cached


def role_of_groups(names: Iterable[str]) -> Role | None:
    """The role a user in these groups holds (the most senior one), for reads that fetched
    many users' groups at once."""
    held = set(names)
    return next((r for r in _PRECEDENCE if r.value in held), None)


def user_is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    role = user_role(user)
    return bool(role and role.is_manager)


def user_team(user: AbstractBaseUser | AnonymousUser) -> str:
    """The user's team as records keep it: "marketing", "sales", or "" (admins, no role)."""
    role = user_role(user)
    team = role.team if role else None
    return team.value if team else ""
