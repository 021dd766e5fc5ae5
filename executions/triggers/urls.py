"""Routes outside the API: the public webhook URL and the triggers pages of a workflow."""

from django.urls import path, re_path

from executions.triggers import hooks, views

app_name = "triggers"
urlpatterns = [
    # Every path under hooks/ answers in the API's error shape (a malformed token is a 404).
    re_path(r"^hooks/(?P<token>[^/]*)/?$", hooks.deliver, name="deliver"),
    re_path(r"^hooks/", hooks.deliver),
    path("workflows/<uuid:workflow_id>/triggers/", views.workflow_triggers, name="workflow"),
    path("workflows/<uuid:workflow_id>/triggers/action/", views.trigger_action, name="action"),
    path("workflows/<uuid:workflow_id>/triggers/webhooks/<uuid:webhook_id>/deliveries/", views.webhook_deliveries,
         name="deliveries"),
]
