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
from rest_framework import permissions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment import scoring, selectors, services
from alignment.models import (
    Goal,
    LeadDefinition,
    PayoutCurve,
    RescoreJob,
    RevenueForecast,
    RoundRobinMember,
    ServiceLevelAgreement,
    SlaBreach,
)
from alignment.roles import Role, Team, user_is_manager, user_role
from kpis import attribution
from kpis.models import PeriodKind
from kpis.periods import period_start
from kpis.registry import METRICS

User = get_user_model()


class ManagersWrite(permissions.BasePermission):
    """Everyone signed in reads; managers and admins write."""

    message = "Only managers and admins may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or user_is_manager(request.user)


class AdminsWrite(permissions.BasePermission):
    message = "Only admins may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or user_role(request.user) == Role.ADMIN


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _user(username: str, field: str) -> Any:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise serializers.ValidationError({field: f"No user named {username!r}."})
    return user


def _page(request: Request, view: APIView, rows: Any, serializer: type, **context: Any) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context).data)


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
        head = services.team_head_set(team=data.validated_data["team"], user=user, by=request.user)
        return Response(TeamHeadOut({"team": head.team, "username": _username(head.user)}).data)


# --- dual-signed versions -------------------------------------------------------------------


class ApprovalOut(serializers.Serializer):
    by = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


class _VersionOut(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="draft or approved")
    in_effect = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None)

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
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: SlaOut(many=True)}, tags=["alignment"])
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.sla_list(), SlaOut, **_sla_context())

    @extend_schema(request=SlaIn, responses={201: SlaOut}, tags=["alignment"])
    def post(self, request: Request) -> Response:
        data = SlaIn(data=request.data)
        data.is_valid(raise_exception=True)
        sla = services.sla_create(by=request.user, **data.validated_data)
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
        sla = services.sla_update(sla=sla, by=request.user, **data.validated_data)
        return Response(SlaOut(sla, context=_sla_context()).data)


class SlaApprove(APIView):
    @extend_schema(request=None, responses={200: SlaOut}, tags=["alignment"])
    def post(self, request: Request, pk: int) -> Response:
        sla = get_object_or_404(ServiceLevelAgreement, pk=pk)
        sla = services.sla_approve(sla=sla, by=request.user)
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
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: LeadDefinitionOut(many=True)}, tags=["alignment"])
    def get(self, request: Request) -> Response:
        return _page(
            request, self, selectors.lead_definition_list(), LeadDefinitionOut,
            **_definition_context(),
        )  # fmt: skip

    @extend_schema(request=LeadDefinitionIn, responses={201: LeadDefinitionOut}, tags=["alignment"])
    def post(self, request: Request) -> Response:
        data = LeadDefinitionIn(data=request.data)
        data.is_valid(raise_exception=True)
        definition = services.lead_definition_create(by=request.user, **data.validated_data)
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
        definition = services.lead_definition_update(
            definition=definition, by=request.user, **data.validated_data
        )
        return Response(_definition_out(definition))


class LeadDefinitionApprove(APIView):
    @extend_schema(request=None, responses={200: LeadDefinitionOut}, tags=["alignment"])
    def post(self, request: Request, pk: int) -> Response:
        definition = get_object_or_404(LeadDefinition, pk=pk)
        definition = services.lead_definition_approve(definition=definition, by=request.user)
        return Response(_definition_out(definition))


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
        job = services.lead_definition_rescore_start(definition=definition, by=request.user)
        job.refresh_from_db()
        return Response(RescoreJobOut(job).data, status=status.HTTP_202_ACCEPTED)


class RescoreJobDetail(APIView):
    @extend_schema(responses={200: RescoreJobOut}, tags=["alignment"])
    def get(self, request: Request, pk: str) -> Response:
        job = selectors.rescore_job_get(pk=pk)
        if job is None:
            return Response({"detail": "No such job."}, status=status.HTTP_404_NOT_FOUND)
        return Response(RescoreJobOut(job).data)


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
        services.round_robin_set(users=[found[n] for n in names], by=request.user)
        return Response(RoundRobinOut(selectors.round_robin_members(), many=True).data)


# --- goals ----------------------------------------------------------------------------------

GOAL_METRICS = sorted(k for k in METRICS if k not in selectors.GOAL_EXCLUDED_METRICS)


class GoalIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    metric = serializers.ChoiceField(
        choices=GOAL_METRICS,
        error_messages={
            "required": "A goal must be measurable: choose a metric.",
            "null": "A goal must be measurable: choose a metric.",
        },
    )
    target = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        error_messages={
            "required": "A goal must be measurable: set a target.",
            "null": "A goal must be measurable: set a target.",
        },
    )
    direction = serializers.ChoiceField(
        choices=Goal.Direction.choices, required=False, allow_blank=True
    )
    period = serializers.ChoiceField(
        choices=PeriodKind.choices,
        error_messages={
            "required": "A goal must be time-bound: choose week, month or quarter.",
            "null": "A goal must be time-bound: choose week, month or quarter.",
        },
    )
    period_start = serializers.DateField(
        error_messages={
            "required": "A goal must be time-bound: give the period's first day.",
            "null": "A goal must be time-bound: give the period's first day.",
        }
    )
    weight = serializers.DecimalField(max_digits=8, decimal_places=4, required=False)
    dimension = serializers.CharField(max_length=16, required=False, allow_blank=True)
    key = serializers.CharField(max_length=150, required=False, allow_blank=True)
    model = serializers.ChoiceField(choices=attribution.MODELS, required=False, allow_blank=True)
    owner_teams = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Always both: marketing, sales."
    )
    specific = serializers.CharField(required=False, allow_blank=True)
    measurable = serializers.CharField(required=False, allow_blank=True)
    achievable = serializers.CharField(required=False, allow_blank=True)
    relevant = serializers.CharField(required=False, allow_blank=True)
    time_bound = serializers.CharField(required=False, allow_blank=True)

    def validate_owner_teams(self, value: list[str]) -> list[str]:
        if sorted(set(value)) != sorted(t.value for t in Team):
            raise serializers.ValidationError(
                "Shared goals belong to both teams: marketing and sales."
            )
        return value


class ProgressOut(serializers.Serializer):
    actual = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    attainment = serializers.FloatField(allow_null=True)
    elapsed = serializers.FloatField()
    projected = serializers.FloatField(allow_null=True)
    projected_attainment = serializers.FloatField(allow_null=True)
    pace = serializers.CharField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class GoalOut(serializers.ModelSerializer):
    owner_teams = serializers.ListField(child=serializers.CharField())
    created_by = serializers.CharField(source="created_by.username", default=None)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "id", "name", "metric", "dimension", "key", "model", "target", "direction",
            "period", "period_start", "weight", "owner_teams", "specific", "measurable",
            "achievable", "relevant", "time_bound", "progress", "created_by", "created_at",
            "updated_at",
        ]  # fmt: skip

    @extend_schema_field(ProgressOut(allow_null=True))
    def get_progress(self, goal: Goal) -> dict[str, Any] | None:
        progress = self.context.get("progress", {}).get(goal.pk)
        if progress is None:
            return None
        return ProgressOut(
            {
                "actual": progress.actual,
                "numerator": progress.numerator,
                "denominator": progress.denominator,
                "attainment": progress.attainment,
                "elapsed": progress.elapsed,
                "projected": progress.projected,
                "projected_attainment": progress.projected_attainment,
                "pace": progress.pace.value if progress.pace else None,
                "computed_at": progress.computed_at,
            }
        ).data


def _goal_data(goals: list[Goal], many: bool = True) -> Any:
    progress = {p.goal.pk: p for p in selectors.goal_progress(goals=goals)}
    data = GoalOut(goals, many=True, context={"progress": progress}).data
    return data if many else data[0]


class GoalQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


def _goal_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "owner_teams"}


