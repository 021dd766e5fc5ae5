"""The pure core must not import Django (style.md, habit 1)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = [ROOT / "workflows" / "domain", ROOT / "workflows" / "serialization"]


def _python_files() -> list[Path]:
    return sorted(
        path for package in PURE_PACKAGES if package.is_dir() for path in package.rglob("*.py")
    )


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
    return modules


def test_the_pure_packages_exist_and_hold_modules():
    files = _python_files()
    assert ROOT / "workflows" / "domain" / "model.py" in files
    assert len(files) >= 10


@pytest.mark.parametrize("path", _python_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_django_import(path):
    django_imports = [
        module
        for module in _imported_modules(path)
        if module.split(".")[0] in {"django", "rest_framework"}
    ]
    assert django_imports == []


def test_the_scanner_catches_a_django_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom django.db import models\nimport django.conf\n")
    assert _imported_modules(sample) == ["os", "django.db", "django.conf"]


def test_importing_the_core_does_not_load_django():
    import subprocess
    import sys

    code = (
        "import sys, workflows.domain, workflows.domain.expressions; print('django' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"
