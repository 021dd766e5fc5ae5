"""Reads for the marketplace's landing and the onboarding of empty teams: curated templates first.

Kept apart from `selectors.py` (search) because these are plain ORM reads over what the user may
see (`access.visible_templates`), not ranked search.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from templates_app.access import visible_templates
from templates_app.models import Template


def curated_templates(user: Any, *, limit: int = 6) -> list[Template]:
    """Featured templates first, then verified ones (most used first): what a newcomer sees first."""
    curated = (visible_templates(user).filter(deprecated=False)
               .filter(Q(featured=True) | Q(verified=True)).select_related("team")
               .order_by("-featured", "-verified", "-usage_count", "name"))
    return list(curated[:limit])


def category_tiles(user: Any, *, limit: int = 8) -> list[dict[str, Any]]:
    """The most populated categories with their template counts, for the landing's tiles."""
    rows = (visible_templates(user).filter(deprecated=False).exclude(category="")
            .values("category").annotate(count=Count("id")).order_by("-count", "category"))
    return [{"category": row["category"], "count": row["count"]} for row in rows[:limit]]
