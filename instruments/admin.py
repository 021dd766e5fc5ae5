"""Admin for instruments. Model prices are edited here (through `model_price_set`, audited);
everything else is read-only, and a secret's value is never shown — not even its
ciphertext."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from instruments import services
from instruments.models import CachedOutput, ModelCall, ModelPrice, Provider, Secret
from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, admin_origin


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """US dollars per million tokens. A row here overrides the MODEL_PRICES setting."""

    list_display = ["model_id", "input_per_million", "output_per_million", "updated_at"]
    search_fields = ["model_id"]
    fields = ["model_id", "input_per_million", "output_per_million"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["model_id"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: ModelPrice, form: Any, change: bool) -> None:
        try:
            saved = services.model_price_set(
                actor=actor_from_request(request), origin=admin_origin(request),
                model_id=obj.model_id, input_per_million=obj.input_per_million,
                output_per_million=obj.output_per_million)
        except ApiError as error:
            messages.error(request, error.message)
            return
        obj.pk = saved.pk


@admin.register(Secret)
class SecretAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "version", "created_by", "created_at", "rotated_at"]
    list_filter = ["team"]
    search_fields = ["name", "team__name"]
    fields = ["name", "team", "version", "created_by", "created_at", "rotated_at"]


@admin.register(Provider)
class ProviderAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "base_url", "api_key_secret", "updated_at"]
    list_filter = ["team"]
    search_fields = ["name", "team__name", "base_url"]


@admin.register(CachedOutput)
class CachedOutputAdmin(ReadOnlyAdmin):
    list_display = ["model_id", "team", "hits", "created_at", "last_hit_at"]
    list_filter = ["model_id"]
    search_fields = ["key", "model_id"]


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin):
    list_display = ["model_id", "team", "tokens_in", "tokens_out", "cost", "cached",
                    "duration_ms", "created_at"]
    list_filter = ["cached", "model_id"]
    search_fields = ["model_id", "node_id", "execution_id"]
