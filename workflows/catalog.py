"""The built-in node-type catalog: every control type, operator and instrument model.

Pure Python (no Django): documents are validated against it by the graph core
(``validate_document(..., catalog=builtin_catalog())``), and the API serves it
at ``GET /api/v1/node-types/``. Each entry declares its default ports, a JSON
Schema for its ``config`` and an example config that validates against that
schema (a test checks every one). What a type *does* at run time belongs to
the execution engine; this module only says what a well-formed node looks like.

Control nodes have no ``config``: their fields are ``condition`` (branch) and
``over``/``body`` (loop). Their entries describe those fields with the same
``config_schema``/``example_config`` pair so a client can build any node from
the catalog the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from workflows.domain import DataType, NodeKind, PortDefinition
from workflows.domain.catalog import InMemoryNodeTypeCatalog, NodeTypeDefinition

Schema = dict[str, Any]


def port(name: str, data_type: str = "any", *, required: bool = True, description: str = "") -> PortDefinition:
    return PortDefinition(name=name, data_type=DataType.parse(data_type), required=required,
                          description=description)


def object_schema(properties: dict[str, Schema], *, required: tuple[str, ...] = ()) -> Schema:
    """A closed object schema: unknown config keys are mistakes worth reporting."""
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 2000}

# --------------------------------------------------------------------------- control

_CONTROL_VALUE_IN = (port("value", required=False, description="Optional data passed through."),)
_CONTROL_VALUE_OUT = (port("value", description="The incoming value, forwarded."),)

CONTROL_TYPES: tuple[NodeTypeDefinition, ...] = (
    NodeTypeDefinition(
        kind=NodeKind.CONTROL, type_name="branch", title="Branch",
        description="Chooses a path: its outgoing conditional edges are taken when their "
                    "condition holds; `condition` decides the branch's own outcome.",
        inputs=_CONTROL_VALUE_IN, outputs=_CONTROL_VALUE_OUT,
        config_schema=object_schema({"condition": EXPRESSION}, required=("condition",)),
        example_config={"condition": "inputs.value > 0"},
    ),
    NodeTypeDefinition(
        kind=NodeKind.CONTROL, type_name="merge", title="Merge",
        description="Continues as soon as any one incoming path has arrived.",
        inputs=_CONTROL_VALUE_IN, outputs=_CONTROL_VALUE_OUT,
        config_schema=object_schema({}), example_config={},
    ),
    NodeTypeDefinition(
        kind=NodeKind.CONTROL, type_name="loop", title="Loop",
        description="Runs `body` (a workflow reference) once per item of `over`, an "
                    "expression giving a list; outputs the list of results.",
        inputs=_CONTROL_VALUE_IN,
        outputs=(port("value", "array", description="One result per item."),),
        config_schema=object_schema({"over": EXPRESSION, "body": {"type": "string", "minLength": 1}},
                                    required=("over",)),
        example_config={"over": "inputs.value", "body": "summarise-item"},
    ),
    NodeTypeDefinition(
        kind=NodeKind.CONTROL, type_name="parallel", title="Parallel",
        description="Starts every outgoing path at once.",
        inputs=_CONTROL_VALUE_IN, outputs=_CONTROL_VALUE_OUT,
        config_schema=object_schema({}), example_config={},
    ),
    NodeTypeDefinition(
        kind=NodeKind.CONTROL, type_name="join", title="Join",
        description="Waits for every incoming path before continuing.",
        inputs=_CONTROL_VALUE_IN, outputs=_CONTROL_VALUE_OUT,
        config_schema=object_schema({}), example_config={},
    ),
)

# --------------------------------------------------------------------------- operators


def _operator(type_name: str, title: str, description: str, inputs: tuple[PortDefinition, ...],
              outputs: tuple[PortDefinition, ...], config_schema: Schema,
              example_config: dict[str, Any]) -> NodeTypeDefinition:
    return NodeTypeDefinition(kind=NodeKind.OPERATOR, type_name=type_name, title=title,
                              description=description, inputs=inputs, outputs=outputs,
                              config_schema=config_schema, example_config=example_config)


# Operators over embeddings (executions/runtime/semantic.py). `model` is any embedding
# model the team can use; the default runs offline in the worker.
LOCAL_EMBEDDING_MODEL = "local/all-minilm-l6-v2"
_EMBEDDING_MODEL = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,39}/[^\s/][^\s]{0,199}$",
                    "default": LOCAL_EMBEDDING_MODEL,
                    "description": "The embedding model (provider/model)."}
_EXAMPLES = {"type": "object", "minProperties": 1, "maxProperties": 100,
             "propertyNames": {"minLength": 1, "maxLength": 100},
             "additionalProperties": {"type": "array", "minItems": 1, "maxItems": 100,
                                      "items": {"type": "string", "maxLength": 10_000}}}
_FIELD = {"type": "string", "minLength": 1, "maxLength": 500,
          "description": "Dotted path to the text inside object items."}

SEMANTIC_OPERATORS: tuple[NodeTypeDefinition, ...] = (
    _operator(
        "embed", "Embed", "Turns a text, or a list of texts, into embedding vectors.",
        (port("text", "any", description="A text or a list of texts."),),
        (port("embedding", "any", description="A vector, or one per text."),),
        object_schema({"model": _EMBEDDING_MODEL}),
        {"model": LOCAL_EMBEDDING_MODEL},
    ),
    _operator(
        "similarity", "Similarity",
        "Cosine similarity of `a` and `b` (texts or vectors); `b` may be a list, then "
        "`best` is the closest item.",
        (port("a", "any"), port("b", "any")),
        (port("score", "any", description="A number, or one per item of b."),
         port("best", "any", description="{index, score, item} of the closest item of b.")),
        object_schema({"model": _EMBEDDING_MODEL, "field": _FIELD}),
        {"model": LOCAL_EMBEDDING_MODEL},
    ),
    _operator(
        "route", "Route by meaning",
        "Sends `value` down the route whose example texts `text` is closest to: give each "
        "route a conditional edge `inputs.route == \"name\"`.",
        (port("text", "string"),
         port("value", "any", required=False, description="What travels on (default: text).")),
        (port("route", "string"), port("score", "number"), port("scores", "object"),
         port("value", "any")),
        object_schema({"routes": _EXAMPLES, "model": _EMBEDDING_MODEL,
                       "threshold": {"type": "number", "minimum": -1, "maximum": 1},
                       "fallback": {"type": "string", "minLength": 1, "maxLength": 100}},
                      required=("routes",)),
        {"routes": {"billing": ["I was charged twice", "Where is my invoice?"],
                    "technical": ["The app crashes on start", "I get an error 500"]},
         "threshold": 0.3, "fallback": "other"},
    ),
    _operator(
        "classify", "Classify by examples",
        "Picks the label whose example texts `text` is closest to.",
        (port("text", "string"),),
        (port("label", "string"), port("confidence", "number"), port("scores", "object")),
        object_schema({"labels": _EXAMPLES, "model": _EMBEDDING_MODEL}, required=("labels",)),
        {"labels": {"positive": ["I love it", "Works great"],
                    "negative": ["It broke after a day", "Terrible support"]}},
    ),
    _operator(
        "deduplicate", "Deduplicate",
        "Drops near-duplicate items: each group of items at least `threshold` similar keeps "
        "its first.",
        (port("items", "array", description="Texts, vectors, or objects with `field`."),),
        (port("items", "array"), port("groups", "array", description="Lists of item positions."),
         port("duplicates", "integer")),
        object_schema({"threshold": {"type": "number", "minimum": 0, "maximum": 1},
                       "field": _FIELD, "model": _EMBEDDING_MODEL}),
        {"threshold": 0.85, "field": "description"},
    ),
)

OPERATOR_TYPES: tuple[NodeTypeDefinition, ...] = (
    _operator(
        "template", "Template", "Renders text from a `{{ … }}` template over the node's inputs.",
        (port("variables", "any", required=False, description="Values the template reads as inputs.variables."),),
        (port("text", "string"),),
        object_schema({"template": {"type": "string", "minLength": 1, "maxLength": 100_000},
                       "strict": {"type": "boolean", "default": True}}, required=("template",)),
        {"template": "Hello {{ inputs.variables.name }}!", "strict": True},
    ),
    _operator(
        "json_parse", "Parse JSON", "Parses a JSON text into a value.",
        (port("text", "string"),), (port("value", "json"),),
        object_schema({"allow_empty": {"type": "boolean", "default": False}}),
        {"allow_empty": False},
    ),
    _operator(
        "json_format", "Format JSON", "Writes a value as JSON text.",
        (port("value", "any"),), (port("text", "string"),),
        object_schema({"indent": {"type": "integer", "minimum": 0, "maximum": 8},
                       "sort_keys": {"type": "boolean"}}),
        {"indent": 2, "sort_keys": True},
    ),
    _operator(
        "select", "Select", "Picks a value out of an object or list by a dotted path.",
        (port("value", "any"),), (port("value", "any"),),
        object_schema({"path": {"type": "string", "minLength": 1, "maxLength": 500},
                       "default": {}}, required=("path",)),
        {"path": "choices.0.message", "default": None},
    ),
    _operator(
        "map", "Map", "Applies an expression to every item (`item` is the current one).",
        (port("items", "array"),), (port("items", "array"),),
        object_schema({"expr": EXPRESSION}, required=("expr",)),
        {"expr": "item | lower"},
    ),
    _operator(
        "filter", "Filter", "Keeps the items for which the expression is true.",
        (port("items", "array"),), (port("items", "array"),),
        object_schema({"expr": EXPRESSION}, required=("expr",)),
        {"expr": "item.score > 0.5"},
    ),
    _operator(
        "reduce", "Reduce", "Folds the items into one value with `reducer` (sum, min, max, "
                            "count, concat, merge) starting from `initial`.",
        (port("items", "array"),), (port("value", "any"),),
        object_schema({"reducer": {"enum": ["sum", "min", "max", "count", "concat", "merge"]},
                       "initial": {}}, required=("reducer",)),
        {"reducer": "sum", "initial": 0},
    ),
    _operator(
        "merge_objects", "Merge objects", "Merges two objects; keys of `right` win.",
        (port("left", "object"), port("right", "object")), (port("value", "object"),),
        object_schema({"deep": {"type": "boolean", "default": False}}),
        {"deep": True},
    ),
    _operator(
        "http_request", "HTTP request", "Calls an HTTP endpoint and returns status, headers and body.",
        (port("body", "json", required=False, description="Sent as the JSON body."),),
        (port("status", "integer"), port("headers", "object"), port("body", "json")),
        object_schema({
            "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]},
            "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
            "expect_json": {"type": "boolean"},
        }, required=("method", "url")),
        {"method": "GET", "url": "https://api.example.com/items", "headers": {"Accept": "application/json"},
         "timeout_s": 10, "expect_json": True},
    ),
    _operator(
        "delay", "Delay", "Waits, then forwards its input unchanged.",
        (port("value", "any", required=False),), (port("value", "any"),),
        object_schema({"milliseconds": {"type": "integer", "minimum": 0, "maximum": 86_400_000}},
                      required=("milliseconds",)),
        {"milliseconds": 1000},
    ),
    *SEMANTIC_OPERATORS,
    _operator(
        "log", "Log", "Writes a message to the execution's log and forwards its input.",
        (port("value", "any", required=False),), (port("value", "any"),),
        object_schema({"level": {"enum": ["debug", "info", "warning", "error"]},
                       "message": {"type": "string", "maxLength": 10_000}}),
        {"level": "info", "message": "Received {{ inputs.value }}"},
    ),
)

# --------------------------------------------------------------------------- instruments
#
# A model id is `provider/model`. `local/…` models run in the worker; every other
# provider is a team's OpenAI-compatible service (docs/instruments.md). The catalog
# lists the models it knows by name; any other `provider/model` outside `local` is a
# chat model served by the team's service of that name (`served_chat_model`), so
# teams can use whatever their vLLM, Ollama or gateway serves. Whether a team can run
# a model is decided at execution start (`GET /api/v1/models/` lists what it can).

MODEL_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}/[^\s/][^\s]{0,199}$"
# Only a `{{ secrets.NAME }}` reference: a key pasted into a workflow would end up in
# versions, exports and templates.
SECRET_REFERENCE = {"type": "string", "pattern": r"^\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$",
                    "description": "A team secret, written {{ secrets.NAME }}."}
_CACHE = {"type": "boolean", "default": True,
          "description": "Reuse a stored answer for the same model, inputs and config "
                         "(turn off for sampled answers, e.g. temperature > 0)."}
_SERVICE_CONFIG: dict[str, Schema] = {
    "cache": _CACHE,
    "base_url": {"type": "string", "pattern": "^https?://", "maxLength": 2000,
                 "description": "Call this service instead of the team's provider (the "
                                "team's key is then not sent)."},
    "api_key": SECRET_REFERENCE,
    "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
    "max_retries": {"type": "integer", "minimum": 0, "maximum": 10},
}
_CHAT_PROPERTIES: dict[str, Schema] = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "max_tokens": {"type": "integer", "minimum": 1, "maximum": 128_000},
    "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "system_prompt": {"type": "string", "maxLength": 100_000},
    "response_format": {"enum": ["text", "json"]},
    "stop": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
}
_CHAT_CONFIG = object_schema({**_CHAT_PROPERTIES, **_SERVICE_CONFIG,
                              "stream": {"type": "boolean", "default": True}})
_LOCAL_CHAT_CONFIG = object_schema({**_CHAT_PROPERTIES, "cache": _CACHE})
_CHAT_INPUTS = (port("prompt", "string", description="The user message."),)
_CHAT_OUTPUTS = (port("text", "string", description="The model's reply."),
                 port("usage", "object", description="Model, tokens in and out, cost."))
_CHAT_EXAMPLE = {"temperature": 0.2, "max_tokens": 512,
                 "system_prompt": "You are a concise assistant.", "response_format": "text"}


def _chat_model(model_id: str, title: str, description: str, max_tokens: int, *,
                config: Schema = _CHAT_CONFIG) -> NodeTypeDefinition:
    schema = {**config, "properties": {**config["properties"],
                                       "max_tokens": {"type": "integer", "minimum": 1,
                                                      "maximum": max_tokens}}}
    return NodeTypeDefinition(
        kind=NodeKind.INSTRUMENT, type_name=model_id, title=title, description=description,
        inputs=_CHAT_INPUTS, outputs=_CHAT_OUTPUTS, config_schema=schema,
        example_config=dict(_CHAT_EXAMPLE),
    )


def _embedding_model(model_id: str, title: str, description: str, config: Schema,
                     example: dict[str, Any]) -> NodeTypeDefinition:
    return NodeTypeDefinition(
        kind=NodeKind.INSTRUMENT, type_name=model_id, title=title, description=description,
        inputs=(port("text", "string"),), outputs=(port("embedding", "array<number>"),),
        config_schema=config, example_config=example,
    )


INSTRUMENT_TYPES: tuple[NodeTypeDefinition, ...] = (
    _chat_model("openai/gpt-4o-mini", "GPT-4o mini", "Fast, inexpensive chat model.", 16_384),
    _chat_model("openai/gpt-4o", "GPT-4o", "OpenAI's general chat model.", 16_384),
    _chat_model("anthropic/claude-3-5-haiku", "Claude 3.5 Haiku",
                "Fast Anthropic chat model (through Anthropic's OpenAI-compatible endpoint).",
                8_192),
    _chat_model("local/echo", "Echo (test model)",
                "Answers with its prompt; runs without network, for tests and demos.", 128_000,
                config=_LOCAL_CHAT_CONFIG),
    _embedding_model(
        "openai/text-embedding-3-small", "Text embedding (OpenAI)",
        "Turns a text into an embedding vector.",
        object_schema({"dimensions": {"type": "integer", "minimum": 1, "maximum": 1536},
                       **_SERVICE_CONFIG}),
        {"dimensions": 512}),
    _embedding_model(
        "local/all-minilm-l6-v2", "Text embedding (local, offline)",
        "all-MiniLM-L6-v2 on the worker's CPU: 384 numbers per text, no network, no cost.",
        object_schema({"cache": _CACHE}), {"cache": True}),
)

# The chat model any other `provider/model` id stands for (see the note above).
SERVED_CHAT_CONFIG = _CHAT_CONFIG
LOCAL_PROVIDER = "local"
_SERVED_MODEL_CACHE = 1_024

ALL_TYPES: tuple[NodeTypeDefinition, ...] = CONTROL_TYPES + OPERATOR_TYPES + INSTRUMENT_TYPES
KIND_ORDER = {"control": 0, "operator": 1, "instrument": 2}
_MODEL_ID = re.compile(MODEL_ID_PATTERN)


@lru_cache(maxsize=_SERVED_MODEL_CACHE)
def served_chat_model(model_id: str) -> NodeTypeDefinition:
    """The definition of a chat model the catalog does not list, served by the team's
    provider named before the slash (vLLM, Ollama, a gateway…)."""
    provider = model_id.split("/", 1)[0]
    return _chat_model(
        model_id, model_id,
        f"A chat model served by the team's {provider!r} provider (OpenAI-compatible).",
        128_000)


class BuiltinCatalog(InMemoryNodeTypeCatalog):
    """The built-in types, plus any `provider/model` chat model outside `local`."""

    def get(self, kind: NodeKind | str, type_name: str) -> NodeTypeDefinition | None:
        found = super().get(kind, type_name)
        if found is not None or kind != NodeKind.INSTRUMENT:
            return found
        if _MODEL_ID.match(type_name) and not type_name.startswith(f"{LOCAL_PROVIDER}/"):
            return served_chat_model(type_name)
        return None


@lru_cache(maxsize=1)
def builtin_catalog() -> BuiltinCatalog:
    """The catalog every document is validated against (built once per process)."""
    return BuiltinCatalog(ALL_TYPES)


def catalog_entries(kind: str | None = None) -> list[dict[str, Any]]:
    """The API's node-type entries, controls first, then operators, then instruments."""
    entries = [definition.to_dict() for definition in ALL_TYPES
               if kind is None or str(definition.kind) == kind]
    return sorted(entries, key=lambda entry: (KIND_ORDER[entry["kind"]], entry["type"]))
