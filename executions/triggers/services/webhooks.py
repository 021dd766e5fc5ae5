"""Webhooks: configuring a workflow's secret URL, and taking its deliveries.

A hook's URL carries a random token; only its SHA-256 digest is stored, so the URL is
shown once (at creation and at rotation). The signing secret is derived from the
server's key and a salt that rotation replaces (`domain.signatures`), never stored.

`receive_delivery` answers every call of the public URL in the API's error shape:
404 for a token that names no enabled hook (nothing else is said about it), 429 past
the hook's rate limit (counted in Redis, atomically), 413 past its body limit, 401 for
a missing, wrong or stale signature (counted, audited, never run), 400 for a body or
mapping that gives no valid inputs, 202 `{"execution": id}` once an execution started
(or was queued). The same `Idempotency-Key` again answers the first delivery's
execution: a unique constraint on accepted deliveries makes a concurrent duplicate wait
for the first and then find it. Every call of an existing hook is logged as a delivery.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from executions.engine.graphs import compiled
from executions.models import Trigger, Webhook, WebhookDelivery
from executions.triggers.domain import mapping as payload_mapping
from executions.triggers.domain import signatures
from executions.triggers.services.common import audit_trigger, start_triggered
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import ApiError, Conflict, ValidationFailed
from teams.access import require_role
from teams.roles import Role

logger = logging.getLogger(__name__)

HOOK = Actor.system("webhook")
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100
MAX_IDEMPOTENCY_KEY = 200
EDITABLE = ("name", "signature", "input_mapping", "rate_limit_per_minute", "max_body_bytes", "enabled")


@dataclass(frozen=True, slots=True)
class Issued:
    """A hook with the credentials shown once: the URL's token and the signing secret."""

    webhook: Webhook
    token: str
    signing_secret: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signing_secret_of(webhook: Webhook) -> str:
    return signatures.signing_secret(server_key=settings.SECRET_KEY, hook_id=str(webhook.pk),
                                     salt=webhook.signing_salt)


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field_name, "code": "invalid", "message": message}])


def _input_ids(workflow: Any) -> set[str]:
    graph = compiled(workflow.current_version_id)
    return {node_id for node_id, facts in graph.facts.items() if facts.kind == "input"}


