"""The Templates API for every persona: exact values, the error shape, denied writes change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.models import Instantiation, Rating, Template, TemplateVersion
from tests.conftest import make_user, request_free
from tests.templates_app.conftest import summary_version
from workflows.models import Workflow


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def events(event_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event_type=event_type).order_by("occurred_at", "sequence"))


def publish(personas, *, team=None, actor="editor", name="Summarize a text", visibility="team", **extra) -> Template:
    actor_user = personas.users[actor]
    return services.template_publish(actor=Actor.of(actor_user), origin=Origin.command(),
                                     team=team or personas.team, name=name,
                                     visibility=visibility, version=summary_version(), **extra)


def create_body(personas, **changes: Any) -> dict[str, Any]:
    body = {"team": str(personas.team.pk), "name": "Summarize a text", "description": "Short summaries.",
            "category": "summarization", "tags": ["Summarization", "llm"], "visibility": "team",
            "version": summary_version()}
    body.update(changes)
    return body


# --- list and visibility -------------------------------------------------------


@pytest.fixture
def catalog(personas) -> dict[str, Template]:
    admin_beta = personas.users["outsider"]
    return {
        "alpha-private": publish(personas, name="Alpha private", visibility="private"),
        "alpha-team": publish(personas, name="Alpha team"),
        "alpha-public": publish(personas, actor="admin", name="Alpha public", visibility="public"),
        "beta-team": services.template_publish(actor=Actor.of(admin_beta), origin=Origin.command(),
                                               team=personas.other_team, name="Beta team",
                                               visibility="team", version=summary_version()),
        "beta-public": services.template_publish(actor=Actor.of(admin_beta), origin=Origin.command(),
                                                 team=personas.other_team, name="Beta public",
                                                 visibility="public", version=summary_version()),
    }


@pytest.mark.parametrize("who,expected", [
    ("owner", ["Alpha private", "Alpha public", "Alpha team", "Beta public"]),
    ("admin", ["Alpha private", "Alpha public", "Alpha team", "Beta public"]),
    ("editor", ["Alpha private", "Alpha public", "Alpha team", "Beta public"]),
    ("operator", ["Alpha public", "Alpha team", "Beta public"]),
    ("viewer", ["Alpha public", "Alpha team", "Beta public"]),
    ("outsider", ["Alpha public", "Beta public", "Beta team"]),
])
def test_list_shows_exactly_what_each_persona_may_see(personas, catalog, who, expected) -> None:
    response = personas.client(who).get("/api/v1/templates/?sort=newest")
    assert response.status_code == 200
    assert sorted(t["name"] for t in response.json()["results"]) == expected
    searched = personas.client(who).get("/api/v1/templates/?q=alpha")
    assert sorted(t["name"] for t in searched.json()["results"]) == [n for n in expected if n.startswith("Alpha")]


def test_list_requires_authentication(personas, catalog) -> None:
    response = personas.client(None).get("/api/v1/templates/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_list_item_shape_and_facets(personas, catalog) -> None:
    body = personas.client("viewer").get("/api/v1/templates/?q=alpha team").json()
    assert [t["slug"] for t in body["results"]] == ["alpha-team"]
    item = body["results"][0]
    assert {k: item[k] for k in ("slug", "name", "category", "tags", "publisher", "verified", "rating_average",
                                 "rating_count", "usage_count", "latest_version", "visibility")} == {
        "slug": "alpha-team", "name": "Alpha team", "category": "", "tags": [],
        "publisher": {"slug": "alpha", "name": "Alpha"}, "verified": False, "rating_average": 0.0,
        "rating_count": 0, "usage_count": 0, "latest_version": "1.0.0", "visibility": "team"}
    assert item["node_types"] == ["template"]
    assert item["model_ids"] == ["local/echo"]
    assert body["facets"] == {"category": [], "tag": []}
    assert body["next"] is None


def test_list_paginates_with_cursor_in_every_sort(personas, catalog) -> None:
    client = personas.client("editor")
    for sort in ["relevance", "popular", "newest", "rating"]:
        seen: list[str] = []
        url = f"/api/v1/templates/?sort={sort}&limit=1"
        while url:
            body = client.get(url).json()
            seen += [t["slug"] for t in body["results"]]
            url = f"/api/v1/templates/?sort={sort}&limit=1&cursor={body['next']}" if body["next"] else ""
        assert sorted(seen) == ["alpha-private", "alpha-public", "alpha-team", "beta-public"], sort
        assert len(seen) == 4


@pytest.mark.parametrize("query", ["sort=best", "limit=0", "cursor=abc", "verified=maybe", "q=alpha&cursor=WyJ4IiwieSJd",
                                   "q=alpha&cursor=WzEsIm5vdC1hLXV1aWQiXQ"])
def test_bad_list_parameters_are_400(personas, query) -> None:
    response = personas.client("viewer").get(f"/api/v1/templates/?{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_failed"


# --- create -----------------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("owner", 201), ("admin", 201), ("editor", 201), ("operator", 403),
                                        ("viewer", 403), ("outsider", 404), (None, 401)])
def test_create_needs_editor_in_the_team(personas, who, status) -> None:
    response = personas.client(who).post("/api/v1/templates/", create_body(personas), format="json")
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["slug"], body["name"], body["tags"], body["latest_version"], body["can_edit"]) == (
            "summarize-a-text", "Summarize a text", ["summarization", "llm"], "1.0.0", True)
        assert [v["version"] for v in body["versions"]] == ["1.0.0"]
        entry = events("template.published")[0]
        assert (entry.team_id, entry.actor_id, entry.target_id, entry.details["version"]) == (
            personas.team.pk, personas.users[who].pk, body["id"], "1.0.0")
    else:
        assert Template.objects.count() == 0
        assert TemplateVersion.objects.count() == 0
        assert events("template.published") == []


@pytest.mark.parametrize("who,status", [("owner", 201), ("admin", 201), ("editor", 403)])
def test_public_visibility_needs_admin(personas, who, status) -> None:
    response = personas.client(who).post("/api/v1/templates/", create_body(personas, visibility="public"),
                                         format="json")
    assert response.status_code == status
    assert Template.objects.filter(visibility="public").count() == (1 if status == 201 else 0)


def test_undeclared_placeholders_are_listed_and_nothing_is_stored(personas) -> None:
    version = summary_version()
    version["document"]["nodes"][1]["config"]["template"] = "{{ params.audience }} {{ params.length }}"
    response = personas.client("editor").post("/api/v1/templates/", create_body(personas, version=version),
                                              format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"] == "The document's placeholders name undeclared parameters: audience, length."
    assert [(d["parameter"], d["path"]) for d in error["details"]] == [
        ("audience", "/nodes/1/config/template"), ("length", "/nodes/1/config/template")]
    assert Template.objects.count() == 0


def test_a_template_whose_example_makes_an_invalid_workflow_is_refused(personas) -> None:
    version = summary_version(examples=[{"name": "Bad model", "parameters": {"model": "openai/gpt-4o-mini",
                                                                             "max_tokens": 20000}}])
    version["parameters"][4]["constraints"]["max_value"] = 200_000
    response = personas.client("editor").post("/api/v1/templates/", create_body(personas, version=version),
                                              format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"] == "The template does not make a valid workflow with its examples."
    assert [(d["example"], d["code"], d["node_id"]) for d in error["details"]] == [
        ("Bad model", "invalid_config", "model")]
    assert Template.objects.count() == 0


def test_invalid_parameter_definitions_are_400_with_fields(personas) -> None:
    version = summary_version(parameters=[{"name": "model", "type": "colour"}])
    response = personas.client("editor").post("/api/v1/templates/", create_body(personas, version=version),
                                              format="json")
    assert response.status_code == 400
    assert [d["field"] for d in error_of(response)["details"]] == ["version.parameters.model.type"]


def test_unknown_fields_are_refused(personas) -> None:
    response = personas.client("editor").post("/api/v1/templates/", create_body(personas, colour="red"),
                                              format="json")
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field"] == "colour"


# --- detail and update ----------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("owner", 200), ("viewer", 200), ("outsider", 404), (None, 401)])
def test_detail_of_a_team_template(personas, published, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/templates/{published.slug}/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["name"], body["can_edit"], body["my_rating"]) == (
            "Summarize a text", who == "owner", None)


def test_private_template_is_not_found_for_viewers(personas) -> None:
    template = publish(personas, visibility="private")
    assert personas.client("viewer").get(f"/api/v1/templates/{template.slug}/").status_code == 404
    assert personas.client("editor").get(f"/api/v1/templates/{template.slug}/").status_code == 200


@pytest.mark.parametrize("who,status", [("owner", 200), ("editor", 200), ("operator", 403), ("viewer", 403),
                                        ("outsider", 404), (None, 401)])
def test_patch_metadata_needs_editor(personas, published, who, status) -> None:
    response = personas.client(who).patch(f"/api/v1/templates/{published.slug}/",
                                          {"description": "New words", "tags": ["new"]}, format="json")
    assert response.status_code == status
    published.refresh_from_db()
    assert (published.description, published.tags) == (
        ("New words", ["new"]) if status == 200 else ("Summaries of any length and tone.", ["summarization", "llm"]))
    assert len(events("template.updated")) == (1 if status == 200 else 0)


def test_outsider_may_see_a_public_template_but_not_change_it(personas) -> None:
    template = publish(personas, actor="admin", visibility="public")
    client = personas.client("outsider")
    assert client.get(f"/api/v1/templates/{template.slug}/").status_code == 200
    response = client.patch(f"/api/v1/templates/{template.slug}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    template.refresh_from_db()
    assert template.name == "Summarize a text"


def test_verify_and_feature_are_staff_only(personas, published) -> None:
    response = personas.client("owner").patch(f"/api/v1/templates/{published.slug}/", {"verified": True,
                                                                                       "name": "Renamed"},
                                              format="json")
    assert response.status_code == 403
    published.refresh_from_db()
    assert (published.verified, published.name) == (False, "Summarize a text")
    staff = make_user("staff", is_staff=True)
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(staff)
    # Staff see only what their visibility allows: make it public first.
    published.visibility = "public"
    published.save(update_fields=["visibility"])
    response = client.patch(f"/api/v1/templates/{published.slug}/", {"verified": True, "featured": True},
                            format="json")
    assert response.status_code == 200
    assert (response.json()["verified"], response.json()["featured"]) == (True, True)
    assert [request_free(e.details) for e in events("template.verified")] == [{"slug": published.slug, "verified": True}]
    assert [request_free(e.details) for e in events("template.featured")] == [{"slug": published.slug, "featured": True}]


def test_editor_deprecates_and_instantiation_warns(personas, published) -> None:
    response = personas.client("editor").patch(f"/api/v1/templates/{published.slug}/", {"deprecated": True},
                                               format="json")
    assert response.status_code == 200
    assert response.json()["deprecated"] is True
    assert len(events("template.deprecated")) == 1
    response = personas.client("editor").post(f"/api/v1/templates/{published.slug}/instantiate/", {
        "team": str(personas.team.pk), "parameters": {"model": "local/echo"}}, format="json")
    assert response.status_code == 201
    assert [w["code"] for w in response.json()["warnings"]] == ["deprecated_template"]


def test_public_visibility_change_needs_admin(personas, published) -> None:
    response = personas.client("editor").patch(f"/api/v1/templates/{published.slug}/", {"visibility": "public"},
                                               format="json")
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.visibility == "team"
    response = personas.client("admin").patch(f"/api/v1/templates/{published.slug}/", {"visibility": "public"},
                                              format="json")
    assert response.status_code == 200
    assert response.json()["visibility"] == "public"


# --- versions ----------------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("editor", 201), ("viewer", 403), ("outsider", 404), (None, 401)])
def test_new_version_needs_editor(personas, published, who, status) -> None:
    response = personas.client(who).post(f"/api/v1/templates/{published.slug}/versions/",
                                         summary_version("1.1.0"), format="json")
    assert response.status_code == status
    published.refresh_from_db()
    assert published.latest_version == ("1.1.0" if status == 201 else "1.0.0")
    assert TemplateVersion.objects.count() == (2 if status == 201 else 1)
    if status == 201:
        assert response.json()["version"] == "1.1.0"
        assert events("template.versioned")[0].details["previous"] == "1.0.0"


@pytest.mark.parametrize("version,status,code", [("1.0.0", 409, "conflict"), ("0.9.0", 409, "conflict"),
                                                 ("1.0", 400, "validation_failed")])
def test_new_version_must_be_greater_and_well_formed(personas, published, version, status, code) -> None:
    response = personas.client("editor").post(f"/api/v1/templates/{published.slug}/versions/",
                                              summary_version(version), format="json")
    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert TemplateVersion.objects.count() == 1


def test_new_version_needs_a_changelog(personas, published) -> None:
    response = personas.client("editor").post(f"/api/v1/templates/{published.slug}/versions/",
                                              summary_version("2.0.0", changelog=" "), format="json")
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field"] == "version.changelog"


def test_versions_list_and_detail(personas, published) -> None:
    services.template_version_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                     template=published,
                                     version=summary_version("1.9.0"))
    services.template_version_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                     template=published,
                                     version=summary_version("1.10.0"))
    client = personas.client("viewer")
    body = client.get(f"/api/v1/templates/{published.slug}/versions/").json()
    assert [(v["version"], v["created_by"]) for v in body["results"]] == [
        ("1.10.0", "alpha-editor"), ("1.9.0", "alpha-editor"), ("1.0.0", "alpha-editor")]
    detail = client.get(f"/api/v1/templates/{published.slug}/versions/1.9.0/")
    assert detail.json()["changelog"] == "Version 1.9.0."
    assert client.get(f"/api/v1/templates/{published.slug}/versions/3.0.0/").status_code == 404


def test_versions_are_immutable(published) -> None:
    version = published.versions.get()
    version.changelog = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        version.save()


# --- parameters ----------------------------------------------------------------------


def test_parameters_with_json_schema_and_version_constraint(personas, published) -> None:
    newer = summary_version("1.1.0")
    newer["parameters"][0]["constraints"]["max_value"] = 20
    services.template_version_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                     template=published, version=newer)
    client = personas.client("viewer")
    latest = client.get(f"/api/v1/templates/{published.slug}/parameters/").json()
    assert latest["version"] == "1.1.0"
    assert latest["json_schema"]["properties"]["sentences"]["maximum"] == 20
    assert latest["json_schema"]["required"] == ["model"]
    assert [p["name"] for p in latest["parameters"]] == ["sentences", "tone", "model", "temperature", "max_tokens"]
    pinned = client.get(f"/api/v1/templates/{published.slug}/parameters/?version=~1.0").json()
    assert (pinned["version"], pinned["json_schema"]["properties"]["sentences"]["maximum"]) == ("1.0.0", 10)
    missing = client.get(f"/api/v1/templates/{published.slug}/parameters/?version=^2")
    assert missing.status_code == 404
    assert error_of(missing) == {
        "code": "not_found", "message": "version: no version satisfies '^2' (available: 1.1.0, 1.0.0)",
        "details": [{"field": "version", "code": "not_found",
                     "message": "no version satisfies '^2' (available: 1.1.0, 1.0.0)"}]}
    unreadable = client.get(f"/api/v1/templates/{published.slug}/parameters/?version=^two")
    assert (unreadable.status_code, error_of(unreadable)["code"]) == (400, "validation_failed")


# --- instantiate ----------------------------------------------------------------------


def instantiate(personas, template, who="editor", **body: Any):
    payload = {"team": str(personas.team.pk), "parameters": {"model": "local/echo"}, **body}
    return personas.client(who).post(f"/api/v1/templates/{template.slug}/instantiate/", payload, format="json")


@pytest.mark.parametrize("who,status", [("owner", 201), ("editor", 201), ("operator", 403), ("viewer", 403),
                                        ("outsider", 404), (None, 401)])
def test_instantiate_needs_editor_in_the_target_team(personas, published, who, status) -> None:
    response = instantiate(personas, published, who)
    assert response.status_code == status
    published.refresh_from_db()
    assert published.usage_count == (1 if status == 201 else 0)
    assert Workflow.objects.count() == Instantiation.objects.count() == (1 if status == 201 else 0)
    assert len(events("template.instantiated")) == (1 if status == 201 else 0)


def test_instantiate_answers_the_workflow_warnings_and_defaults(personas, published) -> None:
    response = instantiate(personas, published, parameters={"model": "openai/gpt-4o-mini", "tone": "formal"},
                           overrides={"/nodes/@model/config/temperature": 0.9}, name="Board summaries")
    assert response.status_code == 201
    body = response.json()
    workflow = Workflow.objects.get()
    assert body["workflow"] == {"id": str(workflow.pk), "team": str(personas.team.pk), "name": "Board summaries",
                                "description": "Summarize any text in a few sentences.", "version": "1.0.0",
                                "url": f"/api/v1/workflows/{workflow.pk}/"}
    assert body["template_version"] == "1.0.0"
    assert body["warnings"] == []
    assert body["applied_defaults"] == [{"parameter": "sentences", "value": 3},
                                        {"parameter": "temperature", "value": 0.2},
                                        {"parameter": "max_tokens", "value": 512}]
    nodes = {n["id"]: n for n in workflow.current_version.document["workflow"]["nodes"]}
    assert nodes["model"]["model_id"] == "openai/gpt-4o-mini"
    assert nodes["model"]["config"] == {"temperature": 0.9, "max_tokens": 512}
    assert nodes["prompt"]["config"]["template"] == (
        "Summarize in 3 sentences, formal tone: {{ inputs.variables.text }}")
    origin = Instantiation.objects.get()
    assert (origin.template_version.version, origin.workflow_id, origin.created_by_id) == (
        "1.0.0", workflow.pk, personas.users["editor"].pk)
    assert origin.parameters == {"model": "openai/gpt-4o-mini", "tone": "formal", "sentences": 3,
                                 "temperature": 0.2, "max_tokens": 512}
    entry = events("template.instantiated")[0]
    assert (entry.details["template"], entry.details["template_version"], entry.target_id) == (
        published.slug, "1.0.0", str(workflow.pk))


def test_invalid_parameters_are_400_naming_every_one_and_nothing_is_created(personas, published) -> None:
    response = instantiate(personas, published, parameters={"sentences": 0, "tone": "angry", "colour": "red"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"] == "Invalid parameters: colour, model, sentences, tone."
    assert [(d["parameter"], d["code"]) for d in error["details"]] == [
        ("colour", "unknown_parameter"), ("model", "required"), ("sentences", "too_small"), ("tone", "not_allowed")]
    published.refresh_from_db()
    assert published.usage_count == 0
    assert Workflow.objects.count() == 0
    assert events("template.instantiated") == []


def test_overrides_that_make_an_invalid_workflow_are_refused(personas, published) -> None:
    response = instantiate(personas, published, overrides={"/nodes/@model/config/temperature": 7})
    assert response.status_code == 400
    assert [(d["code"], d["node_id"]) for d in error_of(response)["details"]] == [("invalid_config", "model")]
    response = instantiate(personas, published, overrides={"/nodes/@ghost/config": {}})
    assert response.status_code == 400
    assert error_of(response)["details"][0]["code"] == "invalid_override"
    assert Workflow.objects.count() == 0


def test_instantiate_resolves_version_constraints_and_warns_of_newer(personas, published) -> None:
    services.template_version_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                     template=published,
                                     version=summary_version("2.0.0"))
    response = instantiate(personas, published, version="^1")
    assert response.status_code == 201
    assert response.json()["template_version"] == "1.0.0"
    assert response.json()["warnings"] == [{"code": "newer_version_available", "latest": "2.0.0",
                                            "message": "Version 2.0.0 exists outside the constraint '^1'."}]
    assert instantiate(personas, published, version="latest").json()["template_version"] == "2.0.0"


def test_outsider_instantiates_a_public_template_into_their_own_team(personas) -> None:
    template = publish(personas, actor="admin", visibility="public")
    response = personas.client("outsider").post(f"/api/v1/templates/{template.slug}/instantiate/", {
        "team": str(personas.other_team.pk), "parameters": {"model": "local/echo"}}, format="json")
    assert response.status_code == 201
    assert Workflow.objects.get().team == personas.other_team
    # ...but never into a team they are not in.
    response = personas.client("outsider").post(f"/api/v1/templates/{template.slug}/instantiate/", {
        "team": str(personas.team.pk), "parameters": {"model": "local/echo"}}, format="json")
    assert response.status_code == 404
    assert Workflow.objects.count() == 1


# --- rating ------------------------------------------------------------------------------


def test_rating_upserts_and_keeps_an_exact_average(personas, published) -> None:
    url = f"/api/v1/templates/{published.slug}/rating/"
    assert personas.client("viewer").post(url, {"stars": 5}, format="json").json() == {
        "stars": 5, "rating_average": 5.0, "rating_count": 1}
    assert personas.client("editor").post(url, {"stars": 2}, format="json").json() == {
        "stars": 2, "rating_average": 3.5, "rating_count": 2}
    assert personas.client("viewer").post(url, {"stars": 3}, format="json").json() == {
        "stars": 3, "rating_average": 2.5, "rating_count": 2}
    assert sorted(Rating.objects.values_list("user__username", "stars")) == [("alpha-editor", 2), ("alpha-viewer", 3)]
    assert [e.details["stars"] for e in events("template.rated")] == [5, 2, 3]
    assert personas.client("viewer").get(f"/api/v1/templates/{published.slug}/").json()["my_rating"] == 3


@pytest.mark.parametrize("who,stars,status", [("viewer", 0, 400), ("viewer", 6, 400), ("viewer", "x", 400),
                                              ("outsider", 4, 404), (None, 4, 401)])
def test_bad_ratings_change_nothing(personas, published, who, stars, status) -> None:
    response = personas.client(who).post(f"/api/v1/templates/{published.slug}/rating/", {"stars": stars},
                                         format="json")
    assert response.status_code == status
    published.refresh_from_db()
    assert (published.rating_count, published.rating_average, Rating.objects.count()) == (0, 0.0, 0)


# --- save as template ----------------------------------------------------------------------


def test_save_a_workflow_as_a_template(personas, published) -> None:
    response = instantiate(personas, published, parameters={"model": "openai/gpt-4o-mini", "sentences": 4})
    workflow_id = response.json()["workflow"]["id"]
    response = personas.client("editor").post("/api/v1/templates/from-workflow/", {
        "workflow": workflow_id, "name": "Four-sentence summaries",
        "parameters": [{"path": "/nodes/@model/model_id", "name": "model"},
                       {"path": "/nodes/@model/config/temperature", "name": "temperature",
                        "constraints": {"min_value": 0, "max_value": 1}}],
    }, format="json")
    assert response.status_code == 201, response.json()
    slug = response.json()["slug"]
    parameters = personas.client("editor").get(f"/api/v1/templates/{slug}/parameters/").json()["parameters"]
    assert [(p["name"], p["type"], p["default"]) for p in parameters] == [
        ("model", "string", "openai/gpt-4o-mini"), ("temperature", "float", 0.2)]
    version = TemplateVersion.objects.get(template__slug=slug)
    nodes = {n["id"]: n for n in version.document["nodes"]}
    assert nodes["model"]["model_id"] == "{{ params.model }}"
    assert nodes["model"]["config"]["temperature"] == "{{ params.temperature }}"
    assert version.examples == [{"name": "As in Summarize a text", "description": "",
                                 "parameters": {"model": "openai/gpt-4o-mini", "temperature": 0.2}}]
    bad = personas.client("editor").post("/api/v1/templates/from-workflow/", {
        "workflow": workflow_id, "parameters": [{"path": "/nodes/@nope/config", "name": "x"}]}, format="json")
    assert bad.status_code == 400
    assert error_of(bad)["details"][0]["field"] == "parameters[0].path"
    viewer = personas.client("viewer").post("/api/v1/templates/from-workflow/", {
        "workflow": workflow_id, "parameters": [{"path": "/nodes/@model/model_id", "name": "model"}]}, format="json")
    assert viewer.status_code == 403


@pytest.mark.parametrize("index", ["\u0661", "\u00b2"])
def test_a_save_as_path_index_is_ascii_digits(personas, published, index) -> None:
    """JSON Pointer (RFC 6901) indexes are ASCII digits: an Arabic-Indic one made node 1's model a
    parameter (`str.isdigit()` takes it, `int()` reads it), a superscript two answered Python's own
    "invalid literal for int()"; both are the path's 400 naming the element, and nothing is saved."""
    workflow_id = instantiate(personas, published, parameters={"model": "openai/gpt-4o-mini"}).json()["workflow"]["id"]
    templates = Template.objects.count()
    bad = personas.client("editor").post("/api/v1/templates/from-workflow/", {
        "workflow": workflow_id, "name": "By index",
        "parameters": [{"path": f"/nodes/{index}/model_id", "name": "model"}]}, format="json")
    assert bad.status_code == 400
    assert error_of(bad)["details"] == [{"field": "parameters[0].path", "code": "invalid_path",
                                         "message": f"/nodes/{index}/model_id: no element {index!r}"}]
    assert Template.objects.count() == templates


