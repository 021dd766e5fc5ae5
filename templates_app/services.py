"""Template use cases: every write to templates goes through one function here.

Each function takes the acting user explicitly, checks permission, validates
(the pure core in `templates_app.domain`, then the graph core's full
pipeline on what a version produces), writes in one transaction with its
audit entry, and answers with the object.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, FloatField
from django.db.models.functions import Cast
from django.utils.text import slugify

from audit.services import record_event
from symphony_site.api.errors import Conflict, NotFound, ValidationFailed
from teams.access import require_role
from teams.models import Team
from teams.roles import Role
from templates_app.access import can_see, require_staff, require_template_editor
from templates_app.domain.instantiation import (
    InstantiationError,
    InstantiationResult,
    bare_workflow,
    instantiate_document,
    template_problems,
)
from templates_app.domain.overrides import parse_pointer
from templates_app.domain.parameters import (
    ParameterDefinition,
    ParameterDefinitionError,
    parse_parameters,
)
from templates_app.domain.versions import Version, VersionConstraint, VersionError, resolve_version
from templates_app.models import Instantiation, Rating, Template, TemplateVersion, Visibility

MAX_TAGS = 20
MAX_EXAMPLES = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,39}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# Slugs that would collide with API routes under /api/v1/templates/.
RESERVED_SLUGS = {"from-workflow"}


def _invalid(message: str, details: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed(message, details=details)


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details=[{"field": field, "code": code, "message": message}])


# ---------------------------------------------------------------- metadata


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise _field_error("name", "must not be blank", "required")
    name = " ".join(name.split())
    if len(name) > 200:
        raise _field_error("name", "must be at most 200 characters")
    return name


def _clean_category(category: Any) -> str:
    category = (category or "").strip().lower() if isinstance(category, str) else category
    if category and (not isinstance(category, str) or not _CATEGORY.match(category)):
        raise _field_error("category", "must be a lowercase slug such as customer-support")
    return category or ""


def _clean_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list | tuple) or not all(isinstance(tag, str) for tag in tags):
        raise _field_error("tags", "must be a list of strings")
    cleaned = list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))
    bad = [tag for tag in cleaned if not _TAG.match(tag)]
    if bad:
        raise _field_error("tags", f"tags are lowercase words of at most 40 characters: {', '.join(bad)}")
    if len(cleaned) > MAX_TAGS:
        raise _field_error("tags", f"at most {MAX_TAGS} tags")
    return cleaned


def _clean_visibility(actor: Any, team: Team, visibility: Any) -> str:
    if visibility not in Visibility.values:
        raise _field_error("visibility", f"must be one of {', '.join(Visibility.values)}")
    if visibility == Visibility.PUBLIC:
        require_role(actor, team, Role.ADMIN, action="publish a template publicly")
    return str(visibility)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:100] or "template"
    slug, counter = base, 2
    while slug in RESERVED_SLUGS or Template.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


# ---------------------------------------------------------------- versions


class PreparedVersion:
    """A version checked and ready to store: parsed, placeholders sound, examples valid."""

    def __init__(self, *, version: Version, document: dict[str, Any], definitions: tuple[ParameterDefinition, ...],
                 examples: list[dict[str, Any]], changelog: str) -> None:
        self.version = version
        self.document = document
        self.definitions = definitions
        self.examples = examples
        self.changelog = changelog
        # The documents the examples (or the defaults) make, once checked.
        self.instantiated: list[dict[str, Any]] = []

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return [definition.to_dict() for definition in self.definitions]

    def node_types(self) -> list[str]:
        """Operator and control types the instantiated examples use (kinds alone say little)."""
        found: list[str] = []
        for document in self.instantiated:
            for node in document.get("nodes") or []:
                kind = node.get("kind") if isinstance(node, dict) else None
                name = node.get("operator") if kind == "operator" else node.get("control") if kind == "control" else None
                if isinstance(name, str) and name and name not in found:
                    found.append(name)
        return found[:50]

    def model_ids(self) -> list[str]:
        """Models the instantiated examples' instrument nodes use."""
        found: list[str] = []
        for document in self.instantiated:
            for node in document.get("nodes") or []:
                model_id = node.get("model_id") if isinstance(node, dict) else None
                if isinstance(model_id, str) and model_id and model_id not in found:
                    found.append(model_id)
        return found[:50]


