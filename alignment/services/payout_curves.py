"""The payout curve: the shared bonus multiplier of a scorecard attainment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import PayoutCurve
from alignment.services.audit import audit_diff, audit_record, audit_snapshot
from alignment.services.versions import actor
from alignment.signals import agreement_changed
from config.dates import date_in_range_problem


def payout_curve_clean(
    *, effective_from: date | None, now: datetime, **points: Decimal | None
) -> dict[str, Decimal]:
    """Check a payout curve (from today on, a usable shape); returns its points."""
    if effective_from is None:
        raise ValidationError({"effective_from": "Say from which day the curve applies."})
    if problem := date_in_range_problem(effective_from):
        raise ValidationError({"effective_from": problem})
    if effective_from < timezone.localdate(now):
        raise ValidationError({"effective_from": "A payout curve applies from today on, not back."})
    defaults = {name: getattr(card.DEFAULT_CURVE, name) for name in card.CURVE_POINTS}
    unknown = set(points) - set(defaults)
    if unknown:
        raise ValidationError(f"Unknown curve points: {', '.join(sorted(unknown))}.")
    values = defaults | {k: Decimal(v) for k, v in points.items() if v is not None}
    errors = card.curve_errors(**values)
    if errors:
        raise ValidationError({"curve": errors})
    return values


@transaction.atomic
def payout_curve_set(
    *,
    effective_from: date,
    by: AbstractBaseUser | None,
    now: datetime | None = None,
    **points: Decimal,
) -> PayoutCurve:
    """Set the payout curve for periods starting on or after `effective_from` (today or later:
    the multiplier of a period that has started is what compensation already references)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    values = payout_curve_clean(effective_from=effective_from, now=now, **points)
    previous = PayoutCurve.objects.filter(effective_from=effective_from).first()
    curve, _ = PayoutCurve.objects.update_or_create(
        effective_from=effective_from, defaults={**values, "created_by": actor(by)}
    )
    audit_record(
        actor=by,
        action="payout_curve.set",
        target=curve,
        changes=audit_diff(
            audit_snapshot(previous, values) if previous else {}, audit_snapshot(curve, values)
        ),
        details={"effective_from": effective_from},
    )
    agreement_changed.send(sender=PayoutCurve, spans=[(effective_from, max(effective_from, today))])
    return curve
