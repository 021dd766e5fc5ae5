"""Trigger benchmarks (`bench/triggers/benchmark.py`): webhook accept beside `/healthz`, and
scheduling lag beside a raw Celery ETA task."""

from bench.triggers.benchmark import run

__all__ = ["run"]
