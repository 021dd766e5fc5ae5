"""Serialization benchmark: encode / decode times and sizes for every format.

Workflows of 100 and 10,000 nodes (``generate.py``), each format beside the
standard library's ``json`` measured in the same run (targets in
benchmarks.md). Run ``python -m bench.serialization`` (add ``--quick`` for
the smoke-test size).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.serialization.generate import generate_envelope
from workflows.serialization import decode, encode

AREA = "serialization"
FORMATS = ("json", "msgpack", "zstd", "lz4", "json+zstd", "json+lz4")
ENCODE_TARGET_MS_AT_100 = 1.0
BINARY_SIZE_TARGET = 0.5  # of compact JSON
COMPRESSED_SIZE_TARGET = 0.7  # of the uncompressed encoding


def _timings(function: Callable[[], Any], *, repetitions: int, warm_up: int) -> list[float]:
    for _ in range(warm_up):
        function()
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time_row(
    name: str,
    size: str,
    samples: list[float],
    baseline_name: str,
    baseline: float,
    target: str | None,
    met: bool | None,
) -> dict[str, Any]:
    p50 = statistics.median(samples)
    return {
        "area": AREA,
        "name": name,
        "size": size,
        "unit": "ms",
        "value": round(p50, 4),
        "p50": round(p50, 4),
        "p95": round(_percentile(samples, 0.95), 4),
        "max": round(max(samples), 4),
        "baseline_name": baseline_name,
        "baseline": round(baseline, 4),
        "ratio": round(baseline / p50, 3) if p50 else None,
        "target": target,
        "met": met,
    }


def _size_row(
    name: str, size: str, value: int, baseline: int, target: str | None, met: bool | None
) -> dict[str, Any]:
    return {
        "area": AREA,
        "name": name,
        "size": size,
        "unit": "bytes",
        "value": value,
        "p50": None,
        "p95": None,
        "max": None,
        "baseline_name": "stdlib json, compact, sorted keys",
        "baseline": baseline,
        "ratio": round(baseline / value, 3),
        "target": target,
        "met": met,
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    node_counts = (100,) if quick else (100, 10_000)
    rows: list[dict[str, Any]] = []
    for node_count in node_counts:
        envelope = generate_envelope(node_count, seed=42)
        small = node_count <= 1000
        repetitions = (5 if quick else 200) if small else 10
        warm_up = 2 if quick else (20 if small else 2)

        def stdlib_encode(envelope: dict[str, Any] = envelope) -> str:
            return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

        stdlib_text = stdlib_encode()
        json_size = len(stdlib_text.encode("utf-8"))
        size_label = f"{node_count} nodes"
        print(
            f"# {size_label}: {json_size:,} bytes of compact JSON; "
            f"{warm_up} warm-up runs, {repetitions} timed runs per figure",
            file=sys.stderr,
        )
        gc.collect()
        stdlib_encode_ms = statistics.median(
            _timings(stdlib_encode, repetitions=repetitions, warm_up=warm_up)
        )
        stdlib_decode_ms = statistics.median(
            _timings(
                lambda text=stdlib_text: json.loads(text), repetitions=repetitions, warm_up=warm_up
            )
        )
        binary_size = len(encode(envelope, "msgpack"))
        for format_name in FORMATS:
            data = encode(envelope, format_name)
            assert decode(data) == envelope, f"{format_name} does not round-trip"
            encode_samples = _timings(
                lambda name=format_name, envelope=envelope: encode(envelope, name),
                repetitions=repetitions,
                warm_up=warm_up,
            )
            decode_samples = _timings(
                lambda data=data: decode(data), repetitions=repetitions, warm_up=warm_up
            )
            encode_target = f"< {ENCODE_TARGET_MS_AT_100} ms" if node_count == 100 else None
            rows.append(
                _time_row(
                    f"encode {format_name}",
                    size_label,
                    encode_samples,
                    "stdlib json.dumps (sorted keys)",
                    stdlib_encode_ms,
                    encode_target,
                    statistics.median(encode_samples) < ENCODE_TARGET_MS_AT_100
                    if encode_target
                    else None,
                )
            )
            rows.append(
                _time_row(
                    f"decode {format_name}",
                    size_label,
                    decode_samples,
                    "stdlib json.loads",
                    stdlib_decode_ms,
                    None,
                    None,
                )
            )
            if format_name == "json":
                rows.append(_size_row("size json", size_label, len(data), json_size, None, None))
            elif format_name == "msgpack":
                rows.append(
                    _size_row(
                        "size msgpack",
                        size_label,
                        len(data),
                        json_size,
                        f"<= {BINARY_SIZE_TARGET:.0%} of compact JSON",
                        len(data) <= BINARY_SIZE_TARGET * json_size,
                    )
                )
            else:
                uncompressed = json_size if format_name.startswith("json") else binary_size
                rows.append(
                    _size_row(
                        f"size {format_name}",
                        size_label,
                        len(data),
                        json_size,
                        f"<= {COMPRESSED_SIZE_TARGET:.0%} of "
                        + ("compact JSON" if format_name.startswith("json") else "msgpack"),
                        len(data) <= COMPRESSED_SIZE_TARGET * uncompressed,
                    )
                )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = (
        "name",
        "size",
        "unit",
        "value",
        "p50",
        "p95",
        "max",
        "baseline",
        "ratio",
        "target",
        "met",
    )
    widths = {
        column: max(len(column), *(len(_cell(row[column])) for row in rows)) for column in columns
    }
    print("  ".join(column.ljust(widths[column]) for column in columns))
    for row in rows:
        print("  ".join(_cell(row[column]).ljust(widths[column]) for column in columns))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def main(arguments: list[str]) -> None:
    print_table(run(quick="--quick" in arguments))


if __name__ == "__main__":
    main(sys.argv[1:])
