"""REST endpoints of the lead funnel: translate HTTP to the services and back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment.models import LeadDefinition, RescoreJob, SlaBreach
from alignment.permissions import IsManager, ManagersWrite
from alignment.selectors import rescore_job_get
from config.api import BoundedDateField, BoundedDateTimeField, ErrorOut, Pagination, paginated
from leads.agreements import lead_definition_rescore_start
from leads.errors import RowError, RowsInvalid
from leads.models import AttemptChannel, AttemptOutcome, Deal, Handoff, Stage
from leads.selectors import handoff_list, sla_breach_list
from leads.services import (
    UpsertResult,
    attempts_upsert,
    campaigns_upsert,
    deals_upsert,
    handoff_accept,
    handoff_can_decide,
    handoff_can_reassign,
    handoff_reassign,
    handoff_reject,
    leads_upsert,
    stage_events_upsert,
    touches_upsert,
)
from leads.services_channels import channel_key


def _ref(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=150, **kwargs)


class ChannelKeyField(serializers.CharField):
    """Any source system's channel label; stored as its normalised key (`ORGANIC_SEARCH` and
    "Organic search" are both `organic_search`), created when new."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault(
            "help_text",
            "A channel key or a source system's label (HubSpot's ORGANIC_SEARCH, Salesforce's "
            "'Phone Inquiry'); normalised to a key and created if new.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        key = channel_key(super().to_internal_value(data))
        if not key:
            raise serializers.ValidationError("Give a channel with at least one letter or digit.")
        return key


class CampaignIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    channel = ChannelKeyField()
    starts_on = BoundedDateField()
    ends_on = BoundedDateField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=0)


class LeadIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    created_at = BoundedDateTimeField()
    campaign = _ref(required=False, allow_null=True, allow_blank=True)
    owner = _ref(required=False, allow_null=True, allow_blank=True)
    segment = serializers.CharField(max_length=64, required=False, allow_blank=True)
    attributes = serializers.DictField(required=False)


class TouchIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    lead = _ref()
    campaign = _ref()
    occurred_at = BoundedDateTimeField()
    kind = serializers.CharField(max_length=40, required=False, allow_blank=True)


class StageEventIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    lead = _ref()
    stage = serializers.ChoiceField(choices=Stage.choices)
    occurred_at = BoundedDateTimeField()
    actor = _ref(required=False, allow_null=True, allow_blank=True)
    reason = serializers.CharField(max_length=64, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class AttemptIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    lead = _ref()
    occurred_at = BoundedDateTimeField()
    channel = serializers.ChoiceField(choices=AttemptChannel.choices)
    outcome = serializers.ChoiceField(choices=AttemptOutcome.choices)
    actor = _ref(required=False, allow_null=True, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class DealIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    lead = _ref()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    created_at = BoundedDateTimeField()
    closed_at = BoundedDateTimeField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Deal.Status.choices, default=Deal.Status.OPEN)
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


UpsertOut = inline_serializer(
    "UpsertResult", {"created": serializers.IntegerField(), "updated": serializers.IntegerField()}
)
ErrorsOut = inline_serializer(
    "IngestErrors",
    {
        "errors": inline_serializer(
            "IngestError",
            {
                "index": serializers.IntegerField(),
                "field": serializers.CharField(),
                "message": serializers.CharField(),
            },
            many=True,
        )
    },
)

# A 400 is the rows' problems, or one message when the body is not JSON (a parse error).
IngestBadRequest = PolymorphicProxySerializer(
    component_name="IngestBadRequest",
    serializers=[ErrorsOut, ErrorOut],
    resource_type_field_name=None,
)


def _flatten(errors: Any, index: int = 0, field: str = "non_field_errors") -> list[RowError]:
    if isinstance(errors, dict):
        return [e for key, value in errors.items() for e in _flatten(value, index, key)]
    if isinstance(errors, list):
        return [e for item in errors for e in _flatten(item, index, field)]
    return [RowError(index, field, str(errors))]


def _errors_response(errors: list[RowError]) -> Response:
    return Response({"errors": [e.as_dict() for e in errors]}, status=status.HTTP_400_BAD_REQUEST)


class IngestView(APIView):
    """POST one object or a list of up to API_MAX_BATCH; all or nothing; idempotent."""

    permission_classes = [IsManager]
    row_serializer: type[serializers.Serializer]
    upsert: Callable[..., UpsertResult]
    upsert_takes_sender = False  # the service applies the sender's rights (`by=`)

    def post(self, request: Request) -> Response:
        data = request.data
        rows = [data] if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return _errors_response(
                [RowError(0, "non_field_errors", "Send an object or a list of objects.")]
            )
        if not rows:
            return _errors_response([RowError(0, "non_field_errors", "Send at least one record.")])
        if len(rows) > settings.API_MAX_BATCH:
            return _errors_response(
                [
                    RowError(
                        settings.API_MAX_BATCH,
                        "non_field_errors",
                        f"Send at most {settings.API_MAX_BATCH} records per request.",
                    )
                ]
            )
        parsed = self.row_serializer(data=rows, many=True)
        if not parsed.is_valid():
            per_row = parsed.errors
            if isinstance(per_row, list):  # DRF < 3.16 gives a list, newer ones a dict by index
                per_row = dict(enumerate(per_row))
            errors = [
                e for index, row_errors in per_row.items() for e in _flatten(row_errors, index)
            ]
            return _errors_response(errors)
        try:
            extra = {"by": request.user} if self.upsert_takes_sender else {}
            result = type(self).upsert(rows=parsed.validated_data, **extra)
        except RowsInvalid as exc:
            return _errors_response(exc.errors)
        return Response({"created": result.created, "updated": result.updated})


def _ingest_view(
    name: str,
    serializer: type[serializers.Serializer],
    upsert: Callable,
    *,
    takes_sender: bool = False,
) -> type:
    def post(self: IngestView, request: Request) -> Response:
        return IngestView.post(self, request)

    post = extend_schema(
        operation_id=f"{name.lower()}_ingest",
        request=serializer(many=True),
        responses={200: UpsertOut, 400: IngestBadRequest},
        summary=f"Create or update {name.lower()} by external_id",
        tags=["ingest"],
    )(post)
    return type(
        f"{name}IngestView",
        (IngestView,),
        {
            "row_serializer": serializer,
            "upsert": staticmethod(upsert),
            "upsert_takes_sender": takes_sender,
            "post": post,
            "__doc__": IngestView.__doc__,
        },
    )


CampaignIngest = _ingest_view("Campaigns", CampaignIn, campaigns_upsert)
LeadIngest = _ingest_view("Leads", LeadIn, leads_upsert)
TouchIngest = _ingest_view("Touches", TouchIn, touches_upsert)
StageEventIngest = _ingest_view("StageEvents", StageEventIn, stage_events_upsert, takes_sender=True)
AttemptIngest = _ingest_view("Attempts", AttemptIn, attempts_upsert)
DealIngest = _ingest_view("Deals", DealIn, deals_upsert)


# --- handoffs -------------------------------------------------------------------------------


class HandoffOut(serializers.ModelSerializer):
    lead = serializers.CharField(source="lead.external_id")
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    reason = serializers.CharField(source="reason.code", default=None, allow_null=True)

    class Meta:
        model = Handoff
        fields = [
            "id",
            "lead",
            "handed_at",
            "owner",
            "status",
            "decided_at",
            "decided_by",
            "reason",
            "feedback",
            "rating",
            "matched_rules",
        ]


class HandoffRejectIn(serializers.Serializer):
    reason = serializers.CharField(max_length=64)
    feedback = serializers.CharField(required=False, allow_blank=True, default="")
    rating = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)


