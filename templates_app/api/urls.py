from django.urls import path

from templates_app.api import views

urlpatterns = [
    path("templates/", views.TemplateListView.as_view(), name="api-templates"),
    path("templates/from-workflow/", views.TemplateFromWorkflowView.as_view(), name="api-template-from-workflow"),
    path("templates/origins/<uuid:workflow_id>/", views.TemplateOriginView.as_view(), name="api-template-origin"),
    path("templates/origins/<uuid:workflow_id>/upgrade/", views.TemplateOriginUpgradeView.as_view(),
         name="api-template-origin-upgrade"),
    path("templates/<slug:slug>/", views.TemplateDetailView.as_view(), name="api-template-detail"),
    path("templates/<slug:slug>/versions/", views.TemplateVersionListView.as_view(), name="api-template-versions"),
    path("templates/<slug:slug>/versions/<str:version>/", views.TemplateVersionDetailView.as_view(),
         name="api-template-version"),
    path("templates/<slug:slug>/parameters/", views.TemplateParametersView.as_view(),
         name="api-template-parameters"),
    path("templates/<slug:slug>/instantiate/", views.TemplateInstantiateView.as_view(),
         name="api-template-instantiate"),
    path("templates/<slug:slug>/rating/", views.TemplateRatingView.as_view(), name="api-template-rating"),
]
