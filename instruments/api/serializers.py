"""Instruments API shapes. A secret's value goes in (create, PATCH) and never comes out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from instruments.models import PROVIDER_NAME_PATTERN, SECRET_NAME_PATTERN, Provider, Secret
from instruments.services import MAX_RETRIES, REQUEST_TIMEOUT_S
from symphony_site.api.serializers import StrictSerializer


class SecretSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A secret as the API shows it: its name and history, never its value."""

    created_by = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField(help_text="How node config refers to it.")

    class Meta:
        model = Secret
        fields = ["name", "reference", "version", "created_by", "created_at", "rotated_at"]

    def get_created_by(self, secret: Secret) -> str | None:
        return secret.created_by.get_username() if secret.created_by else None

    def get_reference(self, secret: Secret) -> str:
        return "{{ secrets." + secret.name + " }}"


# The names' patterns go in the schema; the services check them, with their own messages.
@extend_schema_field({"type": "string", "pattern": SECRET_NAME_PATTERN, "maxLength": 64})
class SecretNameField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": PROVIDER_NAME_PATTERN, "maxLength": 40})
class ProviderNameField(serializers.CharField):
    pass


class SecretCreateSerializer(StrictSerializer):
    name = SecretNameField(max_length=64)
    value = serializers.CharField(max_length=10_000, trim_whitespace=False, write_only=True)


class SecretUpdateSerializer(StrictSerializer):
    value = serializers.CharField(max_length=10_000, trim_whitespace=False, write_only=True)


class ProviderModelSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    capability = serializers.ChoiceField(choices=["chat", "embedding"])


class ProviderSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    models = ProviderModelSerializer(many=True, source="offered_models")

    class Meta:
        model = Provider
        fields = ["name", "base_url", "api_key_secret", "models", "request_timeout_s",
                  "max_retries", "created_at", "updated_at"]


class ProviderWriteSerializer(StrictSerializer):
    """Shape only; the service checks values (base URL, secret name, model list)."""

    name = ProviderNameField(max_length=40, required=False)
    base_url = serializers.CharField(max_length=2000, required=False)
    api_key_secret = serializers.CharField(max_length=64, required=False, allow_blank=True)
    models = serializers.JSONField(required=False, help_text='[{"name": "llama3.2", '
                                   '"capability": "chat"}] or ["llama3.2"]; empty: any model.')
    # The service's bounds, stated in the schema so that a client knows them before it is refused.
    request_timeout_s = serializers.FloatField(required=False, min_value=REQUEST_TIMEOUT_S[0],
                                               max_value=REQUEST_TIMEOUT_S[1])
    max_retries = serializers.IntegerField(required=False, min_value=MAX_RETRIES[0], max_value=MAX_RETRIES[1])


class ProviderUpdateSerializer(ProviderWriteSerializer):
    """PATCH's documented body: a provider's name cannot change (the view refuses it)."""

    name = None  # type: ignore[assignment]


class PriceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    input_per_million = serializers.FloatField()
    output_per_million = serializers.FloatField()
    currency = serializers.CharField()


class ModelEntrySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One model a team can use now."""

    model_id = serializers.CharField(help_text="provider/model, as an instrument's model_id or "
                                               "an embedding operator's config `model`.")
    provider = serializers.CharField()
    capability = serializers.ChoiceField(choices=["chat", "embedding"])
    local = serializers.BooleanField(help_text="Runs in the worker: offline, no cost.")
    title = serializers.CharField()
    description = serializers.CharField()
    instrument = serializers.BooleanField(help_text="Usable as an instrument node's model_id.")
    operators = serializers.ListField(child=serializers.CharField(),
                                      help_text="Operators that take it as config `model`.")
    config_schema = serializers.JSONField(allow_null=True)
    example_config = serializers.JSONField(allow_null=True)
    inputs = serializers.JSONField()
    outputs = serializers.JSONField()
    price = PriceSerializer(allow_null=True)


class ModelPageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = ModelEntrySerializer(many=True)
    next = serializers.CharField(allow_null=True)


class UsageDaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField()
    calls = serializers.IntegerField()
    cached = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost = serializers.FloatField()
    saved = serializers.FloatField()


class UsageModelSerializer(serializers.Serializer):  # type: ignore[type-arg]
    model = serializers.CharField()
    calls = serializers.IntegerField()
    cached = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost = serializers.FloatField()
    saved = serializers.FloatField()
    unpriced_calls = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    days = serializers.IntegerField()
    currency = serializers.CharField()
    by_day = UsageDaySerializer(many=True)
    by_model = UsageModelSerializer(many=True)
    total = serializers.DictField()


def usage_total(by_model: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: (round(sum(row[name] for row in by_model), 8) if name in ("cost", "saved")
                   else sum(row[name] for row in by_model))
            for name in ("calls", "cached", "tokens_in", "tokens_out", "cost", "saved")}
