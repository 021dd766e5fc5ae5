"""Fixtures for the template marketplace tests, and Hypothesis profiles."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from symphony_site.actors import Actor, Origin

# Hypothesis: a fast default, 1,000 examples with HYPOTHESIS_PROFILE=thorough. Applied per
# test (`@PROPERTY_SETTINGS`) so other areas' profiles are left alone.
settings.register_profile("templates-default", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("templates-thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROPERTY_SETTINGS = settings.get_profile(
    "templates-thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "templates-default")

SUMMARY_DOCUMENT: dict[str, Any] = {
    "name": "Summarize a text",
    "description": "Summarize any text in a few sentences.",
    "version": "1.0.0",
    "metadata": {"tags": ["summarization"], "category": "summarization"},
    "nodes": [
        {"id": "text", "kind": "input", "name": "Text", "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Prompt", "operator": "template",
         "config": {"template": "Summarize in {{ params.sentences }} sentences, {{ params.tone }} tone: "
                                "{{ inputs.variables.text }}"}},
        {"id": "model", "kind": "instrument", "name": "Model", "model_id": "{{ params.model }}",
         "config": {"temperature": "{{ params.temperature }}", "max_tokens": "{{ params.max_tokens }}"}},
        {"id": "summary", "kind": "output", "name": "Summary", "data_type": "string"},
    ],
    "edges": [
        {"id": "e1", "kind": "data", "source": "text", "source_port": "value", "target": "prompt",
         "target_port": "variables"},
        {"id": "e2", "kind": "data", "source": "prompt", "source_port": "text", "target": "model",
         "target_port": "prompt"},
        {"id": "e3", "kind": "data", "source": "model", "source_port": "text", "target": "summary",
         "target_port": "value"},
    ],
}

SUMMARY_PARAMETERS: list[dict[str, Any]] = [
    {"name": "sentences", "display_name": "Sentences", "type": "integer", "default": 3,
     "constraints": {"min_value": 1, "max_value": 10}, "ui": {"widget": "slider", "group": "Output", "order": 1}},
    {"name": "tone", "type": "enum", "choices": ["neutral", "friendly", "formal"], "default": "neutral",
     "ui": {"group": "Output", "order": 2}},
    {"name": "model", "type": "enum", "choices": ["local/echo", "openai/gpt-4o-mini"], "required": True,
     "ui": {"group": "Model", "order": 3}},
    {"name": "temperature", "type": "float", "default": 0.2, "constraints": {"min_value": 0, "max_value": 2},
     "ui": {"group": "Model", "order": 4}},
    {"name": "max_tokens", "type": "integer", "default": 512, "constraints": {"min_value": 16, "max_value": 4096},
     "ui": {"group": "Model", "order": 5}},
]

SUMMARY_EXAMPLES = [{"name": "Echo", "parameters": {"model": "local/echo", "sentences": 2}}]


def summary_version(version: str = "1.0.0", **changes: Any) -> dict[str, Any]:
    body = {"version": version, "document": copy.deepcopy(SUMMARY_DOCUMENT),
            "parameters": copy.deepcopy(SUMMARY_PARAMETERS), "examples": copy.deepcopy(SUMMARY_EXAMPLES),
            "changelog": "First version." if version == "1.0.0" else f"Version {version}."}
    body.update(changes)
    return body


@pytest.fixture
def published(personas: Any) -> Any:
    """A team-visible template published by Alpha's editor."""
    from templates_app import services

    return services.template_publish(
        actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, name="Summarize a text",
        description="Summaries of any length and tone.", category="summarization",
        tags=["summarization", "llm"], visibility="team", version=summary_version(),
    )
