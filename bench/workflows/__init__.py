"""Benchmarks of the workflows platform layer (`python -m bench.workflows`)."""

from bench.workflows.layout import run

__all__ = ["run"]
