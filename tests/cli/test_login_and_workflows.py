"""Login, errors and exit codes, and the workflow commands, against a live daphne."""

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import threading

import httpx
import pytest

from audit.models import AuditEntry
from executions.demo import greet_a_guest
from symphony_cli import main as cli_main
from symphony_cli.client import Client
from symphony_cli.config import Credentials
from symphony_site.actors import Actor, Origin
from tests.live.server import free_port
from workflows import services
from workflows.models import Workflow

from .conftest import console_script, run_script, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_stray_connections")]


def store(personas, document=None) -> Workflow:
    return services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                    team=personas.team, document=document or greet_a_guest())


def test_login_checks_the_token_and_keeps_it_for_its_owner_only(personas, server, tmp_path) -> None:
    key = token_for(personas.users["editor"])
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    login = run_script("login", "--url", server.url + "/", "--token", key, env=env)
    path = tmp_path / "symphony" / "config.json"
    assert (login.returncode, login.stderr) == (0, "")
    assert login.stdout == (f"Logged in to {server.url} as alpha-editor; teams: Alpha (editor).\n"
                            f"Token saved in {path} (readable by you only).\n")
    assert json.loads(path.read_text()) == {"url": server.url, "token": key}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    whoami = run_script("whoami", env=env)
    assert (whoami.returncode, whoami.stderr) == (0, "")
    assert whoami.stdout == (f"alpha-editor on {server.url}\n"
                             "team   role    id\n"
                             f"Alpha  editor  {personas.team.pk}\n")
    assert json.loads(run_script("whoami", "--json", env=env).stdout)["teams"] == [
        {"id": str(personas.team.pk), "name": "Alpha", "role": "editor"}]

    logout = run_script("logout", env=env)
    assert (logout.returncode, logout.stdout) == (0, f"Removed {path}.\n")
    assert not path.exists()
    again = run_script("whoami", env=env)
    assert (again.returncode, again.stdout) == (4, "")
    assert again.stderr == "error: not logged in: run 'symphony login' (or set SYMPHONY_URL and SYMPHONY_TOKEN)\n"


def test_login_by_password_makes_a_token(personas, server, tmp_path) -> None:
    from teams.models import ApiToken

    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    login = run_script("login", "--url", server.url, "--username", "alpha-viewer", env=env,
                       stdin="correct-horse-battery\n")
    assert login.returncode == 0, login.stderr
    token = ApiToken.objects.get(user=personas.users["viewer"])
    assert token.name == "symphony-cli"
    stored = json.loads((tmp_path / "symphony" / "config.json").read_text())["token"]
    assert stored.startswith(token.prefix)


