"""Content negotiation that answers the API's usual request without parsing its Accept header.

The API has one renderer (JSON). DRF's negotiation still parses the Accept header into media
types, orders them by precedence and matches each against the renderer on every request
(≈ 90 Python calls of `/me/`'s, docs/operations.md "Seventh session"). For the headers API
clients send — none, `*/*`, `application/json` — and no `?format=` override, the answer is
always the renderer and its own media type; this returns it directly. Any other header or
override goes through DRF's negotiation unchanged, so a request that accepts no JSON is still
refused with 406 and an unknown format is still 404.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# DRF reads a missing Accept header as `*/*` (DefaultContentNegotiation.get_accept_list).
_ANSWERED_DIRECTLY = frozenset({None, "*/*"})


class SingleRendererNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Request, renderers: list[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        if len(renderers) == 1 and not format_suffix:
            renderer = renderers[0]
            accept = request.META.get("HTTP_ACCEPT")
            if ((accept in _ANSWERED_DIRECTLY or accept == renderer.media_type)
                    and self.settings.URL_FORMAT_OVERRIDE not in request.query_params):
                # What DRF answers for these: the renderer's media type, as the header named it.
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)  # type: ignore[no-any-return]
