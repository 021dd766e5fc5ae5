from django.urls import path

from templates_app import views

app_name = "templates"
urlpatterns = [
    path("", views.marketplace, name="list"),
    path("origin/<uuid:workflow_id>/", views.origin, name="origin"),
    path("from-workflow/<uuid:workflow_id>/", views.save_as, name="save-as"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/use/", views.use, name="use"),
    path("<slug:slug>/rate/", views.rate, name="rate"),
]
