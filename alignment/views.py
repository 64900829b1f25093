from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from alignment.selectors import api_token_for
from alignment.services.accounts import api_token_rotate


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        api_token_rotate(user=request.user)
        messages.success(request, "A new API token was issued; the old one no longer works.")
        return redirect("profile")
    return render(request, "alignment/profile.html", {"token": api_token_for(user=request.user)})
