"""The validator's fast paths must answer exactly as its careful paths.

Validation first tries lean passes that only decide "clean" (see
``workflows/domain/clean_edges.py``) and falls back to the careful passes,
which word every issue, at the first problem. These properties run both on
random workflows full of the problems the lean passes must notice (missing
and unknown ports, second feeds, merges, duplicates, bad expressions, type
mismatches, transforms, conditional edges) and compare every issue and the
graph index they leave behind.
"""

from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from bench.graph.generate import generate_workflow
from bench.graph.pipeline import benchmark_catalog
from workflows.domain import ValidationOptions, validate_workflow
from workflows.domain import checks as checks_module
from workflows.domain.document import read_document

from .helpers import PROPERTY_SETTINGS

NODE_IDS = [f"n{number}" for number in range(8)]
PORT_NAMES = ["value", "text", "extra", "length", "nope"]
DATA_TYPES = ["string", "number", "integer", "any", "array<string>", "boolean"]
EXPRESSIONS = ["inputs.x", "item | lower", "", "  ", "inputs.(", "{{ x"]
TEMPLATES = ["{{ inputs.text | upper }}", "{{ inputs.text", "plain", "{% if %}"]


def ports(draw, *, allow_duplicates: bool) -> list[dict]:
    names = draw(st.lists(st.sampled_from(PORT_NAMES), max_size=3, unique=not allow_duplicates))
    return [
        {
            "name": name,
            "data_type": draw(st.sampled_from(DATA_TYPES)),
            "required": draw(st.booleans()),
            "default": draw(st.sampled_from([None, None, "x"])),
        }
        for name in names
    ]


@st.composite
def node_documents(draw, node_id: str) -> dict:
    kind = draw(st.sampled_from(["input", "output", "operator", "operator", "control"]))
    node: dict = {"id": node_id, "kind": kind}
    if kind in ("input", "output"):
        node["data_type"] = draw(st.sampled_from(DATA_TYPES))
    elif kind == "operator":
        node["operator"] = draw(st.sampled_from(["template", "template", "unknown", ""]))
        node["config"] = {"template": draw(st.sampled_from(TEMPLATES))}
        duplicates = draw(st.booleans())
        node["inputs"] = ports(draw, allow_duplicates=duplicates)
        node["outputs"] = ports(draw, allow_duplicates=duplicates)
    else:
        node["control"] = draw(st.sampled_from(["merge", "join", "branch", "parallel"]))
    return node


@st.composite
def edge_documents(draw, number: int, node_ids: list[str]) -> dict:
    endpoints = st.sampled_from([*node_ids, "ghost"]) if node_ids else st.just("ghost")
    kind = draw(st.sampled_from(["data", "data", "control", "conditional"]))
    edge: dict = {
        "id": f"e{number}",
        "kind": kind,
        "source": draw(endpoints),
        "target": draw(endpoints),
    }
    if kind == "data":
        edge["source_port"] = draw(st.sampled_from(PORT_NAMES))
        edge["target_port"] = draw(st.sampled_from(PORT_NAMES))
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            transform_type = draw(st.sampled_from(["map", "filter", "flatten"]))
            config = draw(st.sampled_from([{}, {"expr": draw(st.sampled_from(EXPRESSIONS))}]))
            edge["transform"] = {"type": transform_type, "config": config}
    elif kind == "conditional":
        edge["condition"] = draw(st.sampled_from(EXPRESSIONS))
    return edge


@st.composite
def workflows_with_problems(draw):
    """Garbage-ish random workflows: almost always invalid in several ways."""
    node_ids = NODE_IDS[: draw(st.integers(min_value=1, max_value=len(NODE_IDS)))]
    nodes = [draw(node_documents(node_id)) for node_id in node_ids]
    edge_count = draw(st.integers(min_value=0, max_value=16))
    edges = [draw(edge_documents(number, node_ids)) for number in range(edge_count)]
    # Repeat a few edges under new ids: duplicate connections and second feeds.
    for number in range(draw(st.integers(min_value=0, max_value=3))):
        if edges:
            repeated = dict(draw(st.sampled_from(edges)))
            repeated["id"] = f"again{number}"
            edges.append(repeated)
    workflow, _ = read_document({"name": "random", "nodes": nodes, "edges": edges})
    return workflow


