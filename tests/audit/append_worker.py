"""Run as a separate process by the concurrency test: append N entries to one team's chain.

Usage: python -m tests.audit.append_worker <team id> <count> <label>
(DATABASE_URL points at the test database.)
"""

from __future__ import annotations

import os
import sys

import django

from symphony_site.actors import Actor, Origin


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.test_settings")
    django.setup()
    from django.db import transaction

    from audit.services import record_event
    from teams.models import Team

    team_id, count, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    team = Team.objects.get(pk=team_id)
    for index in range(count):
        with transaction.atomic():
            record_event(team=team, actor=Actor.system("system"), origin=Origin.task(), event_type="team.updated",
                         details={"worker": label, "index": index})


if __name__ == "__main__":
    main()
