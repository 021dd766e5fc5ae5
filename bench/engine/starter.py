"""Start executions from a process of its own, for the two-node throughput figure.

    python -m bench.engine.starter WORKFLOW_ID COUNT

A real platform starts executions from several web processes at once; four threads of the
benchmark's own interpreter (the GIL, shared with the waiting and measuring) were the figure's
floor instead of the engine. The benchmark starts a few of these, waits for every one to print
`ready` (Django set up, one execution started and finished to warm up), then writes `go` to all of them: each starts
COUNT executions with the real service and prints their ids as one JSON list.
"""

from __future__ import annotations

import json
import sys


def main(workflow_id: str, count: int) -> None:
    import django

    django.setup()
    from bench.engine.benchmark import Bench, finished
    from workflows.models import Workflow

    bench = Bench()
    workflow = Workflow.objects.get(pk=workflow_id)
    # One start before `ready`: imports the engine and the runtime, compiles the version and
    # opens the connections, none of which the figure is about.
    finished(bench.start(workflow).pk)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    ids = [str(bench.start(workflow).pk) for _ in range(count)]
    print(json.dumps(ids), flush=True)
    # Alive until the benchmark closes stdin, so its CPU accounting (bench/engine/cpu.py) can
    # read this process's CPU time after the last execution completed.
    sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
