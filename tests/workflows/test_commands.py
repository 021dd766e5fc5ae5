"""seed_demo's workflows, the workflow_show command and the admin pages."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from workflows import services
from workflows.models import Workflow, WorkflowVersion
from workflows.samples import DEMO_WORKFLOWS


def test_seed_demo_adds_five_valid_workflows_once(db) -> None:
    call_command("seed_demo", "--allow-production", stdout=io.StringIO())
    names = sorted(Workflow.objects.filter(team__name="Demo").values_list("name", flat=True))
    assert names == sorted(build()["name"] for build in DEMO_WORKFLOWS)
    assert len(names) == 5
    assert AuditEntry.objects.filter(event_type="workflow.created").count() == 5
    call_command("seed_demo", "--allow-production", stdout=io.StringIO())
    assert (Workflow.objects.count(), WorkflowVersion.objects.count()) == (5, 5)
    kinds = {node["kind"] for version in WorkflowVersion.objects.all() for node in version.document["workflow"]["nodes"]}
    assert kinds == {"input", "output", "operator", "instrument", "control"}
    controls = {node.get("control") for version in WorkflowVersion.objects.all()
                for node in version.document["workflow"]["nodes"]}
    assert {"branch", "parallel", "join", "loop"} <= controls
    assert any(node.get("interactive") for version in WorkflowVersion.objects.all()
               for node in version.document["workflow"]["nodes"])


def test_workflow_show_a_stored_workflow(stored, personas) -> None:
    services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored, name="Renamed")
    output = io.StringIO()
    call_command("workflow_show", str(stored.pk), "--no-color", stdout=output)
    text = output.getvalue()
    assert text.startswith("Renamed v1.0.1 — 4 nodes")
    assert "version 1.0.1" in text
    assert "\x1b[" not in text
    old = io.StringIO()
    call_command("workflow_show", str(stored.pk), "--workflow-version", "1.0.0", "--depth", "0", "--no-color", stdout=old)
    assert old.getvalue().startswith("Answer a question v1.0.0")


def test_workflow_show_a_file_in_any_format(stored, personas, tmp_path) -> None:
    data = services.workflow_export(actor=Actor.of(personas.users["viewer"]), origin=Origin.command(), workflow=stored, format="lz4")
    path = tmp_path / "flow.msgpack.lz4"
    path.write_bytes(data)
    output = io.StringIO()
    call_command("workflow_show", str(path), "--metadata", "--no-color", stdout=output)
    assert output.getvalue().startswith("Answer a question v1.0.0 — 4 nodes")
    assert "format msgpack+lz4" in output.getvalue()
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01\x02")
    with pytest.raises(CommandError, match="unknown_format"):
        call_command("workflow_show", str(garbage))
    with pytest.raises(CommandError, match="neither a file nor a workflow id"):
        call_command("workflow_show", "no-such-thing")


def test_admin_shows_documents_read_only(stored, django_user_model) -> None:
    staff = django_user_model.objects.create_superuser("root", "root@example.test", "pw")
    client = Client()
    client.force_login(staff)
    page = client.get(f"/admin/workflows/workflowversion/{stored.current_version_id}/change/")
    assert page.status_code == 200
    assert "Answer a question" in page.content.decode()
    assert client.get(f"/admin/workflows/workflow/{stored.pk}/change/").status_code == 200
    assert client.get("/admin/workflows/workflow/").status_code == 200
    assert client.get("/admin/workflows/workflow/add/").status_code == 403
    assert client.post(f"/admin/workflows/workflowversion/{stored.current_version_id}/delete/",
                       {"post": "yes"}).status_code == 403
    assert WorkflowVersion.objects.count() == 1
