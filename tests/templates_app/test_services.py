"""The template services asked directly: what a version's body is cleaned to, and a chosen slug."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, ValidationFailed
from templates_app.models import Template
from templates_app.services import template_publish, template_rate, template_update
from templates_app.services.preparation import prepare_version
from tests.templates_app.conftest import summary_version
from workflows import samples


def test_examples_are_named_by_position_when_unnamed_and_names_cut_at_200_characters(db) -> None:
    examples = [{"name": "n" * 250, "description": "d" * 2500, "parameters": {"model": "local/echo"}},
                {"parameters": {"model": "local/echo", "tone": "formal"}},
                {"name": "", "description": None, "parameters": {"model": "openai/gpt-4o-mini"}}]
    prepared = prepare_version(summary_version(examples=examples))
    assert prepared.examples == [
        {"name": "n" * 200, "description": "d" * 2000, "parameters": {"model": "local/echo"}},
        {"name": "Example 2", "description": "", "parameters": {"model": "local/echo", "tone": "formal"}},
        {"name": "Example 3", "description": "", "parameters": {"model": "openai/gpt-4o-mini"}},
    ]
    assert len(prepared.instantiated) == 3


def test_a_chosen_slug_is_kept_when_it_is_a_free_lowercase_slug_and_refused_otherwise(personas) -> None:
    editor = Actor.of(personas.users["editor"])

    def publish(slug: str | None, name: str = "Summaries") -> Template:
        return template_publish(actor=editor, origin=Origin.command(), team=personas.team, name=name,
                                version=summary_version(), slug=slug)

    assert publish("team-summaries").slug == "team-summaries"
    refused = {}
    for slug in ("Team Summaries", "", "origins", "from-workflow", "team-summaries"):
        try:
            publish(slug, name=f"Other {len(refused)}")
        except (ValidationFailed, Conflict) as error:
            refused[slug] = (type(error).__name__, error.details[0].get("field") if error.details else None)
    assert refused == {
        "Team Summaries": ("ValidationFailed", "slug"), "": ("ValidationFailed", "slug"),
        "origins": ("ValidationFailed", "slug"), "from-workflow": ("ValidationFailed", "slug"),
        "team-summaries": ("Conflict", None),
    }
    assert list(Template.objects.values_list("slug", flat=True)) == ["team-summaries"]
    assert list(AuditEntry.objects.filter(event_type="template.published").values_list("details__slug", flat=True)) \
        == ["team-summaries"]


def test_a_description_is_at_most_ten_thousand_characters_on_publish_and_on_update(personas) -> None:
    editor = Actor.of(personas.users["editor"])
    template = template_publish(actor=editor, origin=Origin.command(), team=personas.team, name="Summaries",
                                version=summary_version(), description="p" * 10_000)
    for description in ("u" * 10_001, 42):
        with pytest.raises(ValidationFailed) as refused:
            template_update(actor=editor, origin=Origin.command(), template=template, description=description)
        assert refused.value.details == [{"field": "description", "code": "invalid",
                                          "message": "must be text of at most 10,000 characters"}]
    with pytest.raises(ValidationFailed) as refused:
        template_publish(actor=editor, origin=Origin.command(), team=personas.team, name="Longer",
                         version=summary_version(), description="p" * 10_001)
    assert refused.value.details[0]["field"] == "description"
    assert Template.objects.get().description == "p" * 10_000
    template_update(actor=editor, origin=Origin.command(), template=template, description="u" * 10_000)
    assert Template.objects.get().description == "u" * 10_000
    assert list(AuditEntry.objects.filter(event_type__startswith="template.").order_by("sequence")
                .values_list("event_type", flat=True)) == ["template.published", "template.updated"]


def test_a_versions_node_types_and_models_are_read_from_every_kind_of_node(db) -> None:
    prepared = prepare_version({"version": "1.0.0", "document": samples.branching(), "parameters": []})
    assert prepared.node_types() == ["json_parse", "branch", "log"]
    assert prepared.model_ids() == ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"]


def test_a_second_rating_replaces_the_first_and_the_log_names_the_one_it_replaced(personas) -> None:
    editor = Actor.of(personas.users["editor"])
    template = template_publish(actor=editor, origin=Origin.command(), team=personas.team, name="Summaries",
                                version=summary_version())
    viewer = Actor.of(personas.users["viewer"])
    for stars in (2, 5, 5):
        template_rate(actor=viewer, origin=Origin.command(), template=template, stars=stars)
    template_rate(actor=editor, origin=Origin.command(), template=template, stars=4)
    template.refresh_from_db()
    assert (template.rating_total, template.rating_count, template.rating_average) == (9, 2, 4.5)
    assert list(AuditEntry.objects.filter(event_type="template.rated").order_by("sequence")
                .values_list("actor_name", "details")) == [
        ("alpha-viewer", {"slug": template.slug, "stars": 2, "previous": None}),
        ("alpha-viewer", {"slug": template.slug, "stars": 5, "previous": 2}),
        ("alpha-viewer", {"slug": template.slug, "stars": 5, "previous": 5}),
        ("alpha-editor", {"slug": template.slug, "stars": 4, "previous": None}),
    ]
