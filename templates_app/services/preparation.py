"""Checks shared by the template services: metadata, and a version body made ready to store."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from symphony_site.actors import Actor
from symphony_site.api.errors import Conflict, ValidationFailed
from teams.access import require_role
from teams.models import Team
from teams.roles import Role
from templates_app.domain.instantiation import (
    InstantiationError,
    bare_workflow,
    instantiate_document,
    template_problems,
)
from templates_app.domain.parameters import (
    ParameterDefinition,
    ParameterDefinitionError,
    parse_parameters,
)
from templates_app.domain.versions import Version, VersionError
from templates_app.models import Template, TemplateVersion, Visibility

MAX_TAGS = 20
MAX_EXAMPLES = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,39}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# Slugs that would collide with API routes under /api/v1/templates/.
RESERVED_SLUGS = {"from-workflow", "origins"}


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


def _clean_visibility(actor: Actor, team: Team, visibility: Any) -> str:
    if visibility not in Visibility.values:
        raise _field_error("visibility", f"must be one of {', '.join(Visibility.values)}")
    if visibility == Visibility.PUBLIC:
        require_role(actor.user, team, Role.ADMIN, action="publish a template publicly")
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


def _store_version(template: Template, prepared: PreparedVersion, actor: Actor) -> TemplateVersion:
    try:
        with transaction.atomic():
            return TemplateVersion.objects.create(
                template=template, version=str(prepared.version), major=prepared.version.major,
                minor=prepared.version.minor, patch=prepared.version.patch, document=prepared.document,
                parameters=prepared.parameters, examples=prepared.examples, changelog=prepared.changelog,
                created_by=actor.user,
            )
    except IntegrityError:
        raise Conflict(f"Version {prepared.version} of {template.slug} already exists.") from None
