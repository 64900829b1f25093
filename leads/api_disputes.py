"""REST endpoints of disputes: marketing contests a rejection, the two heads settle it.

Everyone reads every dispute's state and counts; who reads its comments and the names in it is
`leads.services_disputes.dispute_can_read`: everyone else gets the same object with those
fields null (`visible` says which).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import Pagination, paginated
from leads.models import Dispute, Handoff
from leads.selectors import dispute_get, dispute_list, disputes_with_heads
from leads.services_disputes import (
    dispute_can_raise,
    dispute_can_read,
    dispute_can_settle,
    dispute_confirm,
    dispute_raise,
    dispute_record_outcome,
)

#: What only the people in a dispute read (`dispute_can_read`): the words, the names and
#: the lead; everyone else reads the states, times and counts.
PRIVATE = (
    "lead", "comment", "outcome_note", "feedback", "raised_by", "outcome_by", "resolved_by",
    "owner", "decided_by", "awaiting_head",
)  # fmt: skip


def _username(field: str) -> serializers.CharField:
    return serializers.CharField(source=f"{field}.username", default=None, allow_null=True)


class DisputeListOut(serializers.ListSerializer):
    """Many disputes: their awaited heads are read once for all of them."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        rows = list(data.all() if hasattr(data, "all") else data)
        disputes_with_heads(disputes=rows)
        return super().to_representation(rows)


class DisputeOut(serializers.ModelSerializer):
    """A dispute with its rejection. `visible` false: the comments and names are null."""

    handoff = serializers.IntegerField(source="handoff_id")
    lead = serializers.CharField(source="handoff.lead.external_id")
    reason = serializers.CharField(source="handoff.reason.code", default=None, allow_null=True)
    decided_at = serializers.DateTimeField(source="handoff.decided_at")
    feedback = serializers.CharField(source="handoff.feedback", allow_null=True)
    attempts_before_decision = serializers.IntegerField(
        help_text="Contact attempts from the handing over to the rejection."
    )
    first_attempt_at = serializers.DateTimeField(source="handoff.first_attempt_at", allow_null=True)
    owner = _username("handoff.owner")
    decided_by = _username("handoff.decided_by")
    raised_by = _username("raised_by")
    outcome_by = _username("outcome_by")
    resolved_by = _username("resolved_by")
    awaiting_team = serializers.CharField(
        allow_null=True, help_text="marketing or sales: whose head must confirm the outcome."
    )
    awaiting_head = serializers.SerializerMethodField()
    reopened_handoff = serializers.IntegerField(
        source="reopened_handoff_id",
        allow_null=True,
        help_text="The handoff an overturn opened (the lead handed off again).",
    )
    visible = serializers.SerializerMethodField(
        help_text="Whether you read the comments and names (else they are null)."
    )

    class Meta:
        model = Dispute
        fields = [
            "id", "handoff", "lead", "reason", "decided_at", "feedback",
            "attempts_before_decision", "first_attempt_at", "owner", "decided_by",
            "raised_at", "raised_by", "comment", "status", "outcome", "outcome_note",
            "outcome_by", "outcome_at", "awaiting_team", "awaiting_head", "resolved_by",
            "resolved_at", "reopened_handoff", "visible",
        ]  # fmt: skip
        list_serializer_class = DisputeListOut

    def get_awaiting_head(self, dispute: Dispute) -> str | None:
        head = getattr(dispute, "awaiting_head", None)
        return head.get_username() if head is not None else None

    def get_visible(self, dispute: Dispute) -> bool:
        return dispute_can_read(dispute=dispute, user=self.context["user"])

    def to_representation(self, dispute: Dispute) -> dict[str, Any]:
        data = super().to_representation(dispute)
        if dispute.status != Dispute.Status.AWAITING:  # it awaits no one (yet, or any more)
            data["awaiting_team"] = None
        if not data["visible"]:
            data.update(dict.fromkeys(PRIVATE))
        return data


class DisputeRaiseIn(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, help_text="Why the rejection is wrong.")


class DisputeResolveIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Dispute.Outcome.choices)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text="Required to overturn: the rep who rejected it reads it.",
    )


def _out(request: Request, pk: int, *, code: int = status.HTTP_200_OK) -> Response:
    dispute = dispute_get(pk=pk)
    disputes_with_heads(disputes=[dispute])
    return Response(DisputeOut(dispute, context={"user": request.user}).data, status=code)


def _dispute(pk: int) -> Dispute:
    dispute = Dispute.objects.select_related("handoff").filter(pk=pk).first()
    if dispute is None:
        raise NotFound("No dispute has this number.")
    return dispute


def _may_settle(request: Request) -> None:
    if not dispute_can_settle(user=request.user):
        raise PermissionDenied(
            "Only the head of marketing and the head of sales settle a dispute, together."
        )


@extend_schema(tags=["disputes"], request=DisputeRaiseIn, responses={201: DisputeOut})
class HandoffDispute(APIView):
    """Marketing contests a rejection, within DISPUTE_WINDOW_DAYS of the decision, once."""

    def post(self, request: Request, pk: int) -> Response:
        handoff = get_object_or_404(Handoff, pk=pk)
        if not dispute_can_raise(user=request.user):
            raise PermissionDenied("Only marketing (reps and managers) can dispute a rejection.")
        data = DisputeRaiseIn(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = dispute_raise(
            handoff=handoff, by=request.user, comment=data.validated_data["comment"]
        )
        return _out(request, dispute.pk, code=status.HTTP_201_CREATED)


class DisputeQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Dispute.Status.choices, required=False)


@extend_schema(tags=["disputes"])
class DisputeList(APIView):
    """Every dispute, the latest raised first (the settled ones: the latest settled first)."""

    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(parameters=[DisputeQuery], responses={200: DisputeOut(many=True)})
    def get(self, request: Request) -> Response:
        query = DisputeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = dispute_list(status=query.validated_data.get("status"))
        return paginated(request, self, rows, DisputeOut, user=request.user)


@extend_schema(tags=["disputes"], responses={200: DisputeOut})
class DisputeDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return _out(request, _dispute(pk).pk)


@extend_schema(tags=["disputes"], request=DisputeResolveIn, responses={200: DisputeOut})
class DisputeResolve(APIView):
    """One head records the outcome; it awaits the other head's confirmation (who is
    e-mailed once)."""

    def post(self, request: Request, pk: int) -> Response:
        dispute = _dispute(pk)
        _may_settle(request)
        data = DisputeResolveIn(data=request.data)
        data.is_valid(raise_exception=True)
        dispute_record_outcome(dispute=dispute, by=request.user, **data.validated_data)
        return _out(request, dispute.pk)


@extend_schema(tags=["disputes"], request=None, responses={200: DisputeOut})
class DisputeConfirm(APIView):
    """The other head confirms the outcome: the dispute is settled; an overturn hands the lead
    off again to another rep."""

    def post(self, request: Request, pk: int) -> Response:
        dispute = _dispute(pk)
        _may_settle(request)
        dispute_confirm(dispute=dispute, by=request.user)
        return _out(request, dispute.pk)
