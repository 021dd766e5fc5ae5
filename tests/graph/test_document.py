import pytest

from workflows.domain import DocumentError, Workflow
from workflows.domain.types import STRING

from .helpers import chain_document, input_node, workflow_document


def test_from_document_reads_a_minimal_document_with_defaults():
    workflow = Workflow.from_document({"name": "Bare", "nodes": [{"id": "a", "kind": "input"}]})
    assert workflow.name == "Bare"
    assert workflow.version == "1.0.0"
    assert len(workflow.id) == 36  # a fresh UUID when the document has none
    node = workflow.nodes["a"]
    assert node.name == "a"
    assert node.enabled is True
    assert workflow.settings.error_policy == "stop"


def test_data_edge_ports_default_to_value():
    document = chain_document()
    del document["edges"][0]["source_port"]
    workflow = Workflow.from_document(document)
    assert workflow.edges["e1"].source_port == "value"


def test_times_are_read_as_utc():
    document = chain_document()
    document["created_at"] = "2026-05-01T12:00:00+02:00"
    workflow = Workflow.from_document(document)
    assert workflow.created_at.isoformat() == "2026-05-01T10:00:00+00:00"
    assert workflow.to_document()["created_at"] == "2026-05-01T10:00:00Z"


def issues_of(document):
    with pytest.raises(DocumentError) as caught:
        Workflow.from_document(document)
    return [(issue.code, issue.path) for issue in caught.value.issues]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("not a workflow", [("invalid_document", ())]),
        ([], [("invalid_document", ())]),
        ({"nodes": []}, [("invalid_document", ("name",))]),
        ({"name": 5}, [("invalid_document", ("name",))]),
        ({"name": "x", "version": "1.2"}, [("invalid_document", ("version",))]),
        ({"name": "x", "nodes": {}}, [("invalid_document", ("nodes",))]),
        ({"name": "x", "edges": "e"}, [("invalid_document", ("edges",))]),
        ({"name": "x", "nodes": [7]}, [("invalid_document", ("nodes", 0))]),
        ({"name": "x", "nodes": [{"kind": "input"}]}, [("invalid_document", ("nodes", 0, "id"))]),
        (
            {"name": "x", "nodes": [{"id": "a", "kind": "robot"}]},
            [("invalid_document", ("nodes", 0, "kind"))],
        ),
        (
            {"name": "x", "nodes": [{"id": "a", "kind": "input", "data_type": "text"}]},
            [("invalid_data_type", ("nodes", 0, "data_type"))],
        ),
        (
            {"name": "x", "nodes": [{"id": "a", "kind": "control", "control": "goto"}]},
            [("invalid_control_node", ("nodes", 0, "control"))],
        ),
        (
            {"name": "x", "nodes": [{"id": "a", "kind": "input", "enabled": "yes"}]},
            [("invalid_document", ("nodes", 0, "enabled"))],
        ),
        (
            {"name": "x", "nodes": [{"id": "a", "kind": "input", "position": {"x": "1", "y": 2}}]},
            [("invalid_document", ("nodes", 0, "position", "x"))],
        ),
        (
            {"name": "x", "nodes": [{"id": "a", "kind": "operator", "retry": {"max_attempts": 0}}]},
            [("invalid_document", ("nodes", 0, "retry", "max_attempts"))],
        ),
        (
            {
                "name": "x",
                "nodes": [
                    {"id": "a", "kind": "operator", "inputs": [{"name": "t"}, {"name": "t"}]}
                ],
            },
            [("invalid_port", ("nodes", 0, "inputs", 1, "name"))],
        ),
        (
            {"name": "x", "nodes": [input_node("a"), input_node("a")]},
            [("duplicate_node_id", ("nodes", 1, "id"))],
        ),
        (
            {"name": "x", "edges": [{"id": "e", "kind": "wire", "source": "a", "target": "b"}]},
            [("invalid_document", ("edges", 0, "kind"))],
        ),
        (
            {
                "name": "x",
                "edges": [
                    {"id": "e", "kind": "control", "source": "a", "target": "b"},
                    {"id": "e", "kind": "control", "source": "b", "target": "a"},
                ],
            },
            [("duplicate_edge_id", ("edges", 1, "id"))],
        ),
        (
            {
                "name": "x",
                "edges": [{"id": "e", "source": "a", "target": "b", "transform": {"type": "zip"}}],
            },
            [("invalid_edge", ("edges", 0, "transform", "type"))],
        ),
        (
            {"name": "x", "settings": {"error_policy": "explode", "max_parallel": 0}},
            [
                ("invalid_document", ("settings", "error_policy")),
                ("invalid_document", ("settings", "max_parallel")),
            ],
        ),
        ({"name": "x", "created_at": "yesterday"}, [("invalid_document", ("created_at",))]),
        (
            {"name": "x", "metadata": {"custom": {"when": object()}}},
            [("invalid_document", ("metadata", "custom"))],
        ),
    ],
)
def test_structural_problems_raise_document_error_with_every_issue(document, expected):
    assert issues_of(document) == expected


def test_unknown_fields_are_warnings_not_errors():
    document = chain_document()
    document["nodes"][0]["colour"] = "red"
    workflow = Workflow.from_document(document)
    assert workflow.nodes["ticket"].data_type == STRING


def test_document_error_message_summarises_the_issues():
    with pytest.raises(DocumentError, match="name must be a string, not null"):
        Workflow.from_document(workflow_document([]) | {"name": None})
