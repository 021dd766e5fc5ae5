"""`make bench`: run every benchmark area in bench/ and print one table.

Each area is a package `bench/<area>/` exposing `run(quick: bool = False) ->
list[dict]` (directly or in one of its modules). Rows carry the figure, its
baseline measured in the same run, the ratio and the target; the table is
also written to bench/results/latest.json so figures can be compared over time.

    python -m bench.run [--quick] [area ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import traceback
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
COLUMNS = ["area", "name", "size", "value", "unit", "p95", "baseline_name", "baseline", "ratio", "target", "met"]


def _areas() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(BENCH_DIR)]) if info.ispkg)


def _runner(area: str) -> Any:
    package = importlib.import_module(f"bench.{area}")
    if callable(getattr(package, "run", None)):
        return package.run
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "generate":
            continue
        module = importlib.import_module(f"bench.{area}.{info.name}")
        if callable(getattr(module, "run", None)):
            return module.run
    raise LookupError(f"bench/{area} has no run(quick) function")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [[_cell(row.get(column)) for column in COLUMNS] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) if cells else len(column)
              for i, column in enumerate(COLUMNS)]
    lines = [" | ".join(column.ljust(widths[i]) for i, column in enumerate(COLUMNS))]
    lines.append("-+-".join("-" * width for width in widths))
    lines += [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not a measurement")
    parser.add_argument("areas", nargs="*", help=f"areas to run (default: all of {', '.join(_areas())})")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
    import django

    django.setup()

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for area in options.areas or _areas():
        print(f"== bench/{area}", flush=True)
        try:
            area_rows = _runner(area)(quick=options.quick)
        except Exception:
            traceback.print_exc()
            failures.append(area)
            continue
        for row in area_rows:
            row.setdefault("area", area)
        rows.extend(area_rows)
    print()
    print(format_table(rows))
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(json.dumps({
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
        "quick": options.quick,
        "rows": rows,
    }, indent=2, default=str))
    print(f"\nwritten to {results / 'latest.json'}")
    if failures:
        print(f"failed areas: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
