"""`manage.py clear_metrics`: empty the Prometheus multiprocess directory before the processes start.

Files of processes that are gone would otherwise keep adding their old counts, and a process
that reuses a dead one's pid would carry on from its gauges. `make run` and `make test` empty
`var/prometheus/` in their scripts; docker-compose's web runs this before it starts, and the
workers start once the web is healthy (docs/operations.md, "Metrics"). With
PROMETHEUS_MULTIPROC_SHARED it empties every host's subdirectory of the shared volume.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Delete every process's metric files (run before the web, workers and beat start)."

    def handle(self, *args: Any, **options: Any) -> None:
        from symphony_site.metrics import ProcessFiles

        files = ProcessFiles().files()  # the files /metrics adds up: this host's, or every host's
        for path in files:
            os.remove(path)
        self.stdout.write(f"Deleted {len(files)} metric files.")
