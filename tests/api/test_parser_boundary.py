"""The API layer reaches into the workflows app only through its pure serialization package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _workflows_imports(path: Path) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
    return [module for module in modules if module.split(".")[0] == "workflows"]


def test_the_api_layer_imports_only_the_serialization_package_of_workflows() -> None:
    imports = {str(path.relative_to(ROOT)): _workflows_imports(path)
               for path in sorted((ROOT / "symphony_site" / "api").glob("*.py"))}
    assert imports["symphony_site/api/parsers.py"] == ["workflows.serialization"]
    outside = [(path, module) for path, modules in imports.items() for module in modules
               if not (module == "workflows.serialization" or module.startswith("workflows.serialization."))]
    assert outside == []


def test_the_parser_is_the_default_for_every_api_view() -> None:
    from rest_framework.settings import api_settings

    from symphony_site.api.parsers import StrictJSONParser

    assert [StrictJSONParser] == api_settings.DEFAULT_PARSER_CLASSES


def test_the_whitespace_class_is_exactly_what_python_strips() -> None:
    """Patterns built on it (not blank, tags, versions) accept what DRF's trimming accepts."""
    import re
    import sys

    from symphony_site.api.serializers import NOT_BLANK, WHITESPACE

    stripped = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    matched = {chr(code) for code in range(sys.maxunicode + 1) if re.fullmatch(WHITESPACE, chr(code))}
    assert matched == stripped
    assert re.search(NOT_BLANK, " \u3000\t") is None and re.search(NOT_BLANK, " x ") is not None
