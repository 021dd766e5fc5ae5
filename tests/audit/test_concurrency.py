"""Several processes appending to one chain at once still make one valid, gap-free chain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from audit import selectors
from audit.models import AuditChainHead, AuditEntry
from teams.models import Team

WORKERS = 4
PER_WORKER = 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_processes_keep_one_valid_chain() -> None:
    team = Team.objects.create(name="Busy", slug="busy")
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env: dict[str, Any] = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings"}
    root = Path(__file__).resolve().parents[2]
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.audit.append_worker", str(team.pk), str(PER_WORKER), f"w{number}"],
                         cwd=root, env=env, stderr=subprocess.PIPE, text=True)
        for number in range(WORKERS)
    ]
    failures = [process.communicate(timeout=120)[1] for process in processes if process.wait(timeout=120) != 0]
    assert failures == []

    total = WORKERS * PER_WORKER
    sequences = list(AuditEntry.objects.filter(team=team).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))
    per_worker = {f"w{number}": 0 for number in range(WORKERS)}
    for details in AuditEntry.objects.filter(team=team).values_list("details", flat=True):
        per_worker[details["worker"]] += 1
    assert per_worker == {f"w{number}": PER_WORKER for number in range(WORKERS)}
    assert AuditChainHead.objects.get(chain=str(team.pk)).last_sequence == total
    assert selectors.verify(selectors.Chain(team)).as_dict() == {"valid": True, "checked": total, "first_break": None}
