"""Serialization benchmark (see ``benchmark.py``); ``run`` follows the bench interface."""

from bench.serialization.benchmark import run

__all__ = ["run"]
