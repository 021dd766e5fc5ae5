from django.urls import path

from executions.api.events import ExecutionEventsView

urlpatterns = [
    path("executions/<uuid:execution_id>/events/", ExecutionEventsView.as_view(), name="api-execution-events"),
]
