from django.urls import path

from instruments.api import views

urlpatterns = [
    path("models/", views.ModelListView.as_view(), name="api-models"),
    path("teams/<uuid:team_id>/usage/", views.UsageView.as_view(), name="api-team-usage"),
    path("teams/<uuid:team_id>/secrets/", views.SecretListView.as_view(),
         name="api-team-secrets"),
    path("teams/<uuid:team_id>/secrets/<str:name>/", views.SecretDetailView.as_view(),
         name="api-team-secret-detail"),
    path("teams/<uuid:team_id>/providers/", views.ProviderListView.as_view(),
         name="api-team-providers"),
    path("teams/<uuid:team_id>/providers/<str:name>/", views.ProviderDetailView.as_view(),
         name="api-team-provider-detail"),
]
