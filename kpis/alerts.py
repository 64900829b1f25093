"""The SAL pace alert: marketing hears when the month's SALs are heading below the SLA's
commitment. It reads the `sals` metric the dashboard shows, so the e-mail and the page agree.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import SalPaceAlert
from alignment.roles import Role
from alignment.selectors import sla_in_effect, users_in_role
from core.catalog import METRICS
from core.periods import PACE_MIN_ELAPSED, elapsed_share, period_bounds
from kpis.selectors import kpi_table

log = logging.getLogger(__name__)


def sal_commitment_check(*, now: datetime | None = None) -> SalPaceAlert | None:
    """Tell the marketing managers once a month when the month's SALs are off pace.

    The alert is recorded right after the e-mail went out, in its own transaction: a failed
    send records nothing, so the next run (the task's retry, or the next beat) sends it.

    Pace: the month's `sals` so far, scored as a goal of N (the commitment of the SLA in effect
    at the month's start) with the goals' own projection; off pace is the goals' "off track".
    Not before a quarter of the month has gone by (`PACE_MIN_ELAPSED`, as the dashboard's
    tiles), when a pace says nothing.
    """
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    month = now.astimezone(tz).date().replace(day=1)
    begin, _ = period_bounds("month", month, tz)
    elapsed = elapsed_share("month", month, now, tz)
    if elapsed < PACE_MIN_ELAPSED:  # the dashboard's tiles give no verdict yet either
        return None
    if SalPaceAlert.objects.filter(month=month).exists():
        return None
    sla = sla_in_effect(at=begin)
    if sla is None:
        return None
    table = kpi_table(metrics=["sals"], period="month", start=month, end=month)
    if table.computed_at is None:  # the month was not computed yet: nothing to say
        return None
    sals = table.get("sals", month)
    score = card.goal_score(
        sals.value,
        Decimal(sla.monthly_sal_commitment),
        higher_is_better=True,
        cap=card.DEFAULT_CURVE.cap,
        # the pace of the SALs the snapshot counted, at the moment it counted them
        elapsed=elapsed_share("month", month, min(now, table.computed_at), tz),
        accumulates=METRICS["sals"].accumulates,
    )
    if score.pace != card.Pace.OFF_TRACK:
        return None
    projected = score.projected or Decimal(0)
    recipients = [u.email for u in users_in_role(role=Role.MARKETING_MANAGER) if u.email]
    context = {
        "month": month,
        "sals": int(sals.numerator),
        "projected": f"{projected:.0f}",
        "commitment": sla.monthly_sal_commitment,
    }
    if recipients:  # a failure raises before the alert is recorded: the next run retries
        send_mail(
            subject=render_to_string("kpis/email/sal_pace_alert_subject.txt", context).strip(),
            message=render_to_string("kpis/email/sal_pace_alert.txt", context),
            from_email=None,
            recipient_list=recipients,
        )
    try:
        with transaction.atomic():
            return SalPaceAlert.objects.create(
                month=month,
                sals=int(sals.numerator),
                commitment=sla.monthly_sal_commitment,
                projected=projected.quantize(Decimal("0.01")),
                sent_at=now,
            )
    except IntegrityError:  # a concurrent run recorded it first
        log.warning("SAL pace alert for %s was recorded by another run", month)
        return None
