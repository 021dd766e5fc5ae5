"""Beat-scheduled audit work: thin, safe to run twice (a second run finds nothing older to prune)."""

from __future__ import annotations

from celery import shared_task

from audit import services
from symphony_site.actors import Origin


@shared_task(name="audit.apply_retention", ignore_result=True, soft_time_limit=3000, time_limit=3300)
def apply_retention() -> dict[str, int]:
    """Prune every team's audit log to its retention period (see `services.apply_retention`)."""
    return services.apply_retention(actor=services.RETENTION_ACTOR, origin=Origin.task())
