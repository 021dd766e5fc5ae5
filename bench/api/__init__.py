"""API load benchmark (bench/api/load.py): per-endpoint throughput and latency beside a bare view."""

from __future__ import annotations

from bench.api.load import run

__all__ = ["run"]
