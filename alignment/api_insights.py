"""REST endpoints of the field insights (`/api/v1/insights/`): the same rules as the pages
(`alignment.services.insights`): sales (and admins) post, the poster changes an insight until
it is answered, marketing (and admins) answer, the poster or a manager deletes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment import selectors
from alignment.models import FieldInsight
from alignment.services import insights as svc
from config.api import Pagination, paginated
from config.dates import date_in_range_problem

_TAGS = ["alignment"]


class InsightOut(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    campaign = serializers.CharField(source="campaign.external_id", default=None, allow_null=True)
    posted_by = serializers.CharField(source="posted_by.username")
    answer = serializers.CharField(help_text="used, not_used, or empty while unanswered")
    answer_campaign = serializers.CharField(
        source="answer_campaign.external_id", default=None, allow_null=True
    )
    answered_by = serializers.CharField(
        source="answered_by.username", default=None, allow_null=True
    )
    answer_days = serializers.SerializerMethodField(
        help_text="Days from posting to marketing's answer; null while unanswered."
    )

    class Meta:
        model = FieldInsight
        fields = [
            "id", "kind", "text", "tags", "campaign", "posted_by", "posted_at", "answer",
            "answer_text", "answer_campaign", "answered_by", "answered_at", "answer_days",
            "updated_at",
        ]  # fmt: skip

    def get_tags(self, insight: FieldInsight) -> list[str]:
        return sorted(t.name for t in insight.tags.all())

    def get_answer_days(self, insight: FieldInsight) -> float | None:
        if insight.answered_at is None:
            return None
        seconds = (insight.answered_at - insight.posted_at).total_seconds()
        return round(seconds / 86400, 2)


class _Campaign(serializers.CharField):
    """A campaign by its external_id (null or empty for none)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not value:
            return None
        campaign = selectors.campaign_by_external_id(external_id=value)
        if campaign is None:
            raise serializers.ValidationError(f"No campaign {value!r}.")
        return campaign


class InsightIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FieldInsight.Kind.choices)
    text = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=svc.MAX_TAGS
    )
    campaign = _Campaign(
        required=False, allow_null=True, allow_blank=True, help_text="A campaign's external_id."
    )
    posted_at = serializers.DateTimeField(
        required=False, help_text="When it was heard (default now); never in the future."
    )

    def validate_posted_at(self, value: Any) -> Any:
        if problem := date_in_range_problem(value):
            raise serializers.ValidationError(problem)
        return value


class InsightPatch(InsightIn):
    posted_at = None  # when it was heard is set once


class AnswerIn(serializers.Serializer):
    answer = serializers.ChoiceField(choices=FieldInsight.Answer.choices)
    text = serializers.CharField(
        required=False, allow_blank=True, help_text="Used in which content, or why not."
    )
    campaign = _Campaign(
        required=False, allow_null=True, allow_blank=True, help_text="The campaign it went into."
    )


def _insights() -> Any:
    return selectors.insights_filtered()


def _out(pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(InsightOut(get_object_or_404(_insights(), pk=pk)).data, status=code)


class InsightList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", enum=FieldInsight.Kind.values, required=False),
            OpenApiParameter("tag", str, required=False),
            OpenApiParameter("campaign", str, required=False, description="external_id"),
            OpenApiParameter("answered", bool, required=False),
        ],
        responses={200: InsightOut(many=True)},
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        """Field insights, newest first."""
        q = request.query_params
        errors = {}
        kind = q.get("kind", "")
        if kind and kind not in FieldInsight.Kind.values:
            errors["kind"] = f"Use one of {', '.join(FieldInsight.Kind.values)}."
        answered = {"true": True, "1": True, "false": False, "0": False, "": None}.get(
            q.get("answered", "").lower(), "bad"
        )
        if answered == "bad":
            errors["answered"] = "Use true or false."
        campaign = None
        if q.get("campaign"):
            campaign = selectors.campaign_by_external_id(external_id=q["campaign"])
            if campaign is None:
                errors["campaign"] = f"No campaign {q['campaign']!r}."
        if errors:
            raise serializers.ValidationError(errors)
        tag = svc.insight_tag_names([q.get("tag", "")])
        rows = selectors.insights_filtered(
            kind=kind, tag=tag[0] if tag else "", campaign=campaign, answered=answered
        )
        return paginated(request, self, rows, InsightOut)

    @extend_schema(request=InsightIn, responses={201: InsightOut}, tags=_TAGS)
    def post(self, request: Request) -> Response:
        """Sales (and admins) post what a prospect said."""
        if not svc.insight_can_post(user=request.user):
            raise PermissionDenied(svc.POST_REFUSED)
        data = InsightIn(data=request.data)
        data.is_valid(raise_exception=True)
        insight = svc.insight_post(by=request.user, **data.validated_data)
        return _out(insight.pk, status.HTTP_201_CREATED)


class InsightDetail(APIView):
    @extend_schema(responses={200: InsightOut}, tags=_TAGS)
    def get(self, request: Request, pk: int) -> Response:
        return _out(pk)

    @extend_schema(request=InsightPatch(partial=True), responses={200: InsightOut}, tags=_TAGS)
    def patch(self, request: Request, pk: int) -> Response:
        """Its poster changes an insight until marketing answers it."""
        insight = get_object_or_404(FieldInsight, pk=pk)
        if insight.posted_by_id != request.user.pk:
            raise PermissionDenied(svc.EDIT_REFUSED)
        data = InsightPatch(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        svc.insight_update(insight=insight, by=request.user, **data.validated_data)
        return _out(pk)

    @extend_schema(responses={204: None}, tags=_TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        """Its poster or a manager deletes an insight."""
        svc.insight_delete(insight=get_object_or_404(FieldInsight, pk=pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InsightAnswer(APIView):
    @extend_schema(request=AnswerIn, responses={200: InsightOut}, tags=_TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """Marketing answers: used (in which content or campaign) or not_used (and why).
        Answering again replaces the answer; the first answer's time stays."""
        if not svc.insight_can_answer(user=request.user):
            raise PermissionDenied(svc.ANSWER_REFUSED)
        insight = get_object_or_404(FieldInsight, pk=pk)
        data = AnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        svc.insight_answer(insight=insight, by=request.user, **data.validated_data)
        return _out(pk)

    @extend_schema(request=None, responses={200: InsightOut}, tags=_TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        """Marketing withdraws its answer: the insight waits again."""
        svc.insight_unanswer(insight=get_object_or_404(FieldInsight, pk=pk), by=request.user)
        return _out(pk)
