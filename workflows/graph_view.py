"""Server-side layout of a workflow graph for the web UI's inline SVG.

Pure Python (no Django). Nodes are placed in columns by execution level (the
plan's levels when the graph is valid; otherwise a longest-path layering that
tolerates cycles and dangling edges, so an invalid version still draws), and
ordered inside a column by the barycentre of their predecessors to reduce
crossings. The template only draws what this module computes.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from workflows.catalog import builtin_catalog

NODE_WIDTH = 180
NODE_HEIGHT = 52
COLUMN_GAP = 90
ROW_GAP = 26
PADDING = 30
MAX_LABEL = 22  # characters of a node's name that fit its box at 13px; the full name is in its tooltip
MAX_SUBTITLE = 26
BACK_EDGE_ROOM = 40  # space above the top row for back edges to loop through


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class NodeBox:
    id: str
    kind: str
    name: str
    subtitle: str
    x: float
    y: float
    classes: list[str] = field(default_factory=list)
    title: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return NODE_WIDTH

    @property
    def height(self) -> int:
        return NODE_HEIGHT

    @property
    def center_x(self) -> float:
        return self.x + NODE_WIDTH / 2

    @property
    def label_y(self) -> float:
        return self.y + 22

    @property
    def subtitle_y(self) -> float:
        return self.y + 40

    @property
    def hexagon(self) -> str:
        """The control-node outline: a hexagon with pointed left and right ends."""
        x, y, w, h, tip = self.x, self.y, NODE_WIDTH, NODE_HEIGHT, 16
        points = [(x, y + h / 2), (x + tip, y), (x + w - tip, y), (x + w, y + h / 2), (x + w - tip, y + h),
                  (x + tip, y + h)]
        return " ".join(f"{px:.0f},{py:.0f}" for px, py in points)

    @property
    def class_attribute(self) -> str:
        return " ".join(dict.fromkeys(["node", f"kind-{self.kind}", *self.classes]))


@dataclass
class EdgeLine:
    id: str
    kind: str
    path: str
    label: str
    label_x: float
    label_y: float
    classes: list[str] = field(default_factory=list)
    title: str = ""

    @property
    def class_attribute(self) -> str:
        return " ".join(dict.fromkeys(["edge", f"kind-{self.kind}", *self.classes]))


@dataclass
class GraphLayout:
    nodes: list[NodeBox]
    edges: list[EdgeLine]
    width: float
    height: float
    levels: int

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:.0f} {self.height:.0f}"


CONTROL_FIELDS = ("condition", "over", "body")
INPUT_FIELDS = ("data_type", "required", "default", "interactive", "prompt")


def _ports(node: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A node's input and output ports with their types: declared, or the catalog's."""
    kind = str(node.get("kind", ""))
    data_type = str(node.get("data_type") or "any")
    if kind == "input":
        return [], [{"name": "value", "type": data_type, "required": True}]
    if kind == "output":
        return [{"name": "value", "type": data_type, "required": True}], []
    type_name = str(node.get("operator") or node.get("model_id") or node.get("control") or "")
    definition = builtin_catalog().get(kind, type_name)

    def rows(declared: Any, known: tuple[Any, ...]) -> list[dict[str, Any]]:
        if kind != "control" and isinstance(declared, list) and declared:
            return [{"name": str(port.get("name")), "type": str(port.get("data_type") or "any"),
                     "required": port.get("required", True) is not False} for port in declared if isinstance(port, dict)]
        return [{"name": port.name, "type": str(port.data_type), "required": port.required} for port in known]

    return (rows(node.get("inputs"), definition.inputs if definition else ()),
            rows(node.get("outputs"), definition.outputs if definition else ()))


