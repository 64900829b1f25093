"""REST endpoints of the shared goals with their progress, the joint scorecard and the revenue
forecasts with their accuracy: the goals are alignment's records, their progress reads the
KPI snapshots. Managers (and admins) write, everyone signed in reads.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment.models import Goal, RevenueForecast
from alignment.permissions import ManagersWrite
from alignment.roles import Team
from alignment.selectors import goal_list
from alignment.services.forecasts import revenue_forecast_set
from alignment.services.goals import goal_create, goal_delete, goal_update
from config.api import BoundedDateField, Pagination, paginated
from core import attribution
from core.catalog import GOAL_EXCLUDED_METRICS, METRICS
from core.periods import period_start
from kpis.goals import forecast_list, goal_progress, scorecard_for
from kpis.models import PeriodKind

# --- goals ----------------------------------------------------------------------------------

GOAL_METRICS = sorted(k for k in METRICS if k not in GOAL_EXCLUDED_METRICS)


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
    owner_team = serializers.ChoiceField(
        choices=Goal.Owner.choices,
        required=False,
        help_text="both (the default), marketing or sales.",
    )
    owner_teams = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text='The same as owner_team, as a list: ["marketing"], ["sales"] or both.',
    )
    specific = serializers.CharField(required=False, allow_blank=True)
    measurable = serializers.CharField(required=False, allow_blank=True)
    achievable = serializers.CharField(required=False, allow_blank=True)
    relevant = serializers.CharField(required=False, allow_blank=True)
    time_bound = serializers.CharField(required=False, allow_blank=True)

    def validate_owner_teams(self, value: list[str]) -> str:
        """The list as an owner_team: one team, or both."""
        teams = set(value)
        if not teams or teams - {t.value for t in Team}:
            raise serializers.ValidationError("Name marketing, sales or both.")
        return teams.pop() if len(teams) == 1 else Goal.Owner.BOTH

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "owner_teams" in data:
            owner = data.pop("owner_teams")
            if data.get("owner_team", owner) != owner:
                raise serializers.ValidationError(
                    {"owner_teams": "owner_team and owner_teams name different owners."}
                )
            data["owner_team"] = owner
        return data


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
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "id", "name", "metric", "dimension", "key", "model", "target", "direction",
            "period", "period_start", "weight", "owner_team", "owner_teams", "specific", "measurable",
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
    progress = {p.goal.pk: p for p in goal_progress(goals=goals)}
    data = GoalOut(goals, many=True, context={"progress": progress}).data
    return data if many else data[0]


class GoalQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, required=False)
    start = BoundedDateField(required=False)
    end = BoundedDateField(required=False)


class GoalList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one
    permission_classes = [ManagersWrite]

    @extend_schema(parameters=[GoalQuery], responses={200: GoalOut(many=True)}, tags=["goals"])
    def get(self, request: Request) -> Response:
        query = GoalQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(goal_list(**query.validated_data), request, view=self)
        return paginator.get_paginated_response(_goal_data(list(page)))

    @extend_schema(request=GoalIn, responses={201: GoalOut}, tags=["goals"])
    def post(self, request: Request) -> Response:
        data = GoalIn(data=request.data)
        data.is_valid(raise_exception=True)
        goal = goal_create(by=request.user, **data.validated_data)
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
        goal = goal_update(goal=goal, by=request.user, **data.validated_data)
        return Response(_goal_data([goal], many=False))

    @extend_schema(request=None, responses={204: None}, tags=["goals"])
    def delete(self, request: Request, pk: int) -> Response:
        goal_delete(goal=get_object_or_404(Goal, pk=pk), by=request.user)
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
    owner_team = serializers.CharField(source="goal.owner_team")
    target = serializers.FloatField(source="goal.target")
    weight = serializers.FloatField(source="goal.weight")
    actual = serializers.FloatField(allow_null=True)
    attainment = serializers.FloatField(allow_null=True)
    projected = serializers.FloatField(allow_null=True)
    projected_attainment = serializers.FloatField(allow_null=True)
    pace = serializers.CharField(source="pace.value", allow_null=True, default=None)


class TeamPayoutOut(serializers.Serializer):
    team = serializers.CharField()
    goals = serializers.IntegerField(help_text="The goals the team owns (its own and both's).")
    attainment = serializers.FloatField(allow_null=True)
    payout = serializers.FloatField()
    projected_attainment = serializers.FloatField(allow_null=True)
    projected_payout = serializers.FloatField(help_text="At the current pace, by the period's end.")


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
    teams = TeamPayoutOut(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class ScorecardQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, default="month")
    start = BoundedDateField(required=False, help_text="Any day of the period; default today.")


class ScorecardView(APIView):
    @extend_schema(parameters=[ScorecardQuery], responses={200: ScorecardOut}, tags=["goals"])
    def get(self, request: Request) -> Response:
        query = ScorecardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data["period"]
        day = query.validated_data.get("start") or timezone.localdate()
        card = scorecard_for(period=kind, start=period_start(kind, day))
        return Response(ScorecardOut(card).data)


class ForecastOut(serializers.ModelSerializer):
    entered_by = serializers.CharField(source="entered_by.username", default=None, allow_null=True)
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
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one
    permission_classes = [ManagersWrite]

    @extend_schema(
        parameters=[ForecastQuery], responses={200: ForecastOut(many=True)}, tags=["goals"]
    )
    def get(self, request: Request) -> Response:
        query = ForecastQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return paginated(request, self, forecast_list(**query.validated_data), ForecastOut)

    @extend_schema(request=ForecastIn, responses={201: ForecastOut}, tags=["goals"])
    def post(self, request: Request) -> Response:
        data = ForecastIn(data=request.data)
        data.is_valid(raise_exception=True)
        forecast = revenue_forecast_set(by=request.user, **data.validated_data)
        fresh = forecast_list().get(pk=forecast.pk)
        return Response(ForecastOut(fresh).data, status=status.HTTP_201_CREATED)
