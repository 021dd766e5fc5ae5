"""The OpenAPI schema documents every error an operation can answer, the same way everywhere.

Views list the errors of their own logic (409 when a state forbids a change, 404
for an unknown version, …). The errors that come from the platform around them
are added here, once, by a drf-spectacular postprocessing hook, so no view can
forget one:

- 400 for every operation: a NUL in the path or query, a malformed
  `Content-Length`, a bad pagination or filter parameter, an invalid body;
- 401 for every operation that needs authentication (all but the token
  endpoint, which answers 401 for a wrong password and lists it itself);
- 403 for every authenticated write (a session without its CSRF token);
- 404 for every operation with a path parameter (another team's object is 404);
- 413 and 415 for every POST, PUT and PATCH (the body limit, the media types);
- 429 for every operation (the throttles apply to every view), with `Retry-After`.

Every 4xx response, added or listed by a view, carries the error shape.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA_NAME = "Error"
WRITE_METHODS = {"post", "put", "patch", "delete"}
BODY_METHODS = {"post", "put", "patch"}

DESCRIPTIONS = {
    "400": "Bad input: a body that is not acceptable JSON, an invalid field or parameter, a NUL character "
           "in the path or query, a malformed Content-Length.",
    "401": "Not signed in, or the token is wrong or revoked.",
    "403": "Your role does not allow this, or a session request without its CSRF token.",
    "404": "No such object, or one of a team you are not in (404, not 403, so its existence does not leak).",
    "413": "The body is larger than the limit; details: [{limit_bytes, received_bytes}].",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests: wait the number of seconds in Retry-After.",
}

RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before the next request.", "schema": {"type": "integer"}},
}


def _error_body() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}}


def _error_component() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The API's one error shape.",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable: validation_failed, "
                                                          "not_found, duplicate_key, …"},
                "message": {"type": "string", "description": "For people; never a stack trace."},
                "details": {"description": "Usually a list of {field, message, code}; see docs/api.md."},
            },
        }},
    }


def statuses_for(method: str, path: str, operation: dict[str, Any]) -> set[str]:
    """The platform's error statuses `operation` can answer, beyond those of its own logic."""
    statuses = {"400", "429"}
    if operation.get("security"):
        statuses.add("401")
        if method in WRITE_METHODS:
            statuses.add("403")
    if "{" in path:
        statuses.add("404")
    if method in BODY_METHODS:
        statuses |= {"413", "415"}
    return statuses


# PATCH bodies whose one field is required: drf-spectacular makes every PATCH body partial,
# but changing a role or a secret's value without the new one is refused (400).
PATCH_REQUIRED = {"PatchedMemberUpdateRequest": ["role"], "PatchedSecretUpdateRequest": ["value"]}


def require_patch_fields(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: PATCH_REQUIRED's fields are required, and so is the body."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, required in PATCH_REQUIRED.items():
        if name in schemas:
            schemas[name]["required"] = required
    references = {f"#/components/schemas/{name}" for name in PATCH_REQUIRED}
    for item in result.get("paths", {}).values():
        body = item.get("patch", {}).get("requestBody", {})
        if any(media.get("schema", {}).get("$ref") in references for media in body.get("content", {}).values()):
            body["required"] = True
    return result


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: the common error responses, each in the error shape."""
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(ERROR_SCHEMA_NAME, _error_component())
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses_for(method, path, operation):
                responses.setdefault(status, {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if not status.startswith("4"):
                    continue
                if not response.get("description"):
                    response["description"] = DESCRIPTIONS.get(status, "An error, in the error shape.")
                response["content"] = _error_body()
                if status == "429":
                    response["headers"] = RETRY_AFTER
    return result
