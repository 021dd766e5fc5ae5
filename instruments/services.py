"""Every write of the instruments app: one function each, keyword-only, taking the acting
`Actor` and its `Origin`. Each checks permission, validates, writes in one transaction
and appends its audit entry inside it. Audit details name secrets, never hold values.

The worker's writes (`cache_store`, `call_record`) are records of what a model call
did, made by the system in the node's name: not user actions, so not audited (the
execution's own events say what ran).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import record_event
from instruments import crypto
from instruments.models import (
    PROVIDER_NAME_PATTERN,
    SECRET_NAME_PATTERN,
    CachedOutput,
    ModelCall,
    ModelPrice,
    Provider,
    Secret,
)
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, Forbidden, NotFound, ValidationFailed
from teams.access import require_role
from teams.models import Team
from teams.roles import Role

# A provider's bounds, which the API schema states too (instruments/api/serializers.py).
REQUEST_TIMEOUT_S = (0.1, 600)
MAX_RETRIES = (0, 10)

SECRET_VALUE_MAX_LENGTH = 10_000
PROVIDER_MODELS_MAX = 200
CAPABILITIES = ("chat", "embedding")
RESERVED_PROVIDERS = frozenset({"local"})


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message, "code": code}])


# ---------------------------------------------------------------------- secrets


def _check_secret_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(SECRET_NAME_PATTERN, name):
        raise _invalid("name", "A secret's name is a letter or _ followed by up to 63 letters, "
                               "digits or _ (it is written {{ secrets.NAME }} in node config).")
    return name


def _check_secret_value(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _invalid("value", "A secret needs a value (text).", "required")
    if len(value) > SECRET_VALUE_MAX_LENGTH:
        raise _invalid("value", f"A secret's value is at most {SECRET_VALUE_MAX_LENGTH} "
                                "characters.", "max_length")
    return value


def _require_admin(actor: Actor, team: Team, action: str) -> None:
    require_role(actor.user, team, Role.ADMIN, action=action)


def secret_create(*, actor: Actor, origin: Origin, team: Team, name: str, value: str) -> Secret:
    _require_admin(actor, team, "manage the team's secrets")
    name = _check_secret_name(name)
    value = _check_secret_value(value)
    ciphertext = crypto.encrypt(value)
    try:
        with transaction.atomic():
            secret = Secret.objects.create(team=team, name=name, ciphertext=ciphertext,
                                           created_by=actor.user)
            record_event(team=team, actor=actor, origin=origin, event_type="secret.created",
                         target_type="secret", target_id=str(secret.pk), target_name=name,
                         details={"name": name})
    except IntegrityError:
        raise Conflict(f"The team already has a secret named {name!r}; give it a new value "
                       "instead (PATCH).", code="secret_exists") from None
    return secret


def secret_rotate(*, actor: Actor, origin: Origin, team: Team, name: str, value: str) -> Secret:
    """Give a secret a new value; nodes read it from their next run on."""
    _require_admin(actor, team, "manage the team's secrets")
    value = _check_secret_value(value)
    ciphertext = crypto.encrypt(value)
    with transaction.atomic():
        # The row lock orders two rotations of one secret; the version says how many.
        secret = Secret.objects.select_for_update().filter(team=team, name=name).first()
        if secret is None:
            raise NotFound(f"The team has no secret named {name!r}.")
        secret.ciphertext = ciphertext
        secret.version += 1
        secret.rotated_at = timezone.now()
        secret.save(update_fields=["ciphertext", "version", "rotated_at"])
        record_event(team=team, actor=actor, origin=origin, event_type="secret.rotated",
                     target_type="secret", target_id=str(secret.pk), target_name=name,
                     details={"name": name, "version": secret.version})
    return secret


def secret_delete(*, actor: Actor, origin: Origin, team: Team, name: str) -> None:
    _require_admin(actor, team, "manage the team's secrets")
    with transaction.atomic():
        secret = Secret.objects.select_for_update().filter(team=team, name=name).first()
        if secret is None:
            raise NotFound(f"The team has no secret named {name!r}.")
        users = sorted(Provider.objects.filter(team=team, api_key_secret=name)
                       .values_list("name", flat=True))
        if users:
            raise Conflict(f"Secret {name!r} is the key of model provider(s) "
                           f"{', '.join(users)}; change or remove them first.",
                           code="secret_in_use", details=[{"provider": user} for user in users])
        secret_id = str(secret.pk)
        secret.delete()
        record_event(team=team, actor=actor, origin=origin, event_type="secret.deleted",
                     target_type="secret", target_id=secret_id, target_name=name,
                     details={"name": name})


def secrets_reencrypt(*, actor: Actor, origin: Origin, batch: int = 500) -> int:
    """Re-encrypt every secret under the first of SECRETS_KEYS; the count re-encrypted.

    Platform staff or the command line only (it reads every team's rows). Batches keep
    each transaction short; each row is locked while it is rewritten.
    """
    if actor.is_user and not getattr(actor.user, "is_staff", False):
        raise Forbidden("Only platform staff can re-encrypt every team's secrets.")
    done = 0
    last_id = None
    while True:
        with transaction.atomic():
            rows = Secret.objects.select_for_update().order_by("id")
            if last_id is not None:
                rows = rows.filter(id__gt=last_id)
            chunk = list(rows[:batch])
            for secret in chunk:
                secret.ciphertext = crypto.reencrypt(secret.ciphertext)
                secret.save(update_fields=["ciphertext"])
            if not chunk:
                break
            last_id = chunk[-1].id
            done += len(chunk)
    with transaction.atomic():
        record_event(team=None, actor=actor, origin=origin, event_type="secret.keys_rotated",
                     details={"secret_count": done})
    return done


# ---------------------------------------------------------------------- providers


def _check_provider_name(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(PROVIDER_NAME_PATTERN, name):
        raise _invalid("name", "A provider's name is lower-case letters, digits, - and _ "
                               "(at most 40), e.g. openai, ollama, vllm: model ids read "
                               "<name>/<model>.")
    if name in RESERVED_PROVIDERS:
        raise _invalid("name", "'local' is the platform's own models; choose another name.",
                       "reserved")
    return name


def _check_base_url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise _invalid("base_url", "The base URL is text of at most 2000 characters.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid("base_url", "The base URL is http:// or https:// with a host, e.g. "
                                   "https://api.openai.com/v1.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise _invalid("base_url", "The base URL carries no credentials, query or fragment: "
                                   "put the key in a team secret.")
    return value.rstrip("/")


def _check_key_secret(team: Team, value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not Secret.objects.filter(team=team, name=value).exists():
        raise _invalid("api_key_secret", f"The team has no secret named {value!r}; create it "
                                         "first, then name it here.", "unknown_secret")
    return value


def _check_models(value: Any) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > PROVIDER_MODELS_MAX:
        raise _invalid("models", f"models is a list of at most {PROVIDER_MODELS_MAX} entries.")
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for entry in value:
        if isinstance(entry, str):
            entry = {"name": entry, "capability": "chat"}
        if not isinstance(entry, dict) or set(entry) - {"name", "capability"}:
            raise _invalid("models", 'Each model is {"name": …, "capability": "chat" | '
                                     '"embedding"} or a name.')
        name, capability = entry.get("name"), entry.get("capability", "chat")
        if (not isinstance(name, str) or not name or len(name) > 200
                or any(character.isspace() for character in name)):
            raise _invalid("models", "A model name is 1 to 200 characters without spaces.")
        if capability not in CAPABILITIES:
            raise _invalid("models", f"A model's capability is one of {', '.join(CAPABILITIES)}.")
        if name in seen:
            raise _invalid("models", f"Model {name!r} is listed twice.")
        seen.add(name)
        cleaned.append({"name": name, "capability": capability})
    return cleaned


def _check_number(field: str, value: Any, low: float, high: float, *, integer: bool) -> Any:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise _invalid(field, f"{field} is a{'n integer' if integer else ' number'} from "
                              f"{low:g} to {high:g}.")
    return value


def _provider_fields(team: Team, fields: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "base_url" in fields:
        cleaned["base_url"] = _check_base_url(fields["base_url"])
    if "api_key_secret" in fields:
        cleaned["api_key_secret"] = _check_key_secret(team, fields["api_key_secret"])
    if "models" in fields:
        cleaned["offered_models"] = _check_models(fields["models"])
    if "request_timeout_s" in fields:
        cleaned["request_timeout_s"] = float(_check_number(
            "request_timeout_s", fields["request_timeout_s"], *REQUEST_TIMEOUT_S, integer=False))
    if "max_retries" in fields:
        cleaned["max_retries"] = _check_number("max_retries", fields["max_retries"], *MAX_RETRIES,
                                               integer=True)
    return cleaned


def _provider_summary(provider: Provider) -> dict[str, Any]:
    # `key_secret_name`: the audit log redacts fields named like keys; this one is a name.
    return {"name": provider.name, "base_url": provider.base_url,
            "key_secret_name": provider.api_key_secret,
            "models": [entry["name"] for entry in provider.offered_models],
            "request_timeout_s": provider.request_timeout_s, "max_retries": provider.max_retries}


def provider_create(*, actor: Actor, origin: Origin, team: Team, name: str,
                    fields: Mapping[str, Any]) -> Provider:
    _require_admin(actor, team, "manage the team's model providers")
    name = _check_provider_name(name)
    if "base_url" not in fields:
        raise _invalid("base_url", "A provider needs its base URL.", "required")
    cleaned = _provider_fields(team, fields)
    try:
        with transaction.atomic():
            provider = Provider.objects.create(team=team, name=name, created_by=actor.user,
                                               **cleaned)
            record_event(team=team, actor=actor, origin=origin, event_type="provider.created",
                         target_type="provider", target_id=str(provider.pk), target_name=name,
                         details=_provider_summary(provider))
    except IntegrityError:
        raise Conflict(f"The team already has a provider named {name!r}.",
                       code="provider_exists") from None
    return provider


def provider_update(*, actor: Actor, origin: Origin, team: Team, name: str,
                    fields: Mapping[str, Any]) -> Provider:
    _require_admin(actor, team, "manage the team's model providers")
    cleaned = _provider_fields(team, fields)
    with transaction.atomic():
        provider = Provider.objects.select_for_update().filter(team=team, name=name).first()
        if provider is None:
            raise NotFound(f"The team has no model provider named {name!r}.")
        before = _provider_summary(provider)
        for field, value in cleaned.items():
            setattr(provider, field, value)
        after = _provider_summary(provider)
        changes = {field: [before[field], after[field]] for field in after
                   if before[field] != after[field]}
        if not changes:
            return provider
        provider.save()
        record_event(team=team, actor=actor, origin=origin, event_type="provider.updated",
                     target_type="provider", target_id=str(provider.pk), target_name=name,
                     details={"changes": changes})
    return provider


def provider_delete(*, actor: Actor, origin: Origin, team: Team, name: str) -> None:
    _require_admin(actor, team, "manage the team's model providers")
    with transaction.atomic():
        provider = Provider.objects.select_for_update().filter(team=team, name=name).first()
        if provider is None:
            raise NotFound(f"The team has no model provider named {name!r}.")
        provider_id = str(provider.pk)
        provider.delete()
        record_event(team=team, actor=actor, origin=origin, event_type="provider.deleted",
                     target_type="provider", target_id=provider_id, target_name=name,
                     details={"name": name})


# ---------------------------------------------------------------------- prices


def _price(field: str, value: Any) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(field, f"{field} is a number of dollars per million tokens.") from None
    if not price.is_finite() or price < 0 or price >= Decimal("1000000"):
        raise _invalid(field, f"{field} is from 0 to 999999.")
    return price.quantize(Decimal("0.000001"))


def model_price_set(*, actor: Actor, origin: Origin, model_id: str, input_per_million: Any,
                    output_per_million: Any) -> ModelPrice:
    """Set a model's price (staff, from the Django admin or a command)."""
    if actor.is_user and not getattr(actor.user, "is_staff", False):
        raise Forbidden("Only platform staff can set model prices.")
    if not isinstance(model_id, str) or "/" not in model_id or len(model_id) > 240:
        raise _invalid("model_id", "A model id reads provider/model.")
    price_in = _price("input_per_million", input_per_million)
    price_out = _price("output_per_million", output_per_million)
    with transaction.atomic():
        price = ModelPrice.objects.select_for_update().filter(model_id=model_id).first()
        before = (None if price is None else
                  [str(price.input_per_million), str(price.output_per_million)])
        if price is None:
            price = ModelPrice(model_id=model_id)
        price.input_per_million, price.output_per_million = price_in, price_out
        price.save()
        record_event(team=None, actor=actor, origin=origin, event_type="model_price.changed",
                     target_type="model_price", target_id=model_id, target_name=model_id,
                     details={"model_id": model_id, "before": before,
                              "after": [str(price_in), str(price_out)]})
    return price


# ---------------------------------------------------------------------- worker records


def cache_store(*, team_id: Any, key: str, model_id: str, model_version: str,
                outputs: Mapping[str, Any], usage: Mapping[str, Any]) -> None:
    """Keep a model node's outputs. Two workers answering the same key at once both
    insert; the unique key keeps the first and the second changes nothing."""
    CachedOutput.objects.bulk_create(
        [CachedOutput(team_id=team_id, key=key, model_id=model_id, model_version=model_version,
                      outputs=dict(outputs), usage=dict(usage))],
        ignore_conflicts=True)


def cache_hit(*, entry_id: int) -> None:
    # A plain increment in one statement: hits counted by concurrent readers add up.
    CachedOutput.objects.filter(pk=entry_id).update(hits=F("hits") + 1,
                                                     last_hit_at=timezone.now())


def cache_expire(*, older_than: dt.datetime) -> int:
    deleted, _ = CachedOutput.objects.filter(created_at__lt=older_than).delete()
    return deleted


def call_record(*, team_id: Any, execution_id: Any, node_id: str,
                usage: Mapping[str, Any]) -> None:
    saved = usage.get("saved") or {}
    ModelCall.objects.create(
        team_id=team_id, execution_id=execution_id, node_id=node_id[:200],
        model_id=str(usage.get("model", ""))[:240], provider=str(usage.get("provider", ""))[:40],
        tokens_in=int(usage.get("tokens_in", 0)), tokens_out=int(usage.get("tokens_out", 0)),
        cost=Decimal(str(usage.get("cost", 0))),
        saved_cost=Decimal(str(saved.get("cost", 0))) if isinstance(saved, Mapping) else 0,
        duration_ms=int(usage.get("duration_ms", 0)), cached=bool(usage.get("cached")),
        priced=bool(usage.get("priced", True)), estimated=bool(usage.get("estimated")))