def _mutate(draw, document: dict) -> None:
    """One small change to a valid workflow: usually one problem, sometimes none."""
    nodes, edges = document["nodes"], document["edges"]
    node_ids = [node["id"] for node in nodes]
    mutation = draw(st.integers(min_value=0, max_value=8))
    if mutation == 0 and edges:
        repeated = dict(draw(st.sampled_from(edges)))
        repeated["id"] = f"again{len(edges)}"
        edges.append(repeated)
    elif mutation == 1 and edges:
        edge = draw(st.sampled_from(edges))
        if edge["kind"] == "data":
            edge[draw(st.sampled_from(["source_port", "target_port"]))] = draw(
                st.sampled_from(PORT_NAMES)
            )
    elif mutation == 2:
        node = draw(st.sampled_from(nodes))
        for port in node.get("inputs", []) + node.get("outputs", []):
            if draw(st.booleans()):
                port["data_type"] = draw(st.sampled_from(DATA_TYPES))
    elif mutation == 3:
        control = draw(st.sampled_from(["merge", "join", "parallel"]))
        nodes.append({"id": "gather", "kind": "control", "control": control})
        for number in range(draw(st.integers(min_value=0, max_value=3))):
            source = draw(st.sampled_from(node_ids))
            edges.append(
                {"id": f"g{number}", "kind": "data", "source": source,
                 "source_port": "value" if source < "n00005" else "text",
                 "target": "gather", "target_port": "value"}
            )  # fmt: skip
    elif mutation == 4:
        nodes.append({"id": "gate", "kind": "control", "control": "branch"})
        edges.append({"id": "feed", "kind": "control", "source": node_ids[0], "target": "gate"})
        for number in range(draw(st.integers(min_value=0, max_value=2))):
            edges.append(
                {"id": f"c{number}", "kind": "conditional", "source": "gate",
                 "target": draw(st.sampled_from(node_ids)),
                 "condition": draw(st.sampled_from(EXPRESSIONS[:2] + EXPRESSIONS))}
            )  # fmt: skip
    elif mutation == 5 and edges:
        edge = draw(st.sampled_from(edges))
        if edge["kind"] == "data":
            transform_type = draw(st.sampled_from(["map", "filter", "reduce", "flatten"]))
            expression = draw(st.sampled_from([None, *EXPRESSIONS]))
            config = {} if expression is None else {"expr": expression}
            edge["transform"] = {"type": transform_type, "config": config}
    elif mutation == 6:
        source = draw(st.sampled_from([*node_ids, "ghost"]))
        target = draw(st.sampled_from([*node_ids, "ghost"]))
        edges.append({"id": "extra", "kind": "control", "source": source, "target": target})
    elif mutation == 7 and edges:
        edges.remove(draw(st.sampled_from(edges)))
    elif mutation == 8:
        node = draw(st.sampled_from(nodes))
        if node.get("inputs"):
            node["inputs"].append(dict(node["inputs"][0], required=True, default=None))


@st.composite
def nearly_valid_workflows(draw):
    """Valid generated workflows with at most a few small problems."""
    document = generate_workflow(
        draw(st.integers(min_value=2, max_value=30)),
        shape=draw(st.sampled_from(["wide", "deep"])),
        seed=draw(st.integers(min_value=0, max_value=999)),
    )
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        _mutate(draw, document)
    workflow, _ = read_document(document)
    return workflow


def careful_only(*arguments, **keywords):
    return None


def both_answers(workflow, options, catalog):
    workflow.mark_changed()
    fast = validate_workflow(workflow, options=options, catalog=catalog)
    fast_analysis = workflow.analysis()
    workflow.mark_changed()
    with mock.patch.object(checks_module, "index_clean_edges", careful_only):
        careful = validate_workflow(workflow, options=options, catalog=catalog)
    careful_analysis = workflow.analysis()
    return fast, fast_analysis, careful, careful_analysis


@PROPERTY_SETTINGS
@given(
    workflows_with_problems() | nearly_valid_workflows(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_fast_and_careful_edge_passes_agree(
    workflow, with_catalog, check_types, check_expressions, check_required_inputs
):
    if workflow is None:
        return
    options = ValidationOptions(
        check_types=check_types,
        check_expressions=check_expressions,
        check_required_inputs=check_required_inputs,
    )
    catalog = benchmark_catalog() if with_catalog else None
    fast, fast_analysis, careful, careful_analysis = both_answers(workflow, options, catalog)
    assert fast.errors == careful.errors
    assert fast.warnings == careful.warnings
    assert fast_analysis.index == careful_analysis.index
    assert fast_analysis.levels == careful_analysis.levels


def validate_watching_fast_pass(workflow):
    """Validate, and return what the fast edge pass answered (None: it gave up)."""
    answers = []
    real = checks_module.index_clean_edges

    def spy(*arguments, **keywords):
        answers.append(real(*arguments, **keywords))
        return answers[-1]

    with mock.patch.object(checks_module, "index_clean_edges", spy):
        result = validate_workflow(workflow, catalog=benchmark_catalog())
    return result, answers


def test_fast_edge_pass_accepts_a_valid_workflow():
    """The property above compares answers; this makes sure the fast pass is
    really the one answering for valid workflows, merges included."""
    document = generate_workflow(40, seed=3)
    document["nodes"].append({"id": "gather", "kind": "control", "control": "merge"})
    document["edges"] += [
        {"id": "g1", "kind": "data", "source": "n00010", "source_port": "text",
         "target": "gather", "target_port": "value"},
        {"id": "g2", "kind": "data", "source": "n00011", "source_port": "text",
         "target": "gather", "target_port": "value"},
    ]  # fmt: skip
    workflow, _ = read_document(document)
    result, answers = validate_watching_fast_pass(workflow)
    assert result.errors == []
    assert len(answers) == 1
    assert answers[0] is not None


def test_fast_edge_pass_still_reports_a_missing_required_input():
    """Unconnected required inputs are found after the fast pass too."""
    document = generate_workflow(20, seed=5)
    removed = next(
        edge for edge in document["edges"]
        if edge["kind"] == "data" and edge["target_port"] == "text"
    )  # fmt: skip
    document["edges"].remove(removed)
    workflow, _ = read_document(document)
    result, answers = validate_watching_fast_pass(workflow)
    assert answers[0] is not None
    assert [(issue.code, issue.node_id, issue.port) for issue in result.errors] == [
        ("missing_required_input", removed["target"], "text")
    ]
