"""Web UI for workflows: list, graph page, versions and diff, editor, import and export.

Thin: reads through selectors, writes through services, graph drawing in
`graph_view`, form edits in `editing`. Every page works without JavaScript;
scripts add pan and zoom, live validation and the live preview.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from symphony_site.api.errors import ApiError
from symphony_site.api.pagination import paginate_queryset
from symphony_site.origins import actor_from_request, web_origin
from teams.access import require_role, team_role
from teams.roles import Role
from workflows import documents, editing, graph_view, samples, selectors, services
from workflows.catalog import builtin_catalog
from workflows.domain import Workflow as GraphWorkflow
from workflows.domain import plan_workflow, validate_document
from workflows.models import Workflow
from workflows.versioning import diff_documents, is_empty_diff

PAGE_SIZE = 50


def _can_edit(user: Any, team: Any) -> bool:
    role = team_role(user, team)
    return bool(role and role.includes(Role.EDITOR))


@login_required
def workflow_list(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    if not team:
        return redirect("home")
    query, tag = request.GET.get("q", "")[:200], request.GET.get("tag", "")[:50]
    workflows = selectors.workflows_for_user(request.user, team=team.pk, query=query, tag=tag)
    try:
        rows, next_cursor = paginate_queryset(workflows, selectors.LIST_ORDERING, limit=PAGE_SIZE,
                                              cursor=request.GET.get("cursor"))
    except ApiError:
        rows, next_cursor = paginate_queryset(workflows, selectors.LIST_ORDERING, limit=PAGE_SIZE, cursor=None)
    return render(request, "workflows/list.html", {
        "team": team, "workflows": rows, "next_cursor": next_cursor, "query": query, "tag": tag,
        "tags": selectors.all_tags(request.user, team.pk), "can_edit": _can_edit(request.user, team),
        "show_last_run": selectors.last_run_available(), "filtered": bool(query or tag),
    })


def _validation_issues(result: Any) -> list[dict[str, Any]]:
    return ([{**issue.to_dict(), "severity": "error"} for issue in result.errors]
            + [{**issue.to_dict(), "severity": "warning"} for issue in result.warnings])


def graph_context(workflow_document: dict[str, Any], *, critical: bool = False) -> dict[str, Any]:
    """Validation, plan and layout of one inner workflow object, for the graph templates."""
    result = validate_document(workflow_document, catalog=builtin_catalog())
    issues = _validation_issues(result)
    node_classes, edge_classes = graph_view.error_classes(issues)
    plan = None
    if result.valid:
        try:
            plan = plan_workflow(GraphWorkflow.from_document(workflow_document))
        except ValueError:
            plan = None
    critical_path = plan.critical_path if plan else []
    critical_nodes, critical_edges = graph_view.critical_classes(critical_path, workflow_document.get("edges") or [])
    layout = graph_view.layout(
        workflow_document, levels=plan.execution_levels if plan else None,
        node_classes=graph_view.merge_classes(node_classes, critical_nodes),
        edge_classes=graph_view.merge_classes(edge_classes, critical_edges))
    return {"layout": layout, "result": result, "issues": issues, "plan": plan, "critical_path": critical_path,
            "show_critical": critical}


@login_required
def workflow_detail(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    workflow = selectors.access_workflow(request.user, workflow_id)
    version = services.version_of(workflow, request.GET.get("version"))
    versions = list(selectors.versions_of(workflow)[:100])
    context = graph_context(version.workflow_document, critical=request.GET.get("critical") == "1")
    context.update({
        "workflow": workflow, "version": version, "versions": versions,
        "is_current": version.pk == workflow.current_version_id,
        "can_edit": _can_edit(request.user, workflow.team) and not workflow.is_archived,
        "export_formats": list(services.EXPORT_FILES),
        "document_text": json.dumps(version.document, indent=2, ensure_ascii=False),
        "compare_from": versions[1].version if len(versions) > 1 else version.version,
    })
    return render(request, "workflows/detail.html", context)


@login_required
def workflow_diff(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    workflow = selectors.access_workflow(request.user, workflow_id)
    old = services.version_of(workflow, request.GET.get("from"))
    new = services.version_of(workflow, request.GET.get("to"))
    diff = diff_documents(old.workflow_document, new.workflow_document)
    document, node_classes, edge_classes = graph_view.union_for_diff(old.workflow_document,
                                                                     new.workflow_document, diff)
    return render(request, "workflows/diff.html", {
        "workflow": workflow, "old": old, "new": new, "diff": diff, "empty": is_empty_diff(diff),
        "layout": graph_view.layout(document, node_classes=node_classes, edge_classes=edge_classes),
        "versions": list(selectors.versions_of(workflow)[:100]),
    })


def _editor_context(request: HttpRequest, *, workflow: Workflow | None, text: str) -> dict[str, Any]:
    try:
        document = editing.parse_document_text(text)
    except editing.EditError as error:
        document, parse_error = {"nodes": [], "edges": []}, str(error)
    else:
        parse_error = ""
    sources, targets = editing.port_choices(document)
    context: dict[str, Any] = {
        "workflow": workflow, "document_text": text, "parse_error": parse_error,
        "node_types": editing.node_type_choices(), "source_ports": sources, "target_ports": targets,
        "change_message": request.POST.get("change_message", ""), "version_value": request.POST.get("version", ""),
    }
    if not parse_error:
        context.update(graph_context(document))
    return context


def _editor_document_text(workflow: Workflow | None) -> str:
    if workflow is None:
        return editing.dump_document_text(samples.starter())
    document = workflow.current_version.document["workflow"]  # type: ignore[union-attr]
    return editing.dump_document_text(document)


@login_required
@require_http_methods(["GET", "POST"])
def workflow_edit(request: HttpRequest, workflow_id: Any = None) -> HttpResponse:
    """Create (no id) or edit: save, preview, add a node or connect ports, all by form posts."""
    if workflow_id is None:
        workflow, team = None, request.team  # type: ignore[attr-defined]
        if not team:
            return redirect("home")
        require_role(request.user, team, Role.EDITOR, action="create workflows")
    else:
        workflow = selectors.access_workflow(request.user, workflow_id, Role.EDITOR, action="edit workflows")
        team = workflow.team
        if workflow.is_archived:
            messages.error(request, "This workflow is archived; archived workflows cannot be edited.")
            return redirect("workflows:detail", workflow_id=workflow.pk)
    if request.method == "GET":
        return render(request, "workflows/editor.html",
                      _editor_context(request, workflow=workflow, text=_editor_document_text(workflow)))
    text = request.POST.get("document", "")
    action = request.POST.get("action", "preview")
    errors: list[dict[str, Any]] = []
    try:
        if action == "add_node":
            document, node_id = editing.add_node(editing.parse_document_text(text), request.POST.get("node_type", ""),
                                                 request.POST.get("node_name", ""))
            text = editing.dump_document_text(document)
            messages.success(request, f"Node {node_id!r} added; connect its ports below, then save.")
        elif action == "connect":
            document, edge_id = editing.connect(editing.parse_document_text(text), request.POST.get("source", ""),
                                                request.POST.get("target", ""), request.POST.get("edge_kind", "data"),
                                                request.POST.get("condition", ""))
            text = editing.dump_document_text(document)
            messages.success(request, f"Edge {edge_id!r} added.")
        elif action == "save":
            document = editing.parse_document_text(text)
            if workflow is None:
                saved = services.workflow_create(actor=actor_from_request(request), origin=web_origin(request), team=team, document=document,
                                                 change_message=request.POST.get("change_message", ""))
                messages.success(request, f"Workflow {saved.name!r} created at version "
                                          f"{saved.current_version.version}.")  # type: ignore[union-attr]
            else:
                saved = services.workflow_update(actor=actor_from_request(request), origin=web_origin(request), workflow=workflow, document=document,
                                                 version=request.POST.get("version") or None,
                                                 change_message=request.POST.get("change_message", ""))
                messages.success(request, f"Saved version {saved.current_version.version}.")  # type: ignore[union-attr]
            return redirect("workflows:detail", workflow_id=saved.pk)
    except editing.EditError as error:
        messages.error(request, str(error))
    except ApiError as error:
        messages.error(request, error.message)
        errors = error.details if isinstance(error.details, list) else []
    context = _editor_context(request, workflow=workflow, text=text)
    context["save_errors"] = errors
    return render(request, "workflows/editor.html", context, status=400 if errors else 200)


@login_required
@require_POST
def workflow_preview(request: HttpRequest) -> HttpResponse:
    """The graph of the posted document as an SVG fragment, for the editor's live preview."""
    try:
        document = editing.parse_document_text(request.body.decode("utf-8", errors="replace"))
        documents.validation_of(document)  # the same cheap checks (size, envelope) as the API
    except (editing.EditError, ApiError) as error:
        message = error.message if isinstance(error, ApiError) else str(error)
        return render(request, "workflows/_preview_error.html", {"message": message}, status=400)
    context = graph_context(document)
    sources, targets = editing.port_choices(document)
    context["port_choices"] = {"sources": sources, "targets": targets}
    return render(request, "workflows/_graph.html", context)


