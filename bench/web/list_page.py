"""The workflows list page over 10,000 workflows: first page, deep page, by name, search."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

AREA = "web"
DEFAULT_SIZE = 10_000
QUICK_SIZE = 600
TEAM_SLUG = "bench-web-list"
PAGE = 50
DEEP_PAGES = 10  # "Next page" followed this many times
TARGET_P95_MS = 100.0
WORDS = ["invoice", "triage", "summary", "translate", "report", "contract", "feedback", "forecast"]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _timed(function: Callable[[], Any], repetitions: int) -> list[float]:
    function()  # warm-up
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _ensure_rows(size: int) -> tuple[Any, Any]:
    """Team `bench-web-list` with `size` workflows, each with one stored version; its editor."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from teams.models import Membership, Team
    from teams.roles import Role
    from workflows import documents, samples
    from workflows.models import Workflow, WorkflowVersion
    from workflows.versioning import checksum

    user, _ = get_user_model().objects.get_or_create(username="bench-web-editor")
    team, _ = Team.objects.get_or_create(slug=TEAM_SLUG, defaults={"name": "Bench web list"})
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.EDITOR})
    if Workflow.objects.filter(team=team).count() == size:
        return team, user
    # Rows are written directly: this measures reading the list, and 10,000 service calls (each
    # validating its document) would take minutes to set up nothing the page reads.
    Workflow.objects.filter(team=team).update(current_version=None)
    WorkflowVersion.objects.filter(workflow__team=team)._raw_delete(WorkflowVersion.objects.db)
    Workflow.objects.filter(team=team).delete()
    envelope = documents.prepare(samples.linear()).as_envelope()
    now = timezone.now()
    with transaction.atomic():
        workflows = [Workflow(id=uuid.uuid4(), team=team, created_by=user,
                              name=f"{WORDS[number % len(WORDS)].title()} workflow {number:05d}",
                              description=f"Handles {WORDS[(number * 7) % len(WORDS)]} work for team {number % 37}.",
                              tags=[WORDS[number % len(WORDS)], f"group-{number % 20}"], category="bench")
                     for number in range(size)]
        Workflow.objects.bulk_create(workflows, batch_size=2_000)
        versions = []
        for workflow in workflows:
            stored = {**envelope, "workflow": {**envelope["workflow"], "id": str(workflow.pk), "name": workflow.name}}
            versions.append(WorkflowVersion(workflow=workflow, version="1.0.0", major=1, minor=0, patch=0,
                                            schema_version=stored["schema_version"], document=stored,
                                            checksum=checksum(stored), node_count=4, edge_count=3))
        WorkflowVersion.objects.bulk_create(versions, batch_size=2_000)
        for workflow, version in zip(workflows, versions, strict=True):
            workflow.current_version = version
        Workflow.objects.bulk_update(workflows, ["current_version"], batch_size=2_000)
        # Spread the update times so "recently updated" is a real order, not one timestamp.
        for offset, workflow in enumerate(workflows):
            workflow.updated_at = now - dt.timedelta(minutes=offset)
        Workflow.objects.bulk_update(workflows, ["updated_at"], batch_size=2_000)
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a live table
        cursor.execute("ANALYZE workflows_workflow, workflows_workflowversion")
    return team, user


def _deep_cursor(client: Any, query: str) -> str:
    path = f"/workflows/?{query}"
    for _ in range(DEEP_PAGES):
        html = client.get(path).content.decode()
        found = re.search(r'href="(\?[^"]*cursor=[^"]+)">Next page', html)
        assert found, "the list ran out of pages"
        path = "/workflows/" + found.group(1).replace("&amp;", "&")
    return path


def run(quick: bool = False) -> list[dict[str, Any]]:
    from django.test import Client

    from symphony_site.api.pagination import encode_cursor, paginate_queryset
    from workflows import selectors
    from workflows.models import Workflow

    size = QUICK_SIZE if quick else DEFAULT_SIZE
    repetitions = 5 if quick else 40
    team, user = _ensure_rows(size)
    client = Client()
    client.force_login(user)
    session = client.session
    session["current_team_id"] = str(team.pk)
    session.save()
    deep = _deep_cursor(client, "")
    pages = {
        "first page (recently updated)": "/workflows/",
        f"page {DEEP_PAGES + 1} (following Next page)": deep,
        "sorted by name, first page": "/workflows/?sort=name",
        "search 'triage' (trigram index)": "/workflows/?q=triage",
    }
    rows = []
    offset_rows = (Workflow.objects.filter(team=team, archived_at__isnull=True)
                   .select_related("team", "created_by", "current_version").defer("current_version__document"))

    def offset_page(depth: int) -> Callable[[], Any]:
        return lambda: list(offset_rows.order_by(*selectors.LIST_ORDERING)[depth * PAGE:(depth + 1) * PAGE])

    for name, path in pages.items():
        def fetch(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, path
        samples = _timed(fetch, repetitions)
        p50, p95 = _percentiles(samples)
        row: dict[str, Any] = {"area": AREA, "name": f"workflows list page: {name}", "size": size, "unit": "ms (p95)",
                               "value": round(p95, 2), "p50": round(p50, 2), "p95": round(p95, 2),
                               "target": f"p95 <= {TARGET_P95_MS:g} ms", "met": p95 <= TARGET_P95_MS}
        rows.append(row)
    # The query alone, three quarters down the list: the keyset page the view runs beside OFFSET.
    depth = (size * 3 // 4) // PAGE
    marker = offset_rows.order_by(*selectors.LIST_ORDERING)[depth * PAGE - 1]
    workflows = selectors.workflows_for_user(user, team=team.pk)
    # The scope paginate_queryset signs its cursors with (model label and ordering).
    cursor = encode_cursor([marker.updated_at, marker.id],
                           f"{workflows.model._meta.label}:{','.join(selectors.LIST_ORDERING)}")
    keyset = _timed(lambda: paginate_queryset(workflows, selectors.LIST_ORDERING, limit=PAGE, cursor=cursor),
                    repetitions)
    offset = _timed(offset_page(depth), repetitions)
    keyset_p95, offset_p95 = _percentiles(keyset)[1], _percentiles(offset)[1]
    rows.append({"area": AREA, "name": f"list query, page {depth + 1} (keyset)", "size": size, "unit": "ms (p95)",
                 "value": round(keyset_p95, 2), "p50": round(_percentiles(keyset)[0], 2), "p95": round(keyset_p95, 2),
                 "baseline_name": f"same rows with OFFSET {depth * PAGE}", "baseline": round(offset_p95, 2),
                 "ratio": round(offset_p95 / keyset_p95, 2) if keyset_p95 else None,
                 "target": "not slower than OFFSET", "met": keyset_p95 <= offset_p95})
    return rows
