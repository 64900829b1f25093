from __future__ import annotations

from datetime import datetime

from alignment.models import ServiceLevelAgreement


def sla_in_effect(*, at: datetime) -> ServiceLevelAgreement | None:
    """The approved SLA version that applies to a handoff made at `at`."""
    return (
        ServiceLevelAgreement.objects.filter(
            status=ServiceLevelAgreement.Status.APPROVED, effective_from__lte=at
        )
        .order_by("-effective_from", "-version")
        .first()
    )


def api_token_for(*, user: object) -> str | None:
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).values_list("key", flat=True).first()
