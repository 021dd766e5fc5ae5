"""The local-model demos: seeded idempotently, valid, instantiable as templates, and run
offline through the real engine with the answers a person would give."""

from __future__ import annotations

from typing import Any

import pytest

from instruments import demo
from templates_app.domain.instantiation import (
    instantiate_document,
    template_problems,
    unused_parameters,
)
from templates_app.domain.parameters import parse_parameters
from tests.executions.conftest import run
from workflows.catalog import builtin_catalog
from workflows.domain import validate_document
from workflows.models import Workflow


def test_the_demo_documents_are_valid_and_need_no_provider(personas) -> None:
    from instruments.availability import model_problems

    for build in demo.DEMO_WORKFLOWS:
        result = validate_document(build(), catalog=builtin_catalog())
        assert result.valid, [issue.message for issue in result.errors]
        assert model_problems(personas.team, result.workflow) == []


def test_seeding_twice_creates_each_demo_once(db) -> None:
    from symphony_site.management.commands.seed_demo import seed_teams
    from templates_app.models import Template

    seeded = seed_teams()
    demo.seed_instruments(seeded)
    demo.seed_instruments(seeded)
    names = sorted(Workflow.objects.filter(team=seeded["demo"]).values_list("name", flat=True))
    assert names == ["Answer from the closest FAQ", "Deduplicate near-identical records",
                     "Route support tickets by meaning"]
    assert sorted(Template.objects.values_list("slug", flat=True)) == [
        "closest-faq-answer", "deduplicate-records", "route-tickets-by-meaning"]


@pytest.mark.parametrize("entry", demo.template_entries(), ids=lambda entry: entry["slug"])
def test_each_template_instantiates_with_its_defaults(entry: dict[str, Any]) -> None:
    definitions = parse_parameters(entry["parameters"])
    assert template_problems(entry["document"], definitions) == []
    assert unused_parameters(entry["document"], definitions) == []
    result = instantiate_document(entry["document"], definitions, {})
    validation = validate_document(result.document, catalog=builtin_catalog())
    assert [issue.to_dict() for issue in validation.errors] == []
    assert "{{ params." not in str(result.document)
    # With the defaults, the instance is the demo workflow itself.
    by_slug = {"route-tickets-by-meaning": demo.route_tickets,
               "deduplicate-records": demo.deduplicate_records,
               "closest-faq-answer": demo.closest_faq}
    assert result.document["nodes"] == by_slug[entry["slug"]]()["nodes"]


def test_tickets_are_routed_by_meaning(engine) -> None:
    answers = {}
    for ticket in ["You billed my card two times this month", "The app freezes when I export",
                   "My parcel still has not arrived", "What's your favourite colour?"]:
        execution = run(engine, demo.route_tickets(), {"ticket": ticket}, timeout=60)
        assert execution.state == "completed"
        answers[ticket] = execution.outputs["routed"]
    assert answers == {
        "You billed my card two times this month": "[billing] You billed my card two times this month",
        "The app freezes when I export": "[technical] The app freezes when I export",
        "My parcel still has not arrived": "[shipping] My parcel still has not arrived",
        "What's your favourite colour?": "[human] What's your favourite colour?"}


def test_near_identical_records_are_dropped(engine) -> None:
    execution = run(engine, demo.deduplicate_records(), {}, timeout=60)
    assert execution.state == "completed"
    assert [record["id"] for record in execution.outputs["unique"]] == [1, 2, 4]
    assert execution.outputs["dropped"] == 2


def test_the_closest_faq_answers(engine) -> None:
    execution = run(engine, demo.closest_faq(), {"question": "I forgot my password"}, timeout=60)
    assert execution.state == "completed"
    assert execution.outputs["reply"] == demo.FAQ[0]["answer"]
    assert 0.5 < execution.outputs["score"] <= 1
