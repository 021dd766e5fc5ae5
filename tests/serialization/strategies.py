"""Hypothesis strategies for workflow documents shaped as workflow-format.md says.

Every document these produce is valid against ``workflow.schema.json``; the
graph-level rules (edges between existing nodes, unique ids) hold too, so the
documents are realistic, not just well-typed.
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import strategies as st

from workflows.serialization.limits import MAX_INTEGER, MIN_INTEGER
from workflows.serialization.schema import (
    BASE_DATA_TYPES,
    CONTROL_TYPES,
    ERROR_POLICIES,
    TRANSFORM_TYPES,
)

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
# Any Unicode scalar value (Hypothesis leaves out surrogates, which UTF-8 cannot carry).
any_text = st.text(max_size=20)
unicode_heavy_text = st.text(
    alphabet=st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), min_size=1, max_size=20
)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
integers = st.integers(min_value=MIN_INTEGER, max_value=MAX_INTEGER)
semantic_versions = st.tuples(*[st.integers(0, 30)] * 3).map(
    lambda parts: ".".join(map(str, parts))
)

json_scalars = st.none() | st.booleans() | integers | finite_floats | any_text
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(any_text, json_values, max_size=4)

timestamps = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).map(lambda moment: moment.isoformat(timespec="microseconds") + "Z")
data_types = st.sampled_from(BASE_DATA_TYPES) | st.sampled_from(BASE_DATA_TYPES).map(
    lambda base: f"array<{base}>"
)


def _optional(**fields: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    return fields


def _record(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


def ports(names: st.SearchStrategy[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    port = _record(
        {"name": names, "data_type": data_types},
        _optional(required=st.booleans(), default=json_values, description=any_text),
    )
    return st.lists(port, max_size=3, unique_by=lambda item: item["name"])


retries = _record(
    {},
    _optional(
        max_attempts=st.integers(1, 10),
        delay_ms=st.integers(0, 60_000),
        backoff_multiplier=st.floats(1, 10),
    ),
)
positions = st.fixed_dictionaries({"x": finite_floats, "y": finite_floats})
node_metadata = _record(
    {},
    _optional(
        documentation=any_text,
        examples=st.lists(json_values, max_size=2),
        warnings=st.lists(any_text, max_size=2),
        custom=json_objects,
    ),
)


def _node(
    kind: str, node_id: str, text: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    common_optional = _optional(
        description=text, position=positions, enabled=st.booleans(), metadata=node_metadata
    )
    executable = _optional(
        config=json_objects,
        inputs=ports(identifiers),
        outputs=ports(identifiers),
        retry=st.none() | retries,
        timeout_s=st.none() | st.integers(1, 86_400) | st.floats(0.5, 86_400),
    )
    base = {"id": st.just(node_id), "kind": st.just(kind), "name": text}
    if kind == "input":
        return _record(
            {**base, "data_type": data_types},
            {
                **common_optional,
                "required": st.booleans(),
                "default": json_values,
                "interactive": st.booleans(),
                "prompt": text,
            },
        )
    if kind == "output":
        return _record({**base, "data_type": data_types}, common_optional)
    if kind == "instrument":
        return _record(
            {**base, "model_id": identifiers},
            {**common_optional, "model_version": any_text, **executable},
        )
    if kind == "operator":
        return _record({**base, "operator": identifiers}, {**common_optional, **executable})
    return _record(
        {**base, "control": st.sampled_from(CONTROL_TYPES)},
        {
            **common_optional,
            "condition": st.none() | any_text,
            "over": st.none() | any_text,
            # A reference to the workflow a loop runs for each item.
            "body": st.none() | identifiers,
        },
    )


@st.composite
def workflow_documents(
    draw: st.DrawFn, *, max_nodes: int = 6, unicode_heavy: bool = False
) -> dict[str, Any]:
    """A workflow document (the envelope's ``workflow``), possibly with no nodes at all."""
    text = unicode_heavy_text if unicode_heavy else any_text
    id_strategy = (unicode_heavy_text | identifiers) if unicode_heavy else identifiers
    node_ids = draw(st.lists(id_strategy, max_size=max_nodes, unique=True))
    nodes = [
        draw(
            st.sampled_from(["input", "output", "instrument", "operator", "control"]).flatmap(
                lambda kind, node_id=node_id: _node(kind, node_id, text)
            )
        )
        for node_id in node_ids
    ]
    edges: list[dict[str, Any]] = []
    if node_ids:
        edge_count = draw(st.integers(0, 2 * len(node_ids)))
        for number in range(edge_count):
            source, target = draw(st.sampled_from(node_ids)), draw(st.sampled_from(node_ids))
            edge_kind = draw(st.sampled_from(["data", "control", "conditional"]))
            edge: dict[str, Any] = {
                "id": f"e{number}",
                "kind": edge_kind,
                "source": source,
                "target": target,
            }
            if edge_kind == "data":
                edge["source_port"] = draw(identifiers)
                edge["target_port"] = draw(identifiers)
                if draw(st.booleans()):
                    edge["transform"] = draw(
                        st.none()
                        | _record(
                            {"type": st.sampled_from(TRANSFORM_TYPES)},
                            _optional(config=json_objects),
                        )
                    )
            elif edge_kind == "control":
                if draw(st.booleans()):
                    edge["priority"] = draw(st.integers(-5, 5))
            else:
                edge["condition"] = draw(text)
                if draw(st.booleans()):
                    edge["label"] = draw(st.none() | text)
            edges.append(edge)
    document = draw(
        _record(
            {
                "id": st.uuids().map(str),
                "name": text,
                "nodes": st.just(nodes),
                "edges": st.just(edges),
            },
            _optional(
                description=text,
                version=semantic_versions,
                metadata=_record(
                    {},
                    _optional(
                        author=text,
                        tags=st.lists(text, max_size=3),
                        category=text,
                        icon=identifiers,
                        color=st.just("#3b82f6"),
                        custom=json_objects,
                    ),
                ),
                created_at=timestamps,
                updated_at=timestamps,
                settings=_record(
                    {},
                    _optional(
                        error_policy=st.sampled_from(ERROR_POLICIES),
                        max_parallel=st.none() | st.integers(1, 64),
                        timeout_s=st.none() | st.integers(1, 86_400),
                    ),
                ),
            ),
        )
    )
    return document


def envelopes(**options: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Current-version envelopes around ``workflow_documents(**options)``."""
    return workflow_documents(**options).map(
        lambda document: {
            "schema_version": "1.0.0",
            "created_with": "symphony 0.1.0",
            "workflow": document,
        }
    )
