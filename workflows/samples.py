"""Sample workflow documents: the demo data, the editor's starting point and test fixtures.

Pure Python; each function returns a bare workflow object (the envelope's
"workflow") that validates against the built-in catalog.
"""

from __future__ import annotations

from typing import Any


def node_input(node_id: str, data_type: str = "string", *, name: str = "", interactive: bool = False,
               prompt: str = "", required: bool = True) -> dict[str, Any]:
    return {"id": node_id, "kind": "input", "name": name or node_id, "data_type": data_type,
            "required": required, "interactive": interactive, "prompt": prompt}


def node_output(node_id: str, data_type: str = "any", *, name: str = "") -> dict[str, Any]:
    return {"id": node_id, "kind": "output", "name": name or node_id, "data_type": data_type}


def node_operator(node_id: str, operator: str, config: dict[str, Any], *, name: str = "") -> dict[str, Any]:
    return {"id": node_id, "kind": "operator", "name": name or node_id, "operator": operator, "config": config}


def node_model(node_id: str, model_id: str = "openai/gpt-4o-mini", config: dict[str, Any] | None = None,
               *, name: str = "") -> dict[str, Any]:
    return {"id": node_id, "kind": "instrument", "name": name or node_id, "model_id": model_id,
            "config": config if config is not None else {"temperature": 0.2, "max_tokens": 400}}


def node_control(node_id: str, control: str, *, name: str = "", **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "control", "name": name or node_id, "control": control, **fields}


def data_edge(edge_id: str, source: str, source_port: str, target: str, target_port: str) -> dict[str, Any]:
    return {"id": edge_id, "kind": "data", "source": source, "source_port": source_port,
            "target": target, "target_port": target_port}


def control_edge(edge_id: str, source: str, target: str) -> dict[str, Any]:
    return {"id": edge_id, "kind": "control", "source": source, "target": target}


def conditional_edge(edge_id: str, source: str, target: str, condition: str, label: str = "") -> dict[str, Any]:
    edge = {"id": edge_id, "kind": "conditional", "source": source, "target": target, "condition": condition}
    if label:
        edge["label"] = label
    return edge


def workflow(name: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], *, description: str = "",
             tags: tuple[str, ...] = (), category: str = "", version: str = "1.0.0") -> dict[str, Any]:
    return {"name": name, "description": description, "version": version,
            "metadata": {"tags": list(tags), "category": category},
            "nodes": nodes, "edges": edges}


def linear() -> dict[str, Any]:
    """question → prompt template → model → output."""
    return workflow(
        "Answer a question", [
            node_input("question", name="Question"),
            node_operator("prompt", "template", {"template": "Answer briefly: {{ inputs.variables }}"},
                          name="Build prompt"),
            node_model("answer", name="Answer"),
            node_output("reply", "string", name="Reply"),
        ], [
            data_edge("e1", "question", "value", "prompt", "variables"),
            data_edge("e2", "prompt", "text", "answer", "prompt"),
            data_edge("e3", "answer", "text", "reply", "value"),
        ],
        description="The smallest useful workflow: a templated prompt sent to one model.",
        tags=("demo", "llm"), category="examples")


def branching() -> dict[str, Any]:
    """Classify a ticket, then route: escalate when unsure, draft a reply otherwise."""
    return workflow(
        "Triage support tickets", [
            node_input("ticket", name="Ticket"),
            node_model("classify", config={"temperature": 0, "max_tokens": 50,
                                           "system_prompt": "Classify the ticket.", "response_format": "json"},
                       name="Classify"),
            node_operator("confidence", "json_parse", {}, name="Read confidence"),
            node_control("route", "branch", condition="inputs.value.confidence >= 0.6", name="Route"),
            node_model("draft", "anthropic/claude-3-5-haiku", name="Draft reply"),
            node_operator("escalate", "log", {"level": "warning", "message": "Escalated to a person"},
                          name="Escalate"),
            node_output("result", name="Result"),
        ], [
            data_edge("e1", "ticket", "value", "classify", "prompt"),
            data_edge("e2", "classify", "text", "confidence", "text"),
            data_edge("e3", "confidence", "value", "route", "value"),
            conditional_edge("e4", "route", "draft", "inputs.value.confidence >= 0.6", "confident"),
            conditional_edge("e5", "route", "escalate", "inputs.value.confidence < 0.6", "unsure"),
            data_edge("e6", "ticket", "value", "draft", "prompt"),
            data_edge("e7", "draft", "text", "result", "value"),
        ],
        description="Classify a ticket, draft a reply, escalate when unsure.",
        tags=("demo", "support", "llm"), category="customer-support")


