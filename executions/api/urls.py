from django.urls import path

from executions.api import bulk, views

urlpatterns = [
    path("executions/", views.ExecutionListView.as_view(), name="api-executions"),
    path("executions/bulk/", bulk.ExecutionBulkView.as_view(), name="api-executions-bulk"),
    path("executions/<uuid:execution_id>/", views.ExecutionDetailView.as_view(), name="api-execution-detail"),
    path("executions/<uuid:execution_id>/commands/", views.ExecutionCommandView.as_view(),
         name="api-execution-commands"),
    path("executions/<uuid:execution_id>/rerun/", views.ExecutionRerunView.as_view(), name="api-execution-rerun"),
]
