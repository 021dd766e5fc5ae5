from django.urls import path

from executions import views

app_name = "executions"
urlpatterns = [path("", views.list, name="list")]
