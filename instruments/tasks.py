"""Beat-scheduled instruments work: thin, safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from instruments import services


@shared_task(name="instruments.expire_cache", ignore_result=True, soft_time_limit=600,
             time_limit=660)
def expire_cache() -> int:
    """Delete cached model outputs older than MODEL_CACHE_TTL_DAYS."""
    cutoff = timezone.now() - dt.timedelta(days=settings.MODEL_CACHE_TTL_DAYS)
    return services.cache_expire(older_than=cutoff)
