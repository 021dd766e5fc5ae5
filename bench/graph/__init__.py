"""Graph core benchmark: ``run(quick=False)`` returns the rows (see pipeline.py)."""

from bench.graph.pipeline import run

__all__ = ["run"]
