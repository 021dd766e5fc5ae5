from django.urls import path

from executions.triggers.api import views

urlpatterns = [
    path("workflows/<uuid:workflow_id>/schedules/", views.WorkflowSchedulesView.as_view(),
         name="api-workflow-schedules"),
    path("schedules/<uuid:schedule_id>/", views.ScheduleDetailView.as_view(), name="api-schedule-detail"),
    path("workflows/<uuid:workflow_id>/webhooks/", views.WorkflowWebhooksView.as_view(),
         name="api-workflow-webhooks"),
    path("webhooks/<uuid:webhook_id>/", views.WebhookDetailView.as_view(), name="api-webhook-detail"),
    path("webhooks/<uuid:webhook_id>/rotate/", views.WebhookRotateView.as_view(), name="api-webhook-rotate"),
    path("webhooks/<uuid:webhook_id>/deliveries/", views.WebhookDeliveriesView.as_view(),
         name="api-webhook-deliveries"),
    path("workflows/<uuid:workflow_id>/run-after/", views.WorkflowRunAfterView.as_view(),
         name="api-workflow-run-after"),
    path("run-after/<uuid:rule_id>/", views.RunAfterDetailView.as_view(), name="api-run-after-detail"),
    path("workflows/<uuid:workflow_id>/queue/", views.WorkflowQueueView.as_view(), name="api-workflow-queue"),
    path("teams/<uuid:team_id>/limits/", views.TeamLimitsView.as_view(), name="api-team-limits"),
]
