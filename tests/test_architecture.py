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
