"""Before an execution starts: can every model node of the workflow run for this team?

`model_problems(team, workflow)` lists each node whose model cannot run — a local
model that does not exist, a provider the team has not configured, a model the
team's provider does not offer — and `require_models_available` refuses the start
with 409 `model_unavailable` naming every one, so nothing is queued that would fail
on its first model call. Loop bodies are checked when the loop runs (the same
message, as a node failure).
"""

from __future__ import annotations

from typing import Any

from executions.runtime.providers.base import parse_model_id
from executions.runtime.providers.local import LOCAL_MODELS
from instruments.models import Provider
from symphony_site.api.errors import Conflict
from teams.models import Team
from workflows.catalog import LOCAL_EMBEDDING_MODEL, SEMANTIC_OPERATORS, builtin_catalog
from workflows.domain import InstrumentNode, OperatorNode, Workflow

_EMBEDDING_OPERATORS = frozenset(definition.type_name for definition in SEMANTIC_OPERATORS)


def capability_of(model_id: str) -> str:
    """`embedding` for catalog models whose one output is an embedding, else `chat`."""
    definition = builtin_catalog().get("instrument", model_id)
    names = [port.name for port in definition.outputs] if definition is not None else []
    return "embedding" if names == ["embedding"] else "chat"


def models_used(workflow: Workflow) -> list[tuple[str, str, str, bool]]:
    """(node id, model id, capability, has its own base_url) of every model node."""
    used = []
    for node in workflow.nodes.values():
        if not node.enabled:
            continue
        if isinstance(node, InstrumentNode):
            config = node.config or {}
            used.append((node.id, node.model_id, capability_of(node.model_id),
                         bool(config.get("base_url"))))
        elif isinstance(node, OperatorNode) and node.operator in _EMBEDDING_OPERATORS:
            model = (node.config or {}).get("model") or LOCAL_EMBEDDING_MODEL
            if isinstance(model, str) and "{{" not in model:
                used.append((node.id, model, "embedding", False))
    return used


def model_problems(team: Team, workflow: Workflow) -> list[dict[str, Any]]:
    used = models_used(workflow)
    if not used:
        return []
    providers = {provider.name: provider for provider in Provider.objects.filter(team=team)}
    problems = []
    for node_id, model_id, capability, own_url in used:
        ref = parse_model_id(model_id)
        problem = None
        if ref is None:
            problem = "a model id reads provider/model"
        elif ref.is_local:
            local = LOCAL_MODELS.get(ref.model)
            if local is None or local.capability != capability:
                problem = f"there is no local {capability} model {ref.model!r}"
        elif not own_url:
            provider = providers.get(ref.provider)
            offered = [entry["name"] for entry in provider.offered_models] if provider else []
            if provider is None:
                problem = (f"provider {ref.provider!r} is not configured for this team (an "
                           "admin can add it on the team page or with "
                           f"POST /api/v1/teams/{team.pk}/providers/)")
            elif offered and ref.model not in offered:
                problem = (f"provider {ref.provider!r} of this team does not offer "
                           f"{ref.model!r} (it offers: {', '.join(offered)})")
        if problem is not None:
            problems.append({"node_id": node_id, "model_id": model_id,
                             "provider": ref.provider if ref else None,
                             "message": f"Node {node_id!r} uses {model_id!r}, but {problem}."})
    return problems


def require_models_available(team: Team, workflow: Workflow) -> None:
    problems = model_problems(team, workflow)
    if problems:
        count = len(problems)
        raise Conflict(
            f"{count} node{'s' if count > 1 else ''} cannot run for this team: "
            f"{problems[0]['message']}" + (" (and more in details)" if count > 1 else ""),
            code="model_unavailable", details=problems)
