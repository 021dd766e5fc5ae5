"""A 10,000-node workflow in every format, an empty one, and the pure-core rule."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bench.serialization.generate import generate_envelope
from workflows.serialization import decode, encode, envelope, pretty, summary

PACKAGE = Path(__file__).parents[2] / "workflows" / "serialization"
FORMATS = ["json", "msgpack", "zstd", "lz4", "json+zstd", "json+lz4"]


@pytest.fixture(scope="module")
def ten_thousand_nodes() -> dict:
    return generate_envelope(10_000, seed=1)


def test_the_large_fixture_has_the_size_it_claims(ten_thousand_nodes: dict) -> None:
    assert len(ten_thousand_nodes["workflow"]["nodes"]) == 10_000
    assert len(ten_thousand_nodes["workflow"]["edges"]) > 12_000


@pytest.mark.parametrize("format_name", FORMATS)
def test_a_ten_thousand_node_workflow_round_trips(
    ten_thousand_nodes: dict, format_name: str
) -> None:
    assert decode(encode(ten_thousand_nodes, format_name)) == ten_thousand_nodes


def test_a_ten_thousand_node_summary(ten_thousand_nodes: dict) -> None:
    assert summary(ten_thousand_nodes).startswith(
        "Generated workflow of 10000 nodes v1.2.0 — 10000 nodes (1000 input, "
    )
    assert len(pretty(ten_thousand_nodes, depth=2, color=False).splitlines()) > 20_000


@pytest.mark.parametrize("format_name", FORMATS)
def test_an_empty_workflow_round_trips(format_name: str) -> None:
    empty = envelope({"id": "w", "name": "", "nodes": [], "edges": []})
    assert decode(encode(empty, format_name)) == empty


def test_the_package_imports_nothing_from_django_or_the_apps() -> None:
    forbidden = (
        "django",
        "rest_framework",
        "channels",
        "celery",
        "symphony_site",
        "teams",
        "audit",
    )
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def test_importing_the_package_loads_no_django_module() -> None:
    code = (
        "import sys, workflows.serialization; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parents[1],
    )
    assert result.stdout.strip() == "[]"