@extend_schema(tags=["handoffs"])
class HandoffList(ListAPIView):
    serializer_class = HandoffOut

    @extend_schema(
        parameters=[
            inline_serializer(
                "HandoffFilter",
                {
                    "status": serializers.ChoiceField(
                        choices=Handoff.Status.choices, required=False
                    ),
                    "owner": serializers.CharField(required=False),
                },
            )
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Handoff]:
        status_ = self.request.query_params.get("status")
        if status_ and status_ not in Handoff.Status.values:
            raise serializers.ValidationError(
                {"status": f"Use one of {', '.join(Handoff.Status.values)}."}
            )
        return handoff_list(
            status=status_ or None, owner=self.request.query_params.get("owner") or None
        )


def _decidable(request: Request, pk: int) -> Handoff:
    handoff = get_object_or_404(Handoff.objects.select_related("lead"), pk=pk)
    if not handoff_can_decide(handoff=handoff, user=request.user):
        raise PermissionDenied("Only the handoff's owner or a sales manager may decide it.")
    return handoff


ConflictOut = inline_serializer("Conflict", {"detail": serializers.CharField()})


@extend_schema(tags=["handoffs"], request=None, responses={200: HandoffOut, 409: ConflictOut})
class HandoffAccept(APIView):
    def post(self, request: Request, pk: int) -> Response:
        handoff = handoff_accept(handoff=_decidable(request, pk), by=request.user)
        return Response(HandoffOut(handoff).data)


@extend_schema(
    tags=["handoffs"], request=HandoffRejectIn, responses={200: HandoffOut, 409: ConflictOut}
)
class HandoffReject(APIView):
    def post(self, request: Request, pk: int) -> Response:
        handoff = _decidable(request, pk)
        data = HandoffRejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        handoff = handoff_reject(handoff=handoff, by=request.user, **data.validated_data)
        return Response(HandoffOut(handoff).data)


class HandoffReassignIn(serializers.Serializer):
    owner = serializers.CharField(max_length=150, help_text="The new owner's username.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


@extend_schema(tags=["handoffs"], request=HandoffReassignIn, responses={200: HandoffOut})
class HandoffReassign(APIView):
    """Give a pending handoff (and its lead) to another active sales rep or manager; the new
    owner is e-mailed. Sales managers and admins only."""

    def post(self, request: Request, pk: int) -> Response:
        if not handoff_can_reassign(user=request.user):
            raise PermissionDenied("Only a sales manager can reassign a handoff.")
        handoff = get_object_or_404(Handoff.objects.select_related("lead", "owner"), pk=pk)
        data = HandoffReassignIn(data=request.data)
        data.is_valid(raise_exception=True)
        to = get_user_model().objects.filter(username=data.validated_data["owner"]).first()
        if to is None:
            raise serializers.ValidationError(
                {"owner": f"No user with username {data.validated_data['owner']!r}."}
            )
        handoff = handoff_reassign(
            handoff=handoff, to=to, by=request.user, note=data.validated_data["note"]
        )
        handoff = Handoff.objects.select_related("lead", "owner", "decided_by", "reason").get(
            pk=handoff.pk
        )
        return Response(HandoffOut(handoff).data)


# --- re-scoring leads under the lead definition in effect -----------------------------------


class RescoreJobOut(serializers.ModelSerializer):
    definition_version = serializers.IntegerField(source="definition.version")
    status = serializers.CharField(
        read_only=True, help_text="queued, running, done, superseded or failed"
    )
    progress = serializers.FloatField()

    class Meta:
        model = RescoreJob
        fields = [
            "id", "definition_version", "status", "total", "done", "handed_off", "progress",
            "error", "created_at", "finished_at",
        ]  # fmt: skip


class LeadDefinitionRescore(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(request=None, responses={202: RescoreJobOut}, tags=["alignment"])
    def post(self, request: Request, pk: int) -> Response:
        definition = get_object_or_404(LeadDefinition, pk=pk)
        job = lead_definition_rescore_start(definition=definition, by=request.user)
        job.refresh_from_db()
        return Response(RescoreJobOut(job).data, status=status.HTTP_202_ACCEPTED)


class RescoreJobDetail(APIView):
    @extend_schema(responses={200: RescoreJobOut}, tags=["alignment"])
    def get(self, request: Request, pk: str) -> Response:
        job = rescore_job_get(pk=pk)
        if job is None:
            return Response({"detail": "No such job."}, status=status.HTTP_404_NOT_FOUND)
        return Response(RescoreJobOut(job).data)


# --- SLA breaches ---------------------------------------------------------------------------


class SlaBreachOut(serializers.ModelSerializer):
    lead = serializers.CharField(source="handoff.lead.external_id")
    owner = serializers.CharField(source="handoff.owner.username", default=None, allow_null=True)

    class Meta:
        model = SlaBreach
        fields = [
            "id",
            "handoff",
            "lead",
            "owner",
            "kind",
            "attempt",
            "due_at",
            "detected_at",
            "notified_at",
        ]


class SlaBreachQuery(serializers.Serializer):
    owner = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=SlaBreach.Kind.choices, required=False)


class SlaBreachList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[SlaBreachQuery], responses={200: SlaBreachOut(many=True)}, tags=["handoffs"]
    )
    def get(self, request: Request) -> Response:
        query = SlaBreachQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return paginated(request, self, sla_breach_list(**query.validated_data), SlaBreachOut)
