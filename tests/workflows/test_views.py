"""The web UI: pages for each role, the graph markup, the editor's form actions, import and export."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from symphony_site.actors import Actor, Origin
from workflows import samples, services
from workflows.models import Workflow, WorkflowVersion

from .conftest import invalid_document


def browser(personas, who: str) -> Client:
    client = Client()
    client.force_login(personas.users[who])
    return client


def svg_ids(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<g class="[^"]*" {attribute}="([^"]+)"', html)


def test_list_empty_state_tells_what_to_do(personas) -> None:
    response = browser(personas, "editor").get("/workflows/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No workflows in Alpha yet" in html
    assert 'href="/workflows/new/"' in html
    viewer_html = browser(personas, "viewer").get("/workflows/").content.decode()
    assert "Ask an editor of Alpha" in viewer_html
    assert 'href="/workflows/new/"' not in viewer_html


def test_list_search_and_tag_filter(personas, stored) -> None:
    services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                             team=personas.team, document=samples.branching())
    client = browser(personas, "viewer")
    html = client.get("/workflows/").content.decode()
    assert "Answer a question" in html and "Triage support tickets" in html
    assert "Last run" in html and html.count('data-state="">never</td>') == 2  # neither has run yet
    html = client.get("/workflows/?q=triage").content.decode()
    assert "Triage support tickets" in html and "Answer a question" not in html
    html = client.get("/workflows/?tag=llm").content.decode()
    assert "Answer a question" in html and "Triage support tickets" in html
    html = client.get("/workflows/?q=nothing-like-this").content.decode()
    assert "No workflow matches" in html


def test_list_page_query_count(personas, django_assert_max_num_queries) -> None:
    for _ in range(10):
        services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                 team=personas.team, document=samples.linear())
    client = browser(personas, "viewer")
    # session, user, current team, workflows, tags, role, the team switcher: not one more per row
    with django_assert_max_num_queries(7):
        response = client.get("/workflows/")
    assert response.content.decode().count("Answer a question</strong>") == 10


def test_detail_draws_every_node_and_edge(personas, stored) -> None:
    client = browser(personas, "viewer")
    response = client.get(f"/workflows/{stored.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert svg_ids(html, "data-node-id") == ["question", "prompt", "answer", "reply"]
    assert svg_ids(html, "data-edge-id") == ["e1", "e2", "e3"]
    assert 'class="node kind-input critical"' in html
    assert '<span class="badge ok">valid</span>' in html
    assert "Edit</a>" not in html  # viewers read only


def test_detail_page_query_count(personas, stored, django_assert_max_num_queries) -> None:
    for number in range(1, 6):
        services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                 workflow=stored, name=f"Name {number}")
    client = browser(personas, "viewer")
    with django_assert_max_num_queries(8):  # 7, and the last run (state and link)
        assert client.get(f"/workflows/{stored.pk}/").status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(f"/workflows/{stored.pk}/diff/?from=1.0.0&to=1.0.5").status_code == 200


@pytest.mark.parametrize("who,status", [("viewer", 200), ("outsider", 404)])
def test_detail_for_other_teams_is_404(personas, stored, who, status) -> None:
    assert browser(personas, who).get(f"/workflows/{stored.pk}/").status_code == status
    assert browser(personas, who).get(f"/workflows/{stored.pk}/export/").status_code == status


def test_anonymous_is_sent_to_login(stored) -> None:
    response = Client().get(f"/workflows/{stored.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_diff_page_colours_changes(personas, stored) -> None:
    document = copy.deepcopy(stored.current_version.document)
    document["workflow"]["nodes"][2]["config"]["temperature"] = 0.9
    document["workflow"]["nodes"].append(samples.node_operator("note", "log", {}))
    document["workflow"]["edges"].append(samples.data_edge("e4", "answer", "text", "note", "value"))
    services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                             workflow=stored, document=document)
    html = browser(personas, "viewer").get(f"/workflows/{stored.pk}/diff/?from=1.0.0&to=1.1.0").content.decode()
    assert 'class="node kind-operator diff-added" data-node-id="note"' in html
    assert 'class="node kind-instrument diff-changed" data-node-id="answer"' in html
    assert 'class="edge kind-data diff-added" data-edge-id="e4"' in html
    assert "config.temperature" in html
    assert browser(personas, "viewer").get(f"/workflows/{stored.pk}/diff/?from=1.0.0&to=8.0.0").status_code == 404


def test_editor_adds_a_node_and_connects_it_without_saving(personas, stored) -> None:
    client = browser(personas, "editor")
    text = json.dumps(stored.current_version.document["workflow"])
    response = client.post(f"/workflows/{stored.pk}/edit/", {"document": text, "action": "add_node",
                                                             "node_type": "operator:log", "node_name": "Audit note"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-node-id="audit_note"' in html
    added_text = re.search(r'<textarea id="document" name="document"[^>]*>(.*?)</textarea>', html, re.S)[1]
    import html as html_module

    document = json.loads(html_module.unescape(added_text))
    assert document["nodes"][-1] == {"id": "audit_note", "kind": "operator", "name": "Audit note",
                                     "operator": "log", "config": {"level": "info",
                                                                   "message": "Received {{ inputs.value }}"}}
    response = client.post(f"/workflows/{stored.pk}/edit/", {
        "document": json.dumps(document), "action": "connect", "source": "answer|text",
        "target": "audit_note|value", "edge_kind": "data"})
    html = response.content.decode()
    assert 'data-edge-id="e4"' in html
    assert WorkflowVersion.objects.count() == 1  # nothing saved yet


def test_editor_save_creates_a_version_and_errors_save_nothing(personas, stored) -> None:
    client = browser(personas, "editor")
    bad = client.post(f"/workflows/{stored.pk}/edit/", {"document": json.dumps(invalid_document()),
                                                       "action": "save"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert html.count('class="issue error"') == 5
    assert 'class="node kind-operator has-error has-warning" data-node-id="mystery"' in html
    assert 'class="node kind-instrument has-error" data-node-id="answer"' in html  # on the cycle
    assert 'class="edge kind-data has-error back-edge" data-edge-id="e4"' in html
    assert WorkflowVersion.objects.count() == 1
    document = stored.current_version.document["workflow"] | {"name": "Renamed in the editor"}
    good = client.post(f"/workflows/{stored.pk}/edit/", {"document": json.dumps(document), "action": "save",
                                                        "change_message": "rename"})
    assert good.status_code == 302
    stored.refresh_from_db()
    assert (stored.name, stored.current_version.version, stored.current_version.change_message) == (
        "Renamed in the editor", "1.0.1", "rename")


def test_new_workflow_from_the_editor(personas) -> None:
    client = browser(personas, "editor")
    assert client.get("/workflows/new/").status_code == 200
    response = client.post("/workflows/new/", {"document": json.dumps(samples.loop_over_list()), "action": "save"})
    assert response.status_code == 302
    workflow = Workflow.objects.get()
    assert (workflow.name, workflow.team, workflow.created_by) == (
        "Summarise each article", personas.team, personas.users["editor"])


@pytest.mark.parametrize("path", ["/workflows/new/", "edit"])
def test_viewer_cannot_open_the_editor(personas, stored, path) -> None:
    url = f"/workflows/{stored.pk}/edit/" if path == "edit" else path
    assert browser(personas, "viewer").get(url).status_code == 403
    assert browser(personas, "viewer").post(url, {"document": "{}", "action": "save"}).status_code == 403
    assert Workflow.objects.count() == 1


def test_preview_fragment(personas) -> None:
    client = browser(personas, "viewer")
    response = client.post("/workflows/preview/", json.dumps(samples.branching()), content_type="application/json")
    html = response.content.decode()
    assert response.status_code == 200
    assert len(svg_ids(html, "data-node-id")) == 7
    assert 'class="edge kind-conditional critical" data-edge-id="e4"' in html
    assert ">confident</text>" in html
    broken = client.post("/workflows/preview/", "{nope", content_type="application/json")
    assert broken.status_code == 400


def test_import_and_export_buttons(personas, stored) -> None:
    client = browser(personas, "editor")
    exported = client.get(f"/workflows/{stored.pk}/export/?format=zstd")
    assert exported.status_code == 200
    assert exported["Content-Disposition"] == 'attachment; filename="answer-a-question-1.0.0.msgpack.zst"'
    upload = SimpleUploadedFile("flow.msgpack.zst", exported.content)
    response = client.post("/workflows/import/", {"file": upload})
    assert response.status_code == 302
    assert Workflow.objects.count() == 2
    garbage = client.post("/workflows/import/", {"file": SimpleUploadedFile("x.json", b"not a workflow")}, follow=True)
    assert "Import failed (unknown_format)" in garbage.content.decode()
    assert Workflow.objects.count() == 2


def test_archive_button(personas, stored) -> None:
    assert browser(personas, "viewer").post(f"/workflows/{stored.pk}/archive/").status_code == 403
    response = browser(personas, "editor").post(f"/workflows/{stored.pk}/archive/")
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.is_archived


def test_without_javascript_the_critical_path_is_a_link(personas, stored) -> None:
    client = browser(personas, "viewer")
    plain = client.get(f"/workflows/{stored.pk}/").content.decode()
    assert '<div class="graph-frame" data-graph id="graph-top">' in plain
    assert 'href="?critical=1&amp;version=1.0.0"' in plain
    highlighted = client.get(f"/workflows/{stored.pk}/?critical=1").content.decode()
    assert '<div class="graph-frame show-critical" data-graph id="graph-top">' in highlighted
    assert 'aria-pressed="true"' in highlighted


def test_without_javascript_the_editor_previews_by_posting(personas) -> None:
    response = browser(personas, "editor").post("/workflows/new/", {"document": json.dumps(invalid_document()),
                                                                   "action": "preview"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="issue error"') == 5
    assert Workflow.objects.count() == 0
    unreadable = browser(personas, "editor").post("/workflows/new/", {"document": "{oops", "action": "preview"})
    assert "The document is not valid JSON" in unreadable.content.decode()
