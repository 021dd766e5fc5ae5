"""Web UI of the marketplace: search page, template page, "Use template", rating.

Thin: reads through `selectors` and `access`, writes through `services`.
Every page works without JavaScript (the search box is a GET form); with it,
the search page fetches results from the API as you type.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from symphony_site import metrics
from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, web_origin
from teams.access import access_team, has_role, team_role, teams_with_role
from teams.models import Membership
from teams.roles import Role
from templates_app import selectors, services
from templates_app.access import access_origin, access_template
from templates_app.curated import category_tiles, curated_templates
from templates_app.domain.parameters import parse_parameters
from templates_app.models import Rating, Template
from templates_app.parameter_form import errors_by_path, form_groups, read_form
from workflows.access import access_workflow

SORT_LABELS = [("relevance", "Most relevant"), ("popular", "Most used"), ("rating", "Best rated"),
               ("newest", "Newest")]


@login_required
def marketplace(request: HttpRequest) -> HttpResponse:
    params = request.GET
    query = params.get("q", "")[:200]
    filters = {"category": params.get("category", "")[:60], "tag": params.get("tag", "")[:40],
               "publisher": params.get("author", "")[:100]}
    verified = params.get("verified") == "true"
    sort = params.get("sort") if params.get("sort") in selectors.SORTS else "relevance"
    with metrics.Stopwatch() as watch:
        result = selectors.search_templates(request.user, query=query, sort=sort, limit=24,
                                            cursor=params.get("cursor") or None,
                                            verified=True if verified else None, **filters)
    metrics.template_searched("web", watch.seconds)
    base = {key: value for key, value in {"q": query, "sort": sort if sort != "relevance" else "",
                                          "verified": "true" if verified else "", **{
                                              "category": filters["category"], "tag": filters["tag"],
                                              "author": filters["publisher"]}}.items() if value}

    def link(**changes: str) -> str:
        merged = {**base, **changes}
        return "?" + urlencode({key: value for key, value in merged.items() if value})

    facets = {name: [{**item, "url": link(**{name: "" if filters[name] == item["value"] else item["value"]}),
                      "active": filters[name] == item["value"]} for item in values]
              for name, values in result.facets.items()}
    context = {
        "templates": result.templates, "query": query, "sort": sort, "sorts": SORT_LABELS, "filters": filters,
        "verified": verified, "facets": facets, "facets_exact": result.facets_exact,
        "typo_fallback": result.typo_fallback, "corrected_query": result.corrected_query,
        "next_url": link(cursor=result.next_cursor) if result.next_cursor else "",
        "filtered": bool(query or any(filters.values()) or verified),
        "clear_url": "?" + urlencode({"sort": sort}) if sort != "relevance" else "?",
    }
    if not context["filtered"] and not params.get("cursor"):
        # The landing: curated templates and categories first, so a newcomer starts from good ones.
        context["curated"] = curated_templates(request.user, limit=6)
        context["category_tiles"] = category_tiles(request.user)
    return render(request, "templates_app/list.html", context)


def _graph(document: dict[str, Any]) -> Any:
    try:
        from workflows import graph_view
    except ImportError:  # the workflows UI is optional for this page
        return None
    return graph_view.layout(document)


def _page(request: HttpRequest, template: Template, *, values: dict[str, Any] | None = None,
          problems: list[dict[str, Any]] | None = None, status: int = 200) -> HttpResponse:
    versions = list(template.versions.select_related("created_by").order_by("-major", "-minor", "-patch"))
    chosen = request.GET.get("version") or request.POST.get("version") or versions[0].version
    version = next((v for v in versions if v.version == chosen), versions[0])
    definitions = parse_parameters(version.parameters)
    role = team_role(request.user, template.team_id)
    rating = Rating.objects.filter(template=template, user=request.user).first()
    editor_teams = list(teams_with_role(request.user, Role.EDITOR))
    current = getattr(request, "team", None)
    selected_team = request.POST.get("team") or (str(current.pk) if current else "")
    examples = [{**example, "json": json.dumps(example["parameters"], ensure_ascii=False, indent=2),
                 "url": f"?version={version.version}&example={index}"}
                for index, example in enumerate(version.examples)]
    asked = request.GET.get("example", "")
    if values is None and asked.isascii() and asked.isdigit():  # isdigit() alone takes a superscript two
        index = int(asked)
        values = version.examples[index]["parameters"] if index < len(version.examples) else None
    general_problems = [p for p in problems or [] if not p.get("parameter")]
    groups = form_groups(definitions, values, errors_by_path(problems or []))
    context = {
        "template": template, "version": version, "versions": versions, "examples": examples,
        "groups": groups, "field_errors": _field_errors(groups),
        "general_problems": general_problems, "editor_teams": editor_teams, "selected_team": selected_team,
        "can_edit": bool(role and role.includes(Role.EDITOR)), "my_rating": rating.stars if rating else None,
        "layout": _graph(version.document), "document_json": json.dumps(version.document, indent=2),
        "star_range": range(1, 6), "workflow_name": request.POST.get("name", ""),
        "is_member": Membership.objects.filter(user=request.user).exists(),
    }
    return render(request, "templates_app/detail.html", context, status=status)


def _field_errors(groups: list[Any]) -> list[dict[str, str]]:
    """Every field with an error, by its label, for the summary above the form (links to fields)."""
    found: list[dict[str, str]] = []

    def walk(fields: list[Any], prefix: str) -> None:
        for field in fields:
            label = f"{prefix}{field.label}"
            found.extend({"id": f"f-{field.html_name}", "text": f"{label}: {error}"} for error in field.errors)
            walk(field.children, f"{label} \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} ")

    for group in groups:
        walk(group.fields, "")
    return found


@login_required
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    template = access_template(request.user, slug)
    return _page(request, template)


@login_required
@require_POST
def use(request: HttpRequest, slug: str) -> HttpResponse:
    """"Use template": instantiate into the chosen team and open the new workflow."""
    template = access_template(request.user, slug)
    version = template.versions.filter(version=request.POST.get("version", "")).first()
    definitions = parse_parameters((version or template.versions.order_by("-major", "-minor", "-patch")
                                    .first()).parameters)  # type: ignore[union-attr]
    values = read_form(definitions, request.POST)
    try:
        team = access_team(request.user, request.POST.get("team"))
        workflow, warnings, applied = services.template_instantiate(
            actor=actor_from_request(request), origin=web_origin(request), team=team, template=template,
            version_constraint=version.version if version else "latest", parameters=values,
            name=request.POST.get("name") or None)
    except ApiError as error:
        details = error.details if isinstance(error.details, list) else []
        if not any(isinstance(item, dict) and item.get("parameter") for item in details):
            messages.error(request, error.message)  # otherwise each problem is shown at its field
        return _page(request, template, values=values, problems=details, status=400)
    note = f"Created {workflow.name} in {team.name} from {template.name} {workflow.template_origin.template_version.version}."
    if applied:
        note += " Defaults used for " + ", ".join(item["parameter"] for item in applied) + "."
    messages.success(request, note)
    for warning in warnings:
        messages.warning(request, warning["message"])
    return redirect("workflows:detail", workflow_id=workflow.pk)


@login_required
@require_POST
def rate(request: HttpRequest, slug: str) -> HttpResponse:
    template = access_template(request.user, slug)
    stars = request.POST.get("stars", "")
    try:
        services.template_rate(actor=actor_from_request(request), origin=web_origin(request),
                               template=template,
                               stars=int(stars) if stars.isascii() and stars.isdigit() else stars)
    except ApiError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Thanks: you rated {template.name} {stars} out of 5.")
    return redirect("templates:detail", slug=template.slug)


@login_required
def origin(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    """Where a workflow came from; when a newer compatible version exists, the diff and an upgrade."""
    from workflows.versioning import diff_documents, is_empty_diff

    workflow, instantiation = access_origin(request.user, workflow_id)
    template = instantiation.template_version.template
    if request.method == "POST":
        try:
            workflow, warnings, _ = services.template_upgrade_workflow(
                actor=actor_from_request(request), origin=web_origin(request), workflow=workflow)
        except ApiError as error:
            messages.error(request, error.message)
            return redirect("templates:origin", workflow_id=workflow.pk)
        messages.success(request, f"{workflow.name} now follows {template.name} "
                                  f"{workflow.template_origin.template_version.version}.")
        for warning in warnings:
            messages.warning(request, warning["message"])
        return redirect("workflows:detail", workflow_id=workflow.pk)
    newer = selectors.newer_compatible_version(instantiation)
    context: dict[str, Any] = {"workflow": workflow, "instantiation": instantiation, "template": template,
                               "newer": newer, "can_edit": has_role(request.user, workflow.team, Role.EDITOR)}
    if newer is not None:
        current_document = workflow.current_version.document.get("workflow", workflow.current_version.document)
        try:
            upgraded = services.upgrade_document(instantiation, newer, name=workflow.name)
        except ApiError as error:
            context["upgrade_error"] = error.message
        else:
            diff = diff_documents(current_document, upgraded.document)
            context.update(diff=diff, empty=is_empty_diff(diff), warnings=upgraded.warnings,
                           changelogs=template.versions.filter(
                               major=newer.major).exclude(pk=instantiation.template_version.pk).order_by(
                               "-minor", "-patch").filter(minor__gte=instantiation.template_version.minor))
    return render(request, "templates_app/origin.html", context)


# --- "Save as template" from a workflow ------------------------------------------------

SCALARS = (str, int, float, bool)


def parameter_candidates(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The values of a workflow a person may turn into parameters: models and scalar configs.

    Each candidate has the JSON pointer the service takes (nodes addressed by id, so
    the path survives reordering), a readable label, the current value and a
    suggested parameter name.
    """
    candidates: list[dict[str, Any]] = []
    for node in document.get("nodes") or []:
        node_id = str(node.get("id", ""))
        stem = re.sub(r"[^A-Za-z0-9_]", "_", node_id).strip("_") or "node"
        if node.get("kind") == "instrument" and isinstance(node.get("model_id"), str):
            candidates.append({"path": f"/nodes/@{node_id}/model_id", "label": f"{node.get('name')} · model",
                               "value": node["model_id"], "suggested": f"{stem}_model"[:64]})
        for key, value in sorted((node.get("config") or {}).items()):
            if isinstance(value, SCALARS) and not (isinstance(value, str) and "{{" in value):
                candidates.append({"path": f"/nodes/@{node_id}/config/{key}", "label": f"{node.get('name')} · {key}",
                                   "value": value, "suggested": re.sub(r"\W", "_", f"{stem}_{key}")[:64]})
    return candidates


