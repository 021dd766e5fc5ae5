"""Plain-text views for people: a workflow document as a tree, aligned tables, executions.

Deterministic text (no terminal width, no colour) so scripts and tests can read it; `--json`
gives the API's own answers instead."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

NODE_KINDS = ("input", "instrument", "operator", "control", "output")
EDGE_KINDS = ("data", "control", "conditional")
INDENT = "  "


def text(value: Any) -> str:
    """Strings as they are; everything else in its JSON form."""
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def workflow_of(document: dict[str, Any]) -> dict[str, Any]:
    """The workflow inside an envelope (`{schema_version, workflow}`), or a bare workflow."""
    inner = document.get("workflow")
    if "schema_version" in document and isinstance(inner, dict):
        return inner
    return document


def _kinds(items: list[Any], order: tuple[str, ...]) -> list[str]:
    counts = Counter(_kind(item) for item in items)
    return [kind for kind in order if kind in counts] + sorted(kind for kind in counts if kind not in order)


def _items(workflow: dict[str, Any], key: str) -> list[Any]:
    value = workflow.get(key)
    return value if isinstance(value, list) else []


def _kind(item: Any) -> str:
    return str(item.get("kind", "?")) if isinstance(item, dict) else "?"


def _value_lines(label: str, value: Any, level: int) -> list[str]:
    if isinstance(value, dict) and value:
        lines = [INDENT * level + label]
        for key in sorted(value, key=str):
            lines += _value_lines(f"{key}:", value[key], level + 1)
        return lines
    return [INDENT * level + f"{label} {text(value)}"]


def _port(port: Any, direction: str) -> str:
    if not isinstance(port, dict):
        return f"{direction} {text(port)}"
    notes = (["required"] if port.get("required") is True else []) + (
        [f"default {text(port['default'])}"] if port.get("default") is not None else [])
    line = f"{direction} {port.get('name', '?')}: {port.get('data_type', 'any')}"
    return line + (f" ({', '.join(notes)})" if notes else "")


def _node_lines(node: Any, level: int) -> list[str]:
    pad = INDENT * level
    if not isinstance(node, dict):
        return [pad + f"not a node: {text(node)}"]
    head = f"{node.get('id', '?')}  {node.get('name') or ''}".rstrip()
    kind = node.get("kind")
    if kind == "instrument":
        head += f"  model {node.get('model_id', '?')}"
    elif kind == "operator":
        head += f"  operator {node.get('operator', '?')}"
    elif kind == "control":
        head += f"  {node.get('control', '?')}"
    elif kind in ("input", "output") and node.get("data_type"):
        head += f"  {node['data_type']}"
    if node.get("enabled") is False:
        head += "  (disabled)"
    lines = [pad + head]
    inner = INDENT * (level + 1)
    if node.get("description"):
        lines.append(inner + str(node["description"]))
    if kind == "input":
        if node.get("required") is False:
            lines.append(inner + "optional")
        if node.get("default") is not None:
            lines.append(inner + f"default: {text(node['default'])}")
        if node.get("interactive"):
            prompt = node.get("prompt")
            lines.append(inner + "interactive" + (f", prompt: {text(prompt)}" if prompt else ""))
    for key in ("condition", "over", "body"):
        if node.get(key) is not None:
            lines.append(inner + f"{key}: {text(node[key])}")
    lines += [inner + _port(port, "in ") for port in node.get("inputs") or ()]
    lines += [inner + _port(port, "out") for port in node.get("outputs") or ()]
    if node.get("config"):
        lines += _value_lines("config", node["config"], level + 1)
    retry = node.get("retry")
    if isinstance(retry, dict):
        lines.append(inner + f"retry: {plural(int(retry.get('max_attempts', 1)), 'attempt')}, "
                             f"{retry.get('delay_ms', 0)} ms delay, backoff x{retry.get('backoff_multiplier', 1)}")
    if node.get("timeout_s") is not None:
        lines.append(inner + f"timeout: {text(node['timeout_s'])} s")
    return lines


def _edge_line(edge: Any, level: int) -> str:
    pad = INDENT * level
    if not isinstance(edge, dict):
        return pad + f"not an edge: {text(edge)}"
    source, target = str(edge.get("source", "?")), str(edge.get("target", "?"))
    if edge.get("source_port"):
        source += f".{edge['source_port']}"
    if edge.get("target_port"):
        target += f".{edge['target_port']}"
    line = f"{edge.get('id', '?')}  {source} → {target}"
    if isinstance(edge.get("transform"), dict):
        line += f"  [{edge['transform'].get('type', '?')}]"
    if edge.get("condition") is not None:
        line += f"  when {text(edge['condition'])}"
    if edge.get("label"):
        line += f"  “{text(edge['label'])}”"
    return pad + line


def workflow_tree(document: dict[str, Any]) -> list[str]:
    """Header, settings, nodes by kind (ports, config), edges by kind."""
    workflow = workflow_of(document)
    title = str(workflow.get("name") or "(unnamed workflow)")
    if workflow.get("version"):
        title += f"  v{workflow['version']}"
    lines = [title]
    if workflow.get("description"):
        lines.append(INDENT + str(workflow["description"]))
    if "schema_version" in document:
        lines.append(INDENT + f"schema {document['schema_version']}")
    settings = workflow.get("settings")
    if isinstance(settings, dict) and any(value is not None for value in settings.values()):
        lines.append("Settings")
        for key in sorted(settings):
            if settings[key] is not None:
                lines += _value_lines(f"{key}:", settings[key], 1)
    nodes, edges = _items(workflow, "nodes"), _items(workflow, "edges")
    lines.append(f"Nodes ({len(nodes)})")
    for kind in _kinds(nodes, NODE_KINDS):
        members = [node for node in nodes if _kind(node) == kind]
        lines.append(INDENT + f"{kind} ({len(members)})")
        for node in members:
            lines += _node_lines(node, 2)
    lines.append(f"Edges ({len(edges)})")
    for kind in _kinds(edges, EDGE_KINDS):
        members = [edge for edge in edges if _kind(edge) == kind]
        lines.append(INDENT + f"{kind} ({len(members)})")
        lines += [_edge_line(edge, 2) for edge in members]
    return lines


def summary(document: dict[str, Any]) -> str:
    """`Name v1.0.0 — 7 nodes (1 input, 1 instrument, …), 7 edges`."""
    workflow = workflow_of(document)
    nodes, edges = _items(workflow, "nodes"), _items(workflow, "edges")
    counts = Counter(_kind(node) for node in nodes)
    title = str(workflow.get("name") or "(unnamed workflow)")
    if workflow.get("version"):
        title += f" v{workflow['version']}"
    breakdown = ", ".join(f"{counts[kind]} {kind}" for kind in _kinds(nodes, NODE_KINDS))
    return f"{title} — {plural(len(nodes), 'node')}" + (f" ({breakdown})" if nodes else "") + \
        f", {plural(len(edges), 'edge')}"


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """Columns padded to their widest cell; the last column is not padded."""
    cells = [[str(cell) if cell is not None else "-" for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    return ["  ".join(cell.ljust(widths[index]) if index < len(headers) - 1 else cell
                      for index, cell in enumerate(row)).rstrip() for row in cells]


def issue_line(issue: dict[str, Any]) -> str:
    """One validation issue: `code: message (node x, edge y, at a.b)`."""
    where = []
    if issue.get("node_id"):
        where.append(f"node {issue['node_id']}")
    if issue.get("edge_id"):
        where.append(f"edge {issue['edge_id']}")
    if issue.get("port"):
        where.append(f"port {issue['port']}")
    if issue.get("path"):
        where.append("at " + ".".join(str(part) for part in issue["path"]))
    return f"{issue.get('code', '?')}: {issue.get('message', '')}" + (f" ({', '.join(where)})" if where else "")


def percentage(progress: dict[str, Any]) -> str:
    return f"{float(progress.get('percentage') or 0):.0f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0, round(seconds))
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{rest:02d}s"
    return f"{rest}s"


def execution_lines(execution: dict[str, Any]) -> list[str]:
    """An execution: what, state, progress with its estimate, inputs, outputs, error, node runs,
    history and the commands available now."""
    progress = execution.get("progress") or {}
    lines = [
        f"execution {execution['id']}",
        f"workflow   {execution.get('workflow_name')} v{execution.get('version')} ({execution.get('workflow')})",
        f"state      {execution['state']}" + (f" ({execution['state_reason']})" if execution.get("state_reason") else ""),
        f"progress   {progress.get('completed', 0) + progress.get('failed', 0) + progress.get('skipped', 0)}"
        f"/{progress.get('total', 0)} nodes settled, {percentage(progress)}"
        + (f", about {duration(progress['estimated_remaining_s'])} left"
           if progress.get("estimated_remaining_s") is not None and execution["state"] in ("running", "pending")
           else ""),
        f"started    {execution.get('started_at') or '-'} by {execution.get('started_by') or execution.get('trigger')}",
        f"finished   {execution.get('finished_at') or '-'}",
    ]
    if execution.get("rerun_of"):
        lines.append(f"rerun of   {execution['rerun_of']}")
    if execution.get("inputs"):
        lines.append(f"inputs     {text(execution['inputs'])}")
    if execution.get("outputs"):
        lines.append(f"outputs    {text(execution['outputs'])}")
    if execution.get("error"):
        error = execution["error"]
        lines.append(f"error      {error.get('code')}: {error.get('message')}" if isinstance(error, dict)
                     else f"error      {text(error)}")
    runs = execution.get("node_runs") or []
    if runs:
        lines += ["", "Nodes"]
        lines += [INDENT + line for line in table(
            ["node", "kind", "state", "attempt", "ms", "note"],
            [[run["node_id"], run["node_kind"], run["state"], run["attempt"],
              f"{run['duration_ms']:.0f}" if run.get("duration_ms") is not None else None,
              _run_note(run)] for run in runs])]
    history = execution.get("history") or []
    if history:
        lines += ["", "History"]
        lines += [INDENT + f"{row['at']}  {row.get('from_state') or '-'} → {row['to_state']}  {row.get('actor') or ''}"
                  + (f"  ({row['reason']})" if row.get("reason") else "") for row in history]
    if "available_commands" in execution:
        lines += ["", "Commands now: " + (", ".join(execution["available_commands"]) or "none")]
    return lines


def _run_note(run: dict[str, Any]) -> str:
    if run.get("error"):
        error = run["error"]
        return f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else text(error)
    if run.get("skip_reason"):
        return str(run["skip_reason"])
    if run.get("reused_from"):
        return f"reused from {run['reused_from']}"
    return str(run.get("message") or "")
