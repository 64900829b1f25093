"""REST endpoints of shadowing sessions: list, schedule, read, reschedule or cancel, delete,
log what was learned, and turn the debrief into a meeting.

The same permissions as the pages: a rep schedules only themselves (managers anyone); the
person, the host, whoever scheduled it or a manager reschedules or cancels; the person (or a
manager) logs; the person, the host or a manager debriefs. People are named by username.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment.models import ShadowingSession
from alignment.selectors import shadowing_sessions
from alignment.services.meetings import meeting_users
from alignment.services.shadowing import (
    shadowing_can_debrief,
    shadowing_can_delete,
    shadowing_can_log,
    shadowing_can_update,
    shadowing_cancel,
    shadowing_debrief,
    shadowing_delete,
    shadowing_log,
    shadowing_schedule,
    shadowing_update,
)
from config.api import Pagination, paginated

TAGS = ["together"]


class ShadowingOut(serializers.ModelSerializer):
    person = serializers.CharField(source="person.username")
    person_team = serializers.CharField(help_text="marketing or sales: their team then.")
    host = serializers.CharField(source="host.username")
    host_team = serializers.CharField(help_text="marketing or sales: their team then.")
    debrief = serializers.IntegerField(
        source="debrief_id", allow_null=True, help_text="The debrief meeting's id."
    )
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = ShadowingSession
        fields = [
            "id", "person", "person_team", "host", "host_team", "starts_at", "ends_at", "focus",
            "status", "learned", "logged_at", "debrief", "created_by", "created_at",
        ]  # fmt: skip


class ShadowingIn(serializers.Serializer):
    person = serializers.CharField(
        max_length=150, required=False, help_text="Who shadows (default: you)."
    )
    host = serializers.CharField(max_length=150, help_text="Someone of the other team.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="At most a day after the start.")
    focus = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ShadowingPatch(serializers.Serializer):
    person = serializers.CharField(max_length=150, required=False)
    host = serializers.CharField(max_length=150, required=False)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    focus = serializers.CharField(max_length=300, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=["cancelled"], required=False, help_text="cancelled: call the session off."
    )


class LogIn(serializers.Serializer):
    learned = serializers.CharField(allow_blank=True, help_text="Markdown.")


class DebriefIn(serializers.Serializer):
    starts_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Default: the next full hour."
    )


DebriefOut = inline_serializer(
    "ShadowingDebrief",
    {
        "meeting": serializers.IntegerField(help_text="The debrief meeting's id."),
        "created": serializers.BooleanField(help_text="False: the session had it already."),
    },
)


def _session(pk: int) -> ShadowingSession:
    found = shadowing_sessions().filter(pk=pk).first()
    if found is None:
        raise Http404("No shadowing session has this id.")
    return found


def _people(data: dict[str, Any]) -> dict[str, Any]:
    """The person and the host by username (an unknown one: a 400 naming the field)."""
    values = dict(data)
    for field in ("person", "host"):
        if field in values:
            values[field] = meeting_users(usernames=[values[field]], field=field)[0]
    return values


class ShadowingList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ShadowingSession.Status.values),
            OpenApiParameter("person", OpenApiTypes.STR, description="Who shadows (username)."),
            OpenApiParameter("host", OpenApiTypes.STR, description="The host (username)."),
        ],
        responses={200: ShadowingOut(many=True)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        rows = shadowing_sessions().order_by("-starts_at", "-id")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in ShadowingSession.Status.values:
                raise serializers.ValidationError(
                    {"status": f"Use one of {', '.join(ShadowingSession.Status.values)}."}
                )
            rows = rows.filter(status=wanted)
        for field in ("person", "host"):
            if request.query_params.get(field):  # a name no one has is a 400, as for items
                name = request.query_params[field]
                rows = rows.filter(**{field: meeting_users(usernames=[name], field=field)[0]})
        return paginated(request, self, rows, ShadowingOut)

    @extend_schema(request=ShadowingIn, responses={201: ShadowingOut}, tags=TAGS)
    def post(self, request: Request) -> Response:
        data = ShadowingIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = _people(data.validated_data)
        values.setdefault("person", request.user)
        session = shadowing_schedule(by=request.user, **values)
        return Response(ShadowingOut(_session(session.pk)).data, status=status.HTTP_201_CREATED)


class ShadowingDetail(APIView):
    @extend_schema(responses={200: ShadowingOut}, tags=TAGS)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ShadowingOut(_session(pk)).data)

    @extend_schema(request=ShadowingPatch, responses={200: ShadowingOut}, tags=TAGS)
    def patch(self, request: Request, pk: int) -> Response:
        """Reschedule (person, host, times, focus), or cancel with `{"status": "cancelled"}`."""
        session = _session(pk)
        if not shadowing_can_update(session=session, user=request.user):
            raise PermissionDenied(
                "Only the person, the host, whoever scheduled it or a manager changes a session."
            )
        data = ShadowingPatch(data=request.data)
        data.is_valid(raise_exception=True)
        values = _people(data.validated_data)
        if values.pop("status", None) == "cancelled":
            if values:
                raise serializers.ValidationError(
                    {"status": "Cancel a session or reschedule it, not both at once."}
                )
            shadowing_cancel(session=session, by=request.user)
        else:
            shadowing_update(session=session, by=request.user, **values)
        return Response(ShadowingOut(_session(pk)).data)

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        session = _session(pk)
        if not shadowing_can_delete(session=session, user=request.user):
            raise PermissionDenied("Reps can't delete others' shadowing sessions.")
        shadowing_delete(session=session, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShadowingLog(APIView):
    @extend_schema(request=LogIn, responses={200: ShadowingOut}, tags=TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """What was learned: the session is done (only once it has started)."""
        session = _session(pk)
        if not shadowing_can_log(session=session, user=request.user):
            raise PermissionDenied("Only the person who shadowed (or a manager) logs it.")
        data = LogIn(data=request.data)
        data.is_valid(raise_exception=True)
        shadowing_log(session=session, by=request.user, learned=data.validated_data["learned"])
        return Response(ShadowingOut(_session(pk)).data)


class ShadowingDebrief(APIView):
    @extend_schema(request=DebriefIn, responses={201: DebriefOut, 200: DebriefOut}, tags=TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """Turn a logged session's debrief into a meeting of both people; a second call
        returns the same meeting (200)."""
        session = _session(pk)
        if not shadowing_can_debrief(session=session, user=request.user):
            raise PermissionDenied("Only the person, the host or a manager debriefs a session.")
        data = DebriefIn(data=request.data)
        data.is_valid(raise_exception=True)
        had = session.debrief_id
        meeting = shadowing_debrief(
            session=session, by=request.user, starts_at=data.validated_data.get("starts_at")
        )
        created = had != meeting.pk
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"meeting": meeting.pk, "created": created}, status=code)
