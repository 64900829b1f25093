from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from alignment import views as alignment_views

api_v1 = [
    path("", include("leads.urls_api")),
    path("", include("kpis.urls_api")),
    path("", include("alignment.urls_api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", include("kpis.urls")),
    path("leads/", include("leads.urls")),
    path("imports/", include("leads.urls_imports")),
    path("agreements/", include("alignment.urls")),
    path("audit/", include("alignment.urls_audit")),
    # Working together (SPEC §8): each habit's pages.
    path("meetings/", include("alignment.urls_meetings")),
    path("ideas/", include("alignment.urls_ideas")),
    path("insights/", include("alignment.urls_insights")),
    path("spotlights/", include("alignment.urls_spotlights")),
    path("shadowing/", include("alignment.urls_shadowing")),
    path("profile/", alignment_views.profile, name="profile"),
    path(
        "login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

handler500 = "config.errors.server_error"
# A path under /api/ that matches no endpoint answers JSON like the rest of the API.
handler404 = "config.errors.not_found"
