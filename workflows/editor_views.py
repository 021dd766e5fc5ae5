"""The canvas editor's page data and its three small helpers: settings form, form values, layout.

The editor page (`views.workflow_edit`) embeds `editor_data(...)`. The
helpers are web-UI endpoints (session and CSRF, like the page), not API:
they compute and store nothing. The settings form is rendered by the same
code as a template's parameter form (`templates_app.parameter_form` and
`_field.html`), from the node type's JSON Schema; its posted values come
back typed through that module's `read_form`. Saving goes through the
public API (`POST`/`PATCH /api/v1/workflows/`), validation through
`POST /api/v1/workflows/validate/`.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from templates_app.parameter_form import definitions_from_schema, form_groups, read_form
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
            "settings_form": reverse("workflows:editor-settings-form"),
            "settings_values": reverse("workflows:editor-settings-values"),
            "arrange": reverse("workflows:editor-arrange"),
            "detail": reverse("workflows:list"),
            "templates": reverse("templates:list"),
        },
    }


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": "bad_request", "message": message, "details": []}}, status=400)


@login_required
@require_POST
def settings_form(request: HttpRequest) -> HttpResponse:
    """The settings form of one node: `{"kind", "type", "values"}` → an HTML fragment."""
    body = _json_body(request)
    if body is None:
        return _bad_request("Send a JSON object: {kind, type, values}.")
    schema = editor_support.settings_schema(str(body.get("kind", "")), str(body.get("type", "")))
    if schema is None:
        return render(request, "workflows/editor/_settings_form.html", {"unknown": True})
    values = body.get("values") if isinstance(body.get("values"), dict) else {}
    definitions = definitions_from_schema(schema)
    expression_fields = [name for name, field in (schema.get("properties") or {}).items()
                         if field.get("x-symphony-widget") in {"expression", "template"}]
    return render(request, "workflows/editor/_settings_form.html", {
        "groups": form_groups(definitions, values),
        "expression_fields": json.dumps(expression_fields),
        "has_fields": bool(definitions),
    })


@login_required
@require_POST
def settings_values(request: HttpRequest) -> JsonResponse:
    """The typed values of a posted settings form (the fields plus `kind` and `type`)."""
    schema = editor_support.settings_schema(request.POST.get("kind", ""), request.POST.get("type", ""))
    if schema is None:
        return _bad_request("Unknown node kind or type.")
    return JsonResponse({"values": read_form(definitions_from_schema(schema), request.POST)})


@login_required
@require_POST
def arrange(request: HttpRequest) -> JsonResponse:
    """Auto-layout: `{"document", "sizes": {id: [width, height]}}` → `{"positions": {id: {x, y}}}`."""
    body = _json_body(request)
    if body is None:
        return _bad_request("Send a JSON object: {document, sizes}.")
    document = body.get("document")
    nodes = document.get("nodes") if isinstance(document, dict) else None
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        return _bad_request(f"The document needs a list of at most {MAX_NODES:,} nodes.")
    sizes: dict[str, tuple[float, float]] = {}
    for node_id, size in (body.get("sizes") or {}).items():
        if (isinstance(size, list) and len(size) == 2
                and all(isinstance(value, int | float) and 0 < value < 10_000 for value in size)):
            sizes[str(node_id)] = (float(size[0]), float(size[1]))
    return JsonResponse({"positions": graph_view.arrange(document, sizes)})  # type: ignore[arg-type]