def _checked(workflow: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Field values for the hook's row, from an API shape (`signature` as an object)."""
    row: dict[str, Any] = {}
    if "name" in values:
        row["name"] = (values["name"] or "").strip()[:200]
    if "enabled" in values:
        row["enabled"] = bool(values["enabled"])
    if "signature" in values:
        signature = values["signature"]
        if signature is None:
            row["signature_required"] = False
        else:
            if not isinstance(signature, dict):
                raise _invalid("signature", "signature is null or {header, algorithm, timestamp_header, "
                                            "tolerance_s}.")
            algorithm = signature.get("algorithm", "sha256")
            if algorithm not in signatures.ALGORITHMS:
                raise _invalid("signature.algorithm", "algorithm is sha256, sha384 or sha512.")
            row.update(signature_required=True, signature_algorithm=algorithm,
                       signature_header=_header(signature.get("header", "X-Symphony-Signature"), "signature.header"),
                       timestamp_header=_header(signature.get("timestamp_header", "X-Symphony-Timestamp"),
                                                "signature.timestamp_header"),
                       tolerance_s=_bounded(signature.get("tolerance_s", 300), "signature.tolerance_s", 1, 3600))
    if "input_mapping" in values:
        mapping = values["input_mapping"]
        if mapping is None or mapping == {}:
            row["input_mapping"] = None
        else:
            try:
                row["input_mapping"] = payload_mapping.check_mapping(mapping, _input_ids(workflow))
            except payload_mapping.MappingError as error:
                raise _invalid(error.field, error.message) from None
    if "rate_limit_per_minute" in values:
        row["rate_limit_per_minute"] = _bounded(values["rate_limit_per_minute"], "rate_limit_per_minute", 1,
                                                settings.TRIGGER_WEBHOOK_RATE_LIMIT_PER_MINUTE)
    if "max_body_bytes" in values:
        row["max_body_bytes"] = _bounded(values["max_body_bytes"], "max_body_bytes", 1,
                                         settings.TRIGGER_WEBHOOK_MAX_BODY_BYTES)
    return row


def _header(value: Any, field_name: str) -> str:
    # ASCII only, as HTTP header names are (and as the API schema's pattern says).
    if not isinstance(value, str) or signatures.HEADER_NAME.fullmatch(value) is None:
        raise _invalid(field_name, "a header name of letters, digits, - and _ (at most 100).")
    return value


def _bounded(value: Any, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(field_name, f"{field_name} is a whole number from {low} to {high}.")
    return value


def _writable(actor: Actor, workflow: Any) -> None:
    require_role(actor.user, workflow.team, Role.EDITOR, action="manage webhooks")
    if workflow.is_archived:
        raise Conflict("This workflow is archived; archived workflows cannot take webhooks.")


def _public(webhook: Webhook) -> dict[str, Any]:
    """What the audit log may hold about a hook: never its token or secret."""
    return {"workflow": str(webhook.workflow_id), "token_hint": webhook.token_hint,
            "signature": ({"header": webhook.signature_header, "algorithm": webhook.signature_algorithm,
                           "timestamp_header": webhook.timestamp_header, "tolerance_s": webhook.tolerance_s}
                          if webhook.signature_required else None),
            "input_mapping": sorted(webhook.input_mapping or {}), "enabled": webhook.enabled,
            "rate_limit_per_minute": webhook.rate_limit_per_minute, "max_body_bytes": webhook.max_body_bytes}


def webhook_create(*, actor: Actor, origin: Origin, workflow: Any, **values: Any) -> Issued:
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise _invalid(unknown[0], f"{unknown[0]} is not a webhook field.")
    _writable(actor, workflow)
    row = {"rate_limit_per_minute": settings.TRIGGER_WEBHOOK_RATE_LIMIT_PER_MINUTE,
           "max_body_bytes": min(256 * 1024, settings.TRIGGER_WEBHOOK_MAX_BODY_BYTES), **_checked(workflow, values)}
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            team_id=workflow.team_id, workflow=workflow, token_digest=digest(token), token_hint=token[:6],
            signing_salt=secrets.token_hex(16), created_by=actor.user, created_at=timezone.now(), **row)
        audit_trigger(actor=actor, origin=origin, team_id=workflow.team_id, event_type="webhook.created",
                      target_type="webhook", target_id=webhook.pk, workflow_name=workflow.name,
                      details=_public(webhook))
    return Issued(webhook=webhook, token=token, signing_secret=signing_secret_of(webhook))


def webhook_update(*, actor: Actor, origin: Origin, webhook: Webhook, **values: Any) -> Webhook:
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise _invalid(unknown[0], f"{unknown[0]} is not a webhook field.")
    _writable(actor, webhook.workflow)
    row = _checked(webhook.workflow, values)
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
        before = _public(locked)
        for name, value in row.items():
            setattr(locked, name, value)
        after = _public(locked)
        changed = {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}
        if not changed:
            return locked
        locked.save()
        audit_trigger(actor=actor, origin=origin, team_id=locked.team_id, event_type="webhook.updated",
                      target_type="webhook", target_id=locked.pk, workflow_name=webhook.workflow.name,
                      details={"workflow": str(locked.workflow_id), "changed": changed})
    return locked


def webhook_rotate(*, actor: Actor, origin: Origin, webhook: Webhook) -> Issued:
    """A new URL token and signing secret; the old ones stop working at commit."""
    require_role(actor.user, webhook.workflow.team, Role.EDITOR, action="manage webhooks")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
        locked.token_digest, locked.token_hint = digest(token), token[:6]
        locked.signing_salt, locked.rotated_at = secrets.token_hex(16), timezone.now()
        locked.save(update_fields=["token_digest", "token_hint", "signing_salt", "rotated_at"])
        audit_trigger(actor=actor, origin=origin, team_id=locked.team_id, event_type="webhook.rotated",
                      target_type="webhook", target_id=locked.pk, workflow_name=webhook.workflow.name,
                      details={"workflow": str(locked.workflow_id), "previous_token_hint": webhook.token_hint,
                               "token_hint": locked.token_hint})
    return Issued(webhook=locked, token=token, signing_secret=signing_secret_of(locked))


def webhook_delete(*, actor: Actor, origin: Origin, webhook: Webhook) -> None:
    require_role(actor.user, webhook.workflow.team, Role.EDITOR, action="manage webhooks")
    with transaction.atomic():
        deleted, _ = Webhook.objects.filter(pk=webhook.pk).delete()
        if deleted:
            audit_trigger(actor=actor, origin=origin, team_id=webhook.team_id, event_type="webhook.deleted",
                          target_type="webhook", target_id=webhook.pk, workflow_name=webhook.workflow.name,
                          details={"workflow": str(webhook.workflow_id), "token_hint": webhook.token_hint})


# --- deliveries ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One call of a hook's URL, as the adapter read it (no HTTP request object)."""

    token: str
    body: bytes
    content_length: int
    content_type: str
    headers: dict[str, str]  # lower-cased names
    query: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: str, message: str, details: Any = None,
           headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"error": {"code": code, "message": message, "details": details or []}}, headers or {})


