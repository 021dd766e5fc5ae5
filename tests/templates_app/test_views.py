"""The marketplace web UI without JavaScript: search form, template page, parameter form, use, rate."""

from __future__ import annotations

import pytest
from django.test import Client

from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.models import Rating
from tests.templates_app.conftest import summary_version
from workflows import samples
from workflows import services as workflow_services
from workflows.models import Workflow


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_templates(personas, published):
    other = services.template_publish(actor=Actor.of(personas.users["admin"]), origin=Origin.command(),
                                      team=personas.team, name="Translate text",
                                      description="Any language to any other.", category="translation",
                                      tags=["translation"], visibility="public", version=summary_version())
    return published, other


def test_marketplace_lists_cards_with_facets_and_searches_without_javascript(personas, two_templates) -> None:
    client = client_for(personas.users["viewer"])
    page = client.get("/templates/").content.decode()
    assert page.count('class="tpl-card') == 2
    assert ">summarization</a> <span class=\"count\">1</span>" in page
    found = client.get("/templates/?q=translate").content.decode()
    assert found.count('class="tpl-card') == 1
    assert "Translate text" in found
    assert client.get("/templates/?q=zzzzqqq").content.decode().count("No template matches") == 1


def test_anonymous_is_sent_to_login(db) -> None:
    response = Client().get("/templates/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_template_page_renders_the_form_in_groups_and_order(personas, published) -> None:
    page = client_for(personas.users["editor"]).get(f"/templates/{published.slug}/").content.decode()
    assert page.index("<legend>Output</legend>") < page.index("<legend>Model</legend>")
    assert page.index('name="param__sentences"') < page.index('name="param__tone"') < page.index('name="param__model"')
    assert 'type="range" name="param__sentences" value="3" min="1" max="10"' in page
    assert '<option value="local/echo" >local/echo</option>' in page
    assert "Use template" in page
    assert "First version." in page


def test_viewer_sees_no_use_form(personas, published) -> None:
    page = client_for(personas.users["viewer"]).get(f"/templates/{published.slug}/").content.decode()
    assert "Creating a workflow needs the editor role" in page
    assert 'name="param__sentences"' not in page


def test_outsider_gets_404_for_a_team_template(personas, published) -> None:
    assert client_for(personas.users["outsider"]).get(f"/templates/{published.slug}/").status_code == 404


def test_use_template_creates_the_workflow_and_redirects_to_it(personas, published) -> None:
    response = client_for(personas.users["editor"]).post(f"/templates/{published.slug}/use/", {
        "version": "1.0.0", "team": str(personas.team.pk), "name": "From the form", "param__sentences": "5",
        "param__tone": "formal", "param__model": "local/echo", "param__temperature": "0.5",
        "param__max_tokens": "256"})
    workflow = Workflow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/{workflow.pk}/"
    assert workflow.name == "From the form"
    assert workflow.template_origin.parameters == {"sentences": 5, "tone": "formal", "model": "local/echo",
                                                  "temperature": 0.5, "max_tokens": 256}


def test_use_template_with_bad_values_shows_errors_beside_fields(personas, published) -> None:
    response = client_for(personas.users["editor"]).post(f"/templates/{published.slug}/use/", {
        "version": "1.0.0", "team": str(personas.team.pk), "param__sentences": "50", "param__tone": "formal",
        "param__model": "local/echo", "param__max_tokens": "many"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be at most 10" in page
    assert "must be of type integer" in page
    assert 'value="50"' in page  # what the user typed is kept
    assert Workflow.objects.count() == 0


def test_rating_from_the_page(personas, published) -> None:
    response = client_for(personas.users["viewer"]).post(f"/templates/{published.slug}/rate/", {"stars": "4"})
    assert response.status_code == 302
    assert list(Rating.objects.values_list("stars", flat=True)) == [4]



def test_workflow_page_names_its_template_origin(personas, published, django_assert_max_num_queries) -> None:
    editor = client_for(personas.users["editor"])
    editor.post(f"/templates/{published.slug}/use/", {
        "version": "1.0.0", "team": str(personas.team.pk), "name": "From the form", "param__sentences": "5",
        "param__tone": "formal", "param__model": "local/echo", "param__temperature": "0.5",
        "param__max_tokens": "256"})
    workflow = Workflow.objects.get()
    viewer = client_for(personas.users["viewer"])
    with django_assert_max_num_queries(8):  # the page's own 7 and its last run
        html = viewer.get(f"/workflows/{workflow.pk}/").content.decode()
    assert (f'Made from the template <strong>{published.name}</strong> 1.0.0 · '
            f'<a href="/templates/origin/{workflow.pk}/">check for a newer version</a>') in html
    by_hand = workflow_services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                                team=personas.team,
                                                document=samples.linear())
    assert 'id="template-origin"' not in viewer.get(f"/workflows/{by_hand.pk}/").content.decode()


@pytest.mark.parametrize("stars", ["\u00b2", "\u0664"])
def test_stars_in_other_digits_are_refused_like_any_non_number(personas, published, stars) -> None:
    """`str.isdigit()` took a superscript two (then `int()` raised: a 500) and an Arabic-Indic
    four (read as 4 stars)."""
    client = client_for(personas.users["viewer"])
    response = client.post(f"/templates/{published.slug}/rate/", {"stars": stars})
    words = client.post(f"/templates/{published.slug}/rate/", {"stars": "many"})
    assert response.status_code == words.status_code == 302
    assert Rating.objects.count() == 0


@pytest.mark.parametrize("example", ["%C2%B2", "%D9%A0"])
def test_an_example_number_in_other_digits_is_ignored(personas, published, example) -> None:
    """`?example=` picks a version's example by its ASCII index; a superscript two raised in `int()`
    (a 500) and an Arabic-Indic zero was read as 0."""
    client = client_for(personas.users["viewer"])
    response = client.get(f"/templates/{published.slug}/?example={example}")
    plain = client.get(f"/templates/{published.slug}/")
    assert response.status_code == plain.status_code == 200
