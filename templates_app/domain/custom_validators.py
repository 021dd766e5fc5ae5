"""Named custom validators a parameter definition can ask for.

Each takes the value (already of the right JSON type) and returns None when
it is fine, or a message saying what is wrong. They run as the JSON Schema
keyword ``x-symphony-validators``, so the schema served to clients names
them (a client may implement them or leave them to the server).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from workflows.domain.expressions import check_expression, check_template

CustomValidator = Callable[[Any], "str | None"]

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2}|-[A-Z][a-z]{3})?$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _non_blank(value: Any) -> str | None:
    if isinstance(value, str) and not value.strip():
        return "must not be blank"
    return None


def _slug(value: Any) -> str | None:
    if isinstance(value, str) and not _SLUG.match(value):
        return "must be lowercase letters, digits and single hyphens (a slug)"
    return None


def _email(value: Any) -> str | None:
    if isinstance(value, str) and not _EMAIL.match(value):
        return "must be an email address"
    return None


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return "must be an http:// or https:// URL"
    return None


def _language_code(value: Any) -> str | None:
    if isinstance(value, str) and not _LANGUAGE.match(value):
        return "must be a language code such as en, pt-BR or zh-Hant"
    return None


def _identifier(value: Any) -> str | None:
    if isinstance(value, str) and not _IDENTIFIER.match(value):
        return "must be an identifier (letters, digits, underscores; not starting with a digit)"
    return None


def _expression(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    problem = check_expression(value)
    return None if problem is None else f"is not a valid expression: {problem.message}"


def _template(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    problem = check_template(value)
    return None if problem is None else f"is not a valid template: {problem.message}"


def _unique_items(value: Any) -> str | None:
    if isinstance(value, list):
        seen: list[Any] = []
        for item in value:
            if item in seen:
                return "must not repeat items"
            seen.append(item)
    return None


CUSTOM_VALIDATORS: dict[str, CustomValidator] = {
    "non_blank": _non_blank,
    "slug": _slug,
    "email": _email,
    "http_url": _http_url,
    "language_code": _language_code,
    "identifier": _identifier,
    "expression": _expression,
    "template": _template,
    "unique_items": _unique_items,
}


def register_validator(name: str, validator: CustomValidator) -> None:
    """Add a validator (e.g. from another app at start-up); names are unique."""
    if name in CUSTOM_VALIDATORS:
        raise ValueError(f"a custom validator named {name!r} already exists")
    CUSTOM_VALIDATORS[name] = validator
