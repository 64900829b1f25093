"""The drill-down behind each number of the evidence panel: the leads it counts, read from the
handoffs as of now (never kept: the list is the viewer's, a sales rep sees their own)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from config.csv_export import csv_filename, csv_requested
from kpis.forms import KpiFilterForm
from kpis.pages.evidence import FACTS, evidence_dataset, evidence_list
from kpis.views import dataset_csv_response


@require_safe
def evidence_list_view(request: HttpRequest, fact: str) -> HttpResponse:
    """`/evidence/<fact>/?period=&start=&end=&campaign=…`: the dashboard's range and slice; a
    range or filter that does not hold is refused (400) with what is wrong, field by field."""
    found = FACTS.get(fact)
    if found is None:
        raise Http404("The evidence panel has no such number.")
    form = KpiFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        context = {"fact": found, "form": form, "errors": _errors(form)}
        return render(request, "kpis/evidence_list.html", context, status=400)
    f = form.kpi_filter()
    if csv_requested(request):
        ds = evidence_dataset(found, f, user=request.user)
        name = csv_filename("tandem", "evidence", found.slug, f.period, f.end)
        return dataset_csv_response(ds, name)
    e = evidence_list(found, f, user=request.user, page=request.GET.get("page"))
    return render(request, "kpis/evidence_list.html", {"fact": found, "form": form, "e": e})


def _errors(form: KpiFilterForm) -> list[str]:
    """Each error in words, with the field it is about: "From: The range starts after it
    ends."."""
    errors = list(form.non_field_errors())
    for field in form:
        errors += [f"{field.label}: {error}" for error in field.errors]
    return errors
