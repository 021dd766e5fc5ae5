"""Fixtures for the workflows tests: documents and stored workflows of team Alpha."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from symphony_site.actors import Actor, Origin
from workflows import samples, services


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.fixture
def linear_document() -> dict[str, Any]:
    return samples.linear()


def invalid_document() -> dict[str, Any]:
    """A cycle, a type mismatch, an unknown operator and a bad config, all at once."""
    document = copy.deepcopy(samples.linear())
    document["nodes"].append(samples.node_operator("mystery", "does_not_exist", {}))
    document["nodes"][1]["config"] = {"template": "x", "colour": "red"}  # unknown config key
    document["edges"].append(samples.data_edge("e4", "answer", "usage", "prompt", "variables"))  # a cycle
    document["edges"].append(samples.data_edge("e5", "question", "value", "reply", "value"))
    return document


@pytest.fixture
def stored(personas: Any) -> Any:
    """A workflow of team Alpha created by its editor, at version 1.0.0."""
    return services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                    document=samples.linear(), change_message="first")


# Hypothesis: a fast default for the suite, 1,000+ examples with HYPOTHESIS_PROFILE=thorough.
# Applied per test (`@PROPERTY_SETTINGS`) so other areas' profiles are left alone.
settings.register_profile("workflows-default", max_examples=80, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("workflows-thorough", max_examples=1_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROPERTY_SETTINGS = settings.get_profile(
    "workflows-thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "workflows-default")
