"""The load bench's CPU split of a single client's requests (bench/api/load.py `CpuMeter`)."""

from __future__ import annotations

import os
import time

from bench.api.load import CpuMeter
from bench.server import process_cpu_seconds


def test_per_request_divides_each_part_and_names_the_wall_time_no_part_explains() -> None:
    before = {"client": 10.0, "server": 20.0, "postgres": 5.0, "redis": 1.0, "wall": 100.0}
    after = {"client": 10.2, "server": 20.5, "postgres": 5.1, "redis": 1.01, "wall": 101.0}

    parts = CpuMeter.per_request(before, after, 100)

    # 1 s of wall over 100 requests is 10 ms each, of which 8.11 ms were some process's CPU.
    assert parts == {"client": 2.0, "server": 5.0, "postgres": 1.0, "redis": 0.1, "waiting": 1.9}


def test_a_process_cpu_time_is_read_from_proc_and_a_gone_process_counts_nothing() -> None:
    before = process_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass

    assert process_cpu_seconds(os.getpid()) - before >= 0.04  # clock ticks of 10 ms
    assert process_cpu_seconds(2**22 + 1) == 0.0  # above the kernel's largest pid
