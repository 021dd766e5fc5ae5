"""The canvas editor's page data and its three small helpers: settings form, form values, layout.

The editor page (`views.workflow_edit`) embeds `editor_data(...)`. The
helpers are web-UI endpoints (session and CSRF, like the page), not API:
they compute and store nothing. The settings form and its typed values come from
`symphony_site/editor_forms.py`: they reuse the template pages' JSON-Schema
form code, and `workflows` may not import `templates_app` (import rules,
docs/architecture.md), so the site layer composes the two. Saving goes through the
public API (`POST`/`PATCH /api/v1/workflows/`), validation through
`POST /api/v1/workflows/validate/`.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from workflows import editor_support, graph_view
from workflows.documents import MAX_NODES
from workflows.models import Workflow

EMPTY_DOCUMENT = {"name": "New workflow", "description": "", "version": "1.0.0", "nodes": [], "edges": []}


def editor_data(request: HttpRequest, *, workflow: Workflow | None, team: Any) -> dict[str, Any]:
    """Everything the editor's modules start from (embedded with `json_script`)."""
    if workflow is None:
        document: dict[str, Any] = dict(EMPTY_DOCUMENT)
    else:
        document = workflow.current_version.document["workflow"]  # type: ignore[union-attr]
    return {
        "document": document,
        "workflow": None if workflow is None else {
            "id": str(workflow.pk), "name": workflow.name,
            "version": workflow.current_version.version,  # type: ignore[union-attr]
            "detail_url": reverse("workflows:detail", args=[workflow.pk]),
        },
        "team": {"id": str(team.pk), "name": team.name},
        "user": str(request.user.pk),
        "palette": editor_support.palette(),
        "groups": editor_support.groups(),
        "types": editor_support.type_rules(),
        "urls": {
            "validate": reverse("api-workflow-validate"),
            "create": reverse("api-workflows"),
            "update": reverse("api-workflow-detail", args=[workflow.pk]) if workflow else "",
            "settings_form": reverse("editor-settings-form"),
            "settings_values": reverse("editor-settings-values"),
            "arrange": reverse("workflows:editor-arrange"),
            "detail": reverse("workflows:list"),
            "templates": reverse("templates:list"),
        },
    }


def json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": "bad_request", "message": message, "details": []}}, status=400)


@login_required
@require_POST
def arrange(request: HttpRequest) -> JsonResponse:
    """Auto-layout: `{"document", "sizes": {id: [width, height]}}` → `{"positions": {id: {x, y}}}`."""
    body = json_body(request)
    if body is None:
        return bad_request("Send a JSON object: {document, sizes}.")
    document = body.get("document")
    nodes = document.get("nodes") if isinstance(document, dict) else None
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        return bad_request(f"The document needs a list of at most {MAX_NODES:,} nodes.")
    sizes: dict[str, tuple[float, float]] = {}
    for node_id, size in (body.get("sizes") or {}).items():
        if (isinstance(size, list) and len(size) == 2
                and all(isinstance(value, int | float) and 0 < value < 10_000 for value in size)):
            sizes[str(node_id)] = (float(size[0]), float(size[1]))
    return JsonResponse({"positions": graph_view.arrange(document, sizes)})  # type: ignore[arg-type]