def parallel_join() -> dict[str, Any]:
    """One text, three analyses at once, joined into one report."""
    return workflow(
        "Analyse a document three ways", [
            node_input("document", name="Document"),
            node_control("fan_out", "parallel", name="Fan out"),
            node_model("summary", name="Summary"),
            node_model("sentiment", "openai/gpt-4o", name="Sentiment"),
            node_model("embedding", "openai/text-embedding-3-small", {"dimensions": 256}, name="Embedding"),
            node_control("gather", "join", name="Gather"),
            node_operator("report", "json_format", {"indent": 2}, name="Report"),
            node_output("out", "string", name="Report text"),
        ], [
            data_edge("e1", "document", "value", "fan_out", "value"),
            control_edge("e2", "fan_out", "summary"),
            control_edge("e3", "fan_out", "sentiment"),
            control_edge("e4", "fan_out", "embedding"),
            data_edge("e5", "document", "value", "summary", "prompt"),
            data_edge("e6", "document", "value", "sentiment", "prompt"),
            data_edge("e7", "document", "value", "embedding", "text"),
            data_edge("e8", "summary", "text", "gather", "value"),
            data_edge("e9", "sentiment", "text", "gather", "value"),
            data_edge("e10", "embedding", "embedding", "gather", "value"),
            data_edge("e11", "gather", "value", "report", "value"),
            data_edge("e12", "report", "text", "out", "value"),
        ],
        description="Summary, sentiment and embedding run in parallel; a join waits for all three.",
        tags=("demo", "parallel"), category="analysis")


def loop_over_list() -> dict[str, Any]:
    """Clean every item of a list, keep the long ones, summarise each."""
    return workflow(
        "Summarise each article", [
            node_input("articles", "array<string>", name="Articles"),
            node_operator("clean", "map", {"expr": "item | trim"}, name="Trim"),
            node_operator("keep", "filter", {"expr": "item | length > 20"}, name="Keep long ones"),
            node_control("each", "loop", over="inputs.value", body="summarise-article", name="For each"),
            node_operator("count", "reduce", {"reducer": "count", "initial": 0}, name="Count"),
            node_output("summaries", "array", name="Summaries"),
            node_output("how_many", name="How many"),
        ], [
            data_edge("e1", "articles", "value", "clean", "items"),
            data_edge("e2", "clean", "items", "keep", "items"),
            data_edge("e3", "keep", "items", "each", "value"),
            data_edge("e4", "each", "value", "summaries", "value"),
            data_edge("e5", "keep", "items", "count", "items"),
            data_edge("e6", "count", "value", "how_many", "value"),
        ],
        description="A loop runs a body once per item of a filtered list.",
        tags=("demo", "loop"), category="examples")


def interactive_input() -> dict[str, Any]:
    """Asks a person for a topic while running, writes a note, and looks the topic up."""
    return workflow(
        "Research with a human in the loop", [
            node_input("topic", name="Topic", interactive=True, prompt="Which topic should we research?"),
            node_operator("wait", "delay", {"milliseconds": 500}, name="Be polite"),
            node_operator("write", "template", {"template": "Topic: {{ inputs.variables }}"}, name="Write up"),
            node_operator("fetch", "http_request", {"method": "GET", "url": "https://api.example.com/search",
                                                   "timeout_s": 10, "expect_json": True}, name="Search"),
            node_operator("pick", "select", {"path": "results.0", "default": None}, name="First result"),
            node_operator("combine", "merge_objects", {"deep": False}, name="Combine headers"),
            node_output("note", "string", name="Note"),
            node_output("first", name="First hit"),
            node_output("details", "object", name="Details"),
        ], [
            data_edge("e1", "topic", "value", "wait", "value"),
            data_edge("e2", "wait", "value", "write", "variables"),
            data_edge("e3", "write", "text", "note", "value"),
            control_edge("e4", "write", "fetch"),
            data_edge("e5", "fetch", "body", "pick", "value"),
            data_edge("e6", "pick", "value", "first", "value"),
            data_edge("e7", "fetch", "headers", "combine", "left"),
            data_edge("e8", "fetch", "headers", "combine", "right"),
            data_edge("e9", "combine", "value", "details", "value"),
        ],
        description="An interactive input asks for the topic at run time.",
        tags=("demo", "interactive"), category="research")


DEMO_WORKFLOWS = (linear, branching, parallel_join, loop_over_list, interactive_input)


def starter() -> dict[str, Any]:
    """What the editor shows for a new workflow."""
    return workflow("New workflow", [node_input("input", name="Input"), node_output("output", name="Output")],
                    [data_edge("e1", "input", "value", "output", "value")])
