"""Building blocks of the demo catalog: the few workflow shapes its templates share.

Each shape returns a template version body — ``{"document", "parameters",
"examples"}`` — whose document holds ``{{ params.… }}`` placeholders and
uses only built-in node types (`workflows.catalog`). The entries in
`templates_app.catalog.entries` fill them with real prompts and settings.
"""

from __future__ import annotations

from typing import Any

from workflows.catalog import EXPRESSION as EXPRESSION_CONFIG

# An expression parameter lands whole in an operator's config, whose schema
# bounds its length: the parameter says so too, or its published schema would
# accept values that instantiate to an invalid workflow.
EXPRESSION_MAX_LENGTH: int = EXPRESSION_CONFIG["maxLength"]
MODELS = [
    {"value": "openai/gpt-4o-mini", "label": "GPT-4o mini (fast, inexpensive)"},
    {"value": "openai/gpt-4o", "label": "GPT-4o"},
    {"value": "anthropic/claude-3-5-haiku", "label": "Claude 3.5 Haiku"},
    {"value": "local/echo", "label": "Echo (test model, no network)"},
]
Body = dict[str, Any]


def model_parameters(*, model: str = "openai/gpt-4o-mini", temperature: float = 0.2,
                     max_tokens: int = 800, prefix: str = "", label: str = "Model") -> list[dict[str, Any]]:
    """Model, temperature and token budget: the knobs every model-using template offers."""
    return [
        {"name": f"{prefix}model", "display_name": label, "type": "model_id", "default": model,
         "description": "Which model answers.",
         "constraints": {"one_of": [choice["value"] for choice in MODELS]},
         "ui": {"widget": "select", "group": "Model", "order": 90,
                "help_text": "Pick Echo to try the workflow without calling a provider."}},
        {"name": f"{prefix}temperature", "display_name": "Temperature", "type": "float", "default": temperature,
         "description": "Higher is more varied, lower more predictable.",
         "constraints": {"min_value": 0, "max_value": 1.5}, "ui": {"widget": "slider", "group": "Model", "order": 91}},
        {"name": f"{prefix}max_tokens", "display_name": "Longest answer (tokens)", "type": "integer",
         "default": max_tokens, "constraints": {"min_value": 16, "max_value": 8000},
         "ui": {"group": "Model", "order": 92}},
    ]


def text_parameter(name: str, display_name: str, default: str, *, description: str = "", order: int = 10,
                   group: str = "Instructions", widget: str = "textarea", max_length: int = 4000,
                   required: bool = False) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": name, "display_name": display_name, "type": "string", "description": description,
        "constraints": {"min_length": 1, "max_length": max_length, "validators": ["non_blank"]},
        "ui": {"widget": widget, "group": group, "order": order}}
    if required:
        definition["required"] = True
    else:
        definition["default"] = default
    return definition


