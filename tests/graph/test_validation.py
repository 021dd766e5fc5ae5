import pytest

from workflows.domain import (
    InMemoryNodeTypeCatalog,
    NodeKind,
    NodeTypeDefinition,
    PortDefinition,
    ValidationOptions,
    Workflow,
    validate_document,
    validate_workflow,
)
from workflows.domain.types import NUMBER, STRING

from .helpers import (
    chain_document,
    conditional_edge,
    control_edge,
    control_node,
    data_edge,
    graph_document,
    input_node,
    operator_node,
    output_node,
    workflow_document,
)


def issue_dicts(result, code):
    return [issue.to_dict() for issue in result.errors + result.warnings if issue.code == code]


def test_a_valid_chain_has_no_errors_or_warnings():
    result = validate_document(chain_document(), catalog=None)
    assert result.to_dict() == {"valid": True, "errors": [], "warnings": []}


def test_result_shape_matches_the_format_page():
    document = graph_document(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    document["nodes"].append(operator_node("scratch", "noop"))
    result = validate_document(document, catalog=None).to_dict()
    assert result["valid"] is False
    assert result["errors"] == [
        {
            "code": "cycle_detected",
            "message": "Cycle: a → b → c → a. Workflows must be acyclic; remove one of these "
            "edges, or repeat work with a loop node.",
            "node_id": "a",
            "path": ["a", "b", "c", "a"],
        }
    ]
    assert result["warnings"] == [
        {
            "code": "orphan_node",
            "message": "Node 'scratch' has no edges, so it never receives data or runs in any "
            "order; connect it or remove it.",
            "node_id": "scratch",
        }
    ]


def test_two_separate_cycles_are_both_reported():
    document = graph_document(
        ["a", "b", "c", "d", "e"], [("a", "b"), ("b", "a"), ("c", "d"), ("d", "e"), ("e", "c")]
    )
    result = validate_document(document, catalog=None)
    assert [issue.path for issue in result.errors] == [("a", "b", "a"), ("c", "d", "e", "c")]


def test_cycle_check_can_be_switched_off():
    document = graph_document(["a", "b"], [("a", "b"), ("b", "a")])
    assert validate_document(document, options=ValidationOptions(check_cycles=False), catalog=None).valid


def test_orphans_become_errors_when_not_allowed():
    document = chain_document()
    document["nodes"].append(operator_node("scratch", "noop"))
    lenient = validate_document(document, catalog=None)
    strict = validate_document(document, options=ValidationOptions(allow_orphan_nodes=False), catalog=None)
    assert lenient.valid and lenient.warning_codes() == ["orphan_node"]
    assert strict.codes() == ["orphan_node"] and strict.warnings == []


def test_disconnected_input():
    document = chain_document()
    document["nodes"].append(input_node("unused"))
    result = validate_document(document, catalog=None)
    assert result.valid
    assert issue_dicts(result, "disconnected_input") == [
        {
            "code": "disconnected_input",
            "message": "Input 'unused' is not connected to anything that uses its value; "
            "connect its value port with a data edge or remove it.",
            "node_id": "unused",
        }
    ]


def test_connectivity_check_can_be_switched_off():
    document = chain_document()
    document["nodes"].append(input_node("unused"))
    result = validate_document(document, options=ValidationOptions(check_connectivity=False), catalog=None)
    assert result.warnings == []


def test_type_mismatch_names_edge_and_types():
    document = chain_document()
    document["nodes"][0]["data_type"] = "number"
    result = validate_document(document, catalog=None)
    assert result.codes() == ["type_mismatch"]
    issue = result.errors[0]
    assert (issue.edge_id, issue.port, issue.expected, issue.found) == (
        "e1",
        "text",
        "string",
        "number",
    )
    assert "connect a compatible port or add a transform" in issue.message


def test_integer_into_number_and_array_into_array_are_fine():
    document = workflow_document(
        [
            input_node("count", "integer"),
            input_node("names", "array<string>"),
            operator_node("use", inputs={"n": "number", "list": "array"}, outputs={"out": "any"}),
        ],
        [
            data_edge("e1", "count", "use", target_port="n"),
            data_edge("e2", "names", "use", target_port="list"),
        ],
    )
    assert validate_document(document, catalog=None).codes() == []


def test_type_check_can_be_switched_off():
    document = chain_document()
    document["nodes"][0]["data_type"] = "number"
    assert validate_document(document, options=ValidationOptions(check_types=False), catalog=None).valid


def test_edges_with_a_transform_are_not_type_checked_but_their_expression_is():
    document = chain_document()
    document["nodes"][0]["data_type"] = "array<string>"
    document["edges"][0]["transform"] = {"type": "map", "config": {"expr": "item | lower"}}
    assert validate_document(document, catalog=None).valid
    document["edges"][0]["transform"] = {"type": "map", "config": {"expr": "item |"}}
    result = validate_document(document, catalog=None)
    assert result.codes() == ["invalid_expression"]
    assert result.errors[0].edge_id == "e1"
    assert result.errors[0].path == ("transform", "config", "expr")
    assert result.errors[0].position == 5


def test_a_map_transform_without_expression_is_an_invalid_edge():
    document = chain_document()
    document["edges"][0]["transform"] = {"type": "filter", "config": {}}
    result = validate_document(document, catalog=None)
    assert result.codes() == ["invalid_edge"]
    assert "needs config.expr" in result.errors[0].message


def test_missing_required_input():
    document = chain_document()
    del document["edges"][0]
    result = validate_document(document, catalog=None)
    assert [(issue.code, issue.node_id, issue.port) for issue in result.errors] == [
        ("missing_required_input", "shout", "text")
    ]
    assert result.warning_codes() == ["disconnected_input"]


def test_a_required_port_with_a_default_or_not_required_is_not_missing():
    document = chain_document()
    del document["edges"][0]
    document["nodes"][1]["inputs"][0]["default"] = "fallback"
    assert validate_document(document, catalog=None).codes() == []
    document["nodes"][1]["inputs"][0] = {"name": "text", "data_type": "string", "required": False}
    assert validate_document(document, catalog=None).codes() == []


def test_duplicate_ids_are_reported_with_everything_else():
    document = chain_document()
    document["nodes"].append(output_node("reply"))
    document["edges"].append(data_edge("e2", "shout", "reply", source_port="text"))
    document["edges"].append(control_edge("e3", "ghost", "reply"))
    result = validate_document(document, catalog=None)
    assert result.codes() == ["duplicate_node_id", "duplicate_edge_id", "invalid_edge"]
    assert result.errors[0].node_id == "reply"
    assert result.errors[1].edge_id == "e2"
    assert result.errors[2].found == "ghost"


@pytest.mark.parametrize(
    ("edge", "fragment"),
    [
        (control_edge("e9", "shout", "shout"), "to itself"),
        (control_edge("e9", "ticket", "nowhere"), "'nowhere', which does not exist"),
        (
            data_edge("e9", "ticket", "shout", source_port="nope", target_port="text"),
            "output port 'nope'",
        ),
        (data_edge("e9", "ticket", "ticket"), "to itself"),
        (data_edge("e9", "reply", "shout", target_port="text"), "output nodes have no output port"),
        (
            data_edge("e9", "ticket", "shout", target_port="text"),
            "duplicates another data connection",
        ),
        (
            data_edge("e9", "shout", "reply", source_port="text"),
            "duplicates another data connection",
        ),
    ],
)
def test_invalid_edges(edge, fragment):
    document = chain_document()
    document["edges"].append(edge)
    result = validate_document(document, catalog=None)
    assert "invalid_edge" in result.codes()
    assert any(fragment in issue.message for issue in result.errors if issue.code == "invalid_edge")
    assert all(issue.edge_id == "e9" for issue in result.errors if issue.code == "invalid_edge")


def test_a_second_edge_into_the_same_input_port_is_refused():
    document = chain_document()
    document["nodes"].append(input_node("other"))
    document["edges"].append(data_edge("e9", "other", "shout", target_port="text"))
    result = validate_document(document, catalog=None)
    assert result.codes() == ["invalid_edge"]
    assert result.errors[0].port == "text"
    assert "already fed by edge 'e1'" in result.errors[0].message


def test_duplicate_control_edges():
    document = graph_document(["a", "b"], [("a", "b"), ("a", "b")])
    result = validate_document(document, catalog=None)
    assert [(issue.code, issue.edge_id) for issue in result.errors] == [("invalid_edge", "e1")]


def merge_document(extra_edges=()):
    return workflow_document(
        [
            input_node("a"),
            input_node("b"),
            control_node("gather", "merge"),
            output_node("out"),
        ],
        [
            data_edge("e1", "a", "gather"),
            data_edge("e2", "b", "gather"),
            data_edge("e3", "gather", "out"),
            *extra_edges,
        ],
    )


def test_merge_takes_several_edges_into_its_port():
    assert validate_document(merge_document(), catalog=None).to_dict()["errors"] == []


def test_merge_with_one_incoming_path_is_an_invalid_control_node():
    document = merge_document()
    document["edges"] = document["edges"][1:]
    result = validate_document(document, catalog=None)
    assert result.codes() == ["invalid_control_node"]
    assert result.errors[0].node_id == "gather"


def test_branch_needs_conditional_outgoing_edges():
    document = workflow_document(
        [input_node("a"), control_node("route", "branch"), output_node("yes"), output_node("no")],
        [
            data_edge("e1", "a", "route"),
            data_edge("e2", "route", "yes"),
            data_edge("e3", "route", "no"),
        ],
    )
    assert validate_document(document, catalog=None).codes() == ["invalid_control_node"]
    document["edges"] += [
        conditional_edge("e4", "route", "yes", "inputs.value == 'y'", "yes"),
        conditional_edge("e5", "route", "no", "inputs.value != 'y'", "no"),
    ]
    assert validate_document(document, catalog=None).codes() == []


def test_loop_needs_over_and_body_and_others_must_not_set_them():
    document = workflow_document(
        [
            control_node("each", "loop"),
            control_node("fan", "parallel", over="inputs.x", condition="x"),
        ],
    )
    result = validate_document(document, catalog=None)
    assert [(issue.code, issue.node_id, issue.path) for issue in result.errors] == [
        ("invalid_control_node", "each", ("over",)),
        ("invalid_control_node", "each", ("body",)),
        ("invalid_control_node", "fan", ("condition",)),
        ("invalid_control_node", "fan", ("over",)),
        ("invalid_expression", "fan", ("condition",)),  # "x" is not a readable name
        ("invalid_control_node", "fan", None),  # a parallel without two outgoing paths
    ]


def test_invalid_expressions_name_node_or_edge_and_position():
    document = workflow_document(
        [
            input_node("a"),
            control_node("route", "branch", condition="inputs.value >"),
            operator_node("b", "noop", config={"prompt": "Hello {{ inputs.name"}),
            operator_node("c", "noop"),
        ],
        [
            data_edge("e1", "a", "route"),
            conditional_edge("e2", "route", "b", "inputs.__class__"),
            conditional_edge("e3", "route", "c", "   "),
        ],
    )
    result = validate_document(document, catalog=None)
    found = [
        (issue.code, issue.node_id, issue.edge_id, issue.path, issue.position)
        for issue in result.errors
    ]
    assert found == [
        ("invalid_expression", "b", None, ("config", "prompt"), 16),
        ("invalid_expression", "route", None, ("condition",), 13),
        ("invalid_expression", None, "e2", ("condition",), 7),
        ("invalid_expression", None, "e3", ("condition",), None),
    ]


def test_expression_check_can_be_switched_off():
    document = workflow_document([operator_node("b", "noop", config={"prompt": "{{ oops("})])
    assert validate_document(document, options=ValidationOptions(check_expressions=False), catalog=None).valid


def catalog():
    return InMemoryNodeTypeCatalog(
        [
            NodeTypeDefinition(
                kind=NodeKind.OPERATOR,
                type_name="template",
                inputs=(PortDefinition(name="text", data_type=STRING),),
                outputs=(PortDefinition(name="text", data_type=STRING),),
                config_schema={
                    "type": "object",
                    "properties": {"template": {"type": "string"}, "retries": {"type": "integer"}},
                    "required": ["template"],
                    "additionalProperties": False,
                },
            ),
            NodeTypeDefinition(
                kind=NodeKind.INSTRUMENT,
                type_name="scorer",
                inputs=(PortDefinition(name="text", data_type=STRING),),
                outputs=(PortDefinition(name="score", data_type=NUMBER),),
            ),
        ]
    )


def test_unknown_node_type_against_the_catalog():
    document = workflow_document(
        [operator_node("a", "frobnicate"), {"id": "m", "kind": "instrument", "model_id": "gpt-9"}]
    )
    result = validate_document(document, catalog=catalog())
    assert [(issue.code, issue.node_id, issue.found) for issue in result.errors] == [
        ("unknown_node_type", "a", "frobnicate"),
        ("unknown_node_type", "m", "gpt-9"),
    ]


def test_a_node_without_a_type_is_unknown_even_without_catalog():
    result = validate_document(workflow_document([operator_node("a", "")]), catalog=None)
    assert result.codes() == ["unknown_node_type"]
    assert result.errors[0].path == ("operator",)


def test_catalog_default_ports_are_used_when_a_node_declares_none():
    document = workflow_document(
        [
            input_node("ticket"),
            {"id": "fill", "kind": "operator", "operator": "template", "config": {"template": "x"}},
            {"id": "score", "kind": "instrument", "model_id": "scorer"},
            output_node("out", "string"),
        ],
        [
            data_edge("e1", "ticket", "fill", target_port="text"),
            data_edge("e2", "fill", "score", source_port="text", target_port="text"),
            data_edge("e3", "score", "out", source_port="score"),
        ],
    )
    result = validate_document(document, catalog=catalog())
    assert [
        (issue.code, issue.edge_id, issue.expected, issue.found) for issue in result.errors
    ] == [("type_mismatch", "e3", "string", "number")]


def test_declared_ports_are_checked_against_the_catalog():
    document = workflow_document(
        [
            operator_node(
                "fill",
                "template",
                config={"template": "x"},
                inputs={"text": "any", "bonus": "string"},
                outputs={"text": "integer"},
            ),
            {
                "id": "score",
                "kind": "instrument",
                "model_id": "scorer",
                "inputs": [{"name": "prompt", "data_type": "string", "required": False}],
                "outputs": [{"name": "score", "data_type": "any"}],
            },
        ]
    )
    result = validate_document(
        document,
        catalog=catalog(),
        options=ValidationOptions(check_required_inputs=False, check_connectivity=False),
    )
    found = [
        (issue.code, issue.node_id, issue.port, issue.expected, issue.found)
        for issue in result.errors
    ]
    assert found == [
        ("invalid_port", "fill", "text", "string", "any"),  # any may not fit a string input
        ("invalid_port", "fill", "bonus", None, None),  # the type has no such port
        ("invalid_port", "fill", "text", "string", "integer"),  # a string output is no integer
        ("invalid_port", "score", "prompt", None, None),
        ("invalid_port", "score", "text", None, None),  # its required input is left out
    ]
    assert result.errors[1].message == (
        "Node 'fill' declares input port 'bonus', which template does not have; use one of text."
    )


def test_types_with_dynamic_ports_accept_extra_ports():
    dynamic = InMemoryNodeTypeCatalog(
        [NodeTypeDefinition(kind=NodeKind.OPERATOR, type_name="format", allows_extra_ports=True)]
    )
    document = workflow_document(
        [operator_node("f", "format", inputs={"name": "string"}, outputs={"text": "string"})]
    )
    options = ValidationOptions(check_required_inputs=False)
    assert validate_document(document, catalog=dynamic, options=options).codes() == []


def test_invalid_config_names_the_path_inside_the_config():
    document = workflow_document(
        [operator_node("a", "template", config={"retries": "three", "colour": 1})]
    )
    result = validate_document(
        document, catalog=catalog(), options=ValidationOptions(check_required_inputs=False)
    )
    assert [(issue.code, issue.path) for issue in result.errors] == [
        ("invalid_config", ("config",)),
        ("invalid_config", ("config",)),
        ("invalid_config", ("config", "retries")),
    ]
    messages = " ".join(issue.message for issue in result.errors)
    assert "'template' is a required property" in messages
    assert "Additional properties are not allowed" in messages
    assert "'three' is not of type 'integer'" in messages


def test_there_is_no_default_catalog_to_fall_back_on():
    import workflows.domain as domain

    document = workflow_document([operator_node("a", "frobnicate")])
    with pytest.raises(TypeError, match="catalog"):
        validate_document(document)  # type: ignore[call-arg]
    assert not hasattr(domain, "set_default_catalog") and not hasattr(domain, "get_default_catalog")
    assert validate_document(document, catalog=catalog()).codes() == ["unknown_node_type"]
    assert validate_document(document, catalog=None).codes() == []


def test_too_large_answers_before_reading_anything():
    document = {"name": 5, "nodes": [None] * 11, "edges": []}
    result = validate_document(document, options=ValidationOptions(max_nodes=10), catalog=None)
    assert [issue.to_dict() for issue in result.errors] == [
        {
            "code": "too_large",
            "message": "The workflow has 11 nodes; the limit is 10. Split it into smaller "
            "workflows (a loop body can reference one).",
            "path": ["nodes"],
            "expected": "at most 10 nodes",
            "found": "11",
        }
    ]
    edges_result = validate_document({"edges": [None] * 6}, options=ValidationOptions(max_edges=5), catalog=None)
    assert edges_result.codes() == ["too_large"]
    assert edges_result.errors[0].path == ("edges",)


def test_default_limits_are_ten_thousand_nodes_and_fifty_thousand_edges():
    assert validate_document({"nodes": [None] * 10_001}, catalog=None).codes() == ["too_large"]
    assert validate_document({"edges": [None] * 50_001}, catalog=None).codes() == ["too_large"]
    assert "too_large" not in validate_document({"nodes": [None] * 10_000}, catalog=None).codes()


def test_validate_workflow_checks_size_too():
    workflow = Workflow.from_document(chain_document())
    result = validate_workflow(workflow, options=ValidationOptions(max_nodes=2), catalog=None)
    assert result.codes() == ["too_large"]
    assert validate_workflow(workflow, catalog=None).valid


@pytest.mark.parametrize(
    "garbage",
    [None, 0, "x", [], [1, 2], {"nodes": "x"}, {"nodes": [{"id": 1}]}, {"edges": [{"id": None}]},
     {"name": "x", "nodes": [{"id": "a", "kind": "operator", "config": {"a": float("nan")}}]},
     {"name": "x", "nodes": [{"id": "a", "kind": "operator", "inputs": [{"name": "p", "data_type": ["x"]}]}]}],
)  # fmt: skip
def test_garbage_gives_errors_not_exceptions(garbage):
    result = validate_document(garbage, catalog=None)
    assert result.valid is False
    assert all("internal error" not in issue.message for issue in result.errors)


def test_deeply_nested_config_is_an_error_not_a_crash():
    nested: dict = {}
    cursor = nested
    for _ in range(5_000):
        cursor["x"] = {}
        cursor = cursor["x"]
    document = workflow_document([operator_node("a", "noop", config=nested)])
    result = validate_document(document, catalog=None)
    assert result.codes() == ["invalid_document"]
    assert all("internal error" not in issue.message for issue in result.errors)


def test_issue_count_is_capped():
    document = workflow_document([operator_node(f"n{i}", "") for i in range(30)])
    result = validate_document(document, options=ValidationOptions(max_issues=5), catalog=None)
    assert len(result.errors) == 5


def test_a_flood_of_unknown_fields_gives_a_bounded_number_of_warnings():
    document = chain_document() | {f"stray{number}": number for number in range(50_000)}
    result = validate_document(document, catalog=None)
    assert result.valid
    assert len(result.warnings) == 1_000
    assert result.warnings[0].path == ("stray0",)


def test_a_valid_result_carries_the_workflow_it_read_and_an_invalid_one_none():
    from workflows.domain import Workflow as ModelWorkflow
    from workflows.domain import validate_document as validate

    document = {"id": "w1", "name": "Pair", "nodes": [{"id": "a", "kind": "input", "name": "A", "data_type": "string"},
                                          {"id": "b", "kind": "output", "name": "B", "data_type": "string"}],
                "edges": [{"id": "e", "kind": "data", "source": "a", "source_port": "value",
                           "target": "b", "target_port": "value"}]}
    result = validate(document, catalog=None)
    assert result.valid
    assert result.workflow == ModelWorkflow.from_document(document)
    broken = validate({**document, "edges": [{**document["edges"][0], "target": "missing"}]}, catalog=None)
    assert not broken.valid
    assert broken.workflow is None
