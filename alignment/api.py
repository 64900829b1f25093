"""REST endpoints of the alignment app: translate HTTP to the services and selectors and back.

Managers (and admins) write, everyone signed in reads; only a team's head approves versions
for that team; only admins appoint heads.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment import scoring, selectors
from alignment.models import (
    LeadDefinition,
    PayoutCurve,
    RoundRobinMember,
    ServiceLevelAgreement,
)
from alignment.permissions import AdminsWrite, ManagersWrite
from alignment.roles import Team
from alignment.services.accounts import team_head_set
from alignment.services.lead_definitions import (
    lead_definition_approve,
    lead_definition_create,
    lead_definition_update,
)
from alignment.services.payout_curves import payout_curve_set
from alignment.services.round_robin import round_robin_set
from alignment.services.sla import sla_approve, sla_create, sla_update
from config.api import Pagination, paginated

User = get_user_model()


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _user(username: str, field: str) -> Any:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise serializers.ValidationError({field: f"No user named {username!r}."})
    return user


# --- team heads -----------------------------------------------------------------------------


class TeamHeadOut(serializers.Serializer):
    team = serializers.ChoiceField(choices=[t.value for t in Team])
    username = serializers.CharField(allow_null=True)


class TeamHeadIn(serializers.Serializer):
    team = serializers.ChoiceField(choices=[t.value for t in Team])
    username = serializers.CharField(max_length=150)


class TeamHeadList(APIView):
    permission_classes = [AdminsWrite]

    @extend_schema(responses={200: TeamHeadOut(many=True)}, tags=["alignment"])
    def get(self, request: Request) -> Response:
        heads = selectors.team_heads()
        rows = [{"team": t.value, "username": _username(u)} for t, u in heads.items()]
        return Response(TeamHeadOut(rows, many=True).data)

    @extend_schema(request=TeamHeadIn, responses={200: TeamHeadOut}, tags=["alignment"])
    def post(self, request: Request) -> Response:
        data = TeamHeadIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(data.validated_data["username"], "username")
        head = team_head_set(team=data.validated_data["team"], user=user, by=request.user)
        return Response(TeamHeadOut({"team": head.team, "username": _username(head.user)}).data)


# --- dual-signed versions -------------------------------------------------------------------


class ApprovalOut(serializers.Serializer):
    by = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


class _VersionOut(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="draft or approved")
    in_effect = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    def get_in_effect(self, obj: Any) -> bool:
        return obj.pk == self.context.get("in_effect_id")

    @extend_schema_field(
        inline_serializer("Approvals", {"marketing": ApprovalOut(), "sales": ApprovalOut()})
    )
    def get_approvals(self, obj: Any) -> dict[str, dict[str, Any]]:
        out = {}
        for team in Team:
            by, at = obj.approval_of(team)
            out[team.value] = {"by": _username(by), "at": at}
        return {k: ApprovalOut(v).data for k, v in out.items()}


VERSION_FIELDS = [
    "id", "version", "status", "in_effect", "effective_from", "approvals", "approved_at",
    "applied_at", "notes", "created_by", "created_at", "updated_at",
]  # fmt: skip


class SlaOut(_VersionOut):
    class Meta:
        model = ServiceLevelAgreement
        fields = [
            *VERSION_FIELDS, "first_contact_hours", "attempts", "attempt_spacing_days",
            "monthly_sal_commitment", "business_days", "business_start", "business_end",
            "business_timezone",
        ]  # fmt: skip


class SlaIn(serializers.Serializer):
    effective_from = serializers.DateTimeField()
    first_contact_hours = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=0)
    attempts = serializers.IntegerField(min_value=1, max_value=100)
    attempt_spacing_days = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0)
    monthly_sal_commitment = serializers.IntegerField(min_value=1)
    business_days = serializers.CharField(max_length=13, required=False, allow_blank=True)
    business_start = serializers.TimeField(required=False, allow_null=True)
    business_end = serializers.TimeField(required=False, allow_null=True)
    business_timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


def _sla_context() -> dict[str, Any]:
    current = selectors.sla_in_effect(at=timezone.now())
    return {"in_effect_id": current.pk if current else None}


class SlaList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: SlaOut(many=True)}, tags=["alignment"])
    def get(self, request: Request) -> Response:
        return paginated(request, self, selectors.sla_list(), SlaOut, **_sla_context())

    @extend_schema(request=SlaIn, responses={201: SlaOut}, tags=["alignment"])
    def post(self, request: Request) -> Response:
        data = SlaIn(data=request.data)
        data.is_valid(raise_exception=True)
        sla = sla_create(by=request.user, **data.validated_data)
        return Response(SlaOut(sla, context=_sla_context()).data, status=status.HTTP_201_CREATED)


class SlaDetail(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: SlaOut}, tags=["alignment"])
    def get(self, request: Request, pk: int) -> Response:
        sla = get_object_or_404(selectors.sla_list(), pk=pk)
        return Response(SlaOut(sla, context=_sla_context()).data)

    @extend_schema(request=SlaIn(partial=True), responses={200: SlaOut}, tags=["alignment"])
    def patch(self, request: Request, pk: int) -> Response:
        sla = get_object_or_404(ServiceLevelAgreement, pk=pk)
        data = SlaIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        sla = sla_update(sla=sla, by=request.user, **data.validated_data)
        return Response(SlaOut(sla, context=_sla_context()).data)


class SlaApprove(APIView):
    @extend_schema(request=None, responses={200: SlaOut}, tags=["alignment"])
    def post(self, request: Request, pk: int) -> Response:
        sla = get_object_or_404(ServiceLevelAgreement, pk=pk)
        sla = sla_approve(sla=sla, by=request.user)
        return Response(SlaOut(sla, context=_sla_context()).data)


class RuleSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=200)
    operator = serializers.ChoiceField(choices=scoring.OPERATORS)
    value = serializers.JSONField(required=False, allow_null=True)
    points = serializers.IntegerField(min_value=-scoring.MAX_POINTS, max_value=scoring.MAX_POINTS)


class LeadDefinitionOut(_VersionOut):
    rules = serializers.SerializerMethodField()

    class Meta:
        model = LeadDefinition
        fields = [*VERSION_FIELDS, "criteria", "mql_threshold", "rules"]

    @extend_schema_field(RuleSerializer(many=True))
    def get_rules(self, obj: LeadDefinition) -> list[dict[str, Any]]:
        rules = sorted(obj.rules.all(), key=lambda r: r.position)
        return RuleSerializer(rules, many=True).data


class LeadDefinitionIn(serializers.Serializer):
    effective_from = serializers.DateTimeField()
    criteria = serializers.CharField()
    mql_threshold = serializers.IntegerField(min_value=1)
    notes = serializers.CharField(required=False, allow_blank=True)
    rules = RuleSerializer(many=True, required=False)


def _definition_context() -> dict[str, Any]:
    current = selectors.lead_definition_in_effect(at=timezone.now())
    return {"in_effect_id": current.pk if current else None}


def _definition_out(definition: LeadDefinition) -> dict[str, Any]:
    fresh = selectors.lead_definition_list().get(pk=definition.pk)
    return LeadDefinitionOut(fresh, context=_definition_context()).data


class LeadDefinitionList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: LeadDefinitionOut(many=True)}, tags=["alignment"])
    def get(self, request: Request) -> Response:
        return paginated(
            request, self, selectors.lead_definition_list(), LeadDefinitionOut,
            **_definition_context(),
        )  # fmt: skip

    @extend_schema(request=LeadDefinitionIn, responses={201: LeadDefinitionOut}, tags=["alignment"])
    def post(self, request: Request) -> Response:
        data = LeadDefinitionIn(data=request.data)
        data.is_valid(raise_exception=True)
        definition = lead_definition_create(by=request.user, **data.validated_data)
        return Response(_definition_out(definition), status=status.HTTP_201_CREATED)


class LeadDefinitionDetail(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: LeadDefinitionOut}, tags=["alignment"])
    def get(self, request: Request, pk: int) -> Response:
        definition = get_object_or_404(selectors.lead_definition_list(), pk=pk)
        return Response(LeadDefinitionOut(definition, context=_definition_context()).data)

    @extend_schema(
        request=LeadDefinitionIn(partial=True),
        responses={200: LeadDefinitionOut},
        tags=["alignment"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        definition = get_object_or_404(LeadDefinition, pk=pk)
        data = LeadDefinitionIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        definition = lead_definition_update(
            definition=definition, by=request.user, **data.validated_data
        )
        return Response(_definition_out(definition))


class LeadDefinitionApprove(APIView):
    @extend_schema(request=None, responses={200: LeadDefinitionOut}, tags=["alignment"])
    def post(self, request: Request, pk: int) -> Response:
        definition = get_object_or_404(LeadDefinition, pk=pk)
        definition = lead_definition_approve(definition=definition, by=request.user)
        return Response(_definition_out(definition))


# --- round robin ----------------------------------------------------------------------------


class RoundRobinOut(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = RoundRobinMember
        fields = ["username", "position", "active", "assigned_count", "last_turn"]


class RoundRobinIn(serializers.Serializer):
    usernames = serializers.ListField(child=serializers.CharField(max_length=150), min_length=1)


class RoundRobin(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: RoundRobinOut(many=True)}, tags=["alignment"])
    def get(self, request: Request) -> Response:
        return Response(RoundRobinOut(selectors.round_robin_members(), many=True).data)

    @extend_schema(
        request=RoundRobinIn, responses={200: RoundRobinOut(many=True)}, tags=["alignment"]
    )
    def put(self, request: Request) -> Response:
        data = RoundRobinIn(data=request.data)
        data.is_valid(raise_exception=True)
        names = data.validated_data["usernames"]
        found = {u.username: u for u in User.objects.filter(username__in=names)}
        missing = [n for n in names if n not in found]
        if missing:
            raise serializers.ValidationError(
                {"usernames": [f"No user named {n!r}." for n in missing]}
            )
        round_robin_set(users=[found[n] for n in names], by=request.user)
        return Response(RoundRobinOut(selectors.round_robin_members(), many=True).data)


# --- payout curve ---------------------------------------------------------------------------


class PayoutCurveOut(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = PayoutCurve
        fields = [
            "id", "effective_from", "threshold", "threshold_payout", "target", "cap",
            "cap_payout", "created_by", "created_at",
        ]  # fmt: skip


class PayoutCurveIn(serializers.Serializer):
    effective_from = serializers.DateField()
    threshold = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)
    threshold_payout = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)
    target = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)
    cap = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)
    cap_payout = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)


class PayoutCurveList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: PayoutCurveOut(many=True)}, tags=["goals"])
    def get(self, request: Request) -> Response:
        return paginated(request, self, selectors.payout_curve_list(), PayoutCurveOut)

    @extend_schema(request=PayoutCurveIn, responses={201: PayoutCurveOut}, tags=["goals"])
    def post(self, request: Request) -> Response:
        data = PayoutCurveIn(data=request.data)
        data.is_valid(raise_exception=True)
        curve = payout_curve_set(by=request.user, **data.validated_data)
        return Response(PayoutCurveOut(curve).data, status=status.HTTP_201_CREATED)
