from django.urls import path

from executions import views

app_name = "executions"
urlpatterns = [
    path("", views.execution_list, name="list"),
    path("bulk/", views.bulk, name="bulk"),
    path("run/<uuid:workflow_id>/", views.run, name="run"),
    path("<uuid:execution_id>/", views.execution_detail, name="detail"),
    path("<uuid:execution_id>/progress/", views.execution_progress, name="progress"),
    path("<uuid:execution_id>/controls/", views.execution_controls, name="controls"),
    path("<uuid:execution_id>/commands/", views.command, name="command"),
]
