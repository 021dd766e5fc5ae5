"""`{% starter_templates request.user 3 as starters %}`: curated templates for empty pages.

A template tag, so pages of `teams` and `workflows` can suggest templates without those
apps importing `templates_app` (import rules, docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from django import template

from templates_app.curated import curated_templates

register = template.Library()


@register.simple_tag
def starter_templates(user: Any, limit: int = 3) -> list[Any]:
    """Featured, then verified templates the user may see: where a newcomer should start."""
    return curated_templates(user, limit=limit)
