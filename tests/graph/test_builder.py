import pytest

from workflows.domain import (
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    Position,
    Workflow,
    WorkflowBuilder,
    WorkflowBuildError,
    plan_workflow,
)
from workflows.domain.builder import slugify
from workflows.domain.types import NUMBER, STRING


def triage() -> WorkflowBuilder:
    return (
        WorkflowBuilder("Triage support tickets", workflow_id="wf-triage")
        .with_workflow_metadata(author="ada", tags=["support"], team="core")
        .with_settings(error_policy="continue", max_parallel=4)
        .input("Ticket", data_type="string")
        .at(0, 0)
        .connect_to("Classify", target_port="text")
        .instrument(
            "Classify",
            model_id="classifier",
            inputs={"text": "string"},
            outputs={"label": "string", "confidence": "number"},
        )
        .with_metadata(documentation="Labels the ticket", estimated_duration_ms=800)
        .connect_to("Route", source_port="confidence")
        .control("Route", "branch")
        .conditional_edge("Route", "Escalate", "inputs.value < 0.6", label="unsure")
        .conditional_edge("Route", "Draft reply", "inputs.value >= 0.6", label="sure")
        .data_edge("Route", "Escalate")
        .data_edge("Route", "Draft reply")
        .operator(
            "Escalate", operator="notify", inputs={"value": "any"}, outputs={"value": "string"}
        )
        .operator(
            "Draft reply",
            operator="template",
            config={"template": "Thanks for {{ inputs.value }}"},
            inputs={"value": "any"},
            outputs={"value": "string"},
        )
        .control("Gather", "merge")
        .data_edge("Escalate", "Gather")
        .data_edge("Draft reply", "Gather")
        .connect_to("Reply")
        .output("Reply", data_type="string")
        .control_edge("Classify", "Reply", priority=1)
    )


def test_builder_makes_the_workflow_it_reads_like():
    workflow = triage().build(catalog=None)
    assert list(workflow.nodes) == [
        "ticket", "classify", "route", "escalate", "draft_reply", "gather", "reply",
    ]  # fmt: skip
    assert workflow.id == "wf-triage"
    assert workflow.metadata.author == "ada"
    assert workflow.metadata.custom == {"team": "core"}
    assert workflow.settings.max_parallel == 4
    assert workflow.nodes["ticket"].position == Position(0, 0)
    assert workflow.nodes["classify"].metadata.documentation == "Labels the ticket"
    assert workflow.nodes["classify"].metadata.estimated_duration_ms == 800
    assert workflow.nodes["classify"].outputs[1].data_type == NUMBER
    assert workflow.nodes["ticket"].data_type == STRING
    edges = list(workflow.edges.values())
    assert [(type(edge), edge.source, edge.target) for edge in edges] == [
        (DataEdge, "ticket", "classify"),
        (DataEdge, "classify", "route"),
        (ConditionalEdge, "route", "escalate"),
        (ConditionalEdge, "route", "draft_reply"),
        (DataEdge, "route", "escalate"),
        (DataEdge, "route", "draft_reply"),
        (DataEdge, "escalate", "gather"),
        (DataEdge, "draft_reply", "gather"),
        (DataEdge, "gather", "reply"),
        (ControlEdge, "classify", "reply"),
    ]
    assert [edge.id for edge in edges] == [f"e{number}" for number in range(1, 11)]
    assert edges[2].label == "unsure"
    assert Workflow.from_document(workflow.to_document()) == workflow


def test_built_workflow_plans():
    plan = plan_workflow(triage().build(catalog=None))
    assert plan.execution_levels == [
        ["ticket"],
        ["classify"],
        ["route"],
        ["draft_reply", "escalate"],
        ["gather"],
        ["reply"],
    ]
    assert plan.critical_path == ["ticket", "classify", "route", "draft_reply", "gather", "reply"]


def test_build_can_run_twice_without_duplicating_edges():
    builder = triage()
    assert builder.build(catalog=None) == builder.build(catalog=None)


def test_ids_are_readable_and_deduplicated():
    workflow = (
        WorkflowBuilder("Ids")
        .operator("Summarise text", operator="noop")
        .operator("Summarise text", operator="noop")
        .operator("Summarise text", operator="noop")
        .operator("Crème brûlée!", operator="noop")
        .operator("???", operator="noop")
        .operator("Custom", operator="noop", node_id="my-own-id")
        .build(catalog=None)
    )
    assert list(workflow.nodes) == [
        "summarise_text", "summarise_text_2", "summarise_text_3", "creme_brulee", "node", "my-own-id",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Classify ticket", "classify_ticket"),
        ("  A--B  ", "a_b"),
        ("Ünïcode", "unicode"),
        ("", "node"),
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_edges_refer_to_nodes_by_name_or_id_even_before_they_exist():
    workflow = (
        WorkflowBuilder("Forward")
        .operator("First step", operator="noop")
        .control_edge("First step", "second_step")
        .operator("Second step", operator="noop")
        .build(catalog=None)
    )
    edge = workflow.edges["e1"]
    assert (edge.source, edge.target) == ("first_step", "second_step")


def test_build_refuses_an_invalid_workflow_with_every_error():
    builder = (
        WorkflowBuilder("Broken")
        .input("Count", data_type="integer")
        .connect_to("Shout", target_port="text")
        .operator(
            "Shout", operator="template", inputs={"text": "string"}, outputs={"text": "string"}
        )
        .connect_to("Nowhere")
        .operator("Lonely", operator="")
    )
    with pytest.raises(WorkflowBuildError) as caught:
        builder.build(catalog=None)
    assert caught.value.result.codes() == ["unknown_node_type", "type_mismatch", "invalid_edge"]
    assert "type_mismatch" in str(caught.value)


def test_metadata_and_position_need_a_current_node():
    with pytest.raises(ValueError, match="add a node first"):
        WorkflowBuilder("Empty").at(1, 2)
    with pytest.raises(ValueError, match="add a node first"):
        WorkflowBuilder("Empty").connect_to("x")


def test_transform_shorthand_and_disabled_nodes():
    workflow = (
        WorkflowBuilder("Transform")
        .input("Names", data_type="array<string>")
        .operator("Join", operator="noop", inputs={"names": "array<string>"})
        .disabled()
        .data_edge(
            "Names", "Join", target_port="names", transform_type="map", expression="item | upper"
        )
        .build(catalog=None)
    )
    edge = workflow.edges["e1"]
    assert edge.transform.type == "map"
    assert edge.transform.config == {"expr": "item | upper"}
    assert workflow.nodes["join"].enabled is False
