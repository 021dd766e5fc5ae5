from django.urls import path

from teams import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("team/", views.team_detail, name="team-detail"),
    path("team/new/", views.team_new, name="team-new"),
    path("team/switch/", views.team_switch, name="team-switch"),
]
