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


def load_body(data: bytes) -> dict[str, Any]:
    """A request body as a JSON object, or the loader's refusal as an ApiError."""
    try:
        return loads_json(data, max_size=settings.API_MAX_BODY_BYTES)
    except SerializationError as error:
        raise body_refused(error) from None


class StrictJSONParser(BaseParser):
    """The default parser of every API view (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"])."""

    media_type = "application/json"

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None,
              parser_context: Any = None) -> dict[str, Any]:
        # ApiBodyLimitMiddleware has refused a declared length past the limit; reading one
        # byte more than the limit still bounds a body whose length was not declared.
        data = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        return load_body(data)
