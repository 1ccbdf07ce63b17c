from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tscc import views
from tscc.api.views import MeApi

handler404 = "tscc.errors.not_found"
handler500 = "tscc.errors.server_error"

admin.site.site_header = "TSCC"
admin.site.site_title = "TSCC admin"

api_v1 = [
    path("me/", MeApi.as_view(), name="api-me"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.profile, name="profile"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language_switch, name="language-switch"),
    path("healthz", views.healthz, name="healthz"),
    path("status/", views.system_status, name="system-status"),
    path("incidents/", include("incidents.urls")),
    path("oncall/ical/", include("oncall.feed_urls")),
    path("oncall/", include("oncall.urls")),
    path("escalations/", include("escalations.urls")),
    path("vendors/", include("vendors.urls")),
    path("summary/", include("incidents.summary_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/v1/", include("incidents.api.urls")),
    path("api/v1/oncall/", include("oncall.api.urls")),
    path("api/v1/", include("escalations.api.urls")),
    path("api/v1/vendors/", include("vendors.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
