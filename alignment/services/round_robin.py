"""The round robin: the rotation of sales reps that owns the automatic handoffs."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from alignment.models import RoundRobinMember
from alignment.roles import Role, user_role
from alignment.selectors import users_in_role


@transaction.atomic
def round_robin_set(
    *, users: Sequence[AbstractBaseUser], by: AbstractBaseUser | None = None
) -> list[RoundRobinMember]:
    """Set the rotation, in this order; every other sales rep is paused in it (their history
    stays). Reps who join the team later take turns until a manager pauses them."""
    problems = [
        f"{u} is not an active sales rep."
        for u in users
        if not u.is_active or user_role(u) != Role.SALES_REP
    ]
    if len({u.pk for u in users}) != len(users):
        problems.append("Name each rep once.")
    if problems:
        raise ValidationError({"users": problems})
    listed = [u.pk for u in users]
    RoundRobinMember.objects.exclude(user_id__in=listed).update(active=False)
    members = []
    for position, user in enumerate(users):
        member, _ = RoundRobinMember.objects.update_or_create(
            user=user, defaults={"position": position, "active": True}
        )
        members.append(member)
    _round_robin_enroll_new_reps(active=False)
    return members


def _round_robin_enroll_new_reps(*, active: bool = True) -> None:
    """Sales reps without a place in the rotation get one at its end."""
    known = set(RoundRobinMember.objects.values_list("user_id", flat=True))
    new = [u for u in users_in_role(role=Role.SALES_REP) if u.pk not in known]
    if not new:
        return
    last = RoundRobinMember.objects.aggregate(m=Max("position"))["m"]
    first = 0 if last is None else last + 1
    RoundRobinMember.objects.bulk_create(
        [RoundRobinMember(user=u, position=first + i, active=active) for i, u in enumerate(new)],
        ignore_conflicts=True,
    )


@transaction.atomic
def round_robin_next_owners(*, count: int, exclude: Collection[int] = ()) -> list[int | None]:
    """The owners (user ids) of the next `count` automatic handoffs, in turn.

    Active members who are still active sales reps take turns, least recent turn first (ties
    by position), so every rep gets the same share. A sales rep not yet in the rotation joins
    it (so without any configuration the rotation is every sales rep, by username); paused
    members stay out, and so do the users in `exclude` (a lead handed off again goes to
    another rep). Without any rep the handoffs stay unassigned (None).
    """
    if count <= 0:
        return []
    _round_robin_enroll_new_reps()
    reps = set(users_in_role(role=Role.SALES_REP).values_list("pk", flat=True))
    locked = list(RoundRobinMember.objects.select_for_update().order_by("pk"))
    members = sorted(
        (m for m in locked if m.active and m.user_id in reps and m.user_id not in exclude),
        key=lambda m: (m.last_turn, m.position, m.pk),
    )
    if not members:
        return [None] * count
    turn = max(m.last_turn for m in locked)
    owners = []
    for index in range(count):
        member = members[index % len(members)]
        turn += 1
        member.last_turn = turn
        member.assigned_count += 1
        owners.append(member.user_id)
    RoundRobinMember.objects.bulk_update(members, ["last_turn", "assigned_count"])
    return owners
