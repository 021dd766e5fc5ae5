"""The production URL conf with the bench's bare JSON view in front of it."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from symphony_site.urls import urlpatterns as site_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "items": [1, 2, 3]})


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *site_urlpatterns]