class GoalList(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(parameters=[GoalQuery], responses={200: GoalOut(many=True)}, tags=["goals"])
    def get(self, request: Request) -> Response:
        query = GoalQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(
            selectors.goal_list(**query.validated_data), request, view=self
        )
        return paginator.get_paginated_response(_goal_data(list(page)))

    @extend_schema(request=GoalIn, responses={201: GoalOut}, tags=["goals"])
    def post(self, request: Request) -> Response:
        data = GoalIn(data=request.data)
        data.is_valid(raise_exception=True)
        goal = services.goal_create(by=request.user, **_goal_fields(data.validated_data))
        return Response(_goal_data([goal], many=False), status=status.HTTP_201_CREATED)


class GoalDetail(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: GoalOut}, tags=["goals"])
    def get(self, request: Request, pk: int) -> Response:
        return Response(_goal_data([get_object_or_404(Goal, pk=pk)], many=False))

    @extend_schema(request=GoalIn(partial=True), responses={200: GoalOut}, tags=["goals"])
    def patch(self, request: Request, pk: int) -> Response:
        goal = get_object_or_404(Goal, pk=pk)
        data = GoalIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        goal = services.goal_update(goal=goal, by=request.user, **_goal_fields(data.validated_data))
        return Response(_goal_data([goal], many=False))

    @extend_schema(request=None, responses={204: None}, tags=["goals"])
    def delete(self, request: Request, pk: int) -> Response:
        services.goal_delete(goal=get_object_or_404(Goal, pk=pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- scorecard, payout curve, forecasts -----------------------------------------------------


class CurveOut(serializers.Serializer):
    threshold = serializers.FloatField()
    threshold_payout = serializers.FloatField()
    target = serializers.FloatField()
    cap = serializers.FloatField()
    cap_payout = serializers.FloatField()


class ScorecardGoalOut(serializers.Serializer):
    id = serializers.IntegerField(source="goal.pk")
    name = serializers.CharField(source="goal.name")
    metric = serializers.CharField(source="goal.metric")
    direction = serializers.CharField(source="goal.direction")
    target = serializers.FloatField(source="goal.target")
    weight = serializers.FloatField(source="goal.weight")
    actual = serializers.FloatField(allow_null=True)
    attainment = serializers.FloatField(allow_null=True)
    projected = serializers.FloatField(allow_null=True)
    projected_attainment = serializers.FloatField(allow_null=True)
    pace = serializers.CharField(source="pace.value", allow_null=True, default=None)


class ScorecardOut(serializers.Serializer):
    period = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    elapsed = serializers.FloatField()
    attainment = serializers.FloatField(allow_null=True)
    payout_multiplier = serializers.FloatField()
    projected_attainment = serializers.FloatField(allow_null=True)
    projected_payout_multiplier = serializers.FloatField()
    curve = CurveOut()
    goals = ScorecardGoalOut(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class ScorecardQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, default="month")
    start = serializers.DateField(required=False, help_text="Any day of the period; default today.")


class ScorecardView(APIView):
    @extend_schema(parameters=[ScorecardQuery], responses={200: ScorecardOut}, tags=["goals"])
    def get(self, request: Request) -> Response:
        query = ScorecardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data["period"]
        day = query.validated_data.get("start") or timezone.localdate()
        card = selectors.scorecard_for(period=kind, start=period_start(kind, day))
        return Response(ScorecardOut(card).data)


class PayoutCurveOut(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

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
    permission_classes = [ManagersWrite]

    @extend_schema(responses={200: PayoutCurveOut(many=True)}, tags=["goals"])
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.payout_curve_list(), PayoutCurveOut)

    @extend_schema(request=PayoutCurveIn, responses={201: PayoutCurveOut}, tags=["goals"])
    def post(self, request: Request) -> Response:
        data = PayoutCurveIn(data=request.data)
        data.is_valid(raise_exception=True)
        curve = services.payout_curve_set(by=request.user, **data.validated_data)
        return Response(PayoutCurveOut(curve).data, status=status.HTTP_201_CREATED)


class ForecastOut(serializers.ModelSerializer):
    entered_by = serializers.CharField(source="entered_by.username", default=None)
    accuracy = serializers.FloatField(allow_null=True, default=None)
    actual = serializers.FloatField(allow_null=True, default=None)

    class Meta:
        model = RevenueForecast
        fields = [
            "id", "period", "period_start", "amount", "note", "accuracy", "actual",
            "entered_by", "entered_at",
        ]  # fmt: skip


class ForecastIn(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices)
    period_start = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    note = serializers.CharField(required=False, allow_blank=True)


class ForecastQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, required=False)


class ForecastList(APIView):
    permission_classes = [ManagersWrite]

    @extend_schema(
        parameters=[ForecastQuery], responses={200: ForecastOut(many=True)}, tags=["goals"]
    )
    def get(self, request: Request) -> Response:
        query = ForecastQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return _page(request, self, selectors.forecast_list(**query.validated_data), ForecastOut)

    @extend_schema(request=ForecastIn, responses={201: ForecastOut}, tags=["goals"])
    def post(self, request: Request) -> Response:
        data = ForecastIn(data=request.data)
        data.is_valid(raise_exception=True)
        forecast = services.revenue_forecast_set(by=request.user, **data.validated_data)
        fresh = selectors.forecast_list().get(pk=forecast.pk)
        return Response(ForecastOut(fresh).data, status=status.HTTP_201_CREATED)


# --- SLA breaches ---------------------------------------------------------------------------


class SlaBreachOut(serializers.ModelSerializer):
    lead = serializers.CharField(source="handoff.lead.external_id")
    owner = serializers.CharField(source="handoff.owner.username", default=None)

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
    @extend_schema(
        parameters=[SlaBreachQuery], responses={200: SlaBreachOut(many=True)}, tags=["alignment"]
    )
    def get(self, request: Request) -> Response:
        query = SlaBreachQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return _page(request, self, selectors.sla_breach_list(**query.validated_data), SlaBreachOut)
