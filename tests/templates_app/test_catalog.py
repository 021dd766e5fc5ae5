"""Every demo catalog template is publishable and makes a valid workflow with each of its examples."""

from __future__ import annotations

from collections import Counter

import pytest

from templates_app.catalog import ENTRIES
from templates_app.domain.instantiation import (
    instantiate_document,
    template_problems,
    unused_parameters,
)
from templates_app.domain.parameters import parse_parameters
from workflows.catalog import builtin_catalog
from workflows.domain import validate_document


def test_the_catalog_is_large_and_varied() -> None:
    assert len(ENTRIES) >= 30
    assert len({entry["slug"] for entry in ENTRIES}) == len(ENTRIES)
    categories = Counter(entry["category"] for entry in ENTRIES)
    for category in ["customer-support", "summarization", "classification", "translation", "retrieval-qa",
                     "data-cleanup", "approvals", "reporting"]:
        assert categories[category] >= 3, category
    assert sum(entry["verified"] for entry in ENTRIES) >= 8


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["slug"] for entry in ENTRIES])
def test_entry_instantiates_to_a_valid_workflow_with_every_example(entry) -> None:
    version = entry["version"]
    definitions = parse_parameters(version["parameters"])
    assert template_problems(version["document"], definitions) == []
    assert unused_parameters(version["document"], definitions) == []
    assert version["examples"], "every template shows at least one example"
    for example in version["examples"]:
        result = instantiate_document(version["document"], definitions, example["parameters"])
        validation = validate_document(result.document, catalog=builtin_catalog())
        assert [issue.to_dict() for issue in validation.errors] == [], example["name"]
        assert "{{ params." not in str(result.document)


def test_seeder_publishes_the_catalog_once(db) -> None:
    from symphony_site.management.commands.seed_demo import SEEDERS, seed_teams
    from templates_app.demo import seed_templates
    from templates_app.models import Template

    assert seed_templates in SEEDERS
    seeded = seed_teams()
    seed_templates(seeded)
    seed_templates(seeded)
    templates = Template.objects.all()
    assert templates.count() == len(ENTRIES)
    assert set(templates.values_list("visibility", flat=True)) == {"public"}
    assert set(templates.values_list("team__name", flat=True)) == {"Demo"}
    assert sorted(templates.filter(verified=True).values_list("slug", flat=True)) == sorted(
        entry["slug"] for entry in ENTRIES if entry["verified"])
    triage = templates.get(slug="triage-support-tickets")
    assert (triage.rating_count, round(triage.rating_average, 2), triage.usage_count) == (3, 4.67, 0)
