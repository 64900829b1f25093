"""The KPI pages: joint dashboard, meeting view, campaigns, definitions. They read snapshots."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST, require_safe

from alignment.forms_campaign_ratings import CampaignRatingForm
from alignment.roles import user_is_manager
from alignment.selectors import (
    action_items_open,
    campaign_ratings,
    spotlights_latest,
    weekly_meeting_on,
)
from alignment.services.campaign_ratings import (
    campaign_rating_can_delete,
    campaign_rating_can_rate,
)
from config.csv_export import CsvFilename, csv_filename, csv_requested, csv_response
from core import attribution
from core.catalog import FAMILY_LABELS, METRICS
from kpis import render_cache
from kpis.forms import KpiFilterForm, RecomputeForm
from kpis.models import RecomputeJob
from kpis.pages import meeting
from kpis.pages.campaigns import campaign_detail, campaign_list_flags, campaign_meetings_of
from kpis.pages.common import Dataset, dataset_table
from kpis.pages.dashboard import (
    DASHBOARD_DATASETS,
    campaigns_dataset,
    dashboard_base,
    dashboard_dataset,
    dashboard_now,
)
from kpis.pages.evidence import EVIDENCE_NOTE
from kpis.selectors import KpiFilter, campaign_rows, changes_set_aside
from kpis.services import recompute_job_retry, recompute_job_start, recompute_job_status
from leads.models import Campaign
from leads.selectors import campaign_feedback

MODELS = [(m, attribution.MODEL_LABELS[m]) for m in attribution.MODELS]
BAD_REQUEST = 400


def dataset_csv_response(ds: Dataset, filename: CsvFilename) -> StreamingHttpResponse:
    """A dataset's CSV: its values rounded as its table shows them, ratios with their
    numerator and denominator (`kpis.pages.common.dataset_table`)."""
    return csv_response(*dataset_table(ds), filename)


DASHBOARD_FRAGMENTS = (
    "filters", "funnel", "sla", "evidence", "evidence_trend", "trends", "reasons", "campaigns",
    "meetings",
)  # fmt: skip


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The joint dashboard: the same numbers for marketing and sales.

    What the snapshots decide is built and rendered once per version of them (and day, filter
    and role: `kpis.render_cache`); the tiles, the live breach count, the goals' pace and
    the latest joint wins (with the viewer's thanks) follow the clock on every request. A
    filter that does not hold (a range out of bounds or too long) answers 400: the page says
    why, field by field, and shows the default range.
    """
    job = RecomputeJob.objects.filter(pk=request.GET["job"]).first() if _is_uuid(request) else None
    return _home_page(request, job=job)