def node_details(node: dict[str, Any], edges: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """What a click on a node shows: its type, settings, ports with types and what they connect to."""
    node_id = str(node.get("id"))
    kind = str(node.get("kind", ""))
    if kind in {"operator", "instrument"}:
        settings = node.get("config") or {}
    else:
        fields = CONTROL_FIELDS if kind == "control" else INPUT_FIELDS if kind == "input" else ("data_type",)
        settings = {name: node[name] for name in fields if node.get(name) is not None}
    inputs, outputs = _ports(node)
    for port in inputs:
        port["links"] = [f"{names.get(str(edge.get('source')), edge.get('source'))} · {edge.get('source_port', 'value')}"
                         for edge in edges if edge.get("kind", "data") == "data" and str(edge.get("target")) == node_id
                         and edge.get("target_port", "value") == port["name"]]
    for port in outputs:
        port["links"] = [f"{names.get(str(edge.get('target')), edge.get('target'))} · {edge.get('target_port', 'value')}"
                         for edge in edges if edge.get("kind", "data") == "data" and str(edge.get("source")) == node_id
                         and edge.get("source_port", "value") == port["name"]]
    flows = [f"{edge.get('kind')} → {names.get(str(edge.get('target')), edge.get('target'))}"
             + (f" when {edge.get('condition')}" if edge.get("condition") else "")
             for edge in edges if edge.get("kind") in {"control", "conditional"} and str(edge.get("source")) == node_id]
    return {
        "name": str(node.get("name") or node_id), "kind": kind, "type": _subtitle(node),
        "description": str(node.get("description") or ""),
        "settings": json.dumps(settings, indent=2, ensure_ascii=False, sort_keys=True) if settings else "",
        "inputs": inputs, "outputs": outputs, "flows": flows,
    }


def _subtitle(node: dict[str, Any]) -> str:
    kind = node.get("kind", "")
    if kind == "operator":
        return str(node.get("operator") or "operator")
    if kind == "instrument":
        return str(node.get("model_id") or "model")
    if kind == "control":
        return str(node.get("control") or "control")
    if kind in {"input", "output"}:
        suffix = " · asks" if node.get("interactive") else ""
        return f"{kind} · {node.get('data_type', 'any')}{suffix}"
    return str(kind)


def back_edges(node_ids: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges that close a cycle: those a depth-first walk (in node order) finds pointing back
    at a node still on its stack. Without them the graph is acyclic."""
    known = set(node_ids)
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        if source in known and target in known:
            successors[source].append(target)
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    found: set[tuple[str, str]] = set()
    for root in node_ids:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            node_id, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    found.add((node_id, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(successors[child])))
                    break
            else:
                state[node_id] = 2
                stack.pop()
    return found


def compute_levels(node_ids: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Longest-path layering (Kahn) of the graph without its back edges, so a cycle is drawn as
    layers plus one edge pointing back, not squeezed into one column."""
    backward = back_edges(node_ids, edges)
    known = set(node_ids)
    successors: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(node_ids, 0)
    for source, target in edges:
        if source in known and target in known and source != target and (source, target) not in backward:
            successors[source].append(target)
            indegree[target] += 1
    level = dict.fromkeys(node_ids, 0)
    ready = [node_id for node_id in node_ids if indegree[node_id] == 0]
    while ready:
        node_id = ready.pop()
        for target in successors[node_id]:
            level[target] = max(level[target], level[node_id] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    columns: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for node_id in node_ids:
        columns[level[node_id]].append(node_id)
    return [column for column in columns if column]


def _order_columns(columns: list[list[str]], predecessors: dict[str, list[str]]) -> list[list[str]]:
    """Two barycentre sweeps: each node moves towards the mean row of its predecessors."""
    row: dict[str, float] = {}
    for column in columns:
        for index, node_id in enumerate(column):
            row[node_id] = index
    for _ in range(2):
        for column in columns[1:]:
            def weight(node_id: str) -> float:
                rows = [row[source] for source in predecessors.get(node_id, ()) if source in row]
                return sum(rows) / len(rows) if rows else row[node_id]
            column.sort(key=weight)
            for index, node_id in enumerate(column):
                row[node_id] = index
    return columns


def _edge_path(source: NodeBox, target: NodeBox) -> tuple[str, float, float]:
    start_x, start_y = source.x + NODE_WIDTH, source.y + NODE_HEIGHT / 2
    end_x, end_y = target.x, target.y + NODE_HEIGHT / 2
    if end_x > start_x:
        bend = max(30.0, (end_x - start_x) / 2)
        path = (f"M{start_x:.0f},{start_y:.0f} C{start_x + bend:.0f},{start_y:.0f} "
                f"{end_x - bend:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}")
        return path, (start_x + end_x) / 2, (start_y + end_y) / 2
    # A back edge (only in invalid graphs with cycles): out of the source's right side, over the
    # top of both nodes and into the target's left side, so it reads as a loop, not a forward edge.
    high = min(source.y, target.y) - ROW_GAP
    path = (f"M{start_x:.0f},{start_y:.0f} C{start_x + 70:.0f},{start_y:.0f} {start_x + 70:.0f},{high:.0f} "
            f"{start_x:.0f},{high:.0f} L{end_x:.0f},{high:.0f} C{end_x - 70:.0f},{high:.0f} "
            f"{end_x - 70:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}")
    return path, (start_x + end_x) / 2, high - 2


def _columns(workflow_document: dict[str, Any], levels: list[list[str]] | None) -> tuple[
        dict[str, dict[str, Any]], list[dict[str, Any]], list[list[str]]]:
    """The document's nodes by id, its edges, and the ordered columns they are drawn in."""
    nodes = [node for node in workflow_document.get("nodes") or [] if isinstance(node, dict) and "id" in node]
    by_id: dict[str, dict[str, Any]] = {}
    for node in nodes:
        by_id.setdefault(str(node["id"]), node)
    edges = [edge for edge in workflow_document.get("edges") or [] if isinstance(edge, dict)]
    pairs = [(str(edge.get("source")), str(edge.get("target"))) for edge in edges]
    node_ids = list(by_id)
    if levels is None or {node_id for level in levels for node_id in level} != set(node_ids):
        levels = compute_levels(node_ids, pairs)
    predecessors: dict[str, list[str]] = defaultdict(list)
    for source, target in pairs:
        predecessors[target].append(source)
    return by_id, edges, _order_columns([list(level) for level in levels], predecessors)


def layout(workflow_document: dict[str, Any], *, levels: list[list[str]] | None = None,
           node_classes: dict[str, list[str]] | None = None,
           edge_classes: dict[str, list[str]] | None = None) -> GraphLayout:
    """Place every node and route every edge whose endpoints exist."""
    by_id, edges, columns = _columns(workflow_document, levels)
    column_of = {node_id: index for index, column in enumerate(columns) for node_id in column}
    has_back_edges = any(column_of.get(str(edge.get("target")), 1) <= column_of.get(str(edge.get("source")), 0)
                         for edge in edges if str(edge.get("source")) in column_of)
    top_margin = BACK_EDGE_ROOM if has_back_edges else 0
    tallest = max((len(column) for column in columns), default=0)
    height = top_margin + 2 * PADDING + max(tallest, 1) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    width = 2 * PADDING + max(len(columns), 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
    node_classes = node_classes or {}
    edge_classes = edge_classes or {}
    names = {node_id: str(node.get("name") or node_id) for node_id, node in by_id.items()}
    boxes: dict[str, NodeBox] = {}
    for column_index, column in enumerate(columns):
        column_height = len(column) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        top = top_margin + (height - top_margin - column_height) / 2
        for row_index, node_id in enumerate(column):
            node = by_id[node_id]
            name = str(node.get("name") or node_id)
            boxes[node_id] = NodeBox(
                id=node_id, kind=str(node.get("kind", "unknown")), name=_short(name),
                subtitle=_short(_subtitle(node), MAX_SUBTITLE),
                x=PADDING + column_index * (NODE_WIDTH + COLUMN_GAP),
                y=top + row_index * (NODE_HEIGHT + ROW_GAP),
                classes=list(node_classes.get(node_id, ())),
                title=f"{name} ({node_id}) — {_subtitle(node)}",
                details=node_details(node, edges, names),
            )
    lines = []
    for edge in edges:
        source, target = boxes.get(str(edge.get("source"))), boxes.get(str(edge.get("target")))
        if source is None or target is None:
            continue
        edge_id = str(edge.get("id", ""))
        kind = str(edge.get("kind", "data"))
        path, label_x, label_y = _edge_path(source, target)
        is_back = target.x <= source.x
        label = ""
        if kind == "conditional":
            label = _short(str(edge.get("label") or edge.get("condition") or ""), MAX_SUBTITLE)
        if is_back:
            label = f"↺ back edge{': ' + label if label else ''}"
        title = f"{edge_id}: {source.id}"
        if kind == "data":
            title += f".{edge.get('source_port', 'value')} → {target.id}.{edge.get('target_port', 'value')}"
        else:
            title += f" → {target.id} ({kind}{': ' + str(edge.get('condition')) if edge.get('condition') else ''})"
        if is_back:
            title += " — closes a cycle"
        classes = [*edge_classes.get(edge_id, ()), *(["back-edge"] if is_back else [])]
        lines.append(EdgeLine(id=edge_id, kind=kind, path=path, label=label, label_x=label_x, label_y=label_y - 6,
                              classes=classes, title=title))
    return GraphLayout(nodes=list(boxes.values()), edges=lines, width=width, height=height, levels=len(columns))


def arrange(workflow_document: dict[str, Any], sizes: dict[str, tuple[float, float]], *,
            column_gap: float = 70, row_gap: float = 36, margin: float = 40) -> dict[str, dict[str, float]]:
    """Positions for the canvas editor's auto-layout: the same layered columns as `layout`, each
    node as large as the canvas draws it (`sizes`: id → (width, height); missing ones are 200 by 80)."""
    _, _, columns = _columns(workflow_document, None)
    default = (200.0, 80.0)
    column_heights = [sum(sizes.get(node_id, default)[1] for node_id in column) + row_gap * (len(column) - 1)
                      for column in columns]
    tallest = max(column_heights, default=0.0)
    positions: dict[str, dict[str, float]] = {}
    x = margin
    for column, column_height in zip(columns, column_heights, strict=True):
        y = margin + (tallest - column_height) / 2
        for node_id in column:
            height = sizes.get(node_id, default)[1]
            positions[node_id] = {"x": round(x), "y": round(y)}
            y += height + row_gap
        x += max(sizes.get(node_id, default)[0] for node_id in column) + column_gap
    return positions


def critical_classes(critical_path: list[str], edges: list[dict[str, Any]]) -> tuple[dict[str, list[str]],
                                                                                    dict[str, list[str]]]:
    """Classes marking the critical path's nodes and the edges between consecutive ones."""
    steps = set(itertools.pairwise(critical_path))
    node_classes = {node_id: ["critical"] for node_id in critical_path}
    edge_classes = {str(edge.get("id")): ["critical"] for edge in edges
                    if (edge.get("source"), edge.get("target")) in steps}
    return node_classes, edge_classes


def merge_classes(*maps: dict[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = defaultdict(list)
    for classes in maps:
        for key, values in classes.items():
            merged[key].extend(values)
    return dict(merged)


def error_classes(issues: list[dict[str, Any]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """`has-error`/`has-warning` on the nodes and edges validation issues point at."""
    node_classes: dict[str, list[str]] = defaultdict(list)
    edge_classes: dict[str, list[str]] = defaultdict(list)
    for issue in issues:
        marker = "has-warning" if issue.get("severity") == "warning" else "has-error"
        if issue.get("edge_id"):
            edge_classes[str(issue["edge_id"])].append(marker)
        elif issue.get("node_id"):
            node_classes[str(issue["node_id"])].append(marker)
        if issue.get("code") == "cycle_detected":
            for node_id in issue.get("path") or ():
                node_classes[str(node_id)].append(marker)
    return dict(node_classes), dict(edge_classes)


def union_for_diff(old: dict[str, Any], new: dict[str, Any], diff: dict[str, Any]) -> tuple[
        dict[str, Any], dict[str, list[str]], dict[str, list[str]]]:
    """One document holding both versions' nodes and edges, with diff classes for each."""
    removed_nodes = diff["nodes"]["removed"]
    removed_edges = diff["edges"]["removed"]
    document = {"nodes": [*(new.get("nodes") or []), *removed_nodes],
                "edges": [*(new.get("edges") or []), *removed_edges]}
    node_classes: dict[str, list[str]] = {}
    edge_classes: dict[str, list[str]] = {}
    for part, classes in (("nodes", node_classes), ("edges", edge_classes)):
        for item in diff[part]["added"]:
            classes[str(item["id"])] = ["diff-added"]
        for item in diff[part]["removed"]:
            classes[str(item["id"])] = ["diff-removed"]
        for item in diff[part]["changed"]:
            classes[str(item["id"])] = ["diff-changed"]
    return document, node_classes, edge_classes
