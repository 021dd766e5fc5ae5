from django.urls import path

from templates_app import views

app_name = "templates"
urlpatterns = [path("", views.list, name="list")]