def _clean_examples(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_EXAMPLES:
        raise _field_error("version.examples", f"must be a list of at most {MAX_EXAMPLES} examples")
    examples: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("parameters", {}), dict) or \
                set(item) - {"name", "description", "parameters"}:
            raise _field_error(f"version.examples[{index}]",
                               "an example is {name, description, parameters: {…}}")
        examples.append({"name": str(item.get("name") or f"Example {index + 1}")[:200],
                         "description": str(item.get("description") or "")[:2000],
                         "parameters": item.get("parameters", {})})
    return examples


def _workflow_problems(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The graph core's full validation of an instantiated document (errors only)."""
    from workflows.catalog import builtin_catalog
    from workflows.domain import validate_document

    result = validate_document(document, catalog=builtin_catalog())
    return [issue.to_dict() for issue in result.errors]


def _check_instantiates(prepared: PreparedVersion) -> None:
    """Every example — or, without examples, the defaults — must make a valid workflow."""
    runs = prepared.examples or [{"name": "defaults", "parameters": {}}]
    details: list[dict[str, Any]] = []
    for example in runs:
        try:
            result = instantiate_document(prepared.document, prepared.definitions, example["parameters"])
        except InstantiationError as error:
            details += [{"example": example["name"], **problem} for problem in error.problems]
            continue
        problems = _workflow_problems(result.document)
        details += [{"example": example["name"], **problem} for problem in problems]
        if not problems:
            prepared.instantiated.append(result.document)
    if details:
        what = "its examples" if prepared.examples else "its default parameters (add an example)"
        raise _invalid(f"The template does not make a valid workflow with {what}.", details)


def prepare_version(raw: Any, *, require_changelog: bool = False) -> PreparedVersion:
    """Parse and check a `{version, document, parameters, examples, changelog}` body."""
    if not isinstance(raw, Mapping):
        raise _field_error("version", "must be an object {version, document, parameters, examples, changelog}")
    unknown = sorted(set(raw) - {"version", "document", "parameters", "examples", "changelog"})
    if unknown:
        raise _invalid("Unknown fields in version.", [
            {"field": f"version.{name}", "code": "unknown_field", "message": "unknown field"} for name in unknown])
    try:
        version = Version.parse(raw.get("version", "1.0.0"))
    except VersionError as error:
        raise _field_error("version.version", str(error)) from None
    document = bare_workflow(raw.get("document"))
    if not isinstance(document, dict):
        raise _field_error("version.document", "must be a workflow document (an object)")
    try:
        definitions = parse_parameters(raw.get("parameters", []))
    except ParameterDefinitionError as error:
        raise _invalid("The parameter definitions are invalid.", [
            {**problem.to_dict(), "field": f"version.parameters.{problem.path}"} for problem in error.problems
        ]) from None
    changelog = raw.get("changelog", "") or ""
    if not isinstance(changelog, str) or len(changelog) > 10_000:
        raise _field_error("version.changelog", "must be text of at most 10,000 characters")
    if require_changelog and not changelog.strip():
        raise _field_error("version.changelog", "say what changed in this version", "required")
    problems = template_problems(document, definitions)
    if problems:
        undeclared = sorted({p["parameter"] for p in problems if p["code"] == "undeclared_parameter"})
        message = ("The document's placeholders name undeclared parameters: " + ", ".join(undeclared) + "."
                   if undeclared else "The document has invalid placeholders.")
        raise _invalid(message, problems)
    prepared = PreparedVersion(version=version, document=document, definitions=definitions,
                               examples=_clean_examples(raw.get("examples")), changelog=changelog.strip())
    _check_instantiates(prepared)
    return prepared


def _store_version(template: Template, prepared: PreparedVersion, actor: Any) -> TemplateVersion:
    try:
        with transaction.atomic():
            return TemplateVersion.objects.create(
                template=template, version=str(prepared.version), major=prepared.version.major,
                minor=prepared.version.minor, patch=prepared.version.patch, document=prepared.document,
                parameters=prepared.parameters, examples=prepared.examples, changelog=prepared.changelog,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise Conflict(f"Version {prepared.version} of {template.slug} already exists.") from None


# ---------------------------------------------------------------- publish and change


def template_publish(
    *,
    actor: Any,
    team: Team,
    name: str,
    description: str = "",
    category: str = "",
    tags: Iterable[str] = (),
    visibility: str = Visibility.TEAM,
    version: Mapping[str, Any],
    slug: str | None = None,
    request: Any = None,
) -> Template:
    """Publish a new template with its first version, for `team` (editor or higher)."""
    require_role(actor, team, Role.EDITOR, action="publish templates")
    name = _clean_name(name)
    category = _clean_category(category)
    tags = _clean_tags(list(tags))
    visibility = _clean_visibility(actor, team, visibility)
    if not isinstance(description, str) or len(description) > 10_000:
        raise _field_error("description", "must be text of at most 10,000 characters")
    prepared = prepare_version(version)
    if slug is not None:
        if slug != slugify(slug) or not slug or slug in RESERVED_SLUGS:
            raise _field_error("slug", "must be lowercase letters, digits and hyphens")
        if Template.objects.filter(slug=slug).exists():
            raise Conflict(f"A template with slug {slug!r} already exists.")
    try:
        with transaction.atomic():
            template = Template.objects.create(
                slug=slug or _unique_slug(name), team=team, name=name, description=description.strip(),
                category=category, tags=tags, visibility=visibility, latest_version=str(prepared.version),
                node_types=prepared.node_types(), model_ids=prepared.model_ids(),
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            stored = _store_version(template, prepared, actor)
            record_event(team=team, actor=actor, event_type="template.published", target=template,
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         details={"slug": template.slug, "version": stored.version, "visibility": visibility},
                         request=request)
    except IntegrityError:
        raise Conflict(f"A template with slug {slug or name!r} already exists.") from None
    return template


def template_version_create(*, actor: Any, template: Template, version: Mapping[str, Any],
                            request: Any = None) -> TemplateVersion:
    """Publish a new version; it must be greater than every existing one and say what changed."""
    require_template_editor(actor, template, action="publish new versions of this template")
    prepared = prepare_version(version, require_changelog=True)
    with transaction.atomic():
        locked = Template.objects.select_for_update().get(pk=template.pk)
        latest = Version.parse(locked.latest_version)
        if prepared.version <= latest:
            raise Conflict(f"Version {prepared.version} is not greater than the latest version {latest}.",
                           details=[{"field": "version.version", "latest": str(latest)}])
        stored = _store_version(locked, prepared, actor)
        locked.latest_version = stored.version
        locked.node_types = prepared.node_types()
        locked.model_ids = prepared.model_ids()
        locked.save(update_fields=["latest_version", "node_types", "model_ids", "updated_at"])
        record_event(team=locked.team, actor=actor, event_type="template.versioned", target_type="template",
                     target_id=str(locked.pk), target_name=locked.name,
                     details={"slug": locked.slug, "version": stored.version, "previous": str(latest),
                              "changelog": stored.changelog[:500]}, request=request)
    template.refresh_from_db()
    return stored


def template_update(*, actor: Any, template: Template, request: Any = None, **fields: Any) -> Template:
    """Change name, description, category, tags or visibility (editor; public needs admin)."""
    require_template_editor(actor, template, action="change this template")
    allowed = {"name", "description", "category", "tags", "visibility"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise _invalid("Unknown fields.", [{"field": n, "code": "unknown_field", "message": "unknown field"}
                                           for n in unknown])
    cleaned: dict[str, Any] = {}
    if "name" in fields:
        cleaned["name"] = _clean_name(fields["name"])
    if "description" in fields:
        if not isinstance(fields["description"], str) or len(fields["description"]) > 10_000:
            raise _field_error("description", "must be text of at most 10,000 characters")
        cleaned["description"] = fields["description"].strip()
    if "category" in fields:
        cleaned["category"] = _clean_category(fields["category"])
    if "tags" in fields:
        cleaned["tags"] = _clean_tags(fields["tags"])
    if "visibility" in fields:
        cleaned["visibility"] = _clean_visibility(actor, template.team, fields["visibility"])
    changes = {key: [getattr(template, key), value] for key, value in cleaned.items()
               if getattr(template, key) != value}
    if not changes:
        return template
    with transaction.atomic():
        for key, (_, value) in changes.items():
            setattr(template, key, value)
        template.save(update_fields=[*changes, "updated_at"])
        record_event(team=template.team, actor=actor, event_type="template.updated", target_type="template",
                     target_id=str(template.pk), target_name=template.name,
                     details={"slug": template.slug, "changes": changes}, request=request)
    return template


def template_deprecate(*, actor: Any, template: Template, deprecated: bool = True, reason: str = "",
                       request: Any = None) -> Template:
    """Mark a template deprecated (or not): publishers' editors or staff."""
    if not getattr(actor, "is_staff", False):
        require_template_editor(actor, template, action="deprecate this template")
    with transaction.atomic():
        updated = Template.objects.filter(pk=template.pk).exclude(deprecated=deprecated).update(
            deprecated=deprecated)
        if updated:
            record_event(team=template.team, actor=actor, event_type="template.deprecated",
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         reason=reason, details={"slug": template.slug, "deprecated": deprecated},
                         request=request)
    template.refresh_from_db()
    return template


def template_set_verified(*, actor: Any, template: Template, verified: bool = True,
                          request: Any = None) -> Template:
    require_staff(actor, action="verify templates")
    with transaction.atomic():
        if Template.objects.filter(pk=template.pk).exclude(verified=verified).update(verified=verified):
            record_event(team=template.team, actor=actor, event_type="template.verified",
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         details={"slug": template.slug, "verified": verified}, request=request)
    template.refresh_from_db()
    return template


def template_set_featured(*, actor: Any, template: Template, featured: bool = True,
                          request: Any = None) -> Template:
    require_staff(actor, action="feature templates")
    with transaction.atomic():
        if Template.objects.filter(pk=template.pk).exclude(featured=featured).update(featured=featured):
            record_event(team=template.team, actor=actor, event_type="template.featured",
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         details={"slug": template.slug, "featured": featured}, request=request)
    template.refresh_from_db()
    return template


def template_rate(*, actor: Any, template: Template, stars: Any, request: Any = None) -> Rating:
    """Rate a visible template 1..5; a second rating replaces the first. Aggregates stay exact."""
    if not can_see(actor, template):
        raise NotFound("Template not found.")
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise _field_error("stars", "must be an integer from 1 to 5")
    with transaction.atomic():
        # Lock the user's rating row (if any) so two concurrent ratings by
        # one user cannot both count as new.
        existing = Rating.objects.select_for_update().filter(template=template, user=actor).first()
        if existing is None:
            rating = Rating.objects.create(template=template, user=actor, stars=stars)
            delta_total, delta_count = stars, 1
        else:
            delta_total, delta_count = stars - existing.stars, 0
            existing.stars = stars
            existing.save(update_fields=["stars", "updated_at"])
            rating = existing
        # One UPDATE computes the new aggregates from the old ones: no lost updates.
        new_total = F("rating_total") + delta_total
        new_count = F("rating_count") + delta_count
        Template.objects.filter(pk=template.pk).update(
            rating_total=new_total, rating_count=new_count,
            rating_average=Cast(new_total, FloatField()) / Cast(new_count, FloatField()),
        )
        record_event(team=template.team, actor=actor, event_type="template.rated", target_type="template",
                     target_id=str(template.pk), target_name=template.name,
                     details={"slug": template.slug, "stars": stars,
                              "previous": None if existing is None else stars - delta_total},
                     request=request)
    template.refresh_from_db()
    return rating


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
    actor: Any,
    team: Team,
    template: Template,
    version_constraint: Any = "latest",
    parameters: Mapping[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    name: str | None = None,
    request: Any = None,
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """Create a workflow in `team` from a template version: (workflow, warnings, applied_defaults)."""
    from workflows.services import workflow_create

    require_role(actor, team, Role.EDITOR, action="create workflows")
    if not can_see(actor, template):
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
        workflow = workflow_create(actor=actor, team=team, document=document, request=request,
                                   change_message=f"Created from template {template.slug} {version.version}")
        Instantiation.objects.create(template_version=version, workflow=workflow, team=team,
                                     parameters=result.parameters, overrides=copy.deepcopy(overrides or {}),
                                     created_by=actor)
        Template.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1)
        record_event(team=team, actor=actor, event_type="template.instantiated", target=workflow,
                     details={"template": template.slug, "template_version": version.version,
                              "publisher": template.team.slug, "workflow": str(workflow.pk),
                              "parameters": sorted(result.parameters),
                              "applied_defaults": [d["parameter"] for d in result.applied_defaults]},
                     request=request)
    return workflow, warnings, result.applied_defaults


# ---------------------------------------------------------------- save as template


def _infer_definition(name: str, value: Any, spec: Mapping[str, Any]) -> dict[str, Any]:
    definition = {key: value for key, value in spec.items() if key not in {"path"}}
    definition["name"] = name
    if "type" not in definition:
        if isinstance(value, bool):
            definition["type"] = "boolean"
        elif isinstance(value, int):
            definition["type"] = "integer"
        elif isinstance(value, float):
            definition["type"] = "float"
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            definition["type"] = "array"
            definition["items"] = {"type": "string"}
        elif isinstance(value, str):
            definition["type"] = "string"
            if "\n" in value or len(value) > 80:
                definition.setdefault("ui", {"widget": "textarea"})
        else:
            raise _field_error(f"parameters.{name}", "give a type for this value (it is not text, a number, "
                                                      "a boolean or a list of text)")
    definition.setdefault("default", value)
    return definition


def _placeholder(name: str) -> str:
    return "{{ params." + name + " }}"


def _replace_at(document: Any, pointer: str, name: str) -> Any:
    """The value at `pointer`, replaced in place by the placeholder for `name`."""
    tokens = parse_pointer(pointer)
    if not tokens:
        raise ValueError("cannot make the whole document a parameter")
    container = document
    for token in tokens[:-1]:
        container = _child(container, token)
    last = tokens[-1]
    if isinstance(container, dict):
        if last not in container:
            raise ValueError("nothing at this path")
        value, container[last] = container[last], _placeholder(name)
        return value
    index = _index(container, last)
    value, container[index] = container[index], _placeholder(name)
    return value


def _index(container: Any, token: str) -> int:
    if not isinstance(container, list):
        raise ValueError("the path goes through a value that is neither an object nor an array")
    if token.startswith("@"):
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("id") == token[1:]:
                return index
        raise ValueError(f"no element with id {token[1:]!r}")
    if not token.isdigit() or int(token) >= len(container):
        raise ValueError(f"no element {token!r}")
    return int(token)


def _child(container: Any, token: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise ValueError(f"{token!r} does not exist")
        return container[token]
    return container[_index(container, token)]


def template_from_workflow(
    *,
    actor: Any,
    workflow: Any,
    parameters: list[Mapping[str, Any]],
    name: str | None = None,
    description: str | None = None,
    category: str = "",
    tags: Iterable[str] | None = None,
    visibility: str = Visibility.TEAM,
    version: str = "1.0.0",
    changelog: str = "First version, saved from a workflow.",
    request: Any = None,
) -> Template:
    """"Save as template": the workflow's current document with chosen values made parameters.

    `parameters` is a list of `{"path": JSON pointer, "name": ..., …optional
    definition fields}`; each value found at its path becomes the
    parameter's default, and the original values make the first example.
    """
    current = workflow.current_version
    document = copy.deepcopy(bare_workflow(current.document))
    definitions: list[dict[str, Any]] = []
    original: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for index, spec in enumerate(parameters):
        pointer, parameter = spec.get("path"), spec.get("name")
        if not isinstance(pointer, str) or not isinstance(parameter, str):
            problems.append({"field": f"parameters[{index}]", "code": "invalid",
                             "message": "each parameter needs a path and a name"})
            continue
        try:
            value = _replace_at(document, pointer, parameter)
        except ValueError as error:
            problems.append({"field": f"parameters[{index}].path", "code": "invalid_path",
                             "message": f"{pointer}: {error}"})
            continue
        if parameter in original:
            # One parameter may stand in several places; it is declared once.
            continue
        original[parameter] = value
        definitions.append(_infer_definition(parameter, value, spec))
    if problems:
        raise _invalid("Some parameters could not be made.", problems)
    document.pop("id", None)
    workflow_metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return template_publish(
        actor=actor, team=workflow.team, name=name or workflow.name,
        description=description if description is not None else (document.get("description") or ""),
        category=category or workflow_metadata.get("category", "") or "",
        tags=list(tags) if tags is not None else list(workflow_metadata.get("tags") or []),
        visibility=visibility,
        version={"version": version, "document": document, "parameters": definitions, "changelog": changelog,
                 "examples": [{"name": f"As in {workflow.name}", "parameters": original}]},
        request=request,
    )


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


def template_upgrade_workflow(*, actor: Any, workflow: Any, request: Any = None
                              ) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """Re-instantiate a workflow's origin at the newest compatible version, with the same
    parameters and overrides, as a new version of the same workflow."""
    from workflows.services import workflow_update

    instantiation = Instantiation.objects.select_related("template_version__template__team").filter(
        workflow=workflow).first()
    if instantiation is None:
        raise NotFound("This workflow was not made from a template.")
    template = instantiation.template_version.template
    if not can_see(actor, template):
        raise NotFound("Template not found.")
    require_role(actor, workflow.team, Role.EDITOR, action="edit workflows")
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
        workflow = workflow_update(actor=actor, workflow=workflow, document=result.document, request=request,
                                   change_message=f"Upgraded from template {template.slug} {previous} to {target.version}")
        Instantiation.objects.filter(pk=instantiation.pk).update(template_version=target,
                                                                 parameters=result.parameters)
        record_event(team=workflow.team, actor=actor, event_type="template.instantiated", target=workflow,
                     details={"template": template.slug, "template_version": target.version,
                              "upgraded_from": previous, "workflow": str(workflow.pk),
                              "parameters": sorted(result.parameters)}, request=request)
    return workflow, result.warnings, result.applied_defaults
