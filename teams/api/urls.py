from django.urls import path

from teams.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-token-obtain"),
    path("auth/tokens/", views.TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<uuid:token_id>/", views.TokenDetailView.as_view(), name="api-token-detail"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("teams/", views.TeamListView.as_view(), name="api-teams"),
    path("teams/<uuid:team_id>/", views.TeamDetailView.as_view(), name="api-team-detail"),
    path("teams/<uuid:team_id>/members/", views.MemberListView.as_view(), name="api-team-members"),
    path("teams/<uuid:team_id>/members/<str:user_id>/", views.MemberDetailView.as_view(),
         name="api-team-member-detail"),
]
