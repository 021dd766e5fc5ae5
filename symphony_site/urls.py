from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from symphony_site import editor_forms, home, metrics_view, views

api_v1 = [
    path("", include("teams.api.urls")),
    path("", include("workflows.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("templates_app.api.urls")),
    path("", include("executions.api.urls")),
    path("", include("executions.triggers.api.urls")),
    path("", include("executions.api.event_urls")),
    path("", include("instruments.api.urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view.metrics_endpoint, name="metrics"),
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}symphony/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, and our template its page
    # rules: the CSP allows no inline script or style.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs/swagger_ui.html"),
         name="api-docs"),
    path("api/v1/", include(api_v1)),
    re_path(r"^api/", views.api_not_found),
    # Webhook deliveries (hooks/…) and each workflow's triggers page, before workflows/.
    path("", include("executions.triggers.urls")),
    path("workflows/editor/settings-form/", editor_forms.settings_form, name="editor-settings-form"),
    path("workflows/editor/settings-values/", editor_forms.settings_values, name="editor-settings-values"),
    path("workflows/", include("workflows.urls")),
    path("templates/", include("templates_app.urls")),
    path("executions/", include("executions.urls")),
    path("audit/", include("audit.urls")),
    path("", home.home, name="home"),
    path("", include("instruments.urls")),
    path("", include("teams.urls")),
]

# The admin's lists need their width: no app sidebar beside them, a plain name above them.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Symphony administration"
admin.site.site_title = "Symphony admin"

handler403 = "symphony_site.views.forbidden"
handler404 = "symphony_site.views.not_found"
handler500 = "symphony_site.views.server_error"
