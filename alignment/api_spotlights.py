"""REST endpoints of spotlights (joint wins): list, create, read, update, delete, and thanks.

The same permissions as the pages: everyone signed in reads, posts and thanks; the person who
posted a spotlight and the managers change and delete it. A spotlight names its deal by
external id and its people by username:
`{"title", "story", "deal": external_id, "people": [usernames]}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment.models import Spotlight
from alignment.selectors import deal_by_external_id, spotlight_list
from alignment.services.meetings import meeting_users
from alignment.services.spotlights import (
    spotlight_can_delete,
    spotlight_can_edit,
    spotlight_create,
    spotlight_delete,
    spotlight_thank,
    spotlight_unthank,
    spotlight_update,
)
from config.api import Pagination, paginated

TAGS = ["together"]


class SpotlightPersonOut(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    team = serializers.CharField(help_text="marketing, sales or empty: the team they were in then")


class SpotlightOut(serializers.ModelSerializer):
    deal = serializers.CharField(source="deal.external_id", help_text="The deal's external id.")
    deal_amount = serializers.DecimalField(source="deal.amount", max_digits=14, decimal_places=2)
    deal_closed_at = serializers.DateTimeField(source="deal.closed_at", allow_null=True)
    company = serializers.CharField(source="deal.lead.company")
    people = serializers.SerializerMethodField()
    thanks_count = serializers.IntegerField()
    thanked = serializers.BooleanField(help_text="Whether you thanked them.", default=False)
    thanked_by = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = Spotlight
        fields = [
            "id", "title", "story", "deal", "deal_amount", "deal_closed_at", "company", "people",
            "thanks_count", "thanked", "thanked_by", "created_by", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(SpotlightPersonOut(many=True))
    def get_people(self, obj: Spotlight) -> list[dict[str, Any]]:
        return [
            {
                "username": c.user.get_username(),
                "name": c.user.get_full_name() or c.user.get_username(),
                "team": c.team,
            }
            for c in obj.credits.all()
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_thanked_by(self, obj: Spotlight) -> list[str]:
        return [t.user.get_username() for t in obj.thanks.all()]


class SpotlightIn(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)
    story = serializers.CharField(allow_blank=True, help_text="Markdown.")
    deal = serializers.CharField(max_length=100, help_text="A won deal's external id.")
    people = serializers.ListField(
        child=serializers.CharField(max_length=150),
        max_length=200,
        help_text="Usernames: at least one marketing and one sales person.",
    )
    created_at = serializers.DateTimeField(required=False)


def _spotlight(request: Request, pk: int) -> Spotlight:
    found = spotlight_list(viewer=request.user, thankers=True).filter(pk=pk).first()
    if found is None:
        raise Http404("No spotlight has this id.")
    return found


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """The services' arguments: the deal by external id, the people by username."""
    values = dict(data)
    if "deal" in values:
        deal = deal_by_external_id(external_id=values["deal"])
        if deal is None:
            raise serializers.ValidationError({"deal": f"No deal has the id {values['deal']!r}."})
        values["deal"] = deal
    if "people" in values:
        values["people"] = meeting_users(usernames=values["people"], field="people")
    return values


class SpotlightList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(responses={200: SpotlightOut(many=True)}, tags=TAGS)
    def get(self, request: Request) -> Response:
        rows = spotlight_list(viewer=request.user, thankers=True)
        return paginated(request, self, rows, SpotlightOut)

    @extend_schema(request=SpotlightIn, responses={201: SpotlightOut}, tags=TAGS)
    def post(self, request: Request) -> Response:
        data = SpotlightIn(data=request.data)
        data.is_valid(raise_exception=True)
        spotlight = spotlight_create(by=request.user, **_values(data.validated_data))
        out = SpotlightOut(_spotlight(request, spotlight.pk)).data
        return Response(out, status=status.HTTP_201_CREATED)


class SpotlightDetail(APIView):
    @extend_schema(responses={200: SpotlightOut}, tags=TAGS)
    def get(self, request: Request, pk: int) -> Response:
        return Response(SpotlightOut(_spotlight(request, pk)).data)

    @extend_schema(request=SpotlightIn(partial=True), responses={200: SpotlightOut}, tags=TAGS)
    def patch(self, request: Request, pk: int) -> Response:
        spotlight = _spotlight(request, pk)
        if not spotlight_can_edit(spotlight=spotlight, user=request.user):
            raise PermissionDenied(
                "Only the person who posted a spotlight, or a manager, edits it."
            )
        data = SpotlightIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = _values(data.validated_data)
        values.pop("created_at", None)  # when it was posted stays
        spotlight_update(spotlight=spotlight, by=request.user, **values)
        return Response(SpotlightOut(_spotlight(request, pk)).data)

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        spotlight = _spotlight(request, pk)
        if not spotlight_can_delete(spotlight=spotlight, user=request.user):
            raise PermissionDenied("Reps can't delete others' spotlights.")
        spotlight_delete(spotlight=spotlight, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SpotlightThanks(APIView):
    """Your thanks for a spotlight's people: POST gives it (once: again changes nothing),
    DELETE takes it back."""

    @extend_schema(request=None, responses={200: SpotlightOut}, tags=TAGS)
    def post(self, request: Request, pk: int) -> Response:
        spotlight_thank(spotlight=_spotlight(request, pk), by=request.user)
        return Response(SpotlightOut(_spotlight(request, pk)).data)

    @extend_schema(request=None, responses={200: SpotlightOut}, tags=TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        spotlight_unthank(spotlight=_spotlight(request, pk), by=request.user)
        return Response(SpotlightOut(_spotlight(request, pk)).data)