NOT_FOUND = _error(404, "not_found", "Not found.")


@lru_cache(maxsize=1)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def within_rate(webhook: Webhook) -> tuple[bool, int]:
    """Count this call in the hook's current one-minute window (INCR and EXPIRE in one MULTI,
    so every web process shares one count); (allowed, seconds until the window ends)."""
    now = time.time()
    window = int(now // 60)
    key = f"symphony:hook-rate:{webhook.pk}:{window}"
    try:
        pipeline = _redis(settings.REDIS_URL).pipeline(transaction=True)
        pipeline.incr(key)
        pipeline.expire(key, 120)
        count = int(pipeline.execute()[0])
    except redis.RedisError:
        # Redis is transport; Postgres is the record. A hook keeps working while it is away.
        logger.warning("Webhook rate limit not counted: Redis unavailable")
        return True, 0
    return count <= webhook.rate_limit_per_minute, int(60 - now % 60) + 1


def receive_delivery(*, actor: Actor, origin: Origin, delivery: Delivery) -> Answer:
    """Take one call of a hook's public URL (see the module docstring for every answer)."""
    token = delivery.token
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return NOT_FOUND
    webhook = Webhook.objects.select_related("workflow").filter(token_digest=digest(token)).first()
    if webhook is None or not webhook.enabled:
        return NOT_FOUND
    log = _Log(webhook=webhook, origin=origin, delivery=delivery)
    allowed, retry_after = within_rate(webhook)
    if not allowed:
        return log.refuse(_error(429, "rate_limited", f"This hook takes at most {webhook.rate_limit_per_minute} "
                                 "calls a minute.", [{"retry_after_seconds": retry_after}],
                                 {"Retry-After": str(retry_after)}))
    size = max(delivery.content_length, len(delivery.body))
    if size > webhook.max_body_bytes:
        return log.refuse(_error(413, "too_large", f"The body is {size} bytes; this hook takes at most "
                                 f"{webhook.max_body_bytes}.", [{"limit_bytes": webhook.max_body_bytes}]))
    if webhook.signature_required:
        refusal = signatures.check(
            rule=signatures.SignatureRule(header=webhook.signature_header, algorithm=webhook.signature_algorithm,
                                          timestamp_header=webhook.timestamp_header,
                                          tolerance_s=webhook.tolerance_s),
            secret=signing_secret_of(webhook), headers=delivery.headers, body=delivery.body, now=time.time())
        if refusal is not None:
            return log.bad_signature(actor, refusal)
    key = delivery.headers.get("idempotency-key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        return log.refuse(_error(400, "validation_failed", f"Idempotency-Key is at most {MAX_IDEMPOTENCY_KEY} "
                                 "printable characters."))
    if key:
        first = _accepted(webhook, key)
        if first is not None:
            return log.replayed(key, first)
    if delivery.content_type and "json" not in delivery.content_type.lower():
        return log.refuse(_error(415, "unsupported_media_type", "The body must be JSON "
                                 "(Content-Type: application/json)."))
    try:
        body = orjson.loads(delivery.body) if delivery.body.strip() else None
    except orjson.JSONDecodeError as error:
        return log.refuse(_error(400, "parse_error", f"The body is not JSON: {error}"))
    try:
        inputs = payload_mapping.apply_mapping(webhook.input_mapping, body=body, headers=delivery.headers,
                                               query=delivery.query)
    except payload_mapping.MappingError as error:
        return log.refuse(_error(400, "validation_failed", error.message,
                                 [{"field": error.field, "code": "invalid", "message": error.message}]))
    return log.start(actor, key, inputs)


