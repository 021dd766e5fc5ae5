"""The fault suite's short form, part of `make test`: the same driver as `make test-faults`
(tests/faults/run.py) with small counts, in its own process against its own PostgreSQL and
Redis, so restarting them breaks none of the session's other tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.faults.run import SCALES
from tests.faults.services import ROOT


def test_the_short_fault_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    finished = subprocess.run([sys.executable, "-m", "tests.faults", "--scale", "short", "--json", str(figures_path)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-12000:]
    figures = json.loads(figures_path.read_text())
    short = SCALES["short"]
    assert (figures["lost"], figures["duplicated"], figures["disagreeing"]) == (0, 0, 0), finished.stdout
    assert figures["kills"] == short.kills
    assert figures["crashes_after_commit"] == short.crashes
    assert figures["restarts"] == {"redis": 1, "postgres": 1, "workers": 1, "beats": 1}
    assert (figures["schedule_repeats"], figures["audit_chains_broken"], figures["problems"]) == (0, 0, [])
    assert figures["schedule_fires"] > 0 and figures["audit_chains_verified"] >= 1
    # Every execution started reached its end: the checks count one still running as lost.
    assert figures["executions"] >= short.wave * 7
