"""REST endpoints of the ideas board (`/api/v1/ideas/`): the same rules as the pages
(`alignment.services.ideas`): a draft is its author's alone (others get a 403), only its author
edits it, anyone comments on and votes for an open idea, its author or a manager decides it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alignment import selectors
from alignment.models import Goal, Idea, IdeaComment
from alignment.services import ideas as svc
from config.api import Pagination, paginated


class CommentOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = IdeaComment
        fields = ["id", "author", "team", "body", "created_at"]


class VotesOut(serializers.Serializer):
    marketing = serializers.IntegerField()
    sales = serializers.IntegerField()
    other = serializers.IntegerField(help_text="Votes of people in neither team (admins).")
    total = serializers.IntegerField()


class IdeaOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    campaign = serializers.CharField(source="campaign.external_id", default=None, allow_null=True)
    goal = serializers.IntegerField(source="goal_id", allow_null=True)
    votes = serializers.SerializerMethodField()
    you_voted = serializers.BooleanField(source="viewer_voted")
    comment_count = serializers.IntegerField()
    comments = CommentOut(many=True)

    class Meta:
        model = Idea
        fields = [
            "id", "title", "body", "status", "author", "author_team", "created_at", "updated_at",
            "opened_at", "decided_at", "decided_by", "parked_reason", "campaign", "goal", "votes",
            "you_voted", "comment_count", "comments",
        ]  # fmt: skip

    @extend_schema_field(VotesOut)
    def get_votes(self, idea: Idea) -> dict[str, int]:
        return {
            "marketing": idea.marketing_votes,
            "sales": idea.sales_votes,
            "other": idea.other_votes,
            "total": idea.vote_count,
        }


class IdeaIn(serializers.Serializer):
    title = serializers.CharField(max_length=svc.TITLE_MAX, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)


class AdoptIn(serializers.Serializer):
    campaign = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="A campaign's external_id."
    )
    goal = serializers.IntegerField(required=False, allow_null=True, help_text="A goal's id.")

    def validate_campaign(self, value: str | None) -> Any:
        if not value:
            return None
        campaign = selectors.campaign_by_external_id(external_id=value)
        if campaign is None:
            raise serializers.ValidationError(f"No campaign {value!r}.")
        return campaign

    def validate_goal(self, value: int | None) -> Goal | None:
        if value is None:
            return None
        goal = Goal.objects.filter(pk=value).first()
        if goal is None:
            raise serializers.ValidationError(f"No goal {value}.")
        return goal


class ParkIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class CommentIn(serializers.Serializer):
    body = serializers.CharField(allow_blank=True)


def _ideas(request: Request) -> Any:
    return (
        selectors.ideas_visible(viewer=request.user)
        .select_related("decided_by", "campaign")
        .prefetch_related("comments__author")
    )


def _idea(request: Request, pk: int) -> Idea:
    """The idea, counted; a draft of someone else is refused (403), a missing one is a 404."""
    idea = get_object_or_404(Idea, pk=pk)
    if not svc.idea_can_view(idea=idea, user=request.user):
        raise PermissionDenied(svc.DRAFT_PRIVATE)
    return _ideas(request).get(pk=pk)


def _out(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(IdeaOut(_idea(request, pk)).data, status=code)


_TAGS = ["alignment"]


class IdeaList(APIView):
    pagination_class = Pagination  # `paginated` answers a page: the schema shows one

    @extend_schema(
        parameters=[OpenApiParameter("status", enum=Idea.Status.values, required=False)],
        responses={200: IdeaOut(many=True)},
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        """Every idea but the drafts of others, newest first."""
        rows = _ideas(request)
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in Idea.Status.values:
                raise serializers.ValidationError(
                    {"status": f"Use one of {', '.join(Idea.Status.values)}."}
                )
            rows = rows.filter(status=wanted)
        return paginated(request, self, rows.order_by("-created_at", "-id"), IdeaOut)

    @extend_schema(request=IdeaIn, responses={201: IdeaOut}, tags=_TAGS)
    def post(self, request: Request) -> Response:
        """A draft: only its author sees it until opened (`POST .../open/`)."""
        data = IdeaIn(data=request.data)
        data.is_valid(raise_exception=True)
        idea = svc.idea_create(by=request.user, **data.validated_data)
        return _out(request, idea.pk, status.HTTP_201_CREATED)


class IdeaDetail(APIView):
    @extend_schema(responses={200: IdeaOut}, tags=_TAGS)
    def get(self, request: Request, pk: int) -> Response:
        return _out(request, pk)

    @extend_schema(request=IdeaIn(partial=True), responses={200: IdeaOut}, tags=_TAGS)
    def patch(self, request: Request, pk: int) -> Response:
        """Change a draft's title or body: its author's alone."""
        idea = _idea(request, pk)
        if not svc.idea_can_edit(idea=idea, user=request.user):
            raise PermissionDenied(svc.EDIT_REFUSED)
        data = IdeaIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        svc.idea_update(idea=idea, by=request.user, **data.validated_data)
        return _out(request, pk)

    @extend_schema(responses={204: None}, tags=_TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        """Its author deletes a draft; a manager deletes any idea."""
        svc.idea_delete(idea=_idea(request, pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IdeaOpen(APIView):
    @extend_schema(request=None, responses={200: IdeaOut}, tags=_TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """The author opens a draft for critique."""
        svc.idea_open(idea=_idea(request, pk), by=request.user)
        return _out(request, pk)


class IdeaAdopt(APIView):
    @extend_schema(request=AdoptIn, responses={200: IdeaOut}, tags=_TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """Its author or a manager adopts an open idea, optionally naming a campaign or a
        goal it became."""
        idea = _idea(request, pk)
        if idea.status == Idea.Status.OPEN and not svc.idea_can_adopt(idea=idea, user=request.user):
            raise PermissionDenied(svc.DECIDE_REFUSED)
        data = AdoptIn(data=request.data)
        data.is_valid(raise_exception=True)
        svc.idea_adopt(idea=idea, by=request.user, **data.validated_data)
        return _out(request, pk)


class IdeaPark(APIView):
    @extend_schema(request=ParkIn, responses={200: IdeaOut}, tags=_TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """Its author or a manager parks an open idea (the author their own draft too), with
        a reason."""
        idea = _idea(request, pk)
        undecided = idea.status in {Idea.Status.DRAFT, Idea.Status.OPEN}
        if undecided and not svc.idea_can_park(idea=idea, user=request.user):
            raise PermissionDenied(svc.DECIDE_REFUSED)
        data = ParkIn(data=request.data)
        data.is_valid(raise_exception=True)
        svc.idea_park(idea=idea, by=request.user, reason=data.validated_data["reason"])
        return _out(request, pk)


class IdeaComments(APIView):
    @extend_schema(request=CommentIn, responses={201: CommentOut}, tags=_TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """Comment on an open idea (anyone)."""
        idea = _idea(request, pk)
        data = CommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        comment = svc.idea_comment(idea=idea, by=request.user, body=data.validated_data["body"])
        return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)


class IdeaVote(APIView):
    @extend_schema(request=None, responses={200: IdeaOut}, tags=_TAGS)
    def post(self, request: Request, pk: int) -> Response:
        """Vote for an open idea (one vote each; not for one's own)."""
        svc.idea_vote(idea=_idea(request, pk), by=request.user)
        return _out(request, pk)

    @extend_schema(request=None, responses={200: IdeaOut}, tags=_TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        """Take one's vote back."""
        svc.idea_unvote(idea=_idea(request, pk), by=request.user)
        return _out(request, pk)
