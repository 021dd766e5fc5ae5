"""Benchmarks of the workflows platform layer (`python -m bench.workflows`)."""

from typing import Any

from bench.workflows import graphs, layout


def run(quick: bool = False) -> list[dict[str, Any]]:
    return layout.run(quick) + graphs.run(quick)


__all__ = ["run"]
