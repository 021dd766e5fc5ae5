"""CPU time per group of processes over a benchmark phase: where the machine's cores went.

`bench/engine/inprocess.py` counts one process and its PostgreSQL backend; the real system also
runs the worker's main process and its pool, the starters, beat, the PostgreSQL server's other
processes and Redis. `Snapshot.take()` reads utime + stime of every one of them from /proc
(the benchmark's own descendants, the private PostgreSQL's and Redis's processes under `var/`);
`Snapshot.since(earlier)` gives the CPU seconds each group spent in between. Set
`BENCH_ENGINE_CPU=1` to have the two-node phase print it (per execution) to stderr.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
VAR = Path(__file__).resolve().parents[2] / "var"


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _group(pid: int, root: int, postmaster: int | None, redis: int | None, parents: dict[int, int]) -> str | None:
    if pid == redis:
        return "redis"
    if pid == postmaster or (postmaster is not None and parents.get(pid) == postmaster):
        command = _cmdline(pid)
        return "postgres backends" if "postgres: postgres" in command else "postgres other"
    if pid == root:
        return "benchmark process"
    ancestor = parents.get(pid)
    while ancestor is not None and ancestor != root:
        ancestor = parents.get(ancestor)
    if ancestor is None:
        return None
    command = _cmdline(pid)
    if "bench.engine.starter" in command:
        return "starters"
    if " beat" in command:
        return "beat"
    if " worker" in command:
        return "worker main" if parents.get(pid) == root else "worker pool"
    return "other descendants"


@dataclass
class Snapshot:
    cpu: dict[int, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def take(cls) -> Snapshot:
        postmaster = _pid_file(VAR / "postgres" / "postmaster.pid")
        redis = _pid_file(VAR / "redis.pid")
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                found = _stat(int(entry))
                if found is not None:
                    parents[int(entry)], times[int(entry)] = found
        snapshot = cls()
        root = os.getpid()
        for pid, seconds in times.items():
            group = _group(pid, root, postmaster, redis, parents)
            if group is not None:
                snapshot.cpu[pid] = (group, seconds)
        return snapshot

    def since(self, earlier: Snapshot) -> dict[str, float]:
        """CPU seconds per group between `earlier` and this snapshot (a process that ended in
        between is lost: take the later snapshot before the starters exit)."""
        spent: dict[str, float] = defaultdict(float)
        for pid, (group, seconds) in self.cpu.items():
            spent[group] += seconds - (earlier.cpu[pid][1] if pid in earlier.cpu else 0.0)
        return dict(spent)


def report(spent: dict[str, float], count: int, wall_s: float) -> str:
    total = sum(spent.values())
    lines = [f"CPU over {wall_s:.2f} s for {count} executions: {total:.2f} s "
             f"({total / count * 1000:.1f} ms per execution, {total / wall_s:.2f} cores busy)"]
    for group, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        lines.append(f"  {group:20s} {seconds:7.2f} s  {seconds / count * 1000:6.1f} ms/execution")
    return "\n".join(lines)


def latencies(ids: list[str]) -> str:
    """p50 / p95 of where an execution's wall time went, from the rows' own timestamps."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY extract(epoch FROM e.finished_at - e.created_at)),
                   percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY extract(epoch FROM first.started_at - e.created_at)),
                   percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY extract(epoch FROM last.started_at - first.finished_at))
            FROM executions_execution e
            JOIN executions_noderun first ON first.execution_id = e.id AND first.node_id = 'in'
            JOIN executions_noderun last ON last.execution_id = e.id AND last.node_id = 'out'
            WHERE e.id = ANY(%s::uuid[])""", [ids])
        total, to_first, between = cursor.fetchone()
    def ms(pair: list[float]) -> str:
        return f"{pair[0] * 1000:.1f} / {pair[1] * 1000:.1f} ms"
    return (f"created → completed p50/p95 {ms(total)}, created → first node started {ms(to_first)}, "
            f"first node finished → second started {ms(between)}")


def timeline(ids: list[str]) -> str:
    """Executions created and first nodes started per 250 ms, from the first creation."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            WITH t0 AS (SELECT min(created_at) AS t FROM executions_execution WHERE id = ANY(%s::uuid[]))
            SELECT floor(extract(epoch FROM x.at - t0.t) * 4)::int AS slot, x.kind, count(*)
            FROM t0, (SELECT 'created' AS kind, created_at AS at FROM executions_execution WHERE id = ANY(%s::uuid[])
                      UNION ALL
                      SELECT 'claimed', started_at FROM executions_noderun WHERE execution_id = ANY(%s::uuid[]) AND node_id = 'in'
                      UNION ALL
                      SELECT 'finished', finished_at FROM executions_execution WHERE id = ANY(%s::uuid[])) x
            GROUP BY 1, 2 ORDER BY 1, 2""", [ids] * 4)
        rows = cursor.fetchall()
    slots: dict[int, dict[str, int]] = {}
    for slot, kind, count in rows:
        slots.setdefault(slot, {})[kind] = count
    return "\n".join(f"  {slot / 4:5.2f} s  created {found.get('created', 0):3d}  claimed {found.get('claimed', 0):3d}"
                     f"  finished {found.get('finished', 0):3d}" for slot, found in sorted(slots.items()))
