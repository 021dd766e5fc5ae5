"""The workflow selectors asked directly: the list's text filter and each row's last run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from executions.models import Execution
from symphony_site.actors import Actor, Origin
from teams.models import Membership
from workflows import samples as s
from workflows import selectors, services
from workflows.models import Workflow

ORIGIN = Origin.command()


def _workflow(personas: Any, name: str, description: str = "", team: Any = None, tags: tuple[str, ...] = ()) -> Workflow:
    document = s.workflow(name, [s.node_input("a"), s.node_output("b")], [s.data_edge("e1", "a", "value", "b", "value")],
                          description=description, tags=tags)
    owner = personas.users["editor"] if team is None else personas.users["outsider"]
    return services.workflow_create(actor=Actor.of(owner), origin=ORIGIN, team=team or personas.team, document=document)


def test_the_text_filter_matches_the_name_or_the_description_or_both(personas: Any) -> None:
    _workflow(personas, "Nightly ETL", "Loads the warehouse")
    _workflow(personas, "Reports", "Runs after the ETL")
    _workflow(personas, "ETL backfill", "Replays the ETL for a day")
    _workflow(personas, "Cleanup", "Deletes old rows")
    _workflow(personas, "Other team's ETL", "ETL too", team=personas.other_team)
    found = selectors.workflows_for_user(personas.users["viewer"], query="  etl ")
    assert sorted(workflow.name for workflow in found) == ["ETL backfill", "Nightly ETL", "Reports"]


def test_each_row_carries_the_state_of_its_latest_execution(personas: Any) -> None:
    ran = _workflow(personas, "Ran")
    _workflow(personas, "Never ran")
    now = timezone.now()
    for offset, state in ((0, "failed"), (2, "completed"), (1, "cancelled")):
        Execution.objects.create(team=personas.team, workflow=ran, workflow_version=ran.current_version, state=state,
                                 node_count=2, created_at=now + dt.timedelta(seconds=offset), updated_at=now,
                                 max_parallel=4)
    rows = {workflow.name: (workflow.last_run_state, selectors.last_run_of(workflow))
            for workflow in selectors.workflows_for_user(personas.users["viewer"])}
    assert rows == {"Ran": ("completed", {"state": "completed"}), "Never ran": (None, None)}


def test_the_tag_filter_offers_the_tags_of_the_users_teams_or_of_one_team(personas: Any) -> None:
    _workflow(personas, "Nightly", tags=("etl", "nightly"))
    _workflow(personas, "Weekly", tags=("etl", "weekly"))
    archived = _workflow(personas, "Old", tags=("retired",))
    services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=ORIGIN, workflow=archived)
    _workflow(personas, "Beta's", team=personas.other_team, tags=("beta-only",))
    viewer = personas.users["viewer"]
    assert selectors.all_tags(viewer) == ["etl", "nightly", "weekly"]
    Membership.objects.create(team=personas.other_team, user=viewer, role="viewer")
    assert selectors.all_tags(viewer) == ["beta-only", "etl", "nightly", "weekly"]
    assert selectors.all_tags(viewer, personas.team.pk) == ["etl", "nightly", "weekly"]
    assert selectors.all_tags(viewer, personas.other_team.pk) == ["beta-only"]
    assert selectors.all_tags(personas.users["outsider"]) == ["beta-only"]
