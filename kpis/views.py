from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leads.selectors import funnel_counts


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "kpis/home.html", {"funnel": funnel_counts()})
