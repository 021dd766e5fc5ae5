"""Which service answers a model id, for one node run.

`local/…` is answered in the worker. Any other `provider/model` goes to the team's
endpoint of that name (`NodeContext.providers`), unless the node's own config names
a `base_url` (and optionally an `api_key`, which the catalog only accepts as a
`{{ secrets.NAME }}` reference). A node that brings its own URL never receives the
team's key — otherwise an editor could send the team's key to a server of their
choosing — and its host is checked like `http_request`'s (HTTP_REQUEST_ALLOWED_HOSTS),
while team endpoints are checked against MODEL_PROVIDER_ALLOWED_HOSTS.

The name sent to the service is the part after the slash, with a few catalog
models mapped to their service names (`REMOTE_NAMES`); a node's `model_version`
pins a dated version (`gpt-4o` + `2024-08-06` → `gpt-4o-2024-08-06`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from executions.runtime.config import config_text, config_value, invalid_config, node_config
from executions.runtime.contract import NodeContext, NodeFailure
from executions.runtime.providers import base, local
from executions.runtime.providers.base import ModelRef, ProviderEndpoint, parse_model_id
from executions.runtime.providers.openai_compatible import OpenAICompatible

# Catalog models whose service knows them by another name.
REMOTE_NAMES = {
    "anthropic/claude-3-5-haiku": "claude-3-5-haiku-latest",
}
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_RETRIES = 2


@dataclass(frozen=True, kw_only=True)
class Route:
    """How one node reaches its model."""

    ref: ModelRef
    remote_model: str
    model_version: str
    # What identifies the service for the output cache (never the key).
    identity: str
    endpoint: ProviderEndpoint | None = None

    @property
    def provider(self) -> str:
        return self.ref.provider


def unavailable(context: NodeContext, model_id: str, reason: str) -> NodeFailure:
    return NodeFailure(
        f"Node {context.node.id!r} uses model {model_id!r}, but {reason}",
        code=base.MODEL_UNAVAILABLE, retryable=False,
        details={"node_id": context.node.id, "model_id": model_id})


def _number(context: NodeContext, key: str, default: float, *, integer: bool = False) -> Any:
    value = config_value(context, key, None)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid_config(context, key, "must be a number of 0 or more.")
    return int(value) if integer else float(value)


def _node_endpoint(context: NodeContext, ref: ModelRef, team: ProviderEndpoint | None
                   ) -> ProviderEndpoint | None:
    config = node_config(context)
    base_url = config_text(context, "base_url") if config.get("base_url") else ""
    timeout = _number(context, "request_timeout_s",
                      team.request_timeout_s if team else DEFAULT_TIMEOUT_S)
    retries = _number(context, "max_retries", team.max_retries if team else DEFAULT_RETRIES,
                      integer=True)
    if base_url:
        api_key = config_text(context, "api_key") if config.get("api_key") else ""
        return ProviderEndpoint(name=ref.provider, base_url=base_url, api_key=api_key or None,
                                request_timeout_s=timeout, max_retries=retries,
                                allowed_hosts=context.allowed_hosts)
    if team is None:
        return None
    return replace(team, request_timeout_s=timeout, max_retries=retries)


def route(context: NodeContext, model_id: str, *, capability: str) -> Route:
    """Where `model_id` runs for this node, or NodeFailure(`model_unavailable`)."""
    ref = parse_model_id(model_id)
    if ref is None:
        raise unavailable(context, model_id, "a model id must read `provider/model`.")
    node_version = str(getattr(context.node, "model_version", None) or "")
    if ref.is_local:
        entry = local.LOCAL_MODELS.get(ref.model)
        if entry is None or entry.capability != capability:
            raise unavailable(context, model_id, f"there is no local {capability} model of "
                              "that name.")
        version = local.model_version(ref.model)
        return Route(ref=ref, remote_model=ref.model, model_version=version,
                     identity=f"local|{version}")
    team = context.providers.get(ref.provider)
    endpoint = _node_endpoint(context, ref, team)
    if endpoint is None:
        raise unavailable(context, model_id, f"provider {ref.provider!r} is not configured for "
                          "this team. An admin can add it on the team page (Models) or with "
                          "POST /api/v1/teams/{id}/providers/; local models (local/echo, "
                          "local/all-minilm-l6-v2) need none.")
    remote = REMOTE_NAMES.get(model_id, ref.model)
    if node_version:
        remote = f"{ref.model}-{node_version}"
    if team is not None and endpoint.base_url == team.base_url and not team.offers(ref.model):
        raise unavailable(context, model_id, f"provider {ref.provider!r} of this team does not "
                          f"offer {ref.model!r} (it offers: {', '.join(team.models)}).")
    return Route(ref=ref, remote_model=remote, model_version=node_version,
                 identity=endpoint.identity, endpoint=endpoint)


def chat_client(context: NodeContext, chosen: Route) -> OpenAICompatible:
    if chosen.endpoint is None:
        raise unavailable(context, chosen.ref.model_id, "it is not a chat model.")
    return OpenAICompatible(chosen.endpoint)


def embedding_client(chosen: Route) -> OpenAICompatible | local.LocalEmbeddings:
    if chosen.endpoint is None:
        return local.LocalEmbeddings()
    return OpenAICompatible(chosen.endpoint)