def _accepted(webhook: Webhook, key: str) -> Any:
    return (WebhookDelivery.objects.filter(webhook=webhook, idempotency_key=key, status="accepted")
            .values_list("execution_id", flat=True).first())


@dataclass
class _Log:
    webhook: Webhook
    origin: Origin
    delivery: Delivery

    def _row(self, answer: Answer, status: str, *, key: str = "", execution_id: Any = None) -> WebhookDelivery:
        error = answer.body.get("error") or {}
        return WebhookDelivery.objects.create(
            webhook=self.webhook, team_id=self.webhook.team_id, received_at=timezone.now(), status=status,
            http_status=answer.status, reason_code=error.get("code", ""), reason=str(error.get("message", ""))[:500],
            idempotency_key=key, execution_id=execution_id, body_bytes=len(self.delivery.body),
            remote_address=self.origin.ip_address)

    def refuse(self, answer: Answer) -> Answer:
        self._row(answer, "rejected")
        return answer

    def replayed(self, key: str, execution_id: Any) -> Answer:
        answer = Answer(202, {"execution": str(execution_id)}, {"Idempotent-Replayed": "true"})
        self._row(answer, "replayed", key=key, execution_id=execution_id)
        return answer

    def bad_signature(self, actor: Actor, refusal: signatures.Refusal) -> Answer:
        answer = _error(401, refusal.code, refusal.message)
        with transaction.atomic():
            self._row(answer, "rejected")
            Webhook.objects.filter(pk=self.webhook.pk).update(bad_signature_count=F("bad_signature_count") + 1)
            audit_trigger(actor=actor, origin=self.origin, team_id=self.webhook.team_id,
                          event_type="webhook.signature_rejected", target_type="webhook",
                          target_id=self.webhook.pk, workflow_name=self.webhook.workflow.name,
                          reason=refusal.message, details={"workflow": str(self.webhook.workflow_id),
                                                           "code": refusal.code})
        return answer

    def start(self, actor: Actor, key: str, inputs: dict[str, Any]) -> Answer:
        try:
            with transaction.atomic():
                # The accepted row first: it holds the idempotency key, so a concurrent duplicate
                # waits here for this transaction and then finds its execution.
                row = self._row(Answer(202, {}), "accepted", key=key)
                execution = start_triggered(actor=actor, origin=self.origin, workflow=self.webhook.workflow,
                                            inputs=inputs, trigger=Trigger.WEBHOOK,
                                            context={"webhook": self.webhook})
                WebhookDelivery.objects.filter(pk=row.pk).update(execution=execution)
        except IntegrityError:
            first = _accepted(self.webhook, key)
            if first is None:
                raise
            return self.replayed(key, first)
        except ApiError as error:
            return self.refuse(_error(error.status_code, error.error_code, error.message, error.details))
        return Answer(202, {"execution": str(execution.pk)})

