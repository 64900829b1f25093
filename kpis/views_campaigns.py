"""A campaign's habits of working together: sales rates its leads, its kick-off and post-mortem
meetings, and the post-mortem page (its closed loop over its whole life next to what sales says
of its leads), which starts the post-mortem meeting with the numbers as its agenda.

Everyone signed in reads them; only sales rates; the rater or a manager removes a rating.
Bad input answers 400 with the form and its messages, and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from alignment.forms_campaign_ratings import CampaignRatingForm
from alignment.models import CampaignRating
from alignment.services.campaign_meetings import campaign_postmortem_start
from alignment.services.campaign_ratings import (
    campaign_rate,
    campaign_rating_can_rate,
    campaign_rating_delete,
)
from core import attribution
from kpis.pages.campaigns import campaign_postmortem, postmortem_agenda
from kpis.views import MODELS, campaign_page
from leads.models import Campaign

BAD_REQUEST = 400


def _campaign(external_id: str) -> Campaign:
    return get_object_or_404(Campaign, external_id=external_id)


def _model(request: HttpRequest) -> str:
    """The attribution model of the query string (`?model=`); linear when none or unknown, as
    on the campaign page."""
    model = request.GET.get("model", "")
    return model if model in attribution.MODELS else "linear"


@require_POST
def campaign_rate_view(request: HttpRequest, external_id: str) -> HttpResponse:
    """Sales rates the campaign's leads; rating again changes one's rating."""
    campaign = _campaign(external_id)
    if not campaign_rating_can_rate(user=request.user):
        raise PermissionDenied(
            "Only sales rates a campaign's leads: they are the ones who work them."
        )
    form = CampaignRatingForm(request.POST)
    if form.is_valid():
        try:
            campaign_rate(campaign=campaign, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Your rating of this campaign's leads is saved.")
            return redirect(f"{reverse('campaign-detail', args=[campaign.external_id])}#ratings")
    return campaign_page(request, campaign.external_id, rating_form=form, status=BAD_REQUEST)


@require_POST
def campaign_rating_delete_view(request: HttpRequest, external_id: str, pk: int) -> HttpResponse:
    campaign = _campaign(external_id)
    rating = get_object_or_404(CampaignRating, pk=pk, campaign=campaign)
    campaign_rating_delete(rating=rating, by=request.user)
    mine = rating.rater_id == request.user.pk
    messages.success(request, "Your rating is removed." if mine else "The rating is removed.")
    return redirect(f"{reverse('campaign-detail', args=[campaign.external_id])}#ratings")


@require_safe
def campaign_postmortem_view(request: HttpRequest, external_id: str) -> HttpResponse:
    """The post-mortem page: the campaign's closed loop over its whole life (from the month it
    started to today) under the chosen attribution model, sales' ratings of its leads, why
    sales rejected them, and its kick-off and post-mortem meetings. Printable."""
    campaign = _campaign(external_id)
    pm = campaign_postmortem(campaign=campaign, model=_model(request))
    return render(
        request,
        "kpis/campaigns/postmortem.html",
        {
            "campaign": campaign,
            "pm": pm,
            "c": pm.detail,
            "models": MODELS,
            # the ratings and meetings cards of the campaign page, read-only here
            "sales_ratings": pm.ratings,
            "rating_rows": [(r, False) for r in pm.ratings.ratings],
            "campaign_meetings": pm.meetings,
        },
    )


@require_POST
def campaign_postmortem_start_view(request: HttpRequest, external_id: str) -> HttpResponse:
    """Start the campaign's post-mortem meeting now, its agenda the post-mortem page's numbers
    (under the model the page showed); the person who starts it attends."""
    campaign = _campaign(external_id)
    model = request.POST.get("model", "")
    pm = campaign_postmortem(
        campaign=campaign, model=model if model in attribution.MODELS else "linear"
    )
    meeting = campaign_postmortem_start(
        campaign=campaign, by=request.user, agenda=postmortem_agenda(pm)
    )
    messages.success(request, "The post-mortem meeting is on: its agenda holds the numbers.")
    return redirect("meeting-detail", pk=meeting.pk)
