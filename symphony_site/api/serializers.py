"""Serializer conventions shared by every API."""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field; see the API schema at /api/schema/."

# The JSON type each kind of field reads, so a request body is taken as its schema
# documents it: DRF alone turns 5 into "5" for a text field and "true" into True.
_JSON_TYPES: list[tuple[tuple[type[serializers.Field], ...], tuple[type, ...], str]] = [  # type: ignore[type-arg]
    ((serializers.BooleanField,), (bool,), "a boolean"),
    ((serializers.IntegerField,), (int,), "an integer"),
    ((serializers.FloatField, serializers.DecimalField), (int, float), "a number"),
    ((serializers.CharField, serializers.ChoiceField, serializers.UUIDField, serializers.DateTimeField,
      serializers.DateField), (str,), "a string"),
    ((serializers.ListField,), (list,), "an array"),
    ((serializers.DictField, serializers.Serializer), (dict,), "an object"),
]


def json_type_error(field: serializers.Field, value: Any) -> Any:  # type: ignore[type-arg]
    """What is wrong with `value`'s JSON type for `field` (nested for list items), or None."""
    if value is None:
        return None  # DRF answers null itself, by the field's allow_null
    declared = getattr(field, "json_type", None)  # a JSONField that documents one type
    if declared is not None:
        value_types, name = declared
        return None if isinstance(value, value_types) else [
            serializers.ErrorDetail(f"Expected {name}.", code="invalid")]
    for field_types, value_types, name in _JSON_TYPES:
        if isinstance(field, field_types):
            if not isinstance(value, value_types) or (bool not in value_types and isinstance(value, bool)):
                return [serializers.ErrorDetail(f"Expected {name}.", code="invalid")]
            break
    if isinstance(field, serializers.ListField):
        items = {index: error for index, item in enumerate(value)
                 if (error := json_type_error(field.child, item)) is not None}
        return items or None
    if isinstance(field, serializers.DictField):
        entries = {key: error for key, item in value.items()
                   if (error := json_type_error(field.child, item)) is not None}
        return entries or None
    return None


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A request body read as documented: unknown fields and values of the wrong JSON type are refused.

    Its schema says so too (`additionalProperties: false`, see StrictSerializerSchema).
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            errors: dict[str, Any] = {name: [UNKNOWN_FIELD] for name in sorted(set(data) - set(self.fields))}
            for name, field in self.fields.items():
                if name in data and not field.read_only:
                    error = json_type_error(field, data[name])
                    if error is not None:
                        errors[name] = error
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializerSchema(OpenApiSerializerExtension):
    """Request bodies of StrictSerializers are closed objects in the OpenAPI schema."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if schema.get("description") == inspect.getdoc(StrictSerializer):
            del schema["description"]  # inherited by a body without a docstring of its own
        if direction == "request":
            schema["additionalProperties"] = False
            fields = force_instance(self.target).fields
            for name, property_schema in schema.get("properties", {}).items():
                if name in fields:
                    _refuse_blank_in_schema(fields[name], property_schema)
        return schema


# The characters Python's str.strip() removes (DRF trims text with it), as a regular
# expression class that ECMA-262 (JSON Schema) and Python read alike; ECMA's \s differs.
WHITESPACE = ("[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029"
              "\\u202f\\u205f\\u3000]")
# DRF trims text before checking it is not blank, so "   " is refused like "": the schema says
# so with a pattern (some character that is not whitespace) next to the minLength it has.
NOT_BLANK = "[^" + WHITESPACE[1:]


def _refuse_blank_in_schema(field: serializers.Field, schema: dict[str, Any]) -> None:  # type: ignore[type-arg]
    if isinstance(field, serializers.ListField):
        if isinstance(schema.get("items"), dict):
            _refuse_blank_in_schema(field.child, schema["items"])
        return
    if (isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank
            and schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema):
        schema["pattern"] = NOT_BLANK


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The error shape, for the OpenAPI schema."""

    class ErrorBody(serializers.Serializer):  # type: ignore[type-arg]
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.JSONField()

    error = ErrorBody()


@extend_schema_field({"type": "object", "description": "A workflow document: the envelope "
                      "{schema_version, created_with, workflow} or the bare workflow object. See "
                      "workflow-format.md and GET /api/v1/workflows/schema/."})
class DocumentField(serializers.JSONField):
    """A workflow document in a request: a JSON object, validated by the document pipeline."""

    json_type = ((dict,), "an object")


@extend_schema_field({"type": "object"})
class ObjectField(serializers.JSONField):
    """A JSON object whose keys a service checks (inputs by input node id, mappings): the
    schema and the type check say "object", where a bare JSONField would take any value."""

    json_type = ((dict,), "an object")


@extend_schema_field({"type": "array", "items": {"type": "object"}})
class ObjectListField(serializers.JSONField):
    """A list of JSON objects that a service validates item by item (template parameters, examples)."""

    json_type = ((list,), "an array")


def page_of(item_serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:  # type: ignore[type-arg]
    """The schema of a keyset page: {"results": [...], "next": cursor or null}."""
    return inline_serializer(name=name, fields={
        "results": item_serializer(many=True),
        "next": serializers.CharField(allow_null=True, help_text="Cursor of the next page."),
    })
