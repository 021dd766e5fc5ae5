"""A DRF response whose JSON body was written before the view returned.

The workflows and executions lists read each row as JSON already written by PostgreSQL, exactly
as DRF's JSONRenderer would write it (symphony_site/api/statements.py, `json_object`). Parsing
those 30 KB into Python values for DRF to render them again was most of what a list page cost in
Python beyond the fixed cost of a request (docs/operations.md, "Eighth session"); this response
carries the page's bytes instead. It is still a DRF response: the view's negotiation, headers
(`Allow`, `Vary`), exception handling and middleware treat it as any other.

For the usual request (JSON without parameters, the API's one renderer) the body goes out as it
is. Any other accepted media type — `application/json; indent=4` — is rendered by the renderer
from the parsed body, so such a request is answered exactly as before.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class JSONBodyResponse(Response):
    """`body`: the answer's JSON text as JSONRenderer writes it (compact, UTF-8, U+2028 and U+2029
    escaped: `json_text` makes sure of the last). `data` is its value, parsed only when read."""

    def __init__(self, body: str, *, status: int = 200) -> None:
        self.body = body
        super().__init__(None, status=status)

    @property
    def data(self) -> Any:  # type: ignore[override]
        return json.loads(self.body)

    @data.setter
    def data(self, value: Any) -> None:
        # Response.__init__ sets `data` (to None): the value is always the body's.
        pass

    @property
    def rendered_content(self) -> bytes:  # type: ignore[override]
        renderer = getattr(self, "accepted_renderer", None)
        if type(renderer) is JSONRenderer and getattr(self, "accepted_media_type", None) == renderer.media_type:
            # What Response.rendered_content sets for this renderer (it has no charset).
            self["Content-Type"] = renderer.media_type
            return self.body.encode()
        return super().rendered_content  # type: ignore[no-any-return]


def json_text(text: str) -> str:
    """`text` (JSON written by PostgreSQL) with U+2028 and U+2029 escaped, as JSONRenderer writes
    them: PostgreSQL leaves both as they are, and they are the only characters the two escape
    differently (tests/api/test_list_rows.py checks every other character below U+0080 too)."""
    if "\u2028" in text or "\u2029" in text:
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def render(value: Any) -> str:
    """`value` as JSONRenderer writes it, as text (for the parts of a body PostgreSQL cannot write
    alike: a `jsonb` value's own spacing differs)."""
    return JSONRenderer().render(value).decode()
