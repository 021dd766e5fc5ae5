"""The site's URL conf plus two API paths that raise, for the 500 handler tests (test_edges.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from symphony_site.urls import handler403, handler404, handler500
from symphony_site.urls import urlpatterns as site_urlpatterns

SECRET = "stack-detail-that-must-not-leak"


def plain_view_that_raises(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET)


class ApiViewThatRaises(APIView):
    def get(self, request: Request) -> Response:
        raise KeyError(SECRET)


urlpatterns = [
    path("api/v1/test-raises/plain/", plain_view_that_raises),
    path("api/v1/test-raises/drf/", ApiViewThatRaises.as_view()),
    *site_urlpatterns,
]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
