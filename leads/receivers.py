"""Where leads hears what alignment announces (connected in `LeadsConfig.ready`).

Each receiver only hands over to a service: the logic lives in `leads.agreements` and
`leads.changes`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.dispatch import receiver

from alignment.signals import agreement_changed, version_approved
from leads.agreements import agreement_version_apply
from leads.changes import funnel_periods_changed


@receiver(version_approved, dispatch_uid="leads-apply-approved-version")
def on_version_approved(sender: type, *, version: Any, by: Any, now: datetime, **_: Any) -> None:
    agreement_version_apply(version=version, by=by, now=now)


@receiver(agreement_changed, dispatch_uid="leads-log-agreement-change")
def on_agreement_changed(
    sender: type,
    *,
    spans: list[tuple[datetime | date, datetime | date]],
    part: str = "goals",
    **_: Any,
) -> None:
    funnel_periods_changed(spans=spans, part=part)
