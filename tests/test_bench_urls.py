"""The API load bench's bare JSON view exists only under its own URL conf, never in production."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse


def test_the_bare_view_is_not_in_production_urls(db) -> None:
    with pytest.raises(NoReverseMatch):
        reverse("bench-bare")
    assert Client().get("/bench/bare/").status_code == 404


def test_the_bench_url_conf_adds_only_the_bare_view_in_front_of_the_site() -> None:
    from bench.api import urls as bench_urls
    from symphony_site import urls as site_urls

    assert reverse("bench-bare", urlconf="bench.api.urls") == "/bench/bare/"
    assert bench_urls.urlpatterns[1:] == site_urls.urlpatterns
    response = bench_urls.bare(None)  # type: ignore[arg-type]
    assert response.status_code == 200 and response.content == b'{"ok": true, "items": [1, 2, 3]}'
