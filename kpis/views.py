from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leads.selectors import funnel_counts


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "kpis/home.html", {"funnel": funnel_counts()})


def definitions(request: HttpRequest) -> HttpResponse:
    """The metric catalog and the attribution models, in the words both teams read."""
    from kpis import attribution
    from kpis.registry import METRICS

    families = {}
    for m in METRICS.values():
        families.setdefault(m.family, []).append(m)
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
        },
    )
