"""Demo workflows for `manage.py seed_demo`: five varied, valid workflows in the Demo team."""

from __future__ import annotations

from typing import Any

from symphony_site.actors import Actor, Origin
from workflows import samples, services
from workflows.models import Workflow


def seed_workflows(seeded: dict[str, Any]) -> list[Workflow]:
    """Create each demo workflow unless the Demo team already has one of that name (idempotent)."""
    team, owner = seeded["demo"], seeded["owner"]
    existing = set(Workflow.objects.filter(team=team).values_list("name", flat=True))
    created = []
    for build in samples.DEMO_WORKFLOWS:
        document = build()
        if document["name"] in existing:
            continue
        created.append(services.workflow_create(actor=Actor.of(owner), origin=Origin.command(), team=team, document=document,
                                                change_message="Demo data"))
    return created