@login_required
@require_POST
def workflow_archive(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    workflow = selectors.access_workflow(request.user, workflow_id, Role.EDITOR, action="archive workflows")
    try:
        services.workflow_archive(actor=actor_from_request(request), origin=web_origin(request), workflow=workflow)
    except ApiError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{workflow.name} archived. Its versions stay readable.")
    return redirect("workflows:list")


@login_required
@require_POST
def workflow_import(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    upload = request.FILES.get("file")
    if not team or upload is None:
        messages.error(request, "Choose a file to import.")
        return redirect("workflows:list")
    if upload.size > documents.MAX_DOCUMENT_BYTES:  # refuse before reading it into memory
        messages.error(request, f"Import failed (too_large): the file is {upload.size:,} bytes; the limit is "
                                f"{documents.MAX_DOCUMENT_BYTES:,}.")
        return redirect("workflows:list")
    try:
        workflow = services.workflow_import(actor=actor_from_request(request), origin=web_origin(request), team=team, data=upload.read())
    except ApiError as error:
        messages.error(request, f"Import failed ({error.error_code}): {error.message}")
        return redirect("workflows:list")
    messages.success(request, f"Imported {workflow.name!r}.")
    return redirect("workflows:detail", workflow_id=workflow.pk)


@login_required
def workflow_export(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    workflow = selectors.access_workflow(request.user, workflow_id)
    export_format = request.GET.get("format", "json")
    version = services.version_of(workflow, request.GET.get("version"))
    try:
        data = services.workflow_export(actor=actor_from_request(request), origin=web_origin(request), workflow=workflow, version=version.version,
                                        format=export_format)
    except ApiError as error:
        messages.error(request, error.message)
        return redirect("workflows:detail", workflow_id=workflow.pk)
    content_type, extension = services.EXPORT_FILES[export_format]
    response = HttpResponse(data, content_type=content_type)
    filename = f"{slugify(workflow.name) or 'workflow'}-{version.version}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
