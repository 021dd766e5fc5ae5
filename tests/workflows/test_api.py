"""Every workflow endpoint, for each role, another team (404) and anonymous (401)."""

from __future__ import annotations

import copy
import json

import pytest

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from workflows import samples, services
from workflows.models import Workflow, WorkflowVersion
from workflows.versioning import checksum

from .conftest import error_of, invalid_document

READERS = [("owner", 200), ("admin", 200), ("editor", 200), ("operator", 200), ("viewer", 200),
           ("outsider", 404), (None, 401)]
WRITERS = [("owner", True), ("admin", True), ("editor", True), ("operator", False), ("viewer", False)]
DENIED_CODES = {403: "permission_denied", 404: "not_found", 401: "not_authenticated"}


def counts() -> tuple[int, int]:
    return Workflow.objects.count(), WorkflowVersion.objects.count()


def workflow_events(event_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event_type=event_type).order_by("sequence"))


# --- list ------------------------------------------------------------------------


@pytest.mark.parametrize("who,status", READERS)
def test_list_for_each_persona(personas, stored, who, status) -> None:
    response = personas.client(who).get("/api/v1/workflows/")
    assert response.status_code == (status if who is None else 200)
    if who is None:
        assert error_of(response)["code"] == "not_authenticated"
    elif who == "outsider":
        assert response.json() == {"results": [], "next": None}
    else:
        [row] = response.json()["results"]
        assert (row["id"], row["name"], row["team"], row["tags"], row["category"], row["archived"]) == (
            str(stored.pk), "Answer a question", str(personas.team.pk), ["demo", "llm"], "examples", False)
        assert row["current_version"]["version"] == "1.0.0"
        assert (row["current_version"]["node_count"], row["current_version"]["edge_count"]) == (4, 3)
        assert row["last_run"] is None
        assert "document" not in row


def test_list_search_tag_and_team_filters(personas, stored) -> None:
    editor = personas.users["editor"]
    other = services.workflow_create(actor=Actor.of(editor), origin=Origin.command(), team=personas.team, document=samples.branching())
    client = personas.client("viewer")

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/workflows/?{query}")
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names("") == [other.name, stored.name]
    assert names("q=TRIAGE") == ["Triage support tickets"]
    assert names("q=smallest useful") == ["Answer a question"]  # the description matches
    assert names("tag=support") == ["Triage support tickets"]
    assert names("tag=demo") == [other.name, stored.name]
    assert names("tag=nothing") == []
    assert names(f"team={personas.team.pk}") == [other.name, stored.name]
    assert names("limit=1")[0] == other.name
    first = client.get("/api/v1/workflows/?limit=1").json()
    second = client.get(f"/api/v1/workflows/?limit=1&cursor={first['next']}").json()
    assert [row["name"] for row in second["results"]] == [stored.name]
    assert second["next"] is None


def test_list_of_another_teams_workflows_is_404(personas, stored) -> None:
    response = personas.client("outsider").get(f"/api/v1/workflows/?team={personas.team.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_list_hides_archived_unless_asked(personas, stored) -> None:
    services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored)
    client = personas.client("viewer")
    assert client.get("/api/v1/workflows/").json()["results"] == []
    [row] = client.get("/api/v1/workflows/?archived=true").json()["results"]
    assert row["archived"] is True


def test_list_query_count_does_not_grow_with_rows(personas, django_assert_max_num_queries) -> None:
    for _ in range(12):
        services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, document=samples.linear())
    client = personas.client("viewer")
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/workflows/")
    assert len(response.json()["results"]) == 12


# --- create ------------------------------------------------------------------------


@pytest.mark.parametrize("who,allowed", [*WRITERS, ("outsider", False), (None, False)])
def test_create_requires_editor(personas, who, allowed) -> None:
    response = personas.client(who).post("/api/v1/workflows/", {"team": str(personas.team.pk),
                                                               "document": samples.linear()}, format="json")
    if allowed:
        assert response.status_code == 201
        body = response.json()
        assert (body["name"], body["current_version"]["version"], body["created_by"]) == (
            "Answer a question", "1.0.0", personas.users[who].username)
        assert body["document"]["schema_version"] == "1.0.0"
        assert body["document"]["workflow"]["id"] == body["id"]
        assert [node["id"] for node in body["document"]["workflow"]["nodes"]] == [
            "question", "prompt", "answer", "reply"]
        assert body["current_version"]["checksum"] == checksum(body["document"])
        [event] = workflow_events("workflow.created")
        assert (event.target_id, event.details["version"]) == (body["id"], "1.0.0")
    else:
        status = {None: 401, "outsider": 404}.get(who, 403)
        assert response.status_code == status
        assert error_of(response)["code"] == DENIED_CODES[status]
        assert counts() == (0, 0)
        assert workflow_events("workflow.created") == []


