"""The execution page's controls fragment (`/executions/<id>/controls/`): what the live page swaps
in when a run changes state by itself. For each role and state it offers exactly the controls the
page offers (the same partials, the same rule), another team's execution is 404, anonymous is sent
to log in, its forms' CSRF tokens are accepted, and reading it writes nothing.

Executions are real, stepped in this process by the step task function (as in test_views.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from executions.models import Execution, NodeRun

from .conftest import command, start, store
from .test_views import ROLES, asking, greeting, parsing, run_now

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Controls(HTMLParser):
    """What a user can press inside the controls' parts (`[data-live-part]`): each button by its
    accessible name ("(disabled)" after it when disabled), each button-styled link as "link <text>",
    and the parts' keys by name."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.keys: dict[str, str] = {}
        self.depth = 0  # open elements inside a part (0: outside every part)
        self.button: dict[str, Any] | None = None
        self.link: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if not self.depth and "data-live-part" in attributes:
            self.keys[attributes["data-live-part"] or ""] = attributes.get("data-part-key") or ""
            self.depth = 1
            return
        if not self.depth:
            return
        if tag not in VOID:
            self.depth += 1
        if tag == "button":
            self.button = {"label": attributes.get("aria-label"), "text": [], "disabled": "disabled" in attributes}
        elif tag == "a" and "button" in (attributes.get("class") or "").split():
            self.link = []

    def handle_endtag(self, tag: str) -> None:
        if not self.depth or tag in VOID:
            return
        self.depth -= 1
        if tag == "button" and self.button is not None:
            name = self.button["label"] or " ".join("".join(self.button["text"]).split())
            self.found.append(name + (" (disabled)" if self.button["disabled"] else ""))
            self.button = None
        elif tag == "a" and self.link is not None:
            self.found.append("link " + " ".join("".join(self.link).split()))
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.button is not None:
            self.button["text"].append(data)
        if self.link is not None:
            self.link.append(data)


def browser(personas: Any, who: str | None, **options: Any) -> Client:
    client = Client(**options)
    if who is not None:
        client.force_login(personas.users[who])
    return client


def running(personas: Any) -> Execution:
    return start(personas, store(personas, greeting()), {"name": "Bo"})  # running, nothing stepped yet


def cancelled(personas: Any) -> Execution:
    return command(personas, run_now(personas, asking()), "cancel")


EXECUTIONS = {
    "running": running,
    "paused on a failed node": lambda personas: run_now(personas, parsing("pause"), {"text": "{not json"}),
    "waiting for input": lambda personas: run_now(personas, asking()),
    "completed": lambda personas: run_now(personas, greeting(), {"name": "Ada"}),
    "failed": lambda personas: run_now(personas, parsing(), {"text": "{not json"}),
    "cancelled": cancelled,
}
# What an operator (and every role above) may press in each state, and what a viewer sees.
OPERATOR = {
    "running": ["Pause", "Cancel execution"],
    "paused on a failed node": ["Resume", "Cancel execution", "Retry parse", "Skip parse"],
    "waiting for input": ["Cancel execution", "Send the answer"],
    "completed": ["link Run again"],
    "failed": ["Re-run"],
    "cancelled": ["Re-run"],
}
VIEWER = {
    "running": ["Pause (disabled)", "Cancel execution (disabled)"],
    "paused on a failed node": ["Resume (disabled)", "Cancel execution (disabled)"],
    "waiting for input": ["Cancel execution (disabled)"],
    "completed": [],
    "failed": ["Re-run (disabled)"],
    "cancelled": ["Re-run (disabled)"],
}
STATES = {"running": "running", "paused on a failed node": "paused", "waiting for input": "waiting_for_input",
          "completed": "completed", "failed": "failed", "cancelled": "cancelled"}


