"""The canvas editor's settings form for one node, composed from two apps.

The form is the template pages' JSON-Schema form code (`templates_app.parameter_form`
and `_field.html`) applied to a node type's `config_schema` from the workflows catalog.
`workflows` may not import `templates_app` (import rules, docs/architecture.md), so the
site layer, which sits above every app, serves these two web-UI endpoints. They compute
and store nothing (session and CSRF, like the editor page itself).
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from templates_app.parameter_form import definitions_from_schema, form_groups, read_form
from workflows import editor_support
from workflows.editor_views import bad_request, json_body


@login_required
@require_POST
def settings_form(request: HttpRequest) -> HttpResponse:
    """The settings form of one node: `{"kind", "type", "values"}` → an HTML fragment."""
    body = json_body(request)
    if body is None:
        return bad_request("Send a JSON object: {kind, type, values}.")
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
        return bad_request("Unknown node kind or type.")
    return JsonResponse({"values": read_form(definitions_from_schema(schema), request.POST)})
