"""One path from a stored version to its validated graph and plan, cached by checksum."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client

from symphony_site.actors import Actor, Origin
from workflows import graphs, samples, services
from workflows.domain import Workflow as GraphWorkflow
from workflows.models import ImmutableVersion, WorkflowVersion
from workflows.versioning import checksum

from .conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_cache() -> None:
    graphs.forget_all()


@pytest.fixture
def analyses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The checksums `graphs` analysed (cache misses), in order."""
    seen: list[str] = []
    real = graphs.analyse_document

    def counting(document: Any, *, checksum: str = "") -> graphs.Analysis:
        seen.append(checksum)
        return real(document, checksum=checksum)

    monkeypatch.setattr(graphs, "analyse_document", counting)
    return seen


def test_runnable_is_the_validated_graph_and_its_plan(stored: Any) -> None:
    version = stored.current_version
    found = graphs.runnable(version)
    assert isinstance(found.workflow, GraphWorkflow)
    assert found.checksum == version.checksum
    assert found.workflow == GraphWorkflow.from_document(version.workflow_document)
    assert found.plan.topological_order == ["question", "prompt", "answer", "reply"]
    assert graphs.analysis(version).validation.valid is True


def test_same_checksum_is_the_same_object_and_a_new_version_is_another(personas: Any, stored: Any,
                                                                      analyses: list[str]) -> None:
    first = graphs.runnable(stored.current_version)
    # A fresh row from the database: same checksum, so the cached object itself.
    again = graphs.runnable(WorkflowVersion.objects.get(pk=stored.current_version_id))
    assert again is first
    assert analyses == [stored.current_version.checksum]

    updated = services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                       workflow=stored, name="Renamed")
    newer = graphs.runnable(updated.current_version)
    assert newer is not first
    assert newer.checksum == updated.current_version.checksum != first.checksum
    assert analyses == [first.checksum, newer.checksum]


def test_a_stored_version_cannot_be_edited_so_its_checksum_keys_it_soundly(stored: Any) -> None:
    version = WorkflowVersion.objects.get(pk=stored.current_version_id)
    assert version.checksum == checksum(version.document)
    version.document = {**version.document, "workflow": {**version.workflow_document, "name": "Changed"}}
    with pytest.raises(ImmutableVersion):
        version.save()
    with pytest.raises(ImmutableVersion):
        WorkflowVersion.objects.filter(pk=version.pk).update(document={})
    assert WorkflowVersion.objects.get(pk=version.pk).workflow_document["name"] == stored.name


def _stored_under_an_older_catalog(stored: Any) -> WorkflowVersion:
    """A version saved when `retired_operator` existed: today's catalog no longer knows it."""
    document = copy.deepcopy(stored.current_version.document)
    document["workflow"]["version"] = "2.0.0"
    document["workflow"]["nodes"].append(samples.node_operator("legacy", "retired_operator", {}))
    return WorkflowVersion.objects.create(
        workflow=stored, version="2.0.0", major=2, minor=0, patch=0, schema_version=document["schema_version"],
        document=document, checksum=checksum(document), node_count=5, edge_count=3)


def test_a_version_todays_catalog_refuses_is_not_runnable(personas: Any, stored: Any) -> None:
    version = _stored_under_an_older_catalog(stored)
    with pytest.raises(graphs.NotRunnable) as refusal:
        graphs.runnable(version)
    assert refusal.value.analysis.runnable is None
    assert refusal.value.analysis.validation.codes() == ["unknown_node_type"]

    plan = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/plan/?version=2.0.0")
    assert plan.status_code == 409
    error = error_of(plan)
    assert error["code"] == "not_plannable"
    assert [detail["code"] for detail in error["details"]] == ["unknown_node_type"]
    assert [detail["node_id"] for detail in error["details"]] == ["legacy"]

    validation = personas.client("viewer").get(f"/api/v1/workflows/{stored.pk}/validation/?version=2.0.0")
    assert validation.status_code == 200
    assert validation.json()["valid"] is False
    assert [issue["code"] for issue in validation.json()["errors"]] == ["unknown_node_type"]


def test_plan_validation_and_graph_page_share_one_analysis(personas: Any, stored: Any,
                                                           analyses: list[str]) -> None:
    client = personas.client("viewer")
    assert client.get(f"/api/v1/workflows/{stored.pk}/plan/").status_code == 200
    assert client.get(f"/api/v1/workflows/{stored.pk}/validation/").status_code == 200
    browser = Client()
    browser.force_login(personas.users["viewer"])
    assert browser.get(f"/workflows/{stored.pk}/").status_code == 200
    assert client.get(f"/api/v1/workflows/{stored.pk}/plan/").status_code == 200
    assert analyses == [stored.current_version.checksum]


def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    cache = graphs._LeastRecentlyUsed(2)
    a, b, c = (graphs.analyse_document(samples.linear(), checksum=key) for key in "abc")
    assert cache.put("a", a) is a
    assert cache.put("b", b) is b
    assert cache.get("a") is a  # "a" is now the most recently used
    cache.put("c", c)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (a, None, c, 2)
    # Two analyses of one checksum racing: the first stored wins, both callers get it.
    assert cache.put("c", graphs.analyse_document(samples.linear(), checksum="c")) is c


def test_an_unsaved_document_is_analysed_without_the_cache() -> None:
    document = samples.linear()
    first = graphs.analyse_document(document)
    assert first.runnable is not None and first.checksum == ""
    assert graphs.analyse_document(document) is not first
