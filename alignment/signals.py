"""What alignment announces to the apps above it, which know what to do with it.

Alignment knows nothing of the funnel or the engine. When an agreement changes, it sends one
of these inside the writing transaction; `leads` (which applies the agreements) receives them:
it re-derives SLA facts, re-scores leads and records the periods whose numbers change in its
change log, all in the same transaction as the agreement's write.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A version of the SLA or of the lead definition became binding (both heads approved it).
#: Arguments: ``version`` (the ServiceLevelAgreement or LeadDefinition), ``by``, ``now``.
version_approved = Signal()

#: Something the metrics read changed. Arguments: ``spans``, a list of (first, last) moments
#: or days whose periods change, and ``part``: "goals" (a goal, a forecast, a payout curve;
#: the default), "meetings" (who met: joint meetings per week) or "insights" (field insights
#: answered).
agreement_changed = Signal()


def together_changed(*, spans: list, part: str) -> None:
    """Announce, inside the writing transaction, that meetings or insights moved the numbers of
    the periods over `spans`."""
    agreement_changed.send(sender=None, spans=spans, part=part)
