from django.urls import path

from workflows import editor_views, views

app_name = "workflows"
urlpatterns = [
    path("", views.workflow_list, name="list"),
    path("new/", views.workflow_edit, name="new"),
    path("import/", views.workflow_import, name="import"),
    path("preview/", views.workflow_preview, name="preview"),
    path("editor/settings-form/", editor_views.settings_form, name="editor-settings-form"),
    path("editor/settings-values/", editor_views.settings_values, name="editor-settings-values"),
    path("editor/arrange/", editor_views.arrange, name="editor-arrange"),
    path("<uuid:workflow_id>/", views.workflow_detail, name="detail"),
    path("<uuid:workflow_id>/edit/", views.workflow_edit, name="edit"),
    path("<uuid:workflow_id>/diff/", views.workflow_diff, name="diff"),
    path("<uuid:workflow_id>/archive/", views.workflow_archive, name="archive"),
    path("<uuid:workflow_id>/restore/", views.workflow_restore, name="restore"),
    path("<uuid:workflow_id>/export/", views.workflow_export, name="export"),
]
