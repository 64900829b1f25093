"""REST endpoints of the KPIs: read snapshots, run recomputes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment.permissions import IsManager
from config.api import BoundedDateField
from core import attribution
from core.catalog import METRICS
from core.periods import period_start, previous_period
from kpis.forms import range_too_long
from kpis.models import PeriodKind, RecomputeJob
from kpis.selectors import kpi_series
from kpis.services import recompute_job_retry, recompute_job_start, recompute_job_status


class KpiQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=sorted(METRICS))
    period = serializers.ChoiceField(choices=PeriodKind.values, default="month")
    start = BoundedDateField(required=False)
    end = BoundedDateField(required=False)
    dimension = serializers.CharField(required=False, allow_blank=True)
    model = serializers.ChoiceField(choices=attribution.MODELS, required=False)

    def validate(self, data: dict) -> dict:
        definition = METRICS[data["metric"]]
        dimension = data.get("dimension") or None
        if dimension and dimension not in definition.dimensions:
            supported = ", ".join(definition.dimensions) or "none"
            raise serializers.ValidationError(
                {
                    "dimension": f"{data['metric']} has no dimension {dimension!r} (supported: {supported})."
                }
            )
        if data.get("model") and not definition.by_model:
            raise serializers.ValidationError(
                {"model": f"{data['metric']} is not attributed by model."}
            )
        end = data.get("end") or timezone.localdate()
        start = data.get("start")
        if start is None:
            start = period_start(data["period"], end)
            for _ in range(11):
                start = previous_period(data["period"], start)
        if start > end:
            raise serializers.ValidationError({"start": "start must not be after end."})
        if end - start > timedelta(days=366 * settings.KPI_RANGE_MAX_YEARS):
            raise serializers.ValidationError({"start": range_too_long()})
        return {**data, "start": start, "end": end, "dimension": dimension}


class KpiOut(serializers.Serializer):
    metric = serializers.CharField()
    period = serializers.CharField()
    period_start = serializers.DateField()
    dimension = serializers.CharField(allow_null=True)
    key = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField()
    denominator = serializers.FloatField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)


class KpiList(APIView):
    @extend_schema(parameters=[KpiQuery], responses={200: KpiOut(many=True)}, tags=["kpis"])
    def get(self, request: Request) -> Response:
        query = KpiQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(KpiOut(kpi_series(**query.validated_data), many=True).data)


class RecomputeIn(serializers.Serializer):
    since = BoundedDateField(
        required=False,
        help_text="First day; by default the first day with data. At most RECOMPUTE_MAX_YEARS "
        "before the funnel's last day.",
    )


class RecomputeOut(serializers.ModelSerializer):
    progress = serializers.FloatField()
    status = serializers.SerializerMethodField(
        help_text="dead: none of its units moved for RECOMPUTE_DEAD_AFTER_SECONDS (whatever ran "
        "it died); a failed or dead job can be retried."
    )

    class Meta:
        model = RecomputeJob
        fields = [
            "id", "status", "since", "until", "total_units", "done_units", "failed_units",
            "progress", "error", "created_at", "heartbeat_at", "finished_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=RecomputeJob.Status.choices))
    def get_status(self, job: RecomputeJob) -> str:
        return recompute_job_status(job)


class RecomputeStart(APIView):
    permission_classes = [IsManager]

    @extend_schema(request=RecomputeIn, responses={202: RecomputeOut}, tags=["kpis"])
    def post(self, request: Request) -> Response:
        data = RecomputeIn(data=request.data)
        data.is_valid(raise_exception=True)
        job = recompute_job_start(by=request.user, since=data.validated_data.get("since"))
        return Response(RecomputeOut(job).data, status=status.HTTP_202_ACCEPTED)


class RecomputeStatus(APIView):
    @extend_schema(responses={200: RecomputeOut}, tags=["kpis"])
    def get(self, request: Request, pk: str) -> Response:
        return Response(RecomputeOut(get_object_or_404(RecomputeJob, pk=pk)).data)


class RecomputeRetry(APIView):
    """Run a failed or dead job again from the units it had not done (400 if it is running
    or done)."""

    permission_classes = [IsManager]

    @extend_schema(request=None, responses={202: RecomputeOut}, tags=["kpis"])
    def post(self, request: Request, pk: str) -> Response:
        job = recompute_job_retry(job=get_object_or_404(RecomputeJob, pk=pk))
        return Response(RecomputeOut(job).data, status=status.HTTP_202_ACCEPTED)
