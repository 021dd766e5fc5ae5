"""A template search result's row by a plain function (symphony_site/api/rows.py says why); the
same shape as `TemplateSerializer` (tests/api/test_list_rows.py and
tests/templates_app/test_search_rows.py compare them)."""

from __future__ import annotations

from typing import Any

from symphony_site.api.rows import Stamp, timestamp, timestamps
from templates_app.models import Template
from templates_app.selectors import SearchResult
from templates_app.selectors.matching import page_positions


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


def search_rows(result: SearchResult) -> list[dict[str, Any]]:
    """The rows of a search's page: `template_row`'s shape, built from the search statement's rows when it
    read them, without a model instance per template and team (about half of the endpoint's Python
    calls, docs/templates.md "Seventh session"); otherwise from the page's templates."""
    if result.page is None:
        return template_rows(result.templates)
    stamp = timestamps()
    at = page_positions()
    (slug, name, description, category, tags, team_slug, team_name, visibility, verified, featured, deprecated,
     rating_average, rating_count, usage_count, latest_version, node_types, model_ids, created_at,
     updated_at) = (at[column] for column in _COLUMNS)
    return [{
        "slug": values[slug],
        "name": values[name],
        "description": values[description],
        "category": values[category],
        "tags": [str(tag) for tag in values[tags]],
        "publisher": {"slug": values[team_slug], "name": values[team_name]},
        "visibility": values[visibility],
        "verified": values[verified],
        "featured": values[featured],
        "deprecated": values[deprecated],
        "rating_average": round(float(values[rating_average]), 2),
        "rating_count": int(values[rating_count]),
        "usage_count": int(values[usage_count]),
        "latest_version": values[latest_version],
        "node_types": [str(node_type) for node_type in values[node_types]],
        "model_ids": [str(model_id) for model_id in values[model_ids]],
        "created_at": stamp(values[created_at]),
        "updated_at": stamp(values[updated_at]),
    } for values in result.page.rows]


# The columns `search_rows` reads, in the order it unpacks them.
_COLUMNS = ("slug", "name", "description", "category", "tags", "team.slug", "team.name", "visibility", "verified",
            "featured", "deprecated", "rating_average", "rating_count", "usage_count", "latest_version",
            "node_types", "model_ids", "created_at", "updated_at")
