"""Publishing and changing templates: publish, new version, metadata, deprecate, verify, feature, rate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, FloatField
from django.db.models.functions import Cast
from django.utils.text import slugify

from audit.services import record_event
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, NotFound
from teams.access import require_role
from teams.models import Team
from teams.roles import Role
from templates_app.access import can_see, require_staff, require_template_editor
from templates_app.domain.versions import Version
from templates_app.models import Rating, Template, TemplateVersion, Visibility
from templates_app.services.preparation import (
    RESERVED_SLUGS,
    _clean_category,
    _clean_name,
    _clean_tags,
    _clean_visibility,
    _field_error,
    _invalid,
    _store_version,
    _unique_slug,
    prepare_version,
)

# ---------------------------------------------------------------- publish and change


def template_publish(
    *,
    actor: Actor,
    origin: Origin,
    team: Team,
    name: str,
    description: str = "",
    category: str = "",
    tags: Iterable[str] = (),
    visibility: str = Visibility.TEAM,
    version: Mapping[str, Any],
    slug: str | None = None,
) -> Template:
    """Publish a new template with its first version, for `team` (editor or higher)."""
    require_role(actor.user, team, Role.EDITOR, action="publish templates")
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
                created_by=actor.user,
            )
            stored = _store_version(template, prepared, actor)
            record_event(team=team, actor=actor, origin=origin, event_type="template.published", target=template,
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         details={"slug": template.slug, "version": stored.version, "visibility": visibility})
    except IntegrityError:
        raise Conflict(f"A template with slug {slug or name!r} already exists.") from None
    return template


def template_version_create(*, actor: Actor, origin: Origin, template: Template, version: Mapping[str, Any]) -> TemplateVersion:
    """Publish a new version; it must be greater than every existing one and say what changed."""
    require_template_editor(actor.user, template, action="publish new versions of this template")
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
        record_event(team=locked.team, actor=actor, origin=origin, event_type="template.versioned", target_type="template",
                     target_id=str(locked.pk), target_name=locked.name,
                     details={"slug": locked.slug, "version": stored.version, "previous": str(latest),
                              "changelog": stored.changelog[:500]})
    template.refresh_from_db()
    return stored


def template_update(*, actor: Actor, origin: Origin, template: Template, **fields: Any) -> Template:
    """Change name, description, category, tags or visibility (editor; public needs admin)."""
    require_template_editor(actor.user, template, action="change this template")
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
        record_event(team=template.team, actor=actor, origin=origin, event_type="template.updated", target_type="template",
                     target_id=str(template.pk), target_name=template.name,
                     details={"slug": template.slug, "changes": changes})
    return template


def template_deprecate(*, actor: Actor, origin: Origin, template: Template, deprecated: bool = True, reason: str = "") -> Template:
    """Mark a template deprecated (or not): publishers' editors or staff."""
    if not getattr(actor.user, "is_staff", False):
        require_template_editor(actor.user, template, action="deprecate this template")
    with transaction.atomic():
        updated = Template.objects.filter(pk=template.pk).exclude(deprecated=deprecated).update(
            deprecated=deprecated)
        if updated:
            record_event(team=template.team, actor=actor, origin=origin, event_type="template.deprecated",
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         reason=reason, details={"slug": template.slug, "deprecated": deprecated})
    template.refresh_from_db()
    return template


def template_set_verified(*, actor: Actor, origin: Origin, template: Template, verified: bool = True) -> Template:
    require_staff(actor.user, action="verify templates")
    with transaction.atomic():
        if Template.objects.filter(pk=template.pk).exclude(verified=verified).update(verified=verified):
            record_event(team=template.team, actor=actor, origin=origin, event_type="template.verified",
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         details={"slug": template.slug, "verified": verified})
    template.refresh_from_db()
    return template


def template_set_featured(*, actor: Actor, origin: Origin, template: Template, featured: bool = True) -> Template:
    require_staff(actor.user, action="feature templates")
    with transaction.atomic():
        if Template.objects.filter(pk=template.pk).exclude(featured=featured).update(featured=featured):
            record_event(team=template.team, actor=actor, origin=origin, event_type="template.featured",
                         target_type="template", target_id=str(template.pk), target_name=template.name,
                         details={"slug": template.slug, "featured": featured})
    template.refresh_from_db()
    return template


def template_rate(*, actor: Actor, origin: Origin, template: Template, stars: Any) -> Rating:
    """Rate a visible template 1..5; a second rating replaces the first. Aggregates stay exact."""
    if not can_see(actor.user, template):
        raise NotFound("Template not found.")
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise _field_error("stars", "must be an integer from 1 to 5")
    with transaction.atomic():
        # Lock the user's rating row (if any) so two concurrent ratings by
        # one user cannot both count as new.
        existing = Rating.objects.select_for_update().filter(template=template, user=actor.user).first()
        if existing is None:
            rating = Rating.objects.create(template=template, user=actor.user, stars=stars)
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
        record_event(team=template.team, actor=actor, origin=origin, event_type="template.rated", target_type="template",
                     target_id=str(template.pk), target_name=template.name,
                     details={"slug": template.slug, "stars": stars,
                              "previous": None if existing is None else stars - delta_total})
    template.refresh_from_db()
    return rating