def test_create_accepts_an_envelope(personas) -> None:
    envelope = {"schema_version": "1.0.0", "created_with": "composer 2", "workflow": samples.branching()}
    response = personas.client("editor").post("/api/v1/workflows/", {"team": str(personas.team.pk),
                                                                     "document": envelope}, format="json")
    assert response.status_code == 201
    assert response.json()["document"]["workflow"]["name"] == "Triage support tickets"


def test_invalid_document_lists_every_error_and_stores_nothing(personas) -> None:
    response = personas.client("editor").post("/api/v1/workflows/", {"team": str(personas.team.pk),
                                                                     "document": invalid_document()}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert [(item["code"], item.get("node_id"), item.get("edge_id")) for item in error["details"]] == [
        ("unknown_node_type", "mystery", None),
        ("invalid_config", "prompt", None),
        ("invalid_edge", "prompt", "e4"),
        ("invalid_edge", "reply", "e5"),
        ("cycle_detected", "answer", None),
    ]
    assert error["message"].startswith("The workflow document has 5 errors; the first: Node 'mystery'")
    assert counts() == (0, 0)
    assert workflow_events("workflow.created") == []


@pytest.mark.parametrize("body,field", [
    ({"document": {}}, "team"),
    ({"team": "not-a-uuid", "document": {}}, "team"),
    ({"team": "00000000-0000-0000-0000-000000000000"}, "document"),
    ({"team": "00000000-0000-0000-0000-000000000000", "document": {}, "colour": "red"}, "colour"),
])
def test_create_with_a_malformed_body(personas, body, field) -> None:
    response = personas.client("editor").post("/api/v1/workflows/", body, format="json")
    assert response.status_code == 400
    assert field in [item["field"] for item in error_of(response)["details"]]
    assert counts() == (0, 0)


@pytest.mark.parametrize("document,code", [
    ([1, 2], "validation_failed"),
    ({"schema_version": "1.9.0", "workflow": {}}, "schema_too_new"),
    ({"schema_version": "one", "workflow": {}}, "invalid_schema_version"),
    ({"schema_version": "1.0.0", "workflow": "text"}, "invalid_envelope"),
])
def test_create_refuses_unreadable_documents(personas, document, code) -> None:
    response = personas.client("editor").post("/api/v1/workflows/", {"team": str(personas.team.pk),
                                                                     "document": document}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == code
    assert counts() == (0, 0)


def test_create_refuses_too_many_nodes_before_validating(personas, monkeypatch) -> None:
    from workflows import documents

    monkeypatch.setattr(documents, "MAX_NODES", 3)
    response = personas.client("editor").post("/api/v1/workflows/", {"team": str(personas.team.pk),
                                                                     "document": samples.linear()}, format="json")
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large"
    assert error["details"][0]["nodes"] == 4
    assert counts() == (0, 0)


# --- detail, update, archive --------------------------------------------------------


@pytest.mark.parametrize("who,status", READERS)
def test_detail_for_each_persona(personas, stored, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["id"], body["name"], body["document"]["workflow"]["version"]) == (
            str(stored.pk), "Answer a question", "1.0.0")
    else:
        assert error_of(response)["code"] == DENIED_CODES[status]


def test_detail_of_unknown_workflow_is_404(personas) -> None:
    response = personas.client("owner").get("/api/v1/workflows/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_detail_query_count(personas, stored, django_assert_max_num_queries) -> None:
    client = personas.client("viewer")
    with django_assert_max_num_queries(4):
        assert client.get(f"/api/v1/workflows/{stored.pk}/").status_code == 200


def _changed_document(stored) -> dict:
    document = copy.deepcopy(stored.current_version.document)
    document["workflow"]["nodes"][2]["config"]["temperature"] = 0.9
    return document


@pytest.mark.parametrize("who,allowed", [*WRITERS, ("outsider", False), (None, False)])
def test_patch_document_requires_editor(personas, stored, who, allowed) -> None:
    response = personas.client(who).patch(f"/api/v1/workflows/{stored.pk}/",
                                          {"document": _changed_document(stored), "change_message": "warmer"},
                                          format="json")
    if allowed:
        assert response.status_code == 200
        body = response.json()
        assert body["current_version"]["version"] == "1.0.1"  # config only: a patch bump
        assert body["current_version"]["change_message"] == "warmer"
        assert body["document"]["workflow"]["nodes"][2]["config"]["temperature"] == 0.9
        assert list(stored.versions.values_list("version", flat=True).order_by("created_at")) == ["1.0.0", "1.0.1"]
        [event] = workflow_events("workflow.versioned")
        assert (event.details["version"], event.details["previous_version"]) == ("1.0.1", "1.0.0")
    else:
        status = {None: 401, "outsider": 404}.get(who, 403)
        assert response.status_code == status
        assert error_of(response)["code"] == DENIED_CODES[status]
        assert counts() == (1, 1)
        stored.refresh_from_db()
        assert stored.current_version.version == "1.0.0"
        assert workflow_events("workflow.versioned") == []


def test_structural_change_bumps_minor_and_old_version_stays_readable(personas, stored) -> None:
    document = copy.deepcopy(stored.current_version.document)
    document["workflow"]["nodes"].append(samples.node_operator("note", "log", {"level": "info"}))
    document["workflow"]["edges"].append(samples.data_edge("e9", "answer", "text", "note", "value"))
    client = personas.client("editor")
    response = client.patch(f"/api/v1/workflows/{stored.pk}/", {"document": document}, format="json")
    assert response.json()["current_version"]["version"] == "1.1.0"
    old = client.get(f"/api/v1/workflows/{stored.pk}/versions/1.0.0/").json()
    assert [node["id"] for node in old["document"]["workflow"]["nodes"]] == ["question", "prompt", "answer", "reply"]


def test_patch_with_given_version_and_metadata_only(personas, stored) -> None:
    client = personas.client("editor")
    response = client.patch(f"/api/v1/workflows/{stored.pk}/", {"name": "Ask", "tags": ["x"], "version": "2.0.0"},
                            format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["tags"], body["current_version"]["version"]) == ("Ask", ["x"], "2.0.0")
    assert (body["document"]["workflow"]["name"], body["document"]["workflow"]["metadata"]["tags"]) == ("Ask", ["x"])


def test_patch_with_a_version_not_greater_is_409(personas, stored) -> None:
    response = personas.client("editor").patch(f"/api/v1/workflows/{stored.pk}/",
                                               {"name": "Ask", "version": "1.0.0"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert counts() == (1, 1)


def test_patch_that_changes_nothing_saves_nothing(personas, stored) -> None:
    response = personas.client("editor").patch(f"/api/v1/workflows/{stored.pk}/",
                                               {"document": samples.linear()}, format="json")
    assert response.status_code == 200
    assert response.json()["current_version"]["version"] == "1.0.0"
    assert counts() == (1, 1)
    assert workflow_events("workflow.versioned") == []


def test_patch_with_invalid_document_changes_nothing(personas, stored) -> None:
    response = personas.client("editor").patch(f"/api/v1/workflows/{stored.pk}/",
                                               {"document": invalid_document()}, format="json")
    assert response.status_code == 400
    assert len(error_of(response)["details"]) == 5
    assert counts() == (1, 1)
    stored.refresh_from_db()
    assert (stored.name, stored.current_version.version) == ("Answer a question", "1.0.0")


@pytest.mark.parametrize("who,status", [("owner", 204), ("editor", 204), ("operator", 403), ("viewer", 403),
                                        ("outsider", 404), (None, 401)])
def test_delete_archives(personas, stored, who, status) -> None:
    response = personas.client(who).delete(f"/api/v1/workflows/{stored.pk}/")
    assert response.status_code == status
    stored.refresh_from_db()
    assert stored.is_archived is (status == 204)
    assert counts() == (1, 1)  # nothing is deleted, ever
    assert len(workflow_events("workflow.archived")) == (1 if status == 204 else 0)


def test_archived_workflow_cannot_be_archived_again_or_edited(personas, stored) -> None:
    client = personas.client("editor")
    assert client.delete(f"/api/v1/workflows/{stored.pk}/").status_code == 204
    again = client.delete(f"/api/v1/workflows/{stored.pk}/")
    assert (again.status_code, error_of(again)["code"]) == (409, "conflict")
    edit = client.patch(f"/api/v1/workflows/{stored.pk}/", {"name": "New"}, format="json")
    assert (edit.status_code, error_of(edit)["code"]) == (409, "conflict")
    assert client.get(f"/api/v1/workflows/{stored.pk}/versions/1.0.0/").status_code == 200


# --- versions and diff --------------------------------------------------------------


@pytest.mark.parametrize("who,status", READERS)
def test_versions_for_each_persona(personas, stored, who, status) -> None:
    services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored, name="Renamed")
    response = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/versions/")
    assert response.status_code == status
    if status == 200:
        assert [(row["version"], row["change_message"], row["created_by"]) for row in response.json()["results"]] == [
            ("1.0.1", "", "alpha-editor"), ("1.0.0", "first", "alpha-editor")]
    detail = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/versions/1.0.1/")
    assert detail.status_code == status
    if status == 200:
        assert detail.json()["document"]["workflow"]["name"] == "Renamed"


@pytest.mark.parametrize("version", ["9.9.9", "latest", "1.0"])
def test_unknown_version_is_404(personas, stored, version) -> None:
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/versions/{version}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_diff_lists_added_removed_and_changed(personas, stored) -> None:
    document = copy.deepcopy(stored.current_version.document)
    nodes = document["workflow"]["nodes"]
    nodes[2]["config"]["temperature"] = 0.7
    nodes[2]["name"] = "Model"
    nodes.append(samples.node_operator("note", "log", {"level": "info"}))
    document["workflow"]["edges"][2] = samples.data_edge("e3", "answer", "text", "note", "value")
    document["workflow"]["edges"].append(samples.data_edge("e4", "note", "value", "reply", "value"))
    services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored, document=document)
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/diff/?from=1.0.0&to=1.1.0")
    assert response.status_code == 200
    diff = response.json()
    assert (diff["from"], diff["to"]) == ("1.0.0", "1.1.0")
    assert [node["id"] for node in diff["nodes"]["added"]] == ["note"]
    assert diff["nodes"]["removed"] == []
    assert diff["nodes"]["changed"] == [{"id": "answer", "fields": [
        {"field": "config.temperature", "from": 0.2, "to": 0.7}, {"field": "name", "from": "Answer", "to": "Model"}]}]
    assert [edge["id"] for edge in diff["edges"]["added"]] == ["e4"]
    assert diff["edges"]["changed"] == [{"id": "e3", "fields": [
        {"field": "target", "from": "reply", "to": "note"}]}]
    assert diff["workflow"] == []


def test_diff_of_a_version_with_itself_is_empty(personas, stored) -> None:
    diff = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/diff/?from=1.0.0&to=1.0.0").json()
    assert diff == {"from": "1.0.0", "to": "1.0.0", "workflow": [],
                    "nodes": {"added": [], "removed": [], "changed": []},
                    "edges": {"added": [], "removed": [], "changed": []}}


@pytest.mark.parametrize("query,status", [("from=1.0.0&to=2.0.0", 404), ("from=0.1.0&to=1.0.0", 404),
                                          ("from=1.0.0", 400), ("", 400)])
def test_diff_with_bad_versions(personas, stored, query, status) -> None:
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/diff/?{query}")
    assert response.status_code == status


def test_diff_with_a_version_of_another_workflow_is_404(personas, stored) -> None:
    other = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                     document={**samples.branching(), "version": "3.0.0"})
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/diff/?from=1.0.0&to=3.0.0")
    assert response.status_code == 404
    assert other.current_version.version == "3.0.0"


@pytest.mark.parametrize("who,status", READERS)
def test_diff_for_each_persona(personas, stored, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/diff/?from=1.0.0&to=1.0.0")
    assert response.status_code == status


# --- validate, validation, plan --------------------------------------------------------


def test_validate_stores_nothing_and_reports_everything(personas) -> None:
    client = personas.client("viewer")
    valid = client.post("/api/v1/workflows/validate/", samples.linear(), format="json")
    assert (valid.status_code, valid.json()) == (200, {"valid": True, "errors": [], "warnings": []})
    invalid = client.post("/api/v1/workflows/validate/", {"schema_version": "1.0.0",
                                                           "workflow": invalid_document()}, format="json")
    assert invalid.status_code == 200
    body = invalid.json()
    assert body["valid"] is False
    assert [error["code"] for error in body["errors"]] == [
        "unknown_node_type", "invalid_config", "invalid_edge", "invalid_edge", "cycle_detected"]
    assert [warning["code"] for warning in body["warnings"]] == ["orphan_node"]
    assert counts() == (0, 0)


def test_validate_refuses_anonymous_and_unreadable(personas) -> None:
    assert personas.client(None).post("/api/v1/workflows/validate/", samples.linear(), format="json").status_code == 401
    response = personas.client("viewer").post("/api/v1/workflows/validate/",
                                              {"schema_version": "1.2.0", "workflow": {}}, format="json")
    assert (response.status_code, error_of(response)["code"]) == (400, "schema_too_new")
    garbage = personas.client("viewer").post("/api/v1/workflows/validate/", b"{nope", content_type="application/json")
    assert (garbage.status_code, error_of(garbage)["code"]) == (400, "parse_error")


@pytest.mark.parametrize("who,status", READERS)
def test_stored_validation_for_each_persona(personas, stored, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/validation/")
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"version": "1.0.0", "valid": True, "errors": [], "warnings": []}


@pytest.mark.parametrize("who,status", READERS)
def test_plan_for_each_persona(personas, stored, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/plan/")
    assert response.status_code == status
    if status == 200:
        plan = response.json()
        assert plan["version"] == "1.0.0"
        assert plan["topological_order"] == ["question", "prompt", "answer", "reply"]
        assert plan["execution_levels"] == [["question"], ["prompt"], ["answer"], ["reply"]]
        assert plan["critical_path"] == ["question", "prompt", "answer", "reply"]
        assert plan["dependencies"]["answer"] == {"direct": ["prompt"], "all": ["prompt", "question"],
                                                  "dependents": ["reply"]}


def test_plan_of_unknown_version_is_404(personas, stored) -> None:
    assert personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/plan/?version=4.0.0").status_code == 404


# --- export and import ---------------------------------------------------------------------


@pytest.mark.parametrize("export_format,content_type,extension", [
    ("json", "application/json", "json"), ("msgpack", "application/msgpack", "msgpack"),
    ("zstd", "application/zstd", "msgpack.zst"), ("lz4", "application/x-lz4", "msgpack.lz4")])
def test_export_each_format_and_import_it_back(personas, stored, export_format, content_type, extension) -> None:
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/export/?format={export_format}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="answer-a-question-1.0.0.{extension}"'
    [event] = workflow_events("workflow.exported")
    assert event.details["format"] == export_format
    imported = personas.client("editor").post(f"/api/v1/workflows/import/?team={personas.team.pk}",
                                              response.content, content_type="application/octet-stream")
    assert imported.status_code == 201
    body = imported.json()
    assert body["id"] != str(stored.pk)
    assert body["name"] == "Answer a question"
    original = stored.current_version.document["workflow"]
    assert {**body["document"]["workflow"], "id": original["id"]} == original
    [event] = workflow_events("workflow.imported")
    assert event.details["format"] == {"json": "json", "msgpack": "msgpack", "zstd": "msgpack+zstd",
                                       "lz4": "msgpack+lz4"}[export_format]
    assert counts() == (2, 2)


def test_export_of_an_old_version(personas, stored) -> None:
    services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored, name="Renamed")
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/export/?version=1.0.0")
    assert json.loads(response.content)["workflow"]["name"] == "Answer a question"
    assert response["Content-Disposition"].endswith('-1.0.0.json"')


@pytest.mark.parametrize("who,status", READERS)
def test_export_for_each_persona(personas, stored, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/workflows/{stored.pk}/export/")
    assert response.status_code == status
    assert len(workflow_events("workflow.exported")) == (1 if status == 200 else 0)


@pytest.mark.parametrize("query,status", [("format=xml", 400), ("version=7.0.0", 404)])
def test_export_with_bad_parameters(personas, stored, query, status) -> None:
    response = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/export/?{query}")
    assert response.status_code == status
    assert workflow_events("workflow.exported") == []


@pytest.mark.parametrize("who,status", [("owner", 201), ("editor", 201), ("operator", 403), ("viewer", 403),
                                        ("outsider", 404), (None, 401)])
def test_import_requires_editor(personas, who, status) -> None:
    data = json.dumps({"schema_version": "1.0.0", "workflow": samples.linear()}).encode()
    response = personas.client(who).post(f"/api/v1/workflows/import/?team={personas.team.pk}", data,
                                         content_type="application/json")
    assert response.status_code == status
    assert counts() == ((1, 1) if status == 201 else (0, 0))


@pytest.mark.parametrize("data,code", [
    (b"\x00\x01garbage", "unknown_format"),
    (b"", "truncated"),
    (b'{"schema_version": "1.0.0", "workflow": ', "truncated"),
    (b'{"schema_version": "1.7.0", "workflow": {"name": "x"}}', "schema_too_new"),
    (b'{"schema_version": "1.0.0", "workflow": {"name": "x"}, "schema_version": "1.0.0"}', "duplicate_key"),
    (b"\x89SWF\x01\x00\x01\x00" + (10).to_bytes(8, "big") + b"\x00\x00\x00\x00not zstd!!", "corrupt"),
])
def test_import_of_garbage_or_newer_schema_is_400(personas, data, code) -> None:
    response = personas.client("editor").post(f"/api/v1/workflows/import/?team={personas.team.pk}", data,
                                              content_type="application/octet-stream")
    assert response.status_code == 400
    assert error_of(response)["code"] == code
    assert counts() == (0, 0)
    assert workflow_events("workflow.imported") == []


def test_import_of_an_invalid_graph_lists_its_errors(personas) -> None:
    data = json.dumps({"schema_version": "1.0.0", "workflow": invalid_document()}).encode()
    response = personas.client("editor").post(f"/api/v1/workflows/import/?team={personas.team.pk}", data,
                                              content_type="application/json")
    assert response.status_code == 400
    assert len(error_of(response)["details"]) == 5
    assert counts() == (0, 0)


def test_import_needs_a_team_and_a_known_media_type(personas) -> None:
    client = personas.client("editor")
    no_team = client.post("/api/v1/workflows/import/", b"{}", content_type="application/json")
    assert (no_team.status_code, error_of(no_team)["code"]) == (400, "validation_failed")
    wrong_type = client.post(f"/api/v1/workflows/import/?team={personas.team.pk}", b"x", content_type="text/plain")
    assert (wrong_type.status_code, error_of(wrong_type)["code"]) == (415, "unsupported_media_type")


# --- catalog and schema ---------------------------------------------------------------------


def test_node_types(personas) -> None:
    response = personas.client("viewer").get("/api/v1/node-types/")
    assert response.status_code == 200
    entries = response.json()["results"]
    by_type = {entry["type"]: entry for entry in entries}
    assert [entry["type"] for entry in entries if entry["kind"] == "control"] == [
        "branch", "join", "loop", "merge", "parallel"]
    assert {"template", "json_parse", "json_format", "select", "map", "filter", "reduce", "merge_objects",
            "http_request", "delay", "log"} == {entry["type"] for entry in entries if entry["kind"] == "operator"}
    assert by_type["template"]["outputs"] == [{"name": "text", "data_type": "string", "required": True,
                                               "default": None}]
    assert by_type["template"]["config_schema"]["required"] == ["template"]
    only_instruments = personas.client("viewer").get("/api/v1/node-types/?kind=instrument").json()["results"]
    assert {entry["kind"] for entry in only_instruments} == {"instrument"}
    assert personas.client(None).get("/api/v1/node-types/").status_code == 401
    assert personas.client("viewer").get("/api/v1/node-types/?kind=robot").status_code == 400


def test_document_schema(personas) -> None:
    response = personas.client("viewer").get("/api/v1/workflows/schema/")
    assert response.status_code == 200
    schema = response.json()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert personas.client(None).get("/api/v1/workflows/schema/").status_code == 401


def test_import_of_an_oversized_upload_is_413(personas, monkeypatch) -> None:
    from workflows import documents

    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 100)
    data = json.dumps({"schema_version": "1.0.0", "workflow": samples.linear()}).encode()
    response = personas.client("editor").post(f"/api/v1/workflows/import/?team={personas.team.pk}", data,
                                              content_type="application/json")
    assert (response.status_code, error_of(response)["code"]) == (413, "too_large")
    assert counts() == (0, 0)
