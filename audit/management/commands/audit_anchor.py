"""Print every audit chain's head as JSON lines, to be stored outside the database."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from audit import selectors


class Command(BaseCommand):
    help = (
        "Print each audit chain's head (chain, team, sequence, hash) as JSON lines. Keep the "
        "output somewhere the database's users cannot write; `audit_verify --anchor FILE` then "
        "detects entries removed from the end of a chain."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for anchor in selectors.anchors():
            self.stdout.write(json.dumps(anchor, separators=(",", ":")))
