"""REST endpoints of meetings and their action items: translate HTTP to the services and back.

People are usernames and a campaign is its external id, in and out. The permissions are the
pages' (`alignment.services.meetings`): anyone signed in creates a meeting and reads them all;
attendees and managers change a meeting and its action items; its creator and managers delete
it; an item's owner ticks it off too. A refusal is a 403 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment.models import ActionItem, Meeting
from alignment.selectors import action_item_list, meeting_action_items, meeting_list
from alignment.services.meetings import (
    action_item_add,
    action_item_can_tick,
    action_item_delete,
    action_item_done,
    action_item_update,
    meeting_campaign,
    meeting_can_delete,
    meeting_can_edit,
    meeting_create,
    meeting_delete,
    meeting_update,
    meeting_users,
)
from config.api import Pagination, paginated

TAGS = ["meetings"]


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- out ---------------------------------------------------------------------------------------


class AttendeeOut(serializers.Serializer):
    username = serializers.CharField()
    team = serializers.CharField(help_text='"marketing", "sales" or "" (no team), as it was then')


class MeetingOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices)
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    campaign = serializers.SerializerMethodField()
    attendees = serializers.SerializerMethodField()
    attendance = serializers.SerializerMethodField()
    has_marketing = serializers.BooleanField(help_text="Someone from marketing attended.")
    has_sales = serializers.BooleanField(help_text="Someone from sales attended.")
    open_action_items = serializers.IntegerField(source="open_items")
    agenda = serializers.CharField()
    notes = serializers.CharField()
    decisions = serializers.CharField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="external_id"))
    def get_campaign(self, obj: Meeting) -> str | None:
        return obj.campaign.external_id if obj.campaign else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_attendees(self, obj: Meeting) -> list[str]:
        return [a.user.get_username() for a in obj.attendance.all()]

    @extend_schema_field(AttendeeOut(many=True))
    def get_attendance(self, obj: Meeting) -> list[dict[str, Any]]:
        return [{"username": a.user.get_username(), "team": a.team} for a in obj.attendance.all()]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, obj: Meeting) -> str | None:
        return _username(obj.created_by)


class ActionItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    meeting = serializers.IntegerField(source="meeting_id")
    text = serializers.CharField()
    owner = serializers.SerializerMethodField()
    due_on = serializers.DateField()
    done = serializers.BooleanField(source="is_done")
    done_at = serializers.DateTimeField(allow_null=True)
    done_by = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField())
    def get_owner(self, obj: ActionItem) -> str | None:
        return _username(obj.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_done_by(self, obj: ActionItem) -> str | None:
        return _username(obj.done_by)

    @extend_schema_field(serializers.BooleanField(help_text="Open and due before today."))
    def get_overdue(self, obj: ActionItem) -> bool:
        return obj.done_at is None and obj.due_on < timezone.localdate()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, obj: ActionItem) -> str | None:
        return _username(obj.created_by)


# --- in ----------------------------------------------------------------------------------------


class MeetingIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices)
    starts_at = serializers.DateTimeField(help_text="A naive time is read in the org's zone.")
    ends_at = serializers.DateTimeField()
    attendees = serializers.ListField(
        child=serializers.CharField(max_length=150), min_length=1, help_text="usernames"
    )
    campaign = serializers.CharField(
        max_length=100, allow_null=True, allow_blank=True, required=False,
        help_text="The campaign's external_id, or null.",
    )  # fmt: skip
    title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    agenda = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    notes = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    decisions = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)

    def meeting_fields(self) -> dict[str, Any]:
        """The input as service fields: usernames to users, the campaign's id to it."""
        data = dict(self.validated_data)
        if "attendees" in data:
            data["attendees"] = meeting_users(usernames=data["attendees"])
        if "campaign" in data:
            data["campaign"] = meeting_campaign(external_id=data["campaign"])
        return data


