"""A page built to the live modules' documented contract (docs/executions.md, "Live pages").

The execution page itself belongs to the execution-pages work; until it is on this branch,
the browser tests serve this stand-in at a URL of the real server's origin (so the real
session cookie, static files and WebSocket are used) and drive the real modules with it.
"""

from __future__ import annotations

from html import escape
from typing import Any

from executions.models import Execution, NodeRun


def execution_page(execution: Execution) -> str:
    execution.refresh_from_db()
    runs = list(NodeRun.objects.filter(execution=execution).order_by("id"))
    graph = "".join(
        f'<g data-node-id="{escape(run.node_id)}" class="state-{run.state}" data-state="{run.state}">'
        f'<rect x="{10 + index * 130}" y="10" width="110" height="40" rx="6"/>'
        f'<text x="{65 + index * 130}" y="35" text-anchor="middle">{escape(run.node_id)}</text></g>'
        for index, run in enumerate(runs))
    rows = "".join(
        f'<tr data-node-run="{escape(run.node_id)}" data-state="{run.state}"><td>{escape(run.node_id)}</td>'
        f'<td data-field="state">{run.state}</td><td data-field="attempt">{run.attempt}</td>'
        f'<td data-field="duration_ms"></td><td data-field="progress"></td><td data-field="message"></td></tr>'
        for run in runs)
    settled = sum(run.state in ("completed", "failed", "skipped") for run in runs)
    percentage = round(100 * settled / len(runs)) if runs else 0
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Execution</title>
<link rel="stylesheet" href="/static/symphony/app.css"><link rel="stylesheet" href="/static/executions/live.css">
</head><body><main data-execution-live data-execution-id="{execution.pk}" data-last-seq="{execution.event_seq}">
<p>State: <span data-execution-state data-state="{execution.state}">{execution.state}</span>
<span data-live-status>not live</span></p>
<progress data-progress-bar value="{percentage}" max="100">{percentage}%</progress>
<span data-progress-text>{settled} of {len(runs)} nodes</span> <span data-eta></span>
<svg width="900" height="60">{graph}</svg>
<table><tbody>{rows}</tbody></table>
<ol data-log-tail data-max-lines="50"></ol>
</main><script type="module" src="/static/executions/execution-live.js"></script></body></html>"""


def render(route: Any, html: str) -> None:
    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
