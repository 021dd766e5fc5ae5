"""Using templates: resolve a version constraint, instantiate, and upgrade a workflow to a newer compatible version."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F

from audit.services import record_event
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, NotFound
from teams.access import require_role
from teams.models import Team
from teams.roles import Role
from templates_app.access import can_see
from templates_app.domain.instantiation import (
    InstantiationError,
    InstantiationResult,
    instantiate_document,
)
from templates_app.domain.parameters import (
    parse_parameters,
)
from templates_app.domain.versions import Version, VersionConstraint, VersionError, resolve_version
from templates_app.models import Instantiation, Template, TemplateVersion
from templates_app.services.preparation import (
    _clean_name,
    _field_error,
    _invalid,
    _workflow_problems,
)

# ---------------------------------------------------------------- instantiate


def resolve_template_version(template: Template, constraint: Any) -> TemplateVersion:
    available = list(template.versions.values_list("version", flat=True))
    try:
        chosen = resolve_version(constraint, available)
    except VersionError as error:
        raise _field_error("version", str(error)) from None
    return template.versions.get(version=str(chosen))


def template_instantiate(
    *,
    actor: Actor,
    origin: Origin,
    team: Team,
    template: Template,
    version_constraint: Any = "latest",
    parameters: Mapping[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    name: str | None = None,
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """Create a workflow in `team` from a template version: (workflow, warnings, applied_defaults)."""
    from workflows.services import workflow_create

    require_role(actor.user, team, Role.EDITOR, action="create workflows")
    if not can_see(actor.user, template):
        raise NotFound("Template not found.")
    version = resolve_template_version(template, version_constraint)
    definitions = parse_parameters(version.parameters)
    if name is not None:
        name = _clean_name(name)
    try:
        result = instantiate_document(version.document, definitions, parameters or {}, overrides=overrides,
                                      name=name, deprecated=template.deprecated)
    except InstantiationError as error:
        raise _invalid(str(error), error.problems) from None
    document = result.document
    metadata = document.setdefault("metadata", {}) if isinstance(document.get("metadata", {}), dict) else None
    if metadata is not None:
        custom = metadata.setdefault("custom", {})
        if isinstance(custom, dict):
            custom["template"] = {"slug": template.slug, "version": version.version}
    problems = _workflow_problems(document)
    if problems:
        raise _invalid("The template made an invalid workflow with these parameters and overrides.", problems)
    warnings = list(result.warnings)
    newest = Version.parse(template.latest_version)
    if Version.parse(version.version) < newest:
        warnings.append({"code": "newer_version_available", "latest": str(newest),
                         "message": f"Version {newest} exists outside the constraint {version_constraint!r}."})
    with transaction.atomic():
        workflow = workflow_create(actor=actor, origin=origin, team=team, document=document,
                                   change_message=f"Created from template {template.slug} {version.version}")
        Instantiation.objects.create(template_version=version, workflow=workflow, team=team,
                                     parameters=result.parameters, overrides=copy.deepcopy(overrides or {}),
                                     created_by=actor.user)
        Template.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1)
        record_event(team=team, actor=actor, origin=origin, event_type="template.instantiated", target=workflow,
                     details={"template": template.slug, "template_version": version.version,
                              "publisher": template.team.slug, "workflow": str(workflow.pk),
                              "parameters": sorted(result.parameters),
                              "applied_defaults": [d["parameter"] for d in result.applied_defaults]})
    return workflow, warnings, result.applied_defaults


# ---------------------------------------------------------------- origin and upgrade


def newer_compatible_version(instantiation: Instantiation) -> TemplateVersion | None:
    """The highest version of the origin's template compatible (same major, `^`) and newer, if any."""
    current = Version.parse(instantiation.template_version.version)
    template = instantiation.template_version.template
    available = [Version.parse(v) for v in template.versions.values_list("version", flat=True)]
    best = VersionConstraint.parse(f"^{current}").best(available)
    if best is None or best <= current:
        return None
    return template.versions.get(version=str(best))


def upgrade_document(instantiation: Instantiation, target: TemplateVersion, *, name: str) -> InstantiationResult:
    """What re-instantiating `target` with the origin's parameters and overrides makes.

    Parameters the new version no longer declares are dropped (and reported
    as warnings); new required parameters without a default fail with 400.
    """
    definitions = parse_parameters(target.parameters)
    declared = {definition.name for definition in definitions}
    kept = {key: value for key, value in instantiation.parameters.items() if key in declared}
    try:
        result = instantiate_document(target.document, definitions, kept, overrides=instantiation.overrides or None,
                                      name=name, deprecated=target.template.deprecated)
    except InstantiationError as error:
        raise _invalid(str(error), error.problems) from None
    result.warnings += [{"code": "parameter_dropped", "parameter": key,
                         "message": f"Version {target.version} no longer has the parameter {key!r}."}
                        for key in sorted(set(instantiation.parameters) - declared)]
    metadata = result.document.setdefault("metadata", {})
    if isinstance(metadata, dict) and isinstance(metadata.setdefault("custom", {}), dict):
        metadata["custom"]["template"] = {"slug": target.template.slug, "version": target.version}
    return result


def template_upgrade_workflow(*, actor: Actor, origin: Origin, workflow: Any
                              ) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """Re-instantiate a workflow's origin at the newest compatible version, with the same
    parameters and overrides, as a new version of the same workflow."""
    from workflows.services import workflow_update

    instantiation = Instantiation.objects.select_related("template_version__template__team").filter(
        workflow=workflow).first()
    if instantiation is None:
        raise NotFound("This workflow was not made from a template.")
    template = instantiation.template_version.template
    if not can_see(actor.user, template):
        raise NotFound("Template not found.")
    require_role(actor.user, workflow.team, Role.EDITOR, action="edit workflows")
    target = newer_compatible_version(instantiation)
    if target is None:
        raise Conflict(f"{workflow.name} already uses the newest compatible version "
                       f"({instantiation.template_version.version}) of {template.name}.")
    previous = instantiation.template_version.version
    result = upgrade_document(instantiation, target, name=workflow.name)
    problems = _workflow_problems(result.document)
    if problems:
        raise _invalid("The newer version makes an invalid workflow with these parameters.", problems)
    with transaction.atomic():
        workflow = workflow_update(actor=actor, origin=origin, workflow=workflow, document=result.document,
                                   change_message=f"Upgraded from template {template.slug} {previous} to {target.version}")
        Instantiation.objects.filter(pk=instantiation.pk).update(template_version=target,
                                                                 parameters=result.parameters)
        record_event(team=workflow.team, actor=actor, origin=origin, event_type="template.instantiated", target=workflow,
                     details={"template": template.slug, "template_version": target.version,
                              "upgraded_from": previous, "workflow": str(workflow.pk),
                              "parameters": sorted(result.parameters)})
    return workflow, result.warnings, result.applied_defaults
