"""Where a two-node execution's and a chain hop's time goes, in one process (no broker, no worker).

    DJANGO_SETTINGS_MODULE=bench.engine.settings python -m bench.engine.inprocess [COUNT] [--profile=two|chain]

The real `execution_start`, then the step task's function on the step messages the engine
would have sent (kept in a list instead of the broker), COUNT times (with inline starts, the
default, the start runs both nodes itself and "steps" has nothing left: set
`EXECUTION_START_INLINE_MAX=0` for the start/steps split); and one chain of
CHAIN_LENGTH no-ops stepped the same way (inline, one task; `INPROCESS_CHAIN` sets the length, 200). Prints, per phase:

* statements, round trips and transactions counted at the psycopg cursor
  (`tests/executions/counting.py`): deterministic whatever the load;
* CPU milliseconds of this process and of its PostgreSQL backend (from /proc): far less
  noisy than wall time on a shared machine, and the two sum to what one execution costs
  the machine's cores (the channel layer's Redis aside);
* the p50 wall time, for what it is worth under the machine's load (printed beside it).

`--profile=two` or `--profile=chain` adds a cProfile of that loop (`two` also prints the Python
function calls per start and per steps, a measure the machine's load does not move). `INPROCESS_EXPLAIN=MS` logs
the plans of the chain's statements slower than MS ms to the server's log (auto_explain).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CHAIN_LENGTH = int(os.environ.get("INPROCESS_CHAIN", "200"))
TICKS = os.sysconf("SC_CLK_TCK")


def say(*parts: Any) -> None:
    """Figures go to stderr, and the engine's log lines too: filter them out with grep."""
    print(*parts, file=sys.stderr, flush=True)


def backend_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class Cpu:
    """CPU seconds this process and the connection's PostgreSQL backend spent inside blocks."""

    def __init__(self, backend: int) -> None:
        self.backend = backend
        self.client = 0.0
        self.server = 0.0

    @contextmanager
    def measure(self) -> Iterator[None]:
        client, server = time.process_time(), backend_cpu_s(self.backend)
        try:
            yield
        finally:
            self.client += time.process_time() - client
            self.server += backend_cpu_s(self.backend) - server

    def per(self, count: int) -> str:
        return f"CPU per item: client {self.client / count * 1000:.2f} ms, PostgreSQL {self.server / count * 1000:.2f} ms"


def main(count: int, profile: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.engine.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from bench.engine import generate
    from bench.engine.benchmark import Bench
    from executions import tasks
    from executions.engine import dispatching
    from executions.models import Execution
    from tests.executions.counting import counting

    settings.DEBUG = False
    settings.EXECUTION_INLINE_BUDGET_MS = 60_000  # every cheap successor inline: the counts are exact
    sent: list[tuple[Any, ...]] = []

    def keep(task: Any, *, args: Any = (), **options: Any) -> None:
        transaction.on_commit(lambda: sent.append(tuple(args)))

    dispatching.send_task_on_commit = keep  # type: ignore[assignment]
    from symphony_site import events as door

    sends = [0]  # channel-layer group messages (each one Redis round trip or more, in the publisher)
    original_send = door._Publisher.send

    def counted_send(self: Any, group: str, message: dict[str, Any]) -> None:
        sends[0] += 1
        original_send(self, group, message)

    door._Publisher.send = counted_send  # type: ignore[method-assign]

    def steps() -> int:
        taken = 0
        while sent:
            tasks.step(*sent.pop(0))
            taken += 1
        return taken

    def timed(block: Callable[[], Any], profiler: cProfile.Profile | None, into: list[float]) -> Any:
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            return block()
        finally:
            if profiler:
                profiler.disable()
            into.append((time.perf_counter() - began) * 1000)

    bench = Bench()
    two = bench.workflow(generate.two_nodes())
    bench.start(two)
    steps()  # warm: the compiled version, the connections, the imports
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    start_ms: list[float] = []
    step_ms: list[float] = []
    profiler = cProfile.Profile() if profile == "two" else None
    step_profiler = cProfile.Profile() if profile == "two" else None
    start_cpu, step_cpu = Cpu(backend), Cpu(backend)
    counted: list[Any] = []
    sends[0] = 0
    for _ in range(count):
        with counting() as starting, start_cpu.measure():
            execution = timed(lambda: bench.start(two), profiler, start_ms)
        with counting() as stepping, step_cpu.measure():
            timed(steps, step_profiler, step_ms)
        counted = [starting, stepping]
    starting, stepping = counted
    state = Execution.objects.get(pk=execution.pk).state
    say(f"two-node execution ({count}, last {state}), load average {os.getloadavg()[0]:.2f}, "
        f"channel-layer sends per execution {sends[0] / count:.2f}")
    say(f"  start: {starting.as_dict()}, {start_cpu.per(count)}, wall p50 {statistics.median(start_ms):.2f} ms")
    say(f"  steps: {stepping.as_dict()}, {step_cpu.per(count)}, wall p50 {statistics.median(step_ms):.2f} ms")
    if profiler and step_profiler:
        # Python function calls of this thread (not the publisher's): deterministic, unlike CPU time.
        say(f"  Python function calls per item: start {pstats.Stats(profiler).total_calls / count:.0f}, "
            f"steps {pstats.Stats(step_profiler).total_calls / count:.0f}")
        profiler.create_stats()
        step_profiler.create_stats()
        if os.environ.get("INPROCESS_CALLS"):  # the functions called most often in the steps
            pstats.Stats(step_profiler, stream=sys.stderr).sort_stats("ncalls").print_stats(int(os.environ["INPROCESS_CALLS"]))
    if "-v" in sys.argv:
        for line in [*starting.sql, "--- steps", *stepping.sql]:
            say("    ", line[:160].replace("\n", " "))

    if os.environ.get("INPROCESS_EXPLAIN"):
        with connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute(f"SET auto_explain.log_min_duration = {float(os.environ['INPROCESS_EXPLAIN'])}")
            cursor.execute("SET auto_explain.log_analyze = on")
    # The chain's hops are stepped from captured messages: its start sends its first step (an
    # inline start would run the whole chain inside `bench.start`).
    settings.EXECUTION_START_INLINE_MAX = 0
    chain = bench.workflow(generate.chain(CHAIN_LENGTH))
    bench.start(chain)
    steps()
    execution = bench.start(chain)
    chain_profiler = cProfile.Profile() if profile == "chain" else None
    chain_cpu = Cpu(backend)
    wall: list[float] = []
    hops = CHAIN_LENGTH + 1
    sends[0] = 0
    with counting() as chained, chain_cpu.measure():
        taken = timed(steps, chain_profiler, wall)
    state = Execution.objects.get(pk=execution.pk).state
    say(f"chain of {CHAIN_LENGTH} no-ops ({state}, {taken} task(s)), load average {os.getloadavg()[0]:.2f}")
    say(f"  per node: statements {chained.statements / hops:.2f}, round trips {chained.round_trips / hops:.2f}, "
        f"transactions {chained.transactions / hops:.2f}, channel-layer sends {sends[0] / hops:.2f}, "
        f"{chain_cpu.per(hops)}, wall {wall[0] / hops:.2f} ms")
    if profiler or chain_profiler:
        stats = pstats.Stats(profiler or chain_profiler, stream=sys.stderr)
        if step_profiler:
            stats.add(step_profiler)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("-")]
    chosen = next((argument.split("=", 1)[1] for argument in sys.argv if argument.startswith("--profile=")), "")
    main(int(arguments[0]) if arguments else 200, chosen)