# --- every read endpoint, every persona ----------------------------------------------


@pytest.mark.parametrize("path", ["", "versions/", "versions/1.0.0/", "parameters/", "parameters/?version=^1"])
@pytest.mark.parametrize("who,status", [("owner", 200), ("admin", 200), ("editor", 200), ("operator", 200),
                                        ("viewer", 200), ("outsider", 404), (None, 401)])
def test_reads_of_a_team_template_by_persona(personas, published, path, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/templates/{published.slug}/{path}")
    assert response.status_code == status
    if status != 200:
        assert error_of(response)["code"] == {404: "not_found", 401: "not_authenticated"}[status]


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/v1/templates/", {}),
    ("post", "/api/v1/templates/from-workflow/", {}),
    ("patch", "/api/v1/templates/{slug}/", {"name": "x"}),
    ("post", "/api/v1/templates/{slug}/versions/", {}),
    ("post", "/api/v1/templates/{slug}/instantiate/", {}),
    ("post", "/api/v1/templates/{slug}/rating/", {"stars": 5}),
])
def test_anonymous_writes_are_401_and_change_nothing(personas, published, method, path, body) -> None:
    response = getattr(personas.client(None), method)(path.format(slug=published.slug), body, format="json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert (Template.objects.count(), TemplateVersion.objects.count(), Rating.objects.count(),
            Workflow.objects.count()) == (1, 1, 0, 0)


@pytest.mark.parametrize("method,path,body", [
    ("patch", "/api/v1/templates/{slug}/", {"name": "x"}),
    ("post", "/api/v1/templates/{slug}/versions/", {}),
    ("post", "/api/v1/templates/{slug}/instantiate/", {}),
    ("post", "/api/v1/templates/{slug}/rating/", {"stars": 5}),
])
def test_outsider_writes_to_a_team_template_are_404(personas, published, method, path, body) -> None:
    response = getattr(personas.client("outsider"), method)(path.format(slug=published.slug), body, format="json")
    assert response.status_code == 404
    assert (TemplateVersion.objects.count(), Rating.objects.count(), Workflow.objects.count()) == (1, 0, 0)
