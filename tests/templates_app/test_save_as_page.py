"""'Save as template' from the workflow page: pick values, name them, publish."""

from __future__ import annotations

import pytest
from django.test import Client

from symphony_site.actors import Actor, Origin
from templates_app.models import Template
from workflows import samples
from workflows import services as workflow_services

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def workflow(personas):
    return workflow_services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                             document=samples.linear())


def test_the_page_offers_the_model_and_scalar_configs_as_parameters(personas, workflow) -> None:
    html = client_for(personas.users["editor"]).get(f"/templates/from-workflow/{workflow.pk}/").content.decode()
    for label in ["Answer · model", "Answer · max_tokens", "Answer · temperature"]:
        assert label in html
    # A config string holding a run-time expression is not offered.
    assert "Prompt · template" not in html
    assert 'value="answer_temperature"' in html


def test_publishing_makes_the_chosen_values_parameters(personas, workflow) -> None:
    response = client_for(personas.users["editor"]).post(f"/templates/from-workflow/{workflow.pk}/", {
        "name": "Quick answers", "description": "Ask, get a short answer.", "category": "qa",
        "tags": "qa, demo", "visibility": "team",
        "use__0": "on", "name__0": "model", "use__2": "on", "name__2": "temperature"})
    template = Template.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/templates/{template.slug}/"
    assert (template.name, template.category, sorted(template.tags), template.visibility) == (
        "Quick answers", "qa", ["demo", "qa"], "team")
    version = template.versions.get()
    assert sorted(p["name"] for p in version.parameters) == ["model", "temperature"]
    answer = next(node for node in version.document["nodes"] if node["id"] == "answer")
    assert answer["model_id"] == "{{ params.model }}"
    assert answer["config"] == {"max_tokens": 400, "temperature": "{{ params.temperature }}"}
    assert "Save as template" in client_for(personas.users["editor"]).get(f"/workflows/{workflow.pk}/").content.decode()


def test_a_bad_parameter_name_publishes_nothing_and_says_why(personas, workflow) -> None:
    response = client_for(personas.users["editor"]).post(f"/templates/from-workflow/{workflow.pk}/", {
        "name": "Broken", "visibility": "team", "use__0": "on", "name__0": "not a name!"})
    assert response.status_code == 200
    assert 'id="save-as-problems"' in response.content.decode()
    assert Template.objects.count() == 0


@pytest.mark.parametrize("who,status", [("viewer", 403), ("operator", 403), ("outsider", 404)])
def test_only_editors_of_the_team_reach_the_page(personas, workflow, who, status) -> None:
    client = client_for(personas.users[who])
    assert client.get(f"/templates/from-workflow/{workflow.pk}/").status_code == status
    assert client.post(f"/templates/from-workflow/{workflow.pk}/", {"name": "X", "visibility": "team"}).status_code == status
    assert Template.objects.count() == 0
    assert "Save as template" not in client.get(f"/workflows/{workflow.pk}/").content.decode()
