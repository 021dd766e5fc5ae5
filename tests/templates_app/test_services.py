"""The template services asked directly: what a version's body is cleaned to before it is stored."""

from __future__ import annotations

from templates_app.services.preparation import prepare_version
from tests.templates_app.conftest import summary_version


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
