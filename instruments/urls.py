from django.urls import path

from instruments import views

urlpatterns = [
    path("team/secrets/", views.team_secret, name="team-secret"),
    path("team/providers/", views.team_provider, name="team-provider"),
]
