"""Server-side layout of a workflow graph for the web UI's inline SVG.

Pure Python (no Django). Nodes are placed in columns by execution level (the
plan's levels when the graph is valid; otherwise a longest-path layering that
tolerates cycles and dangling edges, so an invalid version still draws), and
ordered inside a column by the barycentre of their predecessors to reduce
crossings. The template only draws what this module computes.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

NODE_WIDTH = 180
NODE_HEIGHT = 52
COLUMN_GAP = 90
ROW_GAP = 26
PADDING = 30
MAX_LABEL = 24


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


def compute_levels(node_ids: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Longest-path layering (Kahn); nodes on a cycle go in one extra column at the end."""
    known = set(node_ids)
    successors: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(node_ids, 0)
    for source, target in edges:
        if source in known and target in known and source != target:
            successors[source].append(target)
            indegree[target] += 1
    level = dict.fromkeys(node_ids, 0)
    ready = [node_id for node_id in node_ids if indegree[node_id] == 0]
    placed: list[str] = []
    while ready:
        node_id = ready.pop()
        placed.append(node_id)
        for target in successors[node_id]:
            level[target] = max(level[target], level[node_id] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    stuck = [node_id for node_id in node_ids if node_id not in set(placed)]
    depth = max((level[node_id] for node_id in placed), default=-1) + 1
    columns: list[list[str]] = [[] for _ in range(depth + (1 if stuck else 0))]
    for node_id in node_ids:
        columns[depth if node_id in stuck else level[node_id]].append(node_id)
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
    # A backward edge (only in invalid graphs with cycles): loop around below both nodes.
    low = max(start_y, end_y) + NODE_HEIGHT
    path = (f"M{start_x:.0f},{start_y:.0f} C{start_x + 60:.0f},{low:.0f} "
            f"{end_x - 60:.0f},{low:.0f} {end_x:.0f},{end_y:.0f}")
    return path, (start_x + end_x) / 2, low - 10


def layout(workflow_document: dict[str, Any], *, levels: list[list[str]] | None = None,
           node_classes: dict[str, list[str]] | None = None,
           edge_classes: dict[str, list[str]] | None = None) -> GraphLayout:
    """Place every node and route every edge whose endpoints exist."""
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
    columns = _order_columns([list(level) for level in levels], predecessors)
    tallest = max((len(column) for column in columns), default=0)
    height = 2 * PADDING + max(tallest, 1) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    width = 2 * PADDING + max(len(columns), 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
    node_classes = node_classes or {}
    edge_classes = edge_classes or {}
    boxes: dict[str, NodeBox] = {}
    for column_index, column in enumerate(columns):
        column_height = len(column) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        top = (height - column_height) / 2
        for row_index, node_id in enumerate(column):
            node = by_id[node_id]
            name = str(node.get("name") or node_id)
            boxes[node_id] = NodeBox(
                id=node_id, kind=str(node.get("kind", "unknown")), name=_short(name),
                subtitle=_short(_subtitle(node), 28),
                x=PADDING + column_index * (NODE_WIDTH + COLUMN_GAP),
                y=top + row_index * (NODE_HEIGHT + ROW_GAP),
                classes=list(node_classes.get(node_id, ())),
                title=f"{name} ({node_id}) — {_subtitle(node)}",
            )
    lines = []
    for edge in edges:
        source, target = boxes.get(str(edge.get("source"))), boxes.get(str(edge.get("target")))
        if source is None or target is None:
            continue
        edge_id = str(edge.get("id", ""))
        kind = str(edge.get("kind", "data"))
        path, label_x, label_y = _edge_path(source, target)
        label = ""
        if kind == "conditional":
            label = _short(str(edge.get("label") or edge.get("condition") or ""), 28)
        title = f"{edge_id}: {source.id}"
        if kind == "data":
            title += f".{edge.get('source_port', 'value')} → {target.id}.{edge.get('target_port', 'value')}"
        else:
            title += f" → {target.id} ({kind}{': ' + str(edge.get('condition')) if edge.get('condition') else ''})"
        lines.append(EdgeLine(id=edge_id, kind=kind, path=path, label=label, label_x=label_x, label_y=label_y - 6,
                              classes=list(edge_classes.get(edge_id, ())), title=title))
    return GraphLayout(nodes=list(boxes.values()), edges=lines, width=width, height=height, levels=len(columns))


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
