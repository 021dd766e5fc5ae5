"""A workflow knows its template origin; a newer compatible version is offered with its diff and an upgrade."""

from __future__ import annotations

from django.test import Client

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.models import Instantiation
from tests.templates_app.conftest import summary_version


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _made(personas, published):
    workflow, _, _ = services.template_instantiate(
        actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, template=published,
        parameters={"model": "local/echo", "sentences": 4}, overrides={"/nodes/@model/config/max_tokens": 300})
    return workflow


def _v110(personas, published) -> None:
    newer = summary_version("1.1.0", changelog="Asks for a title line.")
    newer["document"]["nodes"][1]["config"]["template"] = (
        "Title line, then {{ params.sentences }} sentences ({{ params.tone }}): {{ inputs.variables.text }}")
    services.template_version_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), template=published, version=newer)


def test_origin_page_without_newer_version(personas, published) -> None:
    workflow = _made(personas, published)
    page = client_for(personas.users["viewer"]).get(f"/templates/origin/{workflow.pk}/").content.decode()
    assert "Up to date" in page
    assert "<code>sentences</code></td><td><code>4</code>" in page


def test_newer_compatible_version_is_offered_with_its_diff_and_upgrades(personas, published) -> None:
    workflow = _made(personas, published)
    _v110(personas, published)
    services.template_version_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), template=published,
                                     version=summary_version("2.0.0", changelog="Breaking."))
    client = client_for(personas.users["editor"])
    page = client.get(f"/templates/origin/{workflow.pk}/").content.decode()
    assert "Version 1.1.0 is available" in page
    assert "Asks for a title line." in page
    assert "changed</span> node <code>prompt</code>" in page
    response = client.post(f"/templates/origin/{workflow.pk}/")
    assert response.status_code == 302
    workflow.refresh_from_db()
    document = workflow.current_version.document["workflow"]
    nodes = {node["id"]: node for node in document["nodes"]}
    assert nodes["prompt"]["config"]["template"].startswith("Title line, then 4 sentences (neutral)")
    assert nodes["model"]["config"]["max_tokens"] == 300  # the override survives the upgrade
    assert document["metadata"]["custom"]["template"] == {"slug": published.slug, "version": "1.1.0"}
    assert workflow.current_version.version == "1.0.1"
    origin = Instantiation.objects.get(workflow=workflow)
    assert origin.template_version.version == "1.1.0"
    entry = AuditEntry.objects.filter(event_type="template.instantiated").order_by("occurred_at", "sequence").last()
    assert (entry.details["upgraded_from"], entry.details["template_version"]) == ("1.0.0", "1.1.0")
    assert "Up to date" in client.get(f"/templates/origin/{workflow.pk}/").content.decode()


def test_viewer_cannot_upgrade(personas, published) -> None:
    workflow = _made(personas, published)
    _v110(personas, published)
    client = client_for(personas.users["viewer"])
    assert "Re-instantiate with 1.1.0" not in client.get(f"/templates/origin/{workflow.pk}/").content.decode()
    client.post(f"/templates/origin/{workflow.pk}/")
    workflow.refresh_from_db()
    assert workflow.current_version.version == "1.0.0"
    assert Instantiation.objects.get(workflow=workflow).template_version.version == "1.0.0"


def test_outsider_gets_404(personas, published) -> None:
    workflow = _made(personas, published)
    assert client_for(personas.users["outsider"]).get(f"/templates/origin/{workflow.pk}/").status_code == 404


def test_origin_api_reports_and_upgrades(personas, published) -> None:
    workflow = _made(personas, published)
    url = f"/api/v1/templates/origins/{workflow.pk}/"
    body = personas.client("viewer").get(url).json()
    assert {k: body[k] for k in ("template", "template_version", "parameters", "overrides", "created_by",
                                 "newer_version")} == {
        "template": published.slug, "template_version": "1.0.0",
        "parameters": {"model": "local/echo", "sentences": 4, "tone": "neutral", "temperature": 0.2,
                       "max_tokens": 512},
        "overrides": {"/nodes/@model/config/max_tokens": 300}, "created_by": "alpha-editor", "newer_version": None}
    conflict = personas.client("editor").post(f"{url}upgrade/")
    assert conflict.status_code == 409
    _v110(personas, published)
    assert personas.client("viewer").get(url).json()["newer_version"] == {"version": "1.1.0",
                                                                         "changelog": "Asks for a title line."}
    assert personas.client("viewer").post(f"{url}upgrade/").status_code == 403
    assert personas.client("outsider").get(url).status_code == 404
    assert personas.client(None).get(url).status_code == 401
    response = personas.client("editor").post(f"{url}upgrade/")
    assert response.status_code == 200
    assert (response.json()["template_version"], response.json()["workflow"]["version"]) == ("1.1.0", "1.0.1")
    assert personas.client("viewer").get(url).json()["template_version"] == "1.1.0"
