"""Named validators a parameter definition can ask for, each as standard JSON Schema.

A named validator is a piece of standard JSON Schema 2020-12 (``pattern``,
``uniqueItems``, ``maxLength``) plus the message a person reads when a value
fails it. The compiled parameter schema carries each one in ``allOf``, so
any JSON Schema validator (a form library, a generated client) accepts
exactly the values the server accepts; the server checks values with that
same schema and nothing else. The names stay in the schema as the
``x-symphony-validators`` hint for the UI.

The patterns live in ``patterns``: written to mean the same in ECMA-262 and
Python's ``re``. Three validators were redefined to be expressible this way
(docs/spec-deviations.md): ``http_url`` is a pattern rather than "whatever
``urlsplit`` splits into an http(s) scheme and a host", and ``expression``
and ``template`` accept a regular part of the expression language (see
``patterns``) rather than everything the Jinja parser accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from templates_app.domain import patterns


@dataclass(frozen=True)
class NamedValidator:
    """Standard JSON Schema keywords, and what to tell a person whose value fails them."""

    schema: Mapping[str, Any]
    message: str


CUSTOM_VALIDATORS: dict[str, NamedValidator] = {
    "non_blank": NamedValidator({"pattern": patterns.NON_BLANK}, "must not be blank"),
    "slug": NamedValidator({"pattern": patterns.SLUG},
                           "must be lowercase letters, digits and single hyphens (a slug)"),
    "email": NamedValidator({"pattern": patterns.EMAIL}, "must be an email address"),
    "http_url": NamedValidator({"pattern": patterns.HTTP_URL},
                               "must be an http:// or https:// URL (no blanks or control characters)"),
    "language_code": NamedValidator({"pattern": patterns.LANGUAGE_CODE},
                                    "must be a language code such as en, pt-BR or zh-Hant"),
    "identifier": NamedValidator(
        {"pattern": patterns.IDENTIFIER},
        "must be an identifier (letters, digits, underscores; not starting with a digit)"),
    "expression": NamedValidator(
        {"maxLength": patterns.EXPRESSION_MAX_LENGTH, "pattern": patterns.EXPRESSION},
        "must be an expression over inputs, params, item, execution or secrets: paths, literals, "
        "filters, arithmetic, comparisons, tests, not/and/or and one level of parentheses"),
    "template": NamedValidator(
        {"maxLength": patterns.TEMPLATE_MAX_LENGTH, "pattern": patterns.TEMPLATE},
        "must be text whose only template syntax is {{ expression }} placeholders"),
    "unique_items": NamedValidator({"uniqueItems": True}, "must not repeat items"),
}


def register_validator(name: str, *, schema: Mapping[str, Any], message: str) -> None:
    """Add a validator (e.g. from another app at start-up); names are unique.

    ``schema`` must be standard JSON Schema: it is all the server checks.
    """
    if name in CUSTOM_VALIDATORS:
        raise ValueError(f"a custom validator named {name!r} already exists")
    CUSTOM_VALIDATORS[name] = NamedValidator(schema=dict(schema), message=message)
