"""Rules the code base keeps, checked on every run."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["symphony_site", "teams", "workflows", "templates_app", "executions", "audit", "instruments"]


def _python_files(*folders: str) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        files.extend(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)
    return files


# Ways to send a task or an event right now. `group_send` also catches
# `async_to_sync(layer.group_send)(...)`, which never calls `group_send(` literally.
DIRECT_SENDS = frozenset({"delay", "apply_async", "send_task", "group_send"})
# As bare names only these mean sending (`delay` is also an ordinary variable name).
DIRECT_SEND_NAMES = frozenset({"send_task", "group_send"})


def direct_sends(source: str) -> list[tuple[int, str]]:
    """(line, name) of every direct send in `source`: a call, a reference or a getattr by name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in DIRECT_SENDS:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Name) and node.id in DIRECT_SEND_NAMES:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.alias) and node.name.rpartition(".")[2] in DIRECT_SEND_NAMES:
            found.append((node.lineno, node.name))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in DIRECT_SENDS):
            found.append((node.lineno, f"getattr {node.args[1].value}"))
    return sorted(found)


def test_side_effects_after_commit_go_through_one_door() -> None:
    """Tasks and events leave only through symphony_site/events.py, which waits for the commit.

    import-linter cannot see calls, so this stays a scan of the syntax tree.
    """
    door = ROOT / "symphony_site" / "events.py"
    # The channel layer itself (channels_redis's, with a cheaper send to an empty group): what the
    # door sends through, not a way around it.
    layer = ROOT / "symphony_site" / "channel_layer.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in _python_files(*APPS)
        if path not in (door, layer)
        for line, name in direct_sends(path.read_text())
    ]
    assert offenders == [], "enqueue tasks and publish events only via symphony_site/events.py"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("run.delay(1)", [(1, "delay")], id="delay"),
        pytest.param("run.apply_async(args=[1], countdown=5)", [(1, "apply_async")], id="apply_async"),
        pytest.param("app.send_task('audit.apply_retention')", [(1, "send_task")], id="send_task"),
        pytest.param("from celery import current_app\nsend_task = current_app.send_task\nsend_task('x')",
                     [(2, "send_task"), (2, "send_task"), (3, "send_task")], id="send_task-by-name"),
        pytest.param("async_to_sync(layer.group_send)(group, message)", [(1, "group_send")],
                     id="async_to_sync-group_send"),
        pytest.param("await self.channel_layer.group_send(group, message)", [(1, "group_send")], id="group_send"),
        pytest.param("sender = getattr(layer, 'group_send')", [(1, "getattr group_send")], id="getattr"),
        pytest.param("from asgiref.sync import async_to_sync as a\n# group_send( in a comment\n'delay('",
                     [], id="comments-and-strings-are-not-calls"),
        pytest.param("delay = policy.get('delay_ms', 0)", [], id="a-variable-named-delay"),
        pytest.param("publish_on_commit(event)\nenqueue_on_commit(task, 1)\nsend_task_on_commit(task)",
                     [], id="the-door-itself"),
    ],
)
def test_the_door_check_catches_each_way_of_sending(source: str, expected: list[tuple[int, str]]) -> None:
    assert direct_sends(source) == expected


# The import rules themselves (pure cores, app boundaries, layers) are import-linter
# contracts in pyproject.toml, run by `make test` (`lint-imports`). These tests make sure
# that check can fail: a copy of the code with violations planted must break them.
ROOT_PACKAGES = ["symphony_site", "teams", "audit", "workflows", "templates_app", "executions", "instruments",
                 "symphony_cli"]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(command), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(cwd)}, timeout=300, check=False)


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_the_import_contracts_catch_planted_violations(tmp_path: Path) -> None:
    for package in ROOT_PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = {
        "workflows/domain/plan.py": "import django.conf",
        "audit/services/chain.py": "from teams.access import require_role",
        "workflows/selectors.py": "from workflows import views",
        "teams/websocket_auth.py": "from workflows import models",
        "teams/models.py": "from teams import services",
        "symphony_cli/render.py": "from workflows.serialization import pretty",
    }
    for path, line in planted.items():
        with open(tmp_path / path, "a") as module:
            module.write(f"\n{line}  # planted violation\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    broken = sorted(line.removesuffix(" BROKEN") for line in result.stdout.splitlines() if line.endswith(" BROKEN"))
    assert broken == [
        "Pure cores import no framework",
        "The audit core imports no other app",
        "The command-line client imports no framework and no app",
        # Through teams.models -> teams.services -> audit.services -> retention, the core's chain
        # module now reaches a layer above it.
        "audit: adapters, services, reads, models, domain",
        "teams is below the apps that build on it",
        "teams sits between the audit core and audit's team-facing surface",
        "teams: adapters, services, access, models",
        "workflows: adapters, services, documents, reads, graphs, models, pure helpers",
    ]


def _service_modules() -> list[Path]:
    modules = [p for app in APPS for p in (ROOT / app).rglob("services.py")]
    modules += [p for app in APPS for folder in (ROOT / app).rglob("services") if folder.is_dir()
                for p in folder.glob("*.py")]
    return sorted(modules)


def test_services_take_an_actor_and_an_origin_never_a_request() -> None:
    """Every public service that audits takes `*, actor: Actor, origin: Origin`; none takes a request."""
    offenders = []
    audited = 0
    for path in _service_modules():
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.name}"
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            names = {argument.arg: ast.unparse(argument.annotation) if argument.annotation else ""
                     for argument in arguments}
            if "request" in names:
                offenders.append(f"{where} takes a request")
            if names.get("actor") == "Any":
                offenders.append(f"{where} takes actor: Any")
            calls = {call.func.id for call in ast.walk(node) if isinstance(call, ast.Call)
                     and isinstance(call.func, ast.Name)}
            if calls & {"record_event", "record_events_batch", "_create"} or "actor" in names:
                audited += 1
                keyword_only = {argument.arg: ast.unparse(argument.annotation) if argument.annotation else ""
                                for argument in node.args.kwonlyargs}
                if (keyword_only.get("actor"), keyword_only.get("origin")) != ("Actor", "Origin"):
                    offenders.append(f"{where} does not take keyword-only actor: Actor, origin: Origin")
    assert offenders == []
    assert audited >= 30  # the scan found the services (teams, workflows, templates, audit)


SHAPED_APPS = ["teams", "workflows", "templates_app", "audit"]


@pytest.mark.parametrize("app", SHAPED_APPS)
def test_every_app_has_the_same_shape(app: str) -> None:
    """Access helpers in access.py, reads in selectors, writes in services (each a module or a package)."""
    folder = ROOT / app
    assert (folder / "access.py").is_file()
    assert (folder / "selectors.py").is_file() or (folder / "selectors" / "__init__.py").is_file()
    assert (folder / "services.py").is_file() or (folder / "services" / "__init__.py").is_file()
    misplaced = [
        f"{path.relative_to(ROOT)}:{node.name}"
        for path in _python_files(app)
        if path.name != "access.py"
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("access_")
    ]
    assert misplaced == [], "access_* helpers belong in the app's access.py"