def _home_page(
    request: HttpRequest,
    *,
    job: RecomputeJob | None = None,
    recompute_form: RecomputeForm | None = None,
    refusal: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The dashboard, with a recompute job's progress (`job`), or why a recompute was refused
    (the form's errors, or `refusal`) with its 400."""
    page = render_cache.cached(
        render_cache.page_key(request, "home"), lambda: _home_fragments(request)
    )
    manager = user_is_manager(request.user)
    context = {
        "d": dashboard_now(page.data),
        "page": page.filled(),
        "job": job,
        "job_status": recompute_job_status(job) if job else None,
        "job_left": job.total_units - job.done_units if job else 0,
        "recompute_form": recompute_form or RecomputeForm(),
        "refusal": refusal or [],
        # The change log's entries the engine set aside: for those who can recompute.
        "set_aside": changes_set_aside() if manager else [],
        "my_items": list(action_items_open(owner=request.user)),  # per user: never cached
        "today": timezone.localdate(),
        # per viewer (their thanks) and changing without the snapshots: never cached
        "spotlights": spotlights_latest(limit=3, viewer=request.user),
    }
    return render(request, "kpis/home.html", context, status=max(status, page.status))


def filter_status(form: KpiFilterForm) -> int:
    """400 for a filter that does not hold (the page shows why and its defaults), else 200."""
    return BAD_REQUEST if form.is_bound and not form.is_valid() else 200


def _home_fragments(request: HttpRequest) -> render_cache.Fragments:
    form = KpiFilterForm(request.GET or None)
    base = dashboard_base(form.kpi_filter())
    context = {"base": base, "form": form, "models": MODELS}
    return render_cache.Fragments(
        data=base,
        html={
            name: render_cache.render_fragment(f"kpis/dashboard/{name}.html", context, request)
            for name in DASHBOARD_FRAGMENTS
        },
        status=filter_status(form),
    )


def _is_uuid(request: HttpRequest) -> bool:
    try:
        uuid.UUID(request.GET.get("job", ""))
    except ValueError:
        return False
    return True


@require_safe
def dashboard_csv(request: HttpRequest, dataset: str) -> HttpResponse:
    if dataset not in DASHBOARD_DATASETS:
        raise Http404("No such chart.")
    form = KpiFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    f = form.kpi_filter()
    name = csv_filename("tandem", dataset, f.period, f.end)
    return dataset_csv_response(dashboard_dataset(f, dataset), name)


@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    """Managers start a full recompute (from `since`, by default the first day with data); the
    dashboard follows its progress. A `since` out of bounds is refused with a 400 that says
    why (`kpis.services.recompute_range`); the request only queues the job's units."""
    if not user_is_manager(request.user):
        raise PermissionDenied("Only managers start a recompute.")
    form = RecomputeForm(request.POST)
    if form.is_valid():
        try:
            job = recompute_job_start(by=request.user, since=form.cleaned_data["since"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect(_following(request, job))
    return _home_page(request, recompute_form=form, status=BAD_REQUEST)


@require_POST
def recompute_retry(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Managers run a recompute that failed or died again, from the units it had not done; one
    still running (or done) is refused with a 400 that says so."""
    if not user_is_manager(request.user):
        raise PermissionDenied("Only managers retry a recompute.")
    job = get_object_or_404(RecomputeJob, pk=pk)
    try:
        job = recompute_job_retry(job=job)
    except ValidationError as exc:
        return _home_page(request, job=job, refusal=exc.messages, status=BAD_REQUEST)
    return redirect(_following(request, job))


def _following(request: HttpRequest, job: RecomputeJob) -> str:
    """The dashboard as it was (`next_query`), following `job`."""
    params = request.POST.get("next_query", "").lstrip("?")
    params = "&".join(p for p in params.split("&") if p and not p.startswith("job="))
    return f"{reverse('home')}?{params}{'&' if params else ''}job={job.pk}"


@require_safe
def meeting_view(request: HttpRequest) -> HttpResponse:
    """The weekly alignment meeting on a shared screen: one slide per section, and the button
    that starts today's meeting (or opens it, once started)."""
    sections = [(s, _meeting_section_html(request, s)) for s in meeting.SECTIONS]
    context = {"sections": sections, "today_meeting": weekly_meeting_on(day=timezone.localdate())}
    return render(request, "kpis/meeting.html", context)


@require_safe
def meeting_section(request: HttpRequest, slug: str) -> HttpResponse:
    """One section's body, fetched by the meeting view to refresh itself."""
    section = meeting.section(slug)
    if section is None:
        raise Http404("No such section.")
    return HttpResponse(_meeting_section_html(request, section))


def _meeting_section_html(request: HttpRequest, section: meeting.Section) -> SafeString:
    """A section's body: kept until the snapshots change, unless it follows the clock."""
    if section.live:
        context = {"section": section, "data": section.build()}
        return mark_safe(render_to_string(section.template, context, request=request))

    def build() -> render_cache.Fragments:
        context = {"section": section, "data": section.build()}
        html = render_cache.render_fragment(section.template, context, request)
        return render_cache.Fragments(data=None, html={"body": html})

    key = render_cache.page_key(request, "meeting-section", section.slug)
    return render_cache.cached(key, build).filled()["body"]


def _kept_page(
    request: HttpRequest,
    template: str,
    body: str,
    page: str,
    *args: object,
    context: Callable[[], dict],
    keep: tuple[str, ...],
    live: Callable[[dict], dict] | None = None,
    status: int = 200,
) -> HttpResponse:
    """`template` around the fragment `body`, kept until the snapshots change
    (`kpis.render_cache`). `context` builds what the fragment shows, on a miss only; of it,
    the names in `keep` are kept for `template` too. `live` builds, on every request and from
    what was kept, what `template` shows that changes without the snapshots (meetings,
    ratings, anything of the user)."""

    def build() -> render_cache.Fragments:
        data = context()
        return render_cache.Fragments(
            data={name: data[name] for name in keep},
            html={"body": render_cache.render_fragment(body, data, request)},
            status=filter_status(data["form"]) if "form" in data else 200,
        )

    kept = render_cache.cached(render_cache.page_key(request, page, *args), build)
    extra = live(kept.data) if live else {}
    context = {**kept.data, **extra, "page": kept.filled()}
    return render(request, template, context, status=max(status, kept.status))


@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    if csv_requested(request):
        form = KpiFilterForm(request.GET or None, slices=("channel",))
        if form.is_bound and not form.is_valid():
            return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
        f = form.kpi_filter()
        rows = _campaign_list_rows(f)
        name = csv_filename("tandem", "campaigns", f.model, f.end)
        return dataset_csv_response(campaigns_dataset(rows, model=f.model), name)

    def context() -> dict:
        form = KpiFilterForm(request.GET or None, slices=("channel",))
        f = form.kpi_filter()
        return {"form": form, "f": f, "rows": _campaign_list_rows(f), "models": MODELS}

    def live(kept: dict) -> dict:
        """The meeting flags follow the meetings, not the snapshots: built on every request."""
        return {"flags": campaign_list_flags(keys=[r.key for r in kept["rows"] if r.channel])}

    return _kept_page(
        request, "kpis/campaign_list.html", "kpis/campaigns/list.html", "campaigns",
        context=context, keep=("f", "rows"), live=live,
    )  # fmt: skip


def _campaign_list_rows(f: KpiFilter) -> list:
    return campaign_rows(
        period=f.period,
        start=f.start,
        end=f.end,
        model=f.model,
        channel=f.key,
        include_idle=True,
    )


def _campaign_filter(request: HttpRequest) -> tuple[KpiFilterForm, KpiFilter]:
    """A campaign's page shows the range its row on the campaign list shows (by default the
    last 12 periods), so that the row and the page give the same numbers."""
    form = KpiFilterForm(request.GET or None, slices=())
    return form, form.kpi_filter()


@require_safe
def campaign_detail_view(request: HttpRequest, external_id: str) -> HttpResponse:
    return campaign_page(request, external_id)


def campaign_page(
    request: HttpRequest,
    external_id: str,
    *,
    rating_form: CampaignRatingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """A campaign's page: its closed loop from the snapshots (kept), and around it what changes
    without them: sales' ratings of its leads (with the viewer's own and the form) and its
    kick-off and post-mortem meetings."""

    def context() -> dict:
        campaign = get_object_or_404(Campaign, external_id=external_id)
        form, f = _campaign_filter(request)
        feedback, ratings = campaign_feedback(campaign_id=campaign.pk)
        return {
            "campaign": campaign,
            "form": form,
            "c": campaign_detail(key=campaign.external_id, f=f),
            "feedback": feedback,
            "ratings": ratings,
            "stars": [(n, ratings[f"stars_{n}"]) for n in range(5, 0, -1)],
            "models": MODELS,
        }

    def live(kept: dict) -> dict:
        return campaign_live_context(request, kept["campaign"], rating_form=rating_form)

    return _kept_page(
        request, "kpis/campaign_detail.html", "kpis/campaigns/detail.html", "campaign",
        external_id, context=context, keep=("campaign", "c"), live=live, status=status,
    )  # fmt: skip


def campaign_live_context(
    request: HttpRequest, campaign: Campaign, *, rating_form: CampaignRatingForm | None = None
) -> dict:
    """Sales' ratings of the campaign's leads (the viewer's own, the form for sales, who may
    remove which) and its kick-off and post-mortem meetings: read on every request."""
    ratings = campaign_ratings(campaign_id=campaign.pk)
    mine = ratings.of(request.user)
    can_rate = campaign_rating_can_rate(user=request.user)
    if rating_form is None and can_rate:
        initial = {"rating": mine.rating, "comment": mine.comment} if mine else None
        rating_form = CampaignRatingForm(initial=initial)
    return {
        "sales_ratings": ratings,
        "rating_rows": [
            (r, campaign_rating_can_delete(rating=r, user=request.user)) for r in ratings.ratings
        ],
        "my_rating": mine,
        "rating_form": rating_form if can_rate else None,
        "campaign_meetings": campaign_meetings_of(campaign=campaign),
    }


@require_safe
def campaign_csv(request: HttpRequest, external_id: str, dataset: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, external_id=external_id)
    form, f = _campaign_filter(request)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    detail = campaign_detail(key=campaign.external_id, f=f)
    datasets = {"funnel": detail.funnel, "trend": detail.trend, "models": detail.models_data}
    if dataset not in datasets:
        raise Http404("No such chart.")
    name = csv_filename("tandem", campaign.name, dataset, f.end)
    return dataset_csv_response(datasets[dataset], name)


@require_safe
def definitions(request: HttpRequest) -> HttpResponse:
    """The metric catalog and the attribution models, in the words both teams read."""
    families: dict[tuple[str, str], list] = {}
    for m in METRICS.values():
        family = (m.family, FAMILY_LABELS.get(m.family, m.family.capitalize()))
        families.setdefault(family, []).append((m, m.team))
    models = [
        (key, attribution.MODEL_LABELS[key], attribution.MODEL_DEFINITIONS[key])
        for key in attribution.MODELS
    ]
    return render(
        request,
        "kpis/definitions.html",
        {
            "families": families,
            "models": models,
            "counted_touches": attribution.COUNTED_TOUCHES_DEFINITION,
            "family_notes": {"evidence": EVIDENCE_NOTE},
        },
    )
