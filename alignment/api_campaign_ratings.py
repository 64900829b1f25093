"""REST endpoints of sales' ratings of a campaign's leads (`/api/v1/campaigns/{external_id}/
ratings/`). Everyone signed in reads them; sales people rate (rating again changes their
rating); the rater changes it; the rater or a manager deletes it — as on the campaign page.

The campaign is looked up through the rating's foreign key (alignment imports nothing of the
funnel)."""

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
from alignment.models import CampaignRating
from alignment.services.campaign_ratings import (
    MAX_COMMENT,
    campaign_rate,
    campaign_rating_can_change,
    campaign_rating_can_rate,
    campaign_rating_delete,
)
from config.api import Pagination, paginated

Campaign = CampaignRating._meta.get_field("campaign").related_model

CAMPAIGN_PARAM = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="The campaign's external id."
)
TAGS = ["campaigns"]


def _campaign(external_id: str) -> Any:
    return get_object_or_404(Campaign, external_id=external_id)


class CampaignRatingOut(serializers.ModelSerializer):
    campaign = serializers.CharField(source="campaign.external_id")
    rater = serializers.CharField(source="rater.username")
    rater_name = serializers.SerializerMethodField()

    class Meta:
        model = CampaignRating
        fields = ["id", "campaign", "rater", "rater_name", "rating", "comment", "created_at",
                  "updated_at"]  # fmt: skip

    def get_rater_name(self, obj: CampaignRating) -> str:
        return obj.rater.get_full_name() or obj.rater.get_username()


class CampaignRatingIn(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_COMMENT, trim_whitespace=True
    )


def _out(rating: CampaignRating) -> dict[str, Any]:
    fresh = selectors.campaign_rating_list(campaign_id=rating.campaign_id).get(pk=rating.pk)
    return CampaignRatingOut(fresh).data


class CampaignRatingList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[CAMPAIGN_PARAM], responses={200: CampaignRatingOut(many=True)}, tags=TAGS
    )
    def get(self, request: Request, external_id: str) -> Response:
        campaign = _campaign(external_id)
        rows = selectors.campaign_rating_list(campaign_id=campaign.pk)
        return paginated(request, self, rows, CampaignRatingOut)

    @extend_schema(
        parameters=[CAMPAIGN_PARAM],
        request=CampaignRatingIn,
        responses={201: CampaignRatingOut, 200: CampaignRatingOut},
        tags=TAGS,
        description="Sales rate the campaign's leads; rating again changes one's rating "
        "(200) rather than adding a second (201 the first time).",
    )
    def post(self, request: Request, external_id: str) -> Response:
        campaign = _campaign(external_id)
        if not campaign_rating_can_rate(user=request.user):
            raise PermissionDenied("Only sales rates a campaign's leads.")
        data = CampaignRatingIn(data=request.data)
        data.is_valid(raise_exception=True)
        existed = CampaignRating.objects.filter(campaign=campaign, rater=request.user).exists()
        rating = campaign_rate(campaign=campaign, by=request.user, **data.validated_data)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(_out(rating), status=code)


class CampaignRatingDetail(APIView):
    def _rating(self, external_id: str, pk: int) -> CampaignRating:
        campaign = _campaign(external_id)
        return get_object_or_404(CampaignRating, pk=pk, campaign=campaign)

    @extend_schema(parameters=[CAMPAIGN_PARAM], responses={200: CampaignRatingOut}, tags=TAGS)
    def get(self, request: Request, external_id: str, pk: int) -> Response:
        return Response(_out(self._rating(external_id, pk)))

    @extend_schema(
        parameters=[CAMPAIGN_PARAM],
        request=CampaignRatingIn(partial=True),
        responses={200: CampaignRatingOut},
        tags=TAGS,
    )
    def patch(self, request: Request, external_id: str, pk: int) -> Response:
        rating = self._rating(external_id, pk)
        if not campaign_rating_can_change(rating=rating, user=request.user):
            raise PermissionDenied("Only the person who rated changes their rating.")
        data = CampaignRatingIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changed = campaign_rate(
            campaign=rating.campaign,
            by=request.user,
            rating=data.validated_data.get("rating", rating.rating),
            comment=data.validated_data.get("comment", rating.comment),
        )
        return Response(_out(changed))

    @extend_schema(parameters=[CAMPAIGN_PARAM], responses={204: None}, tags=TAGS)
    def delete(self, request: Request, external_id: str, pk: int) -> Response:
        campaign_rating_delete(rating=self._rating(external_id, pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
