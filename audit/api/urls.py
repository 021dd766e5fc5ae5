from django.urls import path

from audit.api import views

urlpatterns = [
    path("audit/", views.AuditListView.as_view(), name="api-audit-list"),
    path("audit/export/", views.AuditExportView.as_view(), name="api-audit-export"),
    path("audit/verify/", views.AuditVerifyView.as_view(), name="api-audit-verify"),
]
