"""The Celery application: Redis broker, JSON only, time limits from settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")

app = Celery("symphony")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Triggers and limits keep their tasks beside their services, inside the executions app.
app.autodiscover_tasks(["executions.triggers"])
