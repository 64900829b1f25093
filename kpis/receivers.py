"""Where the engine hears of the funnel's changes (connected in `KpisConfig.ready`)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from kpis.background import kpis_recompute_soon
from leads.changes import funnel_change_committed


@receiver(funnel_change_committed, dispatch_uid="kpis-recompute-changed-periods")
def on_funnel_change_committed(sender: type, **_: Any) -> None:
    kpis_recompute_soon()