def test_a_refused_token_is_exit_4_and_nothing_is_stored(personas, server, tmp_path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    login = run_script("login", "--url", server.url, "--token", "not-a-token", env=env)
    assert (login.returncode, login.stdout) == (4, "")
    assert login.stderr == ("error: The token is invalid or has been revoked. [authentication_failed, HTTP 401]\n"
                            "Log in again with 'symphony login'.\n")
    assert not (tmp_path / "symphony").exists()


def test_a_server_that_cannot_be_reached_is_exit_3(tmp_path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    url = f"http://127.0.0.1:{free_port()}"
    login = run_script("login", "--url", url, "--token", "anything", env=env)
    assert login.returncode == 3
    assert login.stderr.startswith(f"error: cannot reach {url}: ")
    assert not (tmp_path / "symphony").exists()


def test_usage_errors_are_exit_2(personas, cli_as) -> None:
    cli = cli_as(personas.users["editor"])
    bad = cli("run", "anything", "--input", "no-equals-sign")
    assert (bad.exit_code, bad.stdout) == (2, "")
    assert bad.stderr == ("error: --input 'no-equals-sign': write name=text, or name:=JSON for numbers, "
                          "lists and objects\n")
    assert cli("executions", "frobnicate").exit_code == 2
    assert cli("export", "x", "--format", "yaml").exit_code == 2


def test_validate_says_valid_or_lists_every_error_with_its_code(personas, cli_as, tmp_path) -> None:
    cli = cli_as(personas.users["viewer"])
    good = tmp_path / "good.json"
    good.write_text(json.dumps(greet_a_guest()))
    assert (cli("validate", str(good)).exit_code, cli("validate", str(good)).stdout) == (
        0, f"{good}: valid (0 errors, 0 warnings)\n")

    broken = greet_a_guest()
    broken["edges"].append({"id": "e9", "kind": "data", "source": "ghost", "source_port": "text",
                            "target": "greeting", "target_port": "value"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    result = cli("validate", str(bad))
    answer = httpx.post(f"{cli.url}/api/v1/workflows/validate/", json=broken,
                        headers={"Authorization": f"Token {cli.token}"}).json()
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{bad}: invalid ({len(answer['errors'])} error{'s' if len(answer['errors']) != 1 else ''}, 0 warnings)"
    assert len(lines) == 1 + len(answer["errors"])
    assert [issue["edge_id"] for issue in answer["errors"]] == ["e9"]
    assert lines[1] == f"  error {answer['errors'][0]['code']}: {answer['errors'][0]['message']} (edge e9)"
    assert json.loads(cli("validate", str(bad), "--json").stdout) == answer

    binary = tmp_path / "bin.swf"
    binary.write_bytes(b"\x89SWF\x01\x01\x01\x00" + b"\x00" * 12)
    refused = cli("validate", str(binary))
    assert refused.exit_code == 2
    assert "binary workflow file" in refused.stderr
    missing = cli("validate", str(tmp_path / "nope.json"))
    assert (missing.exit_code, missing.stderr) == (2, f"error: cannot read {tmp_path / 'nope.json'}: No such file or directory\n")


def test_show_prints_a_file_and_a_stored_workflow(personas, cli_as, tmp_path) -> None:
    cli = cli_as(personas.users["viewer"])
    small = {"name": "Tiny", "version": "1.0.0", "nodes": [
        {"id": "in", "kind": "input", "name": "In", "data_type": "string"},
        {"id": "up", "kind": "operator", "operator": "template", "name": "Upper",
         "config": {"template": "{{ inputs.variables | upper }}"}},
        {"id": "out", "kind": "output", "name": "Out", "data_type": "string"}],
        "edges": [{"id": "e1", "kind": "data", "source": "in", "source_port": "value", "target": "up",
                   "target_port": "variables"},
                  {"id": "e2", "kind": "data", "source": "up", "source_port": "text", "target": "out",
                   "target_port": "value"}]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(small))
    result = cli("show", str(path))
    assert result.exit_code == 0
    assert result.stdout == (
        "Tiny v1.0.0 — 3 nodes (1 input, 1 operator, 1 output), 2 edges\n"
        "\n"
        "Tiny  v1.0.0\n"
        "Nodes (3)\n"
        "  input (1)\n"
        "    in  In  string\n"
        "  operator (1)\n"
        "    up  Upper  operator template\n"
        "      config\n"
        "        template: {{ inputs.variables | upper }}\n"
        "  output (1)\n"
        "    out  Out  string\n"
        "Edges (2)\n"
        "  data (2)\n"
        "    e1  in.value → up.variables\n"
        "    e2  up.text → out.value\n")

    workflow = store(personas, small)
    by_id = cli("show", str(workflow.pk))
    assert by_id.exit_code == 0
    lines = by_id.stdout.splitlines()
    assert lines[:3] == ["Tiny v1.0.0 — 3 nodes (1 input, 1 operator, 1 output), 2 edges",
                         f"id {workflow.pk} · team Alpha", ""]
    # The stored envelope: its schema version, and the settings the server filled in.
    expected = result.stdout.splitlines()[2:]
    assert lines[3:] == [expected[0], "  schema 1.0.0", "Settings", "  error_policy: stop", *expected[1:]]
    by_name = cli("show", "Tiny")
    assert by_name.stdout == by_id.stdout
    api = httpx.get(f"{cli.url}/api/v1/workflows/{workflow.pk}/", headers={"Authorization": f"Token {cli.token}"})
    assert json.loads(cli("show", str(workflow.pk), "--json").stdout) == api.json()

    unknown = cli("show", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == 1
    assert unknown.stderr.endswith("[not_found, HTTP 404]\n")
    nameless = cli("show", "No such workflow")
    assert (nameless.exit_code, nameless.stderr) == (
        1, "error: no workflow named 'No such workflow' that you can see [not_found]\n")


def test_export_then_import_round_trips_a_workflow_in_every_format(personas, cli_as, tmp_path) -> None:
    editor = cli_as(personas.users["editor"])
    workflow = store(personas)
    for export_format in ("json", "msgpack", "zstd", "lz4"):
        target = tmp_path / f"greet.{export_format}"
        exported = editor("export", str(workflow.pk), "--format", export_format, "--output", str(target))
        assert exported.exit_code == 0, exported.stderr
        assert exported.stdout == f"Wrote {target} ({target.stat().st_size:,} bytes, {export_format}).\n"
        before = set(Workflow.objects.values_list("pk", flat=True))
        imported = editor("import", str(target), "--json")
        assert imported.exit_code == 0, imported.stderr
        created = Workflow.objects.exclude(pk__in=before).get()
        assert json.loads(imported.stdout)["id"] == str(created.pk)
        assert created.current_version.document["workflow"]["nodes"] == \
            workflow.current_version.document["workflow"]["nodes"]

    viewer = cli_as(personas.users["viewer"])
    count, audited = Workflow.objects.count(), AuditEntry.objects.count()
    denied = viewer("import", str(tmp_path / "greet.json"))
    assert denied.exit_code == 1
    assert denied.stderr.startswith("error: ")
    assert "[permission_denied, HTTP 403]" in denied.stderr
    assert (Workflow.objects.count(), AuditEntry.objects.count()) == (count, audited)


def test_templates_search_and_use(personas, cli_as) -> None:
    from templates_app import services as template_services
    from templates_app.catalog import ENTRIES

    entry = next(entry for entry in ENTRIES if entry["slug"] == "normalize-email-list")
    template_services.template_publish(
        actor=Actor.of(personas.users["owner"]), origin=Origin.command(), team=personas.team,
        name=entry["name"], description=entry["description"], category=entry["category"], tags=entry["tags"],
        visibility="team", version=entry["version"], slug=entry["slug"])
    editor = cli_as(personas.users["editor"])
    found = editor("templates", "search", "email")
    assert found.exit_code == 0, found.stderr
    assert found.stdout.splitlines()[0].split() == ["slug", "version", "rating", "uses", "publisher", "name"]
    assert found.stdout.splitlines()[1].split()[:5] == ["normalize-email-list", entry["version"]["version"],
                                                        "0.0", "(0)", "0"]
    assert json.loads(editor("templates", "search", "email", "--json").stdout)["results"][0]["slug"] == \
        "normalize-email-list"
    assert editor("templates", "search", "zzzzqqq").stdout == "No templates found.\n"

    made = editor("templates", "use", "normalize-email-list", "--name", "Clean my list")
    assert made.exit_code == 0, made.stderr
    workflow = Workflow.objects.get(name="Clean my list")
    defaults = ", ".join(f"{item['name']}={json.dumps(item['default']) if not isinstance(item['default'], str) else item['default']}"
                         for item in entry["version"]["parameters"] if "default" in item)
    assert made.stdout == (
        f"Created Clean my list ({workflow.pk}) from normalize-email-list {entry['version']['version']}.\n"
        f"Defaults used: {defaults}\n")
    assert workflow.team == personas.team

    wrong = editor("templates", "use", "normalize-email-list", "--param", "no_such_parameter=1")
    assert wrong.exit_code == 1
    assert "[validation_failed, HTTP 400]" in wrong.stderr.splitlines()[0]
    assert Workflow.objects.filter(team=personas.team).count() == 1


def test_audit_tail_and_export_for_admins_only(personas, cli_as, tmp_path) -> None:
    store(personas)
    admin = cli_as(personas.users["admin"])
    tail = admin("audit", "tail", "-n", "3", "--json")
    assert tail.exit_code == 0, tail.stderr
    api = httpx.get(f"{admin.url}/api/v1/audit/", params={"team": str(personas.team.pk), "limit": 3},
                    headers={"Authorization": f"Token {admin.token}"}).json()
    assert json.loads(tail.stdout) == list(reversed(api["results"]))
    text = admin("audit", "tail", "-n", "1", "--event-type", "workflow.created")
    entry = AuditEntry.objects.filter(team=personas.team, event_type="workflow.created").get()
    assert text.stdout.splitlines()[1].split()[:4] == [str(entry.sequence), entry.occurred_at.isoformat().replace(
        "+00:00", "Z"), "alpha-editor", "workflow.created"]

    target = tmp_path / "audit.ndjson"
    exported = admin("audit", "export", "--format", "ndjson", "--output", str(target))
    assert exported.exit_code == 0, exported.stderr
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    recorded = AuditEntry.objects.filter(team=personas.team).order_by("sequence")
    # Everything before the export's own entry, oldest first, with the chain's hashes.
    assert [line["hash"] for line in lines] == [row.hash for row in recorded][:-1]
    assert recorded.last().event_type == "audit.exported"

    viewer = cli_as(personas.users["viewer"])
    count = AuditEntry.objects.count()
    denied = viewer("audit", "export", "--output", str(tmp_path / "no.ndjson"))
    assert denied.exit_code == 1
    assert "[permission_denied, HTTP 403]" in denied.stderr
    assert not (tmp_path / "no.ndjson").exists()
    assert AuditEntry.objects.count() == count


def test_audit_tail_follow_prints_each_new_entry_once_until_interrupted(personas, server) -> None:
    store(personas)
    admin_token = token_for(personas.users["admin"])
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SYMPHONY_")}
    follower = subprocess.Popen(
        [console_script(), "audit", "tail", "-n", "1", "--follow", "--interval", "0.2", "--json"],
        env={**clean, "SYMPHONY_URL": server.url, "SYMPHONY_TOKEN": admin_token}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        first = json.loads(lines.get(timeout=30))
        assert first["sequence"] == AuditEntry.objects.filter(team=personas.team).order_by("sequence").last().sequence
        store(personas, greet_a_guest() | {"name": "Second"})
        store(personas, greet_a_guest() | {"name": "Third"})
        followed = [json.loads(lines.get(timeout=30)) for _ in range(2)]
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
    assert (follower.returncode, follower.stderr.read()) == (0, "")  # type: ignore[union-attr]
    created = AuditEntry.objects.filter(team=personas.team, sequence__gt=first["sequence"]).order_by("sequence")
    assert [(entry["sequence"], entry["event_type"], entry["target_name"]) for entry in followed] == [
        (row.sequence, "workflow.created", name) for row, name in zip(created, ["Second", "Third"], strict=True)]
    assert lines.empty()  # nothing printed twice, nothing else printed


def test_audit_follow_reads_back_through_pages_when_many_entries_arrived(personas, server, monkeypatch) -> None:
    store(personas)
    last = AuditEntry.objects.filter(team=personas.team).order_by("sequence").last().sequence
    for number in range(5):
        store(personas, greet_a_guest() | {"name": f"Batch {number}"})
    monkeypatch.setattr(cli_main, "AUDIT_PAGE", 2)  # five new entries span three pages
    credentials = Credentials(url=server.url, token=token_for(personas.users["admin"]))
    with Client(credentials) as api:
        found = cli_main.audit_entries_after(api, str(personas.team.pk), {}, last)
    new = AuditEntry.objects.filter(team=personas.team, sequence__gt=last).order_by("sequence")
    # The token's creation is audited too; every new entry, oldest first, once.
    assert [entry["sequence"] for entry in found] == [row.sequence for row in new]
    assert [entry["target_name"] for entry in found if entry["event_type"] == "workflow.created"] == [
        f"Batch {number}" for number in range(5)]
