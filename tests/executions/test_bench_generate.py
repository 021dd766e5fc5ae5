"""The engine benchmark's workflows are valid and as big as they say (no timing here)."""

from __future__ import annotations

import pytest

from bench.engine import generate
from bench.engine.benchmark import row
from workflows.catalog import builtin_catalog
from workflows.domain import validate_document


@pytest.mark.parametrize(("document", "nodes", "edges"), [
    (generate.wide(10), 11, 10),
    (generate.chain(10), 11, 10),
    (generate.two_nodes(), 2, 1),
    (generate.layered(3, 4), 13, 4 + 2 * 8),
])
def test_generated_workflows_validate(document, nodes, edges) -> None:
    result = validate_document(document, catalog=builtin_catalog())
    assert result.valid, [issue.message for issue in result.errors]
    assert (len(document["nodes"]), len(document["edges"])) == (nodes, edges)


def test_rows_have_the_bench_shape_and_judge_targets() -> None:
    faster = row("x", 1, "ms", 10.0, samples=[5.0, 10.0, 40.0], baseline=20.0, higher_is_better=False,
                 target=30.0, target_on="p95")
    assert set(faster) == {"area", "name", "size", "unit", "value", "p50", "p95", "max", "baseline_name",
                           "baseline", "ratio", "target", "met"}
    assert (faster["p50"], faster["p95"], faster["ratio"], faster["met"]) == (10.0, 40.0, 2.0, False)
    assert row("y", 1, "steps/s", 60.0, baseline=100.0, target=50.0)["met"] is True