def fragment_of(client: Client, execution: Execution) -> Any:
    return client.get(f"/executions/{execution.pk}/controls/")


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("situation", list(EXECUTIONS))
def test_each_role_and_state_gets_exactly_the_page_controls(personas, who, situation) -> None:
    execution = EXECUTIONS[situation](personas)
    assert execution.state == STATES[situation]
    client = browser(personas, who)
    page = Controls(client.get(f"/executions/{execution.pk}/").content.decode())
    response = fragment_of(client, execution)
    fragment = Controls(response.content.decode())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    expected = VIEWER[situation] if who == "viewer" else OPERATOR[situation]
    assert fragment.found == page.found == expected
    # The same parts, with the same keys: the live page swaps nothing in on a page just loaded.
    assert fragment.keys == page.keys
    node_parts = {f"node-actions:{run.node_id}" for run in NodeRun.objects.filter(execution=execution)}
    assert set(fragment.keys) == {"controls", "input-forms"} | (node_parts if who != "viewer" else set())
    html = response.content.decode()
    has_node_actions = "true" if situation == "paused on a failed node" and who != "viewer" else "false"
    assert (f'<div data-controls-fragment data-state="{execution.state}" '
            f'data-has-node-actions="{has_node_actions}">') in html
    assert "<html" not in html and "<script" not in html


def test_the_keys_change_with_what_the_controls_offer(personas) -> None:
    execution = run_now(personas, parsing("pause"), {"text": "{not json"})
    client = browser(personas, "operator")
    before = Controls(fragment_of(client, execution).content.decode()).keys
    command(personas, execution, "retry_node", node_id="parse")
    after = Controls(fragment_of(client, execution).content.decode())
    assert after.found == ["Resume", "Cancel execution"]
    changed = {part for part in before if before[part] != after.keys[part]}
    assert changed == {"node-actions:parse"}
    assert (before["node-actions:parse"], after.keys["node-actions:parse"]) == ("True:True", "False:False")


def test_another_team_gets_404_and_anonymous_is_sent_to_log_in(personas) -> None:
    execution = run_now(personas, asking())
    response = fragment_of(browser(personas, "outsider"), execution)
    assert response.status_code == 404
    assert str(execution.pk) not in response.content.decode()
    assert "Cancel execution" not in response.content.decode()
    response = fragment_of(Client(), execution)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/executions/{execution.pk}/controls/"
    unknown = Client()
    unknown.force_login(personas.users["operator"])
    assert unknown.get("/executions/00000000-0000-4000-8000-000000000000/controls/").status_code == 404


@pytest.mark.parametrize("who", ["operator", "viewer", "outsider", None])
def test_reading_the_fragment_writes_nothing(personas, who) -> None:
    execution = run_now(personas, parsing("pause"), {"text": "{not json"})
    audit = AuditEntry.objects.count()
    stored = Execution.objects.get(pk=execution.pk)
    runs = list(NodeRun.objects.filter(execution=execution).order_by("id").values())
    client = browser(personas, who)
    with CaptureQueriesContext(connection) as queries:
        status = fragment_of(client, execution).status_code
    assert status == {"operator": 200, "viewer": 200, "outsider": 404, None: 302}[who]
    statements = [query["sql"].split(None, 1)[0].upper() for query in queries.captured_queries]
    assert set(statements) <= {"SELECT"}, statements
    fresh = Execution.objects.get(pk=execution.pk)
    assert (fresh.state, fresh.event_seq, fresh.updated_at) == ("paused", stored.event_seq, stored.updated_at)
    assert list(NodeRun.objects.filter(execution=execution).order_by("id").values()) == runs
    assert AuditEntry.objects.count() == audit


def test_a_post_with_the_fragment_csrf_token_is_accepted(personas) -> None:
    execution = running(personas)
    client = browser(personas, "operator", enforce_csrf_checks=True)
    client.get(f"/executions/{execution.pk}/")  # the page sets the CSRF cookie, as in a browser
    html = fragment_of(client, execution).content.decode()
    pause = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"><input type="hidden" name="command" '
                      r'value="pause">', html)
    assert pause is not None
    response = client.post(f"/executions/{execution.pk}/commands/",
                           {"csrfmiddlewaretoken": pause.group(1), "command": "pause"})
    assert (response.status_code, response["Location"]) == (302, f"/executions/{execution.pk}/")
    assert Execution.objects.get(pk=execution.pk).state == "paused"
