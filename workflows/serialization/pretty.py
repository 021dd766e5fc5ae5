"""A readable view of a workflow for people: ``pretty``, ``summary`` and ``show``.

The view is a tree of lines (header, settings, nodes by kind with their ports
and config, edges by kind, optional metadata). ``depth`` cuts the tree at a
level and marks cut branches with an ellipsis. Colours are ANSI escapes,
on when asked or when standard output is a terminal (and ``NO_COLOR`` is not
set). The printer never fails on odd shapes: it shows what is there.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from workflows.serialization.container import decode, detect_format
from workflows.serialization.envelope import is_envelope, workflow_of

NODE_KIND_ORDER = ("input", "instrument", "operator", "control", "output")
EDGE_KIND_ORDER = ("data", "control", "conditional")

_STYLES = {
    "title": "\033[1m",
    "section": "\033[1;34m",
    "kind": "\033[36m",
    "id": "\033[33m",
    "type": "\033[32m",
    "muted": "\033[2m",
    "warning": "\033[31m",
}
_RESET = "\033[0m"


@dataclass
class _Line:
    text: str
    children: list[_Line] = field(default_factory=list)

    def add(self, text: str) -> _Line:
        child = _Line(text)
        self.children.append(child)
        return child


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.enabled else text


def _colour_wanted(color: bool | None) -> bool:
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _text(value: Any) -> str:
    """Strings as they are; everything else in its JSON form."""
    if isinstance(value, str):
        return value if value else '""'
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)


def _add_value(parent: _Line, label: str, value: Any) -> None:
    """A nested value as ``label: scalar`` or a ``label`` line with children."""
    if isinstance(value, dict) and value:
        line = parent.add(label)
        for key in sorted(value, key=str):
            _add_value(line, f"{key}:", value[key])
    elif isinstance(value, list) and value and any(isinstance(item, dict | list) for item in value):
        line = parent.add(label)
        for item in value:
            _add_value(line, "-", item)
    else:
        parent.add(f"{label} {_text(value)}")


def _sorted_kinds(counter: Counter[str], order: tuple[str, ...]) -> list[str]:
    known = [kind for kind in order if kind in counter]
    return known + sorted(kind for kind in counter if kind not in order)


def _list_field(workflow: dict[str, Any], key: str) -> list[Any]:
    value = workflow.get(key)
    return value if isinstance(value, list) else []


def _kind_of(item: Any) -> str:
    return str(item.get("kind", "?")) if isinstance(item, dict) else "?"


def _count(number: Any, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _port_line(port: Any, direction: str, paint: _Painter) -> str:
    if not isinstance(port, dict):
        return f"{direction} {_text(port)}"
    text = (
        f"{direction} {port.get('name', '?')}: {paint('type', str(port.get('data_type', 'any')))}"
    )
    notes = []
    if port.get("required") is True:
        notes.append("required")
    if port.get("default") is not None:
        notes.append(f"default {_text(port['default'])}")
    return text + (f" ({', '.join(notes)})" if notes else "")


def _node_lines(parent: _Line, node: Any, paint: _Painter, show_metadata: bool) -> None:
    if not isinstance(node, dict):
        parent.add(paint("warning", f"not a node: {_text(node)}"))
        return
    head = f"{paint('id', str(node.get('id', '?')))}  {_text(node.get('name', ''))!s}"
    kind = node.get("kind")
    if kind == "instrument":
        model = str(node.get("model_id", "?"))
        if node.get("model_version"):
            model += f"@{node['model_version']}"
        head += f"  model {model}"
    elif kind == "operator":
        head += f"  operator {node.get('operator', '?')}"
    elif kind == "control":
        head += f"  {node.get('control', '?')}"
    elif kind in {"input", "output"} and "data_type" in node:
        head += f"  {paint('type', str(node['data_type']))}"
    if node.get("enabled") is False:
        head += "  " + paint("warning", "(disabled)")
    line = parent.add(head)
    if node.get("description"):
        line.add(paint("muted", str(node["description"])))
    if kind == "input":
        # Only what differs from the defaults (required, no default, not interactive).
        if node.get("required") is False:
            line.add("optional")
        if node.get("default") is not None:
            line.add(f"default: {_text(node['default'])}")
        prompt = node.get("prompt")
        if node.get("interactive"):
            line.add("interactive" + (f", prompt: {_text(prompt)}" if prompt else ""))
        elif prompt:
            line.add(f"prompt: {_text(prompt)}")
    # The graph core writes absent optional fields as null: show only what is set.
    for key in ("condition", "over", "body"):
        if node.get(key) is not None:
            line.add(f"{key}: {_text(node[key])}")
    for port in node.get("inputs") or ():
        line.add(_port_line(port, "in ", paint))
    for port in node.get("outputs") or ():
        line.add(_port_line(port, "out", paint))
    if node.get("config"):
        _add_value(line, "config", node["config"])
    retry = node.get("retry")
    if isinstance(retry, dict):
        line.add(
            f"retry: {_count(retry.get('max_attempts', '?'), 'attempt')}, "
            f"{retry.get('delay_ms', 0)} ms delay, "
            f"backoff x{retry.get('backoff_multiplier', 1)}"
        )
    if node.get("timeout_s") is not None:
        line.add(f"timeout: {_text(node['timeout_s'])} s")
    if "position" in node and show_metadata:
        position = node["position"]
        if isinstance(position, dict):
            line.add(paint("muted", f"position: ({position.get('x')}, {position.get('y')})"))
    if show_metadata and node.get("metadata"):
        _add_value(line, "metadata", node["metadata"])


def _edge_line(parent: _Line, edge: Any, paint: _Painter) -> None:
    if not isinstance(edge, dict):
        parent.add(paint("warning", f"not an edge: {_text(edge)}"))
        return
    source = paint("id", str(edge.get("source", "?")))
    target = paint("id", str(edge.get("target", "?")))
    if "source_port" in edge:
        source += f".{edge['source_port']}"
    if "target_port" in edge:
        target += f".{edge['target_port']}"
    text = f"{edge.get('id', '?')}  {source} → {target}"
    transform = edge.get("transform")
    if isinstance(transform, dict):
        config = transform.get("config") or {}
        detail = config.get("expr") if isinstance(config, dict) and "expr" in config else None
        text += f"  [{transform.get('type', '?')}{': ' + _text(detail) if detail else ''}]"
    if edge.get("condition") is not None:
        text += f"  when {_text(edge['condition'])}"
    if edge.get("label") is not None:
        text += f"  “{_text(edge['label'])}”"
    if edge.get("priority") is not None:
        text += f"  (priority {_text(edge['priority'])})"
    parent.add(text)


def _build_tree(document: dict[str, Any], paint: _Painter, show_metadata: bool) -> list[_Line]:
    workflow = workflow_of(document)
    header = _Line(
        paint("title", str(workflow.get("name", "(unnamed workflow)")))
        + (f"  v{workflow['version']}" if "version" in workflow else "")
        + (f"  ({workflow['id']})" if "id" in workflow else "")
    )
    if workflow.get("description"):
        header.add(paint("muted", str(workflow["description"])))
    if is_envelope(document):
        origin = f"schema {document.get('schema_version')}"
        if document.get("created_with"):
            origin += f" · created with {document['created_with']}"
        header.add(paint("muted", origin))
    roots = [header]

    settings = workflow.get("settings")
    if isinstance(settings, dict) and settings:
        section = _Line(paint("section", "Settings"))
        for key in sorted(settings):
            if settings[key] is not None:
                _add_value(section, f"{key}:", settings[key])
        roots.append(section)

    nodes = _list_field(workflow, "nodes")
    node_kinds = Counter(_kind_of(node) for node in nodes)
    section = _Line(paint("section", f"Nodes ({len(nodes)})"))
    for kind in _sorted_kinds(node_kinds, NODE_KIND_ORDER):
        group = section.add(paint("kind", f"{kind} ({node_kinds[kind]})"))
        for node in nodes:
            if _kind_of(node) == kind:
                _node_lines(group, node, paint, show_metadata)
    roots.append(section)

    edges = _list_field(workflow, "edges")
    edge_kinds = Counter(_kind_of(edge) for edge in edges)
    section = _Line(paint("section", f"Edges ({len(edges)})"))
    for kind in _sorted_kinds(edge_kinds, EDGE_KIND_ORDER):
        group = section.add(paint("kind", f"{kind} ({edge_kinds[kind]})"))
        for edge in edges:
            if _kind_of(edge) == kind:
                _edge_line(group, edge, paint)
    roots.append(section)

    metadata = workflow.get("metadata")
    if show_metadata and isinstance(metadata, dict) and metadata:
        section = _Line(paint("section", "Metadata"))
        for key in sorted(metadata):
            value = metadata[key]
            if key == "tags" and isinstance(value, list):
                section.add(f"tags: {', '.join(_text(tag) for tag in value)}")
            else:
                _add_value(section, f"{key}:", value)
        roots.append(section)
    return roots


def _render(line: _Line, level: int, indent: int, depth: int | None, output: list[str]) -> None:
    cut = depth is not None and level >= depth and bool(line.children)
    output.append(" " * (indent * level) + line.text + (" …" if cut else ""))
    if not cut:
        for child in line.children:
            _render(child, level + 1, indent, depth, output)


def pretty(
    doc: dict[str, Any],
    *,
    indent: int = 2,
    depth: int | None = None,
    show_metadata: bool = False,
    color: bool | None = None,
) -> str:
    """A multi-line view of an envelope or a bare workflow document.

    ``depth`` is the deepest level shown (0: section titles only; 1: kind
    groups; 2: nodes and edges; 3: their ports and config; None: all).
    """
    if indent < 0:
        raise ValueError("indent must be zero or more")
    paint = _Painter(_colour_wanted(color))
    output: list[str] = []
    for root in _build_tree(doc, paint, show_metadata):
        _render(root, 0, indent, depth, output)
    return "\n".join(output) + "\n"


def summary(doc: dict[str, Any]) -> str:
    """One line: ``Name v1.2.0 — 7 nodes (2 input, 1 instrument, …), 8 edges``."""
    workflow = workflow_of(doc)
    nodes = _list_field(workflow, "nodes")
    edges = _list_field(workflow, "edges")
    node_kinds = Counter(_kind_of(node) for node in nodes)
    title = str(workflow.get("name", "(unnamed workflow)"))
    if "version" in workflow:
        title += f" v{workflow['version']}"
    text = f"{title} — {_count(len(nodes), 'node')}"
    if nodes:
        breakdown = ", ".join(
            f"{node_kinds[kind]} {kind}" for kind in _sorted_kinds(node_kinds, NODE_KIND_ORDER)
        )
        text += f" ({breakdown})"
    return f"{text}, {_count(len(edges), 'edge')}"


def show(source_bytes: bytes | str, *, color: bool | None = None, **options: Any) -> str:
    """The pretty view of serialized data in any format (for the ``show`` command)."""
    detected = detect_format(source_bytes)
    document = decode(source_bytes)
    paint = _Painter(_colour_wanted(color))
    line = paint("muted", f"{summary(document)}\nformat: {detected}, {len(source_bytes):,} bytes")
    return line + "\n\n" + pretty(document, color=color, **options)