def model_node(node_id: str, name: str, system_prompt: str, *, prefix: str = "", json: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = {"temperature": f"{{{{ params.{prefix}temperature }}}}",
                              "max_tokens": f"{{{{ params.{prefix}max_tokens }}}}",
                              "system_prompt": system_prompt}
    if json:
        config["response_format"] = "json"
    return {"id": node_id, "kind": "instrument", "name": name, "model_id": f"{{{{ params.{prefix}model }}}}",
            "config": config}


def data(edge_id: str, source: str, source_port: str, target: str, target_port: str) -> dict[str, Any]:
    return {"id": edge_id, "kind": "data", "source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


def document(name: str, description: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], *,
             tags: list[str], category: str) -> dict[str, Any]:
    return {"name": name, "description": description, "version": "1.0.0",
            "metadata": {"tags": tags, "category": category}, "nodes": nodes, "edges": edges}


def prompt_chain(*, name: str, description: str, tags: list[str], category: str, input_name: str,
                 prompt: str, system_prompt: str, parameters: list[dict[str, Any]], examples: list[dict[str, Any]],
                 json_output: bool = False, **model: Any) -> Body:
    """request (object) → prompt template → model → reply; `json_output` parses the reply as JSON."""
    nodes = [
        {"id": "request", "kind": "input", "name": input_name, "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Build the prompt", "operator": "template",
         "config": {"template": prompt}},
        model_node("model", "Ask the model", system_prompt, json=json_output),
    ]
    edges = [data("e1", "request", "value", "prompt", "variables"), data("e2", "prompt", "text", "model", "prompt")]
    if json_output:
        nodes += [{"id": "parse", "kind": "operator", "name": "Read the JSON", "operator": "json_parse",
                   "config": {}},
                  {"id": "result", "kind": "output", "name": "Result", "data_type": "json"}]
        edges += [data("e3", "model", "text", "parse", "text"), data("e4", "parse", "value", "result", "value")]
    else:
        nodes.append({"id": "reply", "kind": "output", "name": "Reply", "data_type": "string"})
        edges.append(data("e3", "model", "text", "reply", "value"))
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": [*parameters, *model_parameters(**model)], "examples": examples}


def classify_and_route(*, name: str, description: str, tags: list[str], category: str, input_name: str,
                       prompt: str, system_prompt: str, draft_system_prompt: str, parameters: list[dict[str, Any]],
                       examples: list[dict[str, Any]], threshold: float = 0.7) -> Body:
    """Classify with a model (JSON with `label` and `confidence`), then act when sure, escalate when not."""
    nodes = [
        {"id": "request", "kind": "input", "name": input_name, "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Build the prompt", "operator": "template",
         "config": {"template": prompt}},
        model_node("classify", "Classify", system_prompt, json=True),
        {"id": "parse", "kind": "operator", "name": "Read the label", "operator": "json_parse", "config": {}},
        {"id": "route", "kind": "control", "name": "Sure enough?", "control": "branch",
         "condition": "inputs.value.confidence >= {{ params.confidence_threshold }}"},
        model_node("draft", "Draft the next step", draft_system_prompt, prefix="draft_"),
        {"id": "escalate", "kind": "operator", "name": "Escalate to a person", "operator": "log",
         "config": {"level": "warning", "message": "{{ params.escalation_message }} ({{ inputs.value }})"}},
        {"id": "classification", "kind": "output", "name": "Classification", "data_type": "json"},
        {"id": "draft_reply", "kind": "output", "name": "Draft", "data_type": "string"},
    ]
    edges = [
        data("e1", "request", "value", "prompt", "variables"),
        data("e2", "prompt", "text", "classify", "prompt"),
        data("e3", "classify", "text", "parse", "text"),
        data("e4", "parse", "value", "route", "value"),
        data("e5", "parse", "value", "classification", "value"),
        {"id": "e6", "kind": "conditional", "source": "route", "target": "draft",
         "condition": "inputs.value.confidence >= {{ params.confidence_threshold }}", "label": "sure"},
        {"id": "e7", "kind": "conditional", "source": "route", "target": "escalate",
         "condition": "inputs.value.confidence < {{ params.confidence_threshold }}", "label": "unsure"},
        data("e8", "prompt", "text", "draft", "prompt"),
        data("e9", "draft", "text", "draft_reply", "value"),
        data("e10", "route", "value", "escalate", "value"),
    ]
    routing = [
        {"name": "confidence_threshold", "display_name": "Confidence needed to act", "type": "float",
         "default": threshold, "constraints": {"min_value": 0, "max_value": 1},
         "description": "Below this, the item goes to a person instead.",
         "ui": {"widget": "slider", "group": "Routing", "order": 50}},
        text_parameter("escalation_message", "Escalation message", "Needs a person: low confidence",
                       order=51, group="Routing", widget="text", max_length=200),
    ]
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": [*parameters, *routing, *model_parameters(temperature=0.0, max_tokens=300),
                           *model_parameters(prefix="draft_", label="Drafting model", temperature=0.4)],
            "examples": examples}


def retrieval_answer(*, name: str, description: str, tags: list[str], category: str, system_prompt: str,
                     parameters: list[dict[str, Any]], examples: list[dict[str, Any]]) -> Body:
    """query (JSON) → search endpoint → passages as text → model answers from them."""
    nodes = [
        {"id": "query", "kind": "input", "name": "Question", "data_type": "json"},
        {"id": "search", "kind": "operator", "name": "Search the knowledge base", "operator": "http_request",
         "config": {"method": "POST", "url": "{{ params.search_url }}", "timeout_s": "{{ params.search_timeout }}",
                    "expect_json": True, "headers": {"Accept": "application/json"}}},
        {"id": "passages", "kind": "operator", "name": "Passages as text", "operator": "json_format",
         "config": {"indent": 0, "sort_keys": False}},
        model_node("answer", "Answer from the passages", system_prompt),
        {"id": "reply", "kind": "output", "name": "Answer", "data_type": "string"},
        {"id": "status", "kind": "output", "name": "Search status", "data_type": "integer"},
    ]
    edges = [
        data("e1", "query", "value", "search", "body"),
        data("e2", "search", "body", "passages", "value"),
        data("e3", "passages", "text", "answer", "prompt"),
        data("e4", "answer", "text", "reply", "value"),
        data("e5", "search", "status", "status", "value"),
    ]
    search = [
        {"name": "search_url", "display_name": "Search endpoint", "type": "string", "required": True,
         "description": "POST endpoint answering {\"passages\": [...]} for a question.",
         "constraints": {"pattern": "^https://", "max_length": 500, "validators": ["http_url"]},
         "ui": {"widget": "text", "placeholder": "https://kb.example.com/search", "group": "Knowledge base",
                "order": 1}},
        {"name": "search_timeout", "display_name": "Search timeout (seconds)", "type": "float", "default": 10,
         "constraints": {"min_value": 1, "max_value": 60}, "ui": {"group": "Knowledge base", "order": 2}},
    ]
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": [*search, *parameters, *model_parameters(temperature=0.1)], "examples": examples}


