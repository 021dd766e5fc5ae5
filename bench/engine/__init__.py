"""Engine benchmarks (`bench/engine/benchmark.py`): the engine beside raw Celery, same broker and workers."""

from bench.engine.benchmark import run

__all__ = ["run"]
