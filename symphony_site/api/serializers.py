"""Serializer conventions shared by every API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A serializer that refuses fields it does not know, instead of ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field; see the API schema at /api/schema/."] for name in unknown}
                )
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The error shape, for the OpenAPI schema."""

    class ErrorBody(serializers.Serializer):  # type: ignore[type-arg]
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.JSONField()

    error = ErrorBody()