class ActionItemIn(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    owner = serializers.CharField(max_length=150, help_text="username")
    due_on = serializers.DateField()

    def item_fields(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        if "owner" in data:
            data["owner"] = meeting_users(usernames=[data["owner"]], field="owner")[0]
        return data


class ActionItemFilter(serializers.Serializer):
    owner = serializers.CharField(max_length=150, required=False)
    done = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate_owner(self, value: str) -> Any:
        return meeting_users(usernames=[value], field="owner")[0]


class ActionItemPatch(ActionItemIn):
    done = serializers.BooleanField(required=False, help_text="Tick it off, or open it again.")


def _meeting_out(pk: int) -> dict[str, Any]:
    return MeetingOut(meeting_list().get(pk=pk)).data


def _item_out(pk: int) -> dict[str, Any]:
    item = ActionItem.objects.select_related("owner", "done_by", "created_by").get(pk=pk)
    return ActionItemOut(item).data


def _may_edit(request: Request, meeting: Meeting) -> None:
    if not meeting_can_edit(meeting=meeting, user=request.user):
        raise PermissionDenied("Only the meeting's attendees and the managers change it.")


# --- views -------------------------------------------------------------------------------------


class MeetingList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=Meeting.Kind.values)],
        responses={200: MeetingOut(many=True)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind", "")
        if kind and kind not in Meeting.Kind.values:
            raise serializers.ValidationError(
                {"kind": f"Use one of {', '.join(Meeting.Kind.values)}."}
            )
        return paginated(request, self, meeting_list(kind=kind or None), MeetingOut)

    @extend_schema(request=MeetingIn, responses={201: MeetingOut}, tags=TAGS)
    def post(self, request: Request) -> Response:
        """Anyone signed in creates a meeting; they become its creator."""
        data = MeetingIn(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = meeting_create(by=request.user, **data.meeting_fields())
        return Response(_meeting_out(meeting.pk), status=status.HTTP_201_CREATED)


class MeetingDetail(APIView):
    @extend_schema(responses={200: MeetingOut}, tags=TAGS)
    def get(self, request: Request, pk: int) -> Response:
        return Response(MeetingOut(get_object_or_404(meeting_list(), pk=pk)).data)

    @extend_schema(request=MeetingIn(partial=True), responses={200: MeetingOut}, tags=TAGS)
    def patch(self, request: Request, pk: int) -> Response:
        meeting = get_object_or_404(Meeting, pk=pk)
        _may_edit(request, meeting)
        data = MeetingIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        meeting_update(meeting=meeting, by=request.user, **data.meeting_fields())
        return Response(_meeting_out(meeting.pk))

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        meeting = get_object_or_404(Meeting, pk=pk)
        if not meeting_can_delete(meeting=meeting, user=request.user):
            raise PermissionDenied("Only whoever created a meeting, and the managers, delete it.")
        meeting_delete(meeting=meeting, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeetingActionItems(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(responses={200: ActionItemOut(many=True)}, tags=TAGS)
    def get(self, request: Request, pk: int) -> Response:
        meeting = get_object_or_404(Meeting, pk=pk)
        rows = meeting_action_items(meeting=meeting).select_related("created_by")
        return paginated(request, self, rows, ActionItemOut)

    @extend_schema(request=ActionItemIn, responses={201: ActionItemOut}, tags=TAGS)
    def post(self, request: Request, pk: int) -> Response:
        meeting = get_object_or_404(Meeting, pk=pk)
        _may_edit(request, meeting)
        data = ActionItemIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = action_item_add(meeting=meeting, by=request.user, **data.item_fields())
        return Response(_item_out(item.pk), status=status.HTTP_201_CREATED)


class ActionItemList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[
            OpenApiParameter("owner", OpenApiTypes.STR, description="username"),
            OpenApiParameter("done", OpenApiTypes.BOOL, description="false: the open ones"),
        ],
        responses={200: ActionItemOut(many=True)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        """Every meeting's action items, soonest due first."""
        params = ActionItemFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = action_item_list(**params.validated_data)
        return paginated(request, self, rows, ActionItemOut)


class ActionItemDetail(APIView):
    @extend_schema(responses={200: ActionItemOut}, tags=TAGS)
    def get(self, request: Request, pk: int) -> Response:
        get_object_or_404(ActionItem, pk=pk)
        return Response(_item_out(pk))

    @extend_schema(request=ActionItemPatch(partial=True), responses={200: ActionItemOut}, tags=TAGS)
    def patch(self, request: Request, pk: int) -> Response:
        """`done` alone: its owner, the attendees and managers; anything else: the attendees
        and managers."""
        item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
        data = ActionItemPatch(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        done = data.validated_data.pop("done", None)
        if data.validated_data:
            _may_edit(request, item.meeting)
        if done is not None and not action_item_can_tick(item=item, user=request.user):
            raise PermissionDenied(
                "Only the item's owner, the meeting's attendees and the managers tick it off."
            )
        with transaction.atomic():
            fields = data.item_fields()
            if fields:
                action_item_update(item=item, by=request.user, **fields)
            if done is not None:
                action_item_done(item=item, by=request.user, done=done)
        return Response(_item_out(pk))

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
        _may_edit(request, item.meeting)
        action_item_delete(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