def list_cleanup(*, name: str, description: str, tags: list[str], category: str, item_type: str,
                 map_expression: str, filter_expression: str, reducer: str, reducer_initial: Any,
                 extra_parameters: list[dict[str, Any]], examples: list[dict[str, Any]]) -> Body:
    """items → map → filter → cleaned items, and a reduce over them (count, sum…)."""
    nodes = [
        {"id": "items", "kind": "input", "name": "Items", "data_type": f"array<{item_type}>"},
        {"id": "transform", "kind": "operator", "name": "Transform each item", "operator": "map",
         "config": {"expr": "{{ params.transform }}"}},
        {"id": "keep", "kind": "operator", "name": "Keep matching items", "operator": "filter",
         "config": {"expr": "{{ params.keep_when }}"}},
        {"id": "total", "kind": "operator", "name": "Summarize the list", "operator": "reduce",
         "config": {"reducer": "{{ params.reducer }}", "initial": "{{ params.initial }}"}},
        {"id": "cleaned", "kind": "output", "name": "Cleaned items", "data_type": "array"},
        {"id": "summary", "kind": "output", "name": "Summary value", "data_type": "any"},
    ]
    edges = [
        data("e1", "items", "value", "transform", "items"),
        data("e2", "transform", "items", "keep", "items"),
        data("e3", "keep", "items", "cleaned", "value"),
        data("e4", "keep", "items", "total", "items"),
        data("e5", "total", "value", "summary", "value"),
    ]
    parameters = [
        {"name": "transform", "display_name": "Transform each item", "type": "expression", "default": map_expression,
         "description": "An expression over `item`.", "constraints": {"max_length": EXPRESSION_MAX_LENGTH}, "ui": {"widget": "code", "group": "Rules", "order": 1}},
        {"name": "keep_when", "display_name": "Keep items when", "type": "expression", "default": filter_expression,
         "description": "An expression over `item`; items where it is false are dropped.",
         "constraints": {"max_length": EXPRESSION_MAX_LENGTH},
         "ui": {"widget": "code", "group": "Rules", "order": 2}},
        {"name": "reducer", "display_name": "Summary", "type": "enum", "default": reducer,
         "choices": [{"value": "count", "label": "Count the items"}, {"value": "sum", "label": "Sum"},
                     {"value": "min", "label": "Smallest"}, {"value": "max", "label": "Largest"}],
         "ui": {"widget": "radio", "group": "Summary", "order": 3}},
        {"name": "initial", "display_name": "Starting value", "type": "integer", "default": reducer_initial,
         "ui": {"group": "Summary", "order": 4}},
        *extra_parameters,
    ]
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": parameters, "examples": examples}


def approval(*, name: str, description: str, tags: list[str], category: str, request_kind: str,
             question: str, system_prompt: str, examples: list[dict[str, Any]]) -> Body:
    """request → model summary for the approver → a person decides → notify on approval, log on refusal."""
    nodes = [
        {"id": "request", "kind": "input", "name": "Request", "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Build the summary prompt", "operator": "template",
         "config": {"template": "Summarize this {{ params.request_kind }} request for an approver in at most "
                                "{{ params.summary_sentences }} sentences. Point out anything unusual.\n\n"
                                "{{ inputs.variables }}"}},
        model_node("summarize", "Summarize for the approver", system_prompt),
        {"id": "summary", "kind": "output", "name": "Summary", "data_type": "string"},
        {"id": "decision", "kind": "input", "name": "Approver's decision", "data_type": "boolean",
         "interactive": True, "prompt": "{{ params.approval_question }}"},
        {"id": "route", "kind": "control", "name": "Approved?", "control": "branch", "condition": "inputs.value"},
        {"id": "notify", "kind": "operator", "name": "Tell the requester", "operator": "http_request",
         "config": {"method": "POST", "url": "{{ params.notify_url }}", "timeout_s": 10, "expect_json": False}},
        {"id": "refused", "kind": "operator", "name": "Record the refusal", "operator": "log",
         "config": {"level": "info", "message": "{{ params.request_kind }} request refused"}},
        {"id": "outcome", "kind": "output", "name": "Decision", "data_type": "any"},
    ]
    edges = [
        data("e1", "request", "value", "prompt", "variables"),
        data("e2", "prompt", "text", "summarize", "prompt"),
        data("e3", "summarize", "text", "summary", "value"),
        {"id": "e4", "kind": "control", "source": "summarize", "target": "decision"},
        data("e5", "decision", "value", "route", "value"),
        {"id": "e6", "kind": "conditional", "source": "route", "target": "notify", "condition": "inputs.value",
         "label": "approved"},
        {"id": "e7", "kind": "conditional", "source": "route", "target": "refused", "condition": "not inputs.value",
         "label": "refused"},
        data("e8", "route", "value", "outcome", "value"),
    ]
    parameters = [
        {"name": "request_kind", "display_name": "What is being approved", "type": "string", "default": request_kind,
         "constraints": {"min_length": 2, "max_length": 60, "pattern": "^[A-Za-z][A-Za-z -]*$"},
         "ui": {"widget": "text", "group": "Approval", "order": 1}},
        text_parameter("approval_question", "Question for the approver", question, order=2, group="Approval",
                       widget="text", max_length=300),
        {"name": "summary_sentences", "display_name": "Summary length (sentences)", "type": "integer", "default": 3,
         "constraints": {"min_value": 1, "max_value": 8}, "ui": {"widget": "slider", "group": "Approval", "order": 3}},
        {"name": "notify_url", "display_name": "Notify on approval (webhook)", "type": "string", "required": True,
         "constraints": {"pattern": "^https://", "max_length": 500, "validators": ["http_url"]},
         "ui": {"widget": "text", "placeholder": "https://hooks.example.com/approved", "group": "Notifications",
                "order": 4}},
    ]
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": [*parameters, *model_parameters(temperature=0.1, max_tokens=300)],
            "examples": examples}


