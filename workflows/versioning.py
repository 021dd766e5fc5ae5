"""Workflow versions: semantic version numbers, the bump rule, checksums and diffs.

Pure Python (no Django), used by the services and the API.

The bump rule (docs/workflows.md): a new document whose graph *shape* changed
— a node added or removed, a node's kind or type changed, an edge added,
removed or reconnected — bumps the minor version; any other change (config,
names, positions, conditions, metadata) bumps the patch version. A caller may
give a version instead, and must then give one greater than the current.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

# ASCII digits only, and nothing after the patch number (not even a newline): the pattern
# is published in the API schema and accepts exactly what `parse` reads.
SEMANTIC_VERSION_PATTERN = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$"
_SEMANTIC_VERSION = re.compile(SEMANTIC_VERSION_PATTERN)


@total_ordering
@dataclass(frozen=True, slots=True)
class SemanticVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: object) -> SemanticVersion:
        """Read ``"1.2.3"``; raise ValueError for anything else."""
        match = _SEMANTIC_VERSION.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{str(text)[:40]!r} is not a version of the form MAJOR.MINOR.PATCH")
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemanticVersion):
            return NotImplemented
        return self.as_tuple() < other.as_tuple()

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def next_minor(self) -> SemanticVersion:
        return SemanticVersion(self.major, self.minor + 1, 0)

    def next_patch(self) -> SemanticVersion:
        return SemanticVersion(self.major, self.minor, self.patch + 1)


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def checksum(value: Any) -> str:
    """SHA-256 of the canonical JSON, as 64 hex digits."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


# --------------------------------------------------------------------------- shape

def _node_type(node: dict[str, Any]) -> str:
    return str(node.get("operator") or node.get("model_id") or node.get("control") or "")


def graph_shape(workflow_document: dict[str, Any]) -> tuple[frozenset[Any], frozenset[Any]]:
    """What counts as structure: nodes by id, kind and type; edges by their connection."""
    nodes = frozenset((node.get("id"), node.get("kind"), _node_type(node))
                      for node in workflow_document.get("nodes", ()) if isinstance(node, dict))
    edges = frozenset((edge.get("id"), edge.get("kind"), edge.get("source"), edge.get("source_port"),
                       edge.get("target"), edge.get("target_port"))
                      for edge in workflow_document.get("edges", ()) if isinstance(edge, dict))
    return nodes, edges


def next_version(current: SemanticVersion, old_document: dict[str, Any],
                 new_document: dict[str, Any]) -> SemanticVersion:
    """The automatic bump: minor when the graph's shape changed, patch otherwise."""
    if graph_shape(old_document) != graph_shape(new_document):
        return current.next_minor()
    return current.next_patch()


# --------------------------------------------------------------------------- diff

def field_changes(old: Any, new: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Every changed leaf between two JSON values, by dotted path; lists compare whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[dict[str, Any]] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                changes.append({"field": path, "from": None, "to": new[key]})
            elif key not in new:
                changes.append({"field": path, "from": old[key], "to": None})
            else:
                changes.extend(field_changes(old[key], new[key], path))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [{"field": prefix, "from": old, "to": new}]


def _by_id(items: Any) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in items or () if isinstance(item, dict) and "id" in item}


def _diff_items(old_items: Any, new_items: Any) -> dict[str, list[Any]]:
    old, new = _by_id(old_items), _by_id(new_items)
    changed = []
    for item_id in new:
        if item_id in old:
            fields = field_changes(old[item_id], new[item_id])
            if fields:
                changed.append({"id": item_id, "fields": fields})
    return {
        "added": [new[item_id] for item_id in new if item_id not in old],
        "removed": [old[item_id] for item_id in old if item_id not in new],
        "changed": changed,
    }


# Workflow-level fields compared outside nodes and edges; id and version always differ
# between versions by design, so they are left out.
_WORKFLOW_FIELDS = ("name", "description", "metadata", "settings")


def diff_documents(old_workflow: dict[str, Any], new_workflow: dict[str, Any]) -> dict[str, Any]:
    """Nodes and edges added, removed and changed (with each changed field), plus
    changes of the workflow's own fields. Both arguments are inner workflow objects."""
    workflow_changes: list[dict[str, Any]] = []
    for name in _WORKFLOW_FIELDS:
        workflow_changes.extend(field_changes(old_workflow.get(name), new_workflow.get(name), name))
    return {
        "nodes": _diff_items(old_workflow.get("nodes"), new_workflow.get("nodes")),
        "edges": _diff_items(old_workflow.get("edges"), new_workflow.get("edges")),
        "workflow": workflow_changes,
    }


def is_empty_diff(diff: dict[str, Any]) -> bool:
    return not diff["workflow"] and all(
        not diff[part][group] for part in ("nodes", "edges") for group in ("added", "removed", "changed")
    )
