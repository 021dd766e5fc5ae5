"""Model benchmarks: the local embedding model, an `embed` node inside an execution, and
the output cache on a re-run — each beside its baseline measured in the same run.

* texts per second of all-MiniLM-L6-v2 (numpy, one BLAS thread) at batch 1 and 32,
  over distinct support-ticket-like texts (batch 1 is the baseline of batch 32);
* one `embed` node inside an execution (a real Celery worker, PostgreSQL, Redis):
  p50/p95 of the node run (claimed to recorded) and of the execution (started to
  completed, seen by polling), beside the same model's raw forward pass of one text;
* an instrument node (`local/all-minilm-l6-v2`) on a re-run: the cached answer's node
  run beside the first run's, which computed it.

Every text is new to the process (the local model remembers recent texts), so each
figure is a real forward pass unless it is the cache's. `python -m bench.models
[--quick]`; `make bench` runs it with the others.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

AREA = "models"
SUBJECTS = ["invoice", "refund", "password", "parcel", "crash", "login", "export", "discount",
            "delivery", "subscription", "upgrade", "error 500", "sync", "address", "receipt"]
PROBLEMS = ["was charged twice", "never arrived", "keeps failing since yesterday",
            "shows the wrong amount", "cannot be found in my account", "broke after the update"]


def texts(count: int, salt: str) -> list[str]:
    """Distinct ticket-like texts of 10 to 20 words."""
    return [f"Ticket {salt}-{index}: my {SUBJECTS[index % len(SUBJECTS)]} "
            f"{PROBLEMS[index % len(PROBLEMS)]}, please help me with order {index * 7919 % 100_000} "
            f"before {'Monday' if index % 2 else 'Friday'}." for index in range(count)]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def row(name: str, size: str, value: float, unit: str, *, p95: float | None = None,
        baseline_name: str | None = None, baseline: float | None = None,
        higher_is_better: bool = False, target: str | None = None, met: bool | None = None
        ) -> dict[str, Any]:
    ratio = None
    if baseline:
        ratio = round(value / baseline if higher_is_better else baseline / value, 3)
    return {"area": AREA, "name": name, "size": size, "value": round(value, 3), "unit": unit,
            "p95": round(p95, 3) if p95 is not None else None, "baseline_name": baseline_name,
            "baseline": round(baseline, 3) if baseline is not None else None, "ratio": ratio,
            "target": target, "met": met}


# ---------------------------------------------------------------------- raw model


def model_rows(quick: bool) -> list[dict[str, Any]]:
    from executions.runtime.providers.minilm import shared_model

    model = shared_model()
    model.embed(texts(8, "warm"))  # load, and warm the BLAS paths
    count = 32 if quick else 256
    one_at_a_time = texts(count, "b1")
    started = time.perf_counter()
    for text in one_at_a_time:
        model.embed([text])
    batch_1 = count / (time.perf_counter() - started)
    batched = texts(count, "b32")
    started = time.perf_counter()
    model.embed(batched, batch_size=32)
    batch_32 = count / (time.perf_counter() - started)
    print(f"# {count} distinct texts per figure, 10 to 20 words each; 8 warm-up texts",
          file=sys.stderr)
    return [
        row("local embeddings, batch 1", f"{count} texts", batch_1, "texts/s"),
        row("local embeddings, batch 32", f"{count} texts", batch_32, "texts/s",
            baseline_name="batch 1", baseline=batch_1, higher_is_better=True),
    ]


# ---------------------------------------------------------------------- in the engine


def _start_worker() -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                                  "symphony_site.settings")}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "symphony_site", "worker", "--pool=prefork",
         "--concurrency=1", "--loglevel=WARNING", f"--hostname=bench-models-{uuid.uuid4().hex[:6]}",
         "--without-gossip", "--without-mingle", "-Q", "steps,io,models,control"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _bench_team() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model

    from symphony_site.actors import Actor, Origin
    from teams import services as team_services
    from teams.models import Team

    user, _ = get_user_model().objects.get_or_create(username="bench-models")
    team = Team.objects.filter(name="Bench models").first()
    if team is None:
        team = team_services.team_create(actor=Actor.of(user), origin=Origin.command(),
                                         name="Bench models")
    return Actor.of(user), team


def _workflow(actor: Any, team: Any, name: str, nodes: list[dict[str, Any]],
              edges: list[dict[str, Any]]) -> Any:
    from symphony_site.actors import Origin
    from workflows import services
    from workflows.models import Workflow

    existing = Workflow.objects.filter(team=team, name=name).first()
    if existing is not None:
        return existing
    from workflows import samples

    return services.workflow_create(actor=actor, origin=Origin.command(), team=team,
                                    document=samples.workflow(name, nodes, edges))


def _run(actor: Any, workflow: Any, inputs: dict[str, Any], node_id: str,
         timeout: float = 120) -> tuple[float, float, Any]:
    """(execution wall ms, node run ms, the node run) of one started execution."""
    from executions.models import Execution, NodeRun
    from executions.services import execution_start
    from symphony_site.actors import Origin

    started = time.perf_counter()
    execution = execution_start(actor=actor, origin=Origin.command(), workflow=workflow,
                                inputs=inputs)
    deadline = time.monotonic() + timeout
    while True:
        state = Execution.objects.filter(pk=execution.pk).values_list("state", flat=True).get()
        if state in ("completed", "failed", "cancelled"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"execution {execution.pk} still {state} after {timeout} s")
        time.sleep(0.002)
    wall = (time.perf_counter() - started) * 1000
    if state != "completed":
        raise RuntimeError(f"execution {execution.pk} ended {state}")
    node = NodeRun.objects.get(execution=execution, node_id=node_id)
    node_ms = (node.finished_at - node.started_at).total_seconds() * 1000
    return wall, node_ms, node


def engine_rows(quick: bool) -> list[dict[str, Any]]:
    from executions.runtime.providers.minilm import shared_model
    from workflows import samples

    actor, team = _bench_team()
    embed_flow = _workflow(actor, team, "bench: embed one text", [
        samples.node_input("text"), samples.node_operator("embed", "embed", {}),
        samples.node_output("vector", "any")],
        [samples.data_edge("e1", "text", "value", "embed", "text"),
         samples.data_edge("e2", "embed", "embedding", "vector", "value")])
    instrument_flow = _workflow(actor, team, "bench: embedding instrument", [
        samples.node_input("text"), samples.node_model("vector", "local/all-minilm-l6-v2", {}),
        samples.node_output("out", "array<number>")],
        [samples.data_edge("e1", "text", "value", "vector", "text"),
         samples.data_edge("e2", "vector", "embedding", "out", "value")])
    runs = 5 if quick else 40
    worker = _start_worker()
    try:
        # Warm-up: the worker process loads the model on its first embedding.
        for text in texts(3, f"warm-{uuid.uuid4().hex[:6]}"):
            _run(actor, embed_flow, {"text": text}, "embed")
        salt = uuid.uuid4().hex[:6]
        walls, nodes = [], []
        for text in texts(runs, f"node-{salt}"):
            wall, node_ms, _ = _run(actor, embed_flow, {"text": text}, "embed")
            walls.append(wall)
            nodes.append(node_ms)
        model = shared_model()
        raw = []
        for text in texts(runs, f"raw-{salt}"):
            started = time.perf_counter()
            model.embed([text])
            raw.append((time.perf_counter() - started) * 1000)
        misses, hits, miss_walls, hit_walls = [], [], [], []
        cache_texts = texts(runs, f"cache-{salt}")
        for text in cache_texts:
            wall, node_ms, node = _run(actor, instrument_flow, {"text": text}, "vector")
            assert node.cached is False
            misses.append(node_ms)
            miss_walls.append(wall)
        for text in cache_texts:
            wall, node_ms, node = _run(actor, instrument_flow, {"text": text}, "vector")
            assert node.cached is True
            hits.append(node_ms)
            hit_walls.append(wall)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"# {runs} executions per figure after 3 warm-up executions; one worker process "
          "(prefork, concurrency 1); node run = claimed to recorded", file=sys.stderr)
    raw_p50 = statistics.median(raw)
    size = f"{runs} executions"
    return [
        row("embed node run in an execution", size, statistics.median(nodes), "ms",
            p95=percentile(nodes, 0.95), baseline_name="raw forward pass, one text",
            baseline=raw_p50),
        row("execution with one embed node, start to completed", size,
            statistics.median(walls), "ms", p95=percentile(walls, 0.95),
            baseline_name="raw forward pass, one text", baseline=raw_p50),
        row("embedding instrument re-run, cache hit (node run)", size, statistics.median(hits),
            "ms", p95=percentile(hits, 0.95), baseline_name="first run, cache miss",
            baseline=statistics.median(misses)),
        row("execution re-run with a cache hit, start to completed", size,
            statistics.median(hit_walls), "ms", p95=percentile(hit_walls, 0.95),
            baseline_name="first run, cache miss", baseline=statistics.median(miss_walls)),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    return model_rows(quick) + engine_rows(quick)
