"""Two editors saving at once get two versions, one after the other, never the same number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from symphony_site.actors import Actor, Origin
from workflows import samples, services
from workflows.models import Workflow, WorkflowVersion


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_get_distinct_versions(personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=samples.linear())
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def edit(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=Workflow.objects.get(pk=workflow.pk),
                                     name=f"Edit {number}")
        except BaseException as error:  # collected and asserted below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    versions = sorted(WorkflowVersion.objects.filter(workflow=workflow).values_list("patch", flat=True))
    assert versions == [0, 1, 2, 3, 4]
    workflow.refresh_from_db()
    assert workflow.current_version.version == "1.0.4"