def report_to_webhook(*, name: str, description: str, tags: list[str], category: str, system_prompt: str,
                      prompt: str, parameters: list[dict[str, Any]], examples: list[dict[str, Any]]) -> Body:
    """figures (object) → prompt → model writes the report → post it to a webhook, keep the text."""
    nodes = [
        {"id": "figures", "kind": "input", "name": "Figures", "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Build the report prompt", "operator": "template",
         "config": {"template": prompt}},
        model_node("write", "Write the report", system_prompt, json=True),
        {"id": "parse", "kind": "operator", "name": "Read the report", "operator": "json_parse", "config": {}},
        {"id": "post", "kind": "operator", "name": "Post to the channel", "operator": "http_request",
         "config": {"method": "POST", "url": "{{ params.webhook_url }}", "timeout_s": 15, "expect_json": False,
                    "headers": {"Content-Type": "application/json"}}},
        {"id": "report", "kind": "output", "name": "Report", "data_type": "json"},
        {"id": "delivery", "kind": "output", "name": "Delivery status", "data_type": "integer"},
    ]
    edges = [
        data("e1", "figures", "value", "prompt", "variables"),
        data("e2", "prompt", "text", "write", "prompt"),
        data("e3", "write", "text", "parse", "text"),
        data("e4", "parse", "value", "post", "body"),
        data("e5", "parse", "value", "report", "value"),
        data("e6", "post", "status", "delivery", "value"),
    ]
    webhook = [{"name": "webhook_url", "display_name": "Webhook", "type": "string", "required": True,
                "description": "Where the report is posted (Slack, Teams, or your own endpoint).",
                "constraints": {"pattern": "^https://", "max_length": 500, "validators": ["http_url"]},
                "ui": {"widget": "text", "placeholder": "https://hooks.example.com/reports", "group": "Delivery",
                       "order": 80}}]
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": [*parameters, *webhook, *model_parameters(temperature=0.3)], "examples": examples}


def two_model_review(*, name: str, description: str, tags: list[str], category: str, prompt: str,
                     system_prompt: str, review_system_prompt: str, parameters: list[dict[str, Any]],
                     examples: list[dict[str, Any]]) -> Body:
    """request → prompt → first model drafts → second model reviews and corrects the draft."""
    nodes = [
        {"id": "request", "kind": "input", "name": "Request", "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Build the prompt", "operator": "template",
         "config": {"template": prompt}},
        model_node("draft", "Draft", system_prompt),
        model_node("review", "Review and correct", review_system_prompt, prefix="review_"),
        {"id": "draft_text", "kind": "output", "name": "First draft", "data_type": "string"},
        {"id": "final", "kind": "output", "name": "Reviewed result", "data_type": "string"},
    ]
    edges = [
        data("e1", "request", "value", "prompt", "variables"),
        data("e2", "prompt", "text", "draft", "prompt"),
        data("e3", "draft", "text", "review", "prompt"),
        data("e4", "draft", "text", "draft_text", "value"),
        data("e5", "review", "text", "final", "value"),
    ]
    return {"document": document(name, description, nodes, edges, tags=tags, category=category),
            "parameters": [*parameters, *model_parameters(),
                           *model_parameters(prefix="review_", label="Reviewing model", model="openai/gpt-4o",
                                             temperature=0.0)],
            "examples": examples}
