"""What the engine's worker adds to a node run's context for instruments (issue 13).

`node_context_fields(team_id=…, execution_id=…, node=…)` is the one call the engine
makes when it builds a `NodeContext`; it answers the keyword arguments to add:

* `secrets` — the team secrets the node's config names (`{{ secrets.NAME }}`, in loop
  bodies too), decrypted here, in the worker, and nowhere else; plus, for nodes that
  call a model, the key of each team provider (so an answer quoting it is masked);
* `providers` — for model nodes, the team's providers as `ProviderEndpoint`s with
  their keys;
* `model_services` — the output cache, prices and call records over PostgreSQL.

Nothing here is written to the node run: `registry.run_node` masks the secrets in
whatever the node produces before the engine records it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from executions.runtime.providers.base import CachedAnswer, Price, ProviderEndpoint
from instruments import crypto, selectors, services
from instruments.models import CachedOutput, Provider, Secret
from workflows.catalog import SEMANTIC_OPERATORS
from workflows.domain import ControlNode, InstrumentNode, Node, OperatorNode, Workflow

SECRET_REFERENCE = re.compile(r"secrets\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)"
                              r"|secrets\s*\[\s*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]\s*\]")
_EMBEDDING_OPERATORS = frozenset(definition.type_name for definition in SEMANTIC_OPERATORS)
# How deep loop bodies are followed for the secrets they name (the runtime's own cap).
MAX_BODY_DEPTH = 8


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _node_texts(node: Node) -> Iterable[str]:
    yield from _strings(getattr(node, "config", None) or {})
    for field in ("condition", "over"):
        text = getattr(node, field, None)
        if isinstance(text, str):
            yield text


def secret_names(node: Node, resolve_workflow: Callable[[str], Workflow] | None = None,
                 *, depth: int = 0) -> set[str]:
    """The secret names a node (and the bodies a loop runs) refers to."""
    names = {match.group(1) or match.group(2)
             for text in _node_texts(node) for match in SECRET_REFERENCE.finditer(text)}
    body = getattr(node, "body", None)
    if (isinstance(node, ControlNode) and body and resolve_workflow is not None
            and depth < MAX_BODY_DEPTH):
        try:
            workflow = resolve_workflow(body)
        except Exception:  # an unresolvable body fails when the loop runs
            return names
        for inner in workflow.nodes.values():
            names |= secret_names(inner, resolve_workflow, depth=depth + 1)
    return names


def calls_models(node: Node, resolve_workflow: Callable[[str], Workflow] | None = None,
                 *, depth: int = 0) -> bool:
    if isinstance(node, InstrumentNode):
        return True
    if isinstance(node, OperatorNode) and node.operator in _EMBEDDING_OPERATORS:
        return True
    body = getattr(node, "body", None)
    if isinstance(node, ControlNode) and body and resolve_workflow is not None \
            and depth < MAX_BODY_DEPTH:
        try:
            workflow = resolve_workflow(body)
        except Exception:
            return False
        return any(calls_models(inner, resolve_workflow, depth=depth + 1)
                   for inner in workflow.nodes.values())
    return False


def team_secrets(team_id: Any, names: Iterable[str]) -> dict[str, str]:
    """The named secrets of a team, decrypted (names the team lacks are left out: the
    template that reads one fails with a clear message)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = Secret.objects.filter(team_id=team_id, name__in=wanted).values_list("name",
                                                                            "ciphertext")
    return {name: crypto.decrypt(ciphertext) for name, ciphertext in rows}


def team_endpoints(team_id: Any, keys: Mapping[str, str]) -> dict[str, ProviderEndpoint]:
    allowed = frozenset(settings.MODEL_PROVIDER_ALLOWED_HOSTS)
    endpoints = {}
    for provider in Provider.objects.filter(team_id=team_id):
        endpoints[provider.name] = ProviderEndpoint(
            name=provider.name, base_url=provider.base_url,
            api_key=keys.get(provider.api_key_secret) if provider.api_key_secret else None,
            request_timeout_s=provider.request_timeout_s, max_retries=provider.max_retries,
            models=tuple(entry["name"] for entry in provider.offered_models), allowed_hosts=allowed)
    return endpoints


class PostgresModelServices:
    """ModelServices for one node run: the team's output cache, prices, call records."""

    def __init__(self, *, team_id: Any, execution_id: Any, node_id: str) -> None:
        self.team_id = team_id
        self.execution_id = execution_id
        self.node_id = node_id
        self._prices: dict[str, Price] | None = None

    def cached(self, key: str) -> CachedAnswer | None:
        fresh_after = timezone.now() - dt.timedelta(days=settings.MODEL_CACHE_TTL_DAYS)
        row = (CachedOutput.objects.filter(team_id=self.team_id, key=key,
                                           created_at__gte=fresh_after)
               .values("id", "outputs", "usage").first())
        if row is None:
            return None
        services.cache_hit(entry_id=row["id"])
        return CachedAnswer(outputs=row["outputs"], usage=row["usage"])

    def remember(self, key: str, *, model_id: str, model_version: str,
                 outputs: Mapping[str, Any], usage: Mapping[str, Any]) -> None:
        services.cache_store(team_id=self.team_id, key=key, model_id=model_id,
                             model_version=model_version, outputs=outputs, usage=usage)

    def price(self, model_id: str) -> Price | None:
        if self._prices is None:
            self._prices = selectors.price_table()
        return self._prices.get(model_id)

    def record_call(self, usage: Mapping[str, Any]) -> None:
        services.call_record(team_id=self.team_id, execution_id=self.execution_id,
                             node_id=self.node_id, usage=usage)


def node_context_fields(*, team_id: Any, execution_id: Any, node: Node,
                        resolve_workflow: Callable[[str], Workflow] | None = None
                        ) -> dict[str, Any]:
    """The NodeContext keyword arguments instruments need for this node run."""
    names = secret_names(node, resolve_workflow)
    if not calls_models(node, resolve_workflow):
        return {"secrets": team_secrets(team_id, names)}
    key_names = set(Provider.objects.filter(team_id=team_id).exclude(api_key_secret="")
                    .values_list("api_key_secret", flat=True))
    secrets = team_secrets(team_id, names | key_names)
    return {"secrets": secrets, "providers": team_endpoints(team_id, secrets),
            "model_services": PostgresModelServices(team_id=team_id, execution_id=execution_id,
                                                    node_id=node.id)}
