"""Rules the code base keeps, checked on every run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["symphony_site", "teams", "workflows", "templates_app", "executions", "audit"]


def _python_files(*folders: str) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        files.extend(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)
    return files


def test_side_effects_after_commit_go_through_one_door() -> None:
    door = ROOT / "symphony_site" / "events.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_files(*APPS)
        if path != door
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.delay\(|\.apply_async\(|group_send\(", line)
    ]
    assert offenders == [], "enqueue tasks and publish events only via symphony_site/events.py"


def _pure_folders() -> list[Path]:
    folders = [p for app in APPS for p in (ROOT / app).rglob("domain") if p.is_dir()]
    folders += [p for p in [ROOT / "workflows" / "serialization"] if p.is_dir()]
    folders += [p for p in [ROOT / "executions" / "runtime"] if p.is_dir()]
    folders += [ROOT / "teams" / "roles.py", ROOT / "symphony_site" / "env.py"]
    return folders


def test_pure_core_has_no_django_imports() -> None:
    offenders = []
    for folder in _pure_folders():
        paths = [folder] if folder.is_file() else list(folder.rglob("*.py"))
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                              if n.split(".")[0] in {"django", "rest_framework", "channels", "celery"}]
    assert offenders == []


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
