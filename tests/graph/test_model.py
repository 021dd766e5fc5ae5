from datetime import UTC, datetime

import pytest

from workflows.domain import (
    ConditionalEdge,
    ControlEdge,
    ControlNode,
    ControlType,
    DataEdge,
    DataType,
    InputNode,
    InstrumentNode,
    NodeMetadata,
    OperatorNode,
    OutputNode,
    PortDefinition,
    Position,
    RetryPolicy,
    Transform,
    TransformType,
    Workflow,
)
from workflows.domain.types import ARRAY, STRING


def small_workflow() -> Workflow:
    workflow = Workflow(id="w", name="Small")
    workflow.add_node(InputNode(id="a", data_type=STRING))
    workflow.add_node(OperatorNode(id="b", operator="noop"))
    workflow.add_node(OutputNode(id="c"))
    workflow.add_edge(ControlEdge(id="e1", source="a", target="b"))
    workflow.add_edge(ControlEdge(id="e2", source="b", target="c"))
    workflow.add_edge(ControlEdge(id="e3", source="a", target="c"))
    return workflow


def test_add_get_and_counts():
    workflow = small_workflow()
    assert workflow.node_count == 3
    assert workflow.edge_count == 3
    assert workflow.get_node("b") == OperatorNode(id="b", operator="noop")
    assert workflow.get_node("missing") is None
    assert workflow.get_node("a").name == "a"  # the name defaults to the id


def test_adding_a_duplicate_node_or_edge_is_refused():
    workflow = small_workflow()
    with pytest.raises(ValueError, match="already exists"):
        workflow.add_node(OutputNode(id="a"))
    with pytest.raises(ValueError, match="already exists"):
        workflow.add_edge(ControlEdge(id="e1", source="b", target="c"))
    assert workflow.node_count == 3
    assert workflow.edge_count == 3


def test_add_edge_requires_both_nodes_unless_told_otherwise():
    workflow = small_workflow()
    with pytest.raises(ValueError, match="unknown node 'ghost'"):
        workflow.add_edge(ControlEdge(id="e9", source="a", target="ghost"))
    assert "e9" not in workflow.edges
    workflow.add_edge(ControlEdge(id="e9", source="a", target="ghost"), require_nodes=False)
    assert workflow.get_edge("e9").target == "ghost"


def test_removing_a_node_removes_its_edges_and_nothing_else():
    workflow = small_workflow()
    workflow.remove_node("b")
    assert sorted(workflow.nodes) == ["a", "c"]
    assert list(workflow.edges) == ["e3"]


def test_remove_edge():
    workflow = small_workflow()
    removed = workflow.remove_edge("e2")
    assert removed.id == "e2"
    assert list(workflow.edges) == ["e1", "e3"]
    with pytest.raises(KeyError):
        workflow.remove_edge("e2")


def test_edges_from_and_to():
    workflow = small_workflow()
    assert [edge.id for edge in workflow.edges_from("a")] == ["e1", "e3"]
    assert [edge.id for edge in workflow.edges_to("c")] == ["e2", "e3"]


def test_every_mutation_bumps_the_revision():
    workflow = small_workflow()
    start = workflow.revision
    workflow.add_node(OutputNode(id="d"))
    workflow.add_edge(ControlEdge(id="e4", source="c", target="d"))
    workflow.remove_edge("e4")
    workflow.replace_node(OutputNode(id="d", name="Renamed"))
    workflow.remove_node("d")
    workflow.mark_changed()
    assert workflow.revision == start + 6


def test_ports_of_each_node_kind():
    assert InputNode(id="i", data_type=STRING).output_ports() == (
        PortDefinition(name="value", data_type=STRING),
    )
    assert InputNode(id="i").input_ports() == ()
    assert OutputNode(id="o", data_type=STRING).input_ports() == (
        PortDefinition(name="value", data_type=STRING),
    )
    assert OutputNode(id="o").output_ports() == ()
    loop = ControlNode(id="l", control=ControlType.LOOP, over="inputs.items", body="child")
    assert loop.output_ports()[0].data_type == ARRAY
    branch = ControlNode(id="b", control=ControlType.BRANCH)
    assert branch.input_ports()[0].required is False
    text = PortDefinition(name="text", data_type=STRING)
    operator = OperatorNode(id="op", operator="template", inputs=[text])
    assert operator.input_port("text") == text
    assert operator.input_port("nope") is None
    assert InstrumentNode(id="m", model_id="gpt").type_name == "gpt"
    assert operator.type_name == "template"
    assert ControlNode(id="m", control=ControlType.MERGE).accepts_many_inputs
    assert ControlNode(id="j", control=ControlType.JOIN).accepts_many_inputs
    assert not ControlNode(id="p", control=ControlType.PARALLEL).accepts_many_inputs


