from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from alignment import views as alignment_views
from kpis import views as kpis_views

api_v1 = [
    path("", include("leads.urls_api")),
    path("", include("kpis.urls_api")),
    path("", include("alignment.urls_api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", kpis_views.home, name="home"),
    path("profile/", alignment_views.profile, name="profile"),
    path("definitions/", kpis_views.definitions, name="definitions"),
    path(
        "login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]