@login_required
def save_as(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    workflow = access_workflow(request.user, workflow_id, Role.EDITOR, action="save it as a template")
    candidates = parameter_candidates(workflow.current_version.workflow_document)
    form = {"name": workflow.name, "description": workflow.description, "category": workflow.category,
            "tags": ", ".join(workflow.tags), "visibility": "team"}
    problems: list[str] = []
    if request.method == "POST":
        form = {field: request.POST.get(field, "").strip() for field in form}
        chosen = []
        for index, candidate in enumerate(candidates):
            candidate["checked"] = bool(request.POST.get(f"use__{index}"))
            candidate["name"] = request.POST.get(f"name__{index}", "").strip() or candidate["suggested"]
            if candidate["checked"]:
                chosen.append({"path": candidate["path"], "name": candidate["name"]})
        try:
            template = services.template_from_workflow(
                actor=actor_from_request(request), origin=web_origin(request), workflow=workflow,
                parameters=chosen, name=form["name"], description=form["description"], category=form["category"],
                tags=[tag.strip() for tag in form["tags"].split(",") if tag.strip()],
                visibility=form["visibility"])
        except ApiError as error:
            details = error.details if isinstance(error.details, list) else []
            problems = [str(item.get("message", item)) if isinstance(item, dict) else str(item)
                        for item in details] or [error.message]
        else:
            messages.success(request, f"Template {template.name} published from {workflow.name}.")
            return redirect("templates:detail", slug=template.slug)
    return render(request, "templates_app/save_as.html", {
        "workflow": workflow, "candidates": candidates, "form": form, "problems": problems,
        "visibilities": [("team", "Team: every member of the team"),
                         ("private", "Private: the team's editors and above"),
                         ("public", "Public: everyone (admins only)")],
    })
