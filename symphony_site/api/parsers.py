"""Every JSON request body is read by the serialization module's strict loader.

DRF's own JSONParser uses the standard library's decoder as it comes: a body
of a thousand nested arrays raised RecursionError (a 500), duplicate keys kept
the last value, NaN and integers of any length went through. Workflow files
were already read strictly (`workflows/serialization/json_codec.py`); API
bodies now go through the same loader, so one document is accepted or refused
the same way whichever door it comes in by, and each refusal carries the
loader's code (`nesting_too_deep`, `duplicate_key`, `non_finite_number`,
`integer_out_of_range`, `invalid_utf8`, `truncated`, `malformed`).

Only `workflows.serialization` is imported from the workflows app: it is pure
Python (no Django), which the architecture tests check.
"""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from rest_framework.parsers import BaseParser

from symphony_site.api.errors import ApiError
from workflows.serialization import SerializationError, TooLargeError, loads_json


def body_refused(error: SerializationError) -> ApiError:
    """The loader's error as the API answers it: its code, 413 when too large, 400 otherwise."""
    status_code = 413 if isinstance(error, TooLargeError) else 400
    return ApiError(f"The request body is not acceptable JSON: {error.message}", code=error.code,
                    status_code=status_code,
                    details=[{"code": error.code, "message": error.message, **error.details}])


def null_character_path(value: Any) -> list[str | int] | None:
    """Where the first NUL character is in a JSON value (a key or a string), or None."""
    pending: list[tuple[Any, list[str | int]]] = [(value, [])]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return [*path, key]
                pending.append((child, [*path, key]))
        elif isinstance(item, list):
            pending.extend((child, [*path, index]) for index, child in enumerate(item))
    return None


def refuse_null_characters(value: Any, *, what: str = "The request body") -> None:
    """PostgreSQL stores no NUL in text or jsonb: refuse it at the door rather than fail on insert (a 500)."""
    path = null_character_path(value)
    if path is not None:
        message = f"{what} holds a NUL character (\\u0000), which cannot be stored."
        raise ApiError(message, code="null_characters_not_allowed", status_code=400,
                       details=[{"code": "null_characters_not_allowed", "message": message, "path": path}])


def load_body(data: bytes) -> dict[str, Any]:
    """A request body as a JSON object, or the loader's refusal as an ApiError."""
    try:
        body = loads_json(data, max_size=settings.API_MAX_BODY_BYTES)
    except SerializationError as error:
        raise body_refused(error) from None
    # JSON text holds a NUL only as an escape: look further only when one may be there.
    if b"\\u0000" in data:
        refuse_null_characters(body)
    return body


class StrictJSONParser(BaseParser):
    """The default parser of every API view (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"])."""

    media_type = "application/json"

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None,
              parser_context: Any = None) -> dict[str, Any]:
        # ApiBodyLimitMiddleware has refused a declared length past the limit; reading one
        # byte more than the limit still bounds a body whose length was not declared.
        data = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        return load_body(data)
