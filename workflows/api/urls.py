from django.urls import path

from workflows.api import views

urlpatterns = [
    path("workflows/", views.WorkflowListView.as_view(), name="api-workflows"),
    path("workflows/validate/", views.ValidateView.as_view(), name="api-workflow-validate"),
    path("workflows/import/", views.ImportView.as_view(), name="api-workflow-import"),
    path("workflows/schema/", views.SchemaView.as_view(), name="api-workflow-schema"),
    path("workflows/<uuid:workflow_id>/", views.WorkflowDetailView.as_view(), name="api-workflow-detail"),
    path("workflows/<uuid:workflow_id>/versions/", views.VersionListView.as_view(), name="api-workflow-versions"),
    path("workflows/<uuid:workflow_id>/versions/<str:version>/", views.VersionDetailView.as_view(),
         name="api-workflow-version-detail"),
    path("workflows/<uuid:workflow_id>/diff/", views.DiffView.as_view(), name="api-workflow-diff"),
    path("workflows/<uuid:workflow_id>/validation/", views.WorkflowValidationView.as_view(),
         name="api-workflow-validation"),
    path("workflows/<uuid:workflow_id>/plan/", views.PlanView.as_view(), name="api-workflow-plan"),
    path("workflows/<uuid:workflow_id>/export/", views.ExportView.as_view(), name="api-workflow-export"),
    path("node-types/", views.NodeTypeListView.as_view(), name="api-node-types"),
]
