"""Query parameters read as the schema documents them.

An empty value (`?verified=`) is not a boolean, an integer or a member of an
enumeration, so it is refused like any other wrong value rather than read as
"absent": the schema cannot say "or empty", and a client sending it has a bug.
"""

from __future__ import annotations

from symphony_site.api.errors import ValidationFailed

TRUE = frozenset({"true", "1", "yes"})
FALSE = frozenset({"false", "0", "no"})


def query_boolean(raw: str | None, name: str) -> bool | None:
    """None when the parameter is absent; true/1/yes or false/0/no (any case); anything else is 400."""
    if raw is None:
        return None
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ValidationFailed(f"{name} must be true or false.",
                           details=[{"field": name, "code": "invalid", "message": "true or false"}])
