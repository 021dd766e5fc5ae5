"""Every API route and its methods, read from the URL conf (a new endpoint is covered as it lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

WRITE_METHODS = ("post", "put", "patch")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # e.g. "api/v1/teams/<uuid:team_id>/"
    view_class: type[Any]
    parameters: tuple[str, ...]

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods the view defines a handler for (DRF adds OPTIONS, Django HEAD after GET)."""
        return tuple(m for m in self.view_class.http_method_names
                     if m not in ("head", "options") and hasattr(self.view_class, m))

    def path(self, values: dict[str, str]) -> str:
        return reverse(self.name, kwargs={name: values[name] for name in self.parameters})

    def __str__(self) -> str:
        return self.pattern


def _walk(patterns: list[Any], prefix: str = "") -> list[Route]:
    routes: list[Route] = []
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += _walk(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern) and text.startswith("api/v1/"):
            view_class = getattr(pattern.callback, "view_class", None)
            assert view_class is not None, f"{text} is not a class-based view"
            assert pattern.name, f"{text} has no name to reverse"
            routes.append(Route(pattern.name, text, view_class, tuple(pattern.pattern.converters)))
    return routes


def api_routes() -> list[Route]:
    return _walk(get_resolver().url_patterns)


def write_operations() -> list[tuple[Route, str]]:
    """(route, method) for every POST, PUT and PATCH the API answers."""
    return [(route, method) for route in api_routes() for method in route.methods if method in WRITE_METHODS]
