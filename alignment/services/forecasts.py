"""Revenue forecasts, entered before their period starts; the engine scores their accuracy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alignment.models import RevenueForecast
from alignment.services.audit import audit_changes, audit_record
from alignment.services.versions import actor
from alignment.signals import agreement_changed
from config.dates import date_in_range_problem
from core.periods import KINDS, local_midnight, period_bounds
from core.periods import period_start as period_start_of


def revenue_forecast_clean(
    *, period: str, period_start: date | None, amount: Decimal | None, now: datetime
) -> None:
    """Check a forecast: a period that has not started, an amount of at least 0."""
    if period not in KINDS:
        raise ValidationError({"period": "Use week, month or quarter."})
    if period_start is None:
        raise ValidationError({"period_start": "Say which period the forecast is for."})
    if problem := date_in_range_problem(period_start):
        raise ValidationError({"period_start": problem})
    if period_start_of(period, period_start) != period_start:
        raise ValidationError({"period_start": f"{period_start} does not start a {period}."})
    if local_midnight(period_start, ZoneInfo(settings.TIME_ZONE)) <= now:
        raise ValidationError(
            {"period_start": "A forecast is entered before its period starts; this one has begun."}
        )
    if amount is None or Decimal(amount) < 0:
        raise ValidationError({"amount": "The forecast is an amount of at least 0."})


@transaction.atomic
def revenue_forecast_set(
    *,
    period: str,
    period_start: date,
    amount: Decimal,
    by: AbstractBaseUser | None,
    note: str = "",
    now: datetime | None = None,
) -> RevenueForecast:
    """Enter (or revise) the revenue forecast of a period, strictly before the period starts."""
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    revenue_forecast_clean(period=period, period_start=period_start, amount=amount, now=now)
    previous = RevenueForecast.objects.filter(period=period, period_start=period_start).first()
    forecast, _ = RevenueForecast.objects.update_or_create(
        period=period,
        period_start=period_start,
        defaults={
            "amount": amount,
            "note": note or "",
            "entered_by": actor(by),
            "entered_at": now,
        },
    )
    names = ("amount", "note")
    audit_record(
        actor=by,
        action="forecast.set",
        target=forecast,
        changes=audit_changes(previous, forecast, names),
        details={"period": period, "period_start": period_start},
    )
    begin, end = period_bounds(period, period_start, tz)
    agreement_changed.send(sender=RevenueForecast, spans=[(begin, end - timedelta(microseconds=1))])
    return forecast
