"""A template search result's row by a plain function (symphony_site/api/rows.py says why); the
same shape as `TemplateSerializer` (tests/api/test_list_rows.py compares them)."""

from __future__ import annotations

from typing import Any

from symphony_site.api.rows import Stamp, timestamp, timestamps
from templates_app.models import Template


def template_row(template: Template, stamp: Stamp = timestamp) -> dict[str, Any]:
    return {
        "slug": template.slug,
        "name": template.name,
        "description": template.description,
        "category": template.category,
        "tags": [str(tag) for tag in template.tags],
        "publisher": {"slug": template.team.slug, "name": template.team.name},
        "visibility": template.visibility,
        "verified": template.verified,
        "featured": template.featured,
        "deprecated": template.deprecated,
        "rating_average": round(float(template.rating_average), 2),
        "rating_count": int(template.rating_count),
        "usage_count": int(template.usage_count),
        "latest_version": template.latest_version,
        "node_types": [str(node_type) for node_type in template.node_types],
        "model_ids": [str(model_id) for model_id in template.model_ids],
        "created_at": stamp(template.created_at),
        "updated_at": stamp(template.updated_at),
    }


def template_rows(templates: list[Template]) -> list[dict[str, Any]]:
    stamp = timestamps()
    return [template_row(template, stamp) for template in templates]