def test_node_metadata_typed_accessors_and_custom_keys():
    metadata = NodeMetadata(documentation="Does things", warnings=["slow"])
    assert metadata.estimated_duration_ms is None
    metadata.estimated_duration_ms = 250
    assert metadata.custom == {"estimated_duration_ms": 250}
    assert metadata.estimated_duration_ms == 250.0
    metadata.set_custom("owner", "ada")
    assert metadata.get_custom("owner") == "ada"
    assert metadata.get_custom("missing", "fallback") == "fallback"
    metadata.estimated_duration_ms = None
    assert metadata.custom == {"owner": "ada"}


@pytest.mark.parametrize("bad", [-1, "fast", True, None, [1]])
def test_a_bad_duration_estimate_reads_as_none(bad):
    assert NodeMetadata(custom={"estimated_duration_ms": bad}).estimated_duration_ms is None


def every_kind_workflow() -> Workflow:
    workflow = Workflow(
        id="5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11",
        name="Everything",
        description="One of each",
        version="1.2.3",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2026, 1, 3, 3, 4, 5, 123000, tzinfo=UTC),
    )
    workflow.metadata.author = "ada"
    workflow.metadata.tags = ["support", "llm"]
    workflow.metadata.custom = {"team": {"name": "core"}}
    workflow.settings.max_parallel = 4
    workflow.add_node(
        InputNode(
            id="ticket",
            name="Ticket",
            data_type=STRING,
            default="hi",
            interactive=True,
            prompt="Paste the ticket",
            position=Position(10, 20.5),
        )
    )
    workflow.add_node(
        InstrumentNode(
            id="classify",
            model_id="classifier",
            model_version="2",
            config={"temperature": 0.2, "labels": ["a", "b"]},
            inputs=[PortDefinition(name="text", data_type=STRING)],
            outputs=[PortDefinition(name="labels", data_type=DataType.parse("array<string>"))],
            retry=RetryPolicy(max_attempts=3, delay_ms=500, backoff_multiplier=2.0),
            timeout_s=30,
            metadata=NodeMetadata(documentation="doc", examples=[{"in": 1}], custom={"x": 1}),
        )
    )
    workflow.add_node(
        OperatorNode(id="format", operator="template", config={"template": "{{ inputs.text }}"})
    )
    workflow.add_node(ControlNode(id="route", control=ControlType.BRANCH, condition="inputs.x"))
    workflow.add_node(
        ControlNode(id="each", control=ControlType.LOOP, over="inputs.items", body="w2")
    )
    workflow.add_node(OutputNode(id="reply", data_type=STRING, enabled=False))
    workflow.add_edge(
        DataEdge(
            id="e1",
            source="ticket",
            target="classify",
            target_port="text",
            transform=Transform(type=TransformType.MAP, config={"expr": "item | lower"}),
        )
    )
    workflow.add_edge(ControlEdge(id="e2", source="classify", target="route", priority=3))
    workflow.add_edge(
        ConditionalEdge(
            id="e3", source="route", target="reply", condition="inputs.x < 1", label="low"
        )
    )
    return workflow


def test_document_round_trip_keeps_every_field():
    workflow = every_kind_workflow()
    document = workflow.to_document()
    assert Workflow.from_document(document) == workflow


def test_to_document_is_plain_json_with_stable_keys():
    import json

    document = every_kind_workflow().to_document()
    assert json.loads(json.dumps(document)) == document
    assert list(document) == [
        "id", "name", "description", "version", "metadata", "settings", "nodes", "edges",
        "created_at", "updated_at",
    ]  # fmt: skip
    assert document["created_at"] == "2026-01-02T03:04:05Z"
    assert document["updated_at"] == "2026-01-03T03:04:05.123000Z"
    assert document["edges"][0] == {
        "id": "e1",
        "kind": "data",
        "source": "ticket",
        "source_port": "value",
        "target": "classify",
        "target_port": "text",
        "transform": {"type": "map", "config": {"expr": "item | lower"}},
    }
    assert document["edges"][1] == {
        "id": "e2", "kind": "control", "source": "classify", "target": "route", "priority": 3,
    }  # fmt: skip
    assert document["nodes"][1]["retry"] == {
        "max_attempts": 3, "delay_ms": 500, "backoff_multiplier": 2.0,
    }  # fmt: skip
    assert document["nodes"][1]["outputs"] == [
        {"name": "labels", "data_type": "array<string>", "required": True, "default": None}
    ]
    assert document["nodes"][4]["control"] == "loop"
    assert document["nodes"][5]["enabled"] is False


def test_equality_ignores_cached_analysis():
    first = every_kind_workflow()
    second = every_kind_workflow()
    first.analysis()
    assert first == second
