"""The admin of executions and node runs: read-only, searchable, filtered by state and team, with
the history inline and JSON folded; nothing can be added, changed, deleted or bulk-changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from executions.demo import step_in_process
from executions.models import Execution, ExecutionTransition, NodeRun
from tests.conftest import make_user

from .conftest import start, store
from .test_views import greeting, parsing

EXECUTIONS = "/admin/executions/execution/"
NODE_RUNS = "/admin/executions/noderun/"


@pytest.fixture
def staff(db: Any) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def runs(personas) -> dict[str, Execution]:
    return {"completed": step_in_process(start(personas, store(personas, greeting()), {"name": "Ada"})),
            "failed": step_in_process(start(personas, store(personas, parsing()), {"text": "{not json"}))}


def listed(html: str) -> list[str]:
    return re.findall(r'<th class="field-short_id"><a href="/admin/executions/execution/([0-9a-f-]+)/change/', html)


def test_the_execution_list_searches_and_filters(staff, runs, personas) -> None:
    completed, failed = str(runs["completed"].pk), str(runs["failed"].pk)
    assert sorted(listed(staff.get(EXECUTIONS).content.decode())) == sorted([completed, failed])
    assert listed(staff.get(EXECUTIONS, {"q": completed[:8]}).content.decode()) == [completed]
    assert listed(staff.get(EXECUTIONS, {"q": "Parse"}).content.decode()) == [failed]
    error_word = runs["failed"].error["message"].split()[1]
    assert listed(staff.get(EXECUTIONS, {"q": error_word}).content.decode()) == [failed]
    assert listed(staff.get(EXECUTIONS, {"state__exact": "completed"}).content.decode()) == [completed]
    assert listed(staff.get(EXECUTIONS, {"team__id__exact": personas.other_team.pk}).content.decode()) == []
    assert listed(staff.get(EXECUTIONS, {"q": "no such thing"}).content.decode()) == []


def test_the_execution_page_is_readable(staff, runs) -> None:
    failed = runs["failed"]
    html = staff.get(f"{EXECUTIONS}{failed.pk}/change/").content.decode()
    assert "History (state changes)" in html
    assert html.count('class="field-to_state"') == ExecutionTransition.objects.filter(execution=failed).count() == 3
    # JSON is folded behind a summary, indented inside.
    assert re.search(r"<details><summary>[^<]+</summary><pre[^>]*>\{\n  &quot;code&quot;", html)
    assert f'href="{NODE_RUNS}?execution__id__exact={failed.pk}">3 node runs</a>' in html
    assert f'href="/executions/{failed.pk}/">the execution page</a>' in html
    assert 'name="_save"' not in html and "Delete" not in html


def test_node_runs_are_listed_searched_and_filtered(staff, runs, personas) -> None:
    html = staff.get(NODE_RUNS, {"execution__id__exact": runs["failed"].pk}).content.decode()
    assert sorted(re.findall(r'<th class="field-node_id"><a href="[^"]+">([^<]+)</a>', html)) == ["out", "parse", "text"]
    html = staff.get(NODE_RUNS, {"state__exact": "failed"}).content.decode()
    assert re.findall(r'<th class="field-node_id"><a href="[^"]+">([^<]+)</a>', html) == ["parse"]
    html = staff.get(NODE_RUNS, {"team": str(personas.other_team.pk)}).content.decode()
    assert 'class="field-node_id"' not in html
    parse = NodeRun.objects.get(execution=runs["failed"], node_id="parse")
    page = staff.get(f"{NODE_RUNS}{parse.pk}/change/")
    assert page.status_code == 200 and "&quot;code&quot;" in page.content.decode()


@pytest.mark.parametrize("path", [EXECUTIONS, NODE_RUNS])
def test_nothing_can_be_written(staff, runs, path) -> None:
    execution = runs["completed"]
    target = execution.pk if path == EXECUTIONS else NodeRun.objects.filter(execution=execution).first().pk
    html = staff.get(path).content.decode()
    assert 'name="action"' not in html  # no bulk action, not even delete
    assert staff.get(f"{path}add/").status_code == 403
    assert staff.post(f"{path}{target}/change/", {"state": "failed"}).status_code == 403
    assert staff.post(f"{path}{target}/delete/", {"post": "yes"}).status_code == 403
    assert staff.post(path, {"action": "delete_selected", "_selected_action": [str(target)], "post": "yes"}).status_code in (200, 302)
    assert Execution.objects.get(pk=execution.pk).state == "completed"
    assert NodeRun.objects.filter(execution=execution).count() == 4


def test_members_without_staff_cannot_open_it(personas, runs) -> None:
    client = Client()
    client.force_login(personas.users["owner"])
    response: Any = client.get(EXECUTIONS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
