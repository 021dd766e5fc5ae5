"""Prepare a cosmic-ray session for `scripts/mutation.sh`: skip the mutants that cannot matter,
then (optionally) keep a deterministic sample of the rest.

- A binary-operator mutant inside a type annotation (`X | None`) is skipped: annotations are
  never evaluated under `from __future__ import annotations`. So is one on the bare `*` of a
  keyword-only signature, which parso offers as a multiplication (the mutant cannot compile), and one on the `**` of
  a dict or keyword unpacking (`{**row}`, `f(**options)`), which it offers as a power (nor can that). Binary
  operators in code (arithmetic, `Q | Q`, `x ** 2`) are kept.
- `--sample N` keeps N of the remaining mutants, chosen by `random.Random(seed + module)`,
  and marks the others skipped ("not sampled"), so the same N run again on the same code.

    python scripts/mutation_filter.py SESSION MODULE [--sample N] [--seed S]
"""

from __future__ import annotations

import argparse
import ast
import random
from pathlib import Path

from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

Span = tuple[tuple[int, int], tuple[int, int]]


def annotation_spans(source: str) -> list[Span]:
    spans: list[Span] = []

    def add(node: ast.expr | None) -> None:
        if node is not None and node.end_lineno is not None and node.end_col_offset is not None:
            spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.arg):
            add(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            add(node.returns)
        elif isinstance(node, ast.AnnAssign):
            add(node.annotation)
    return spans


def inside(position: tuple[int, int], spans: list[Span]) -> bool:
    return any(start <= position < end for start, end in spans)


def keyword_only_marker(lines: list[str], position: tuple[int, int]) -> bool:
    """The bare `*` of `def f(a, *, b)`, which parso offers as a multiplication."""
    row, column = position
    rest = lines[row - 1][column:]
    return rest.startswith("*") and rest[1:].lstrip().startswith((",", ")"))


def unpacking_marker(lines: list[str], position: tuple[int, int]) -> bool:
    """The `**` of `{**row}` or `f(**options)`, which parso offers as a power: its mutants
    (`{* row}`, `{^ row}`) cannot compile."""
    row, column = position
    line = lines[row - 1]
    return line[column:].startswith("**") and line[:column].rstrip().endswith(("{", ",", "("))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("session")
    parser.add_argument("module")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", default="symphony")
    args = parser.parse_args()

    paths = [Path(args.module)] if Path(args.module).is_file() else sorted(Path(args.module).rglob("*.py"))
    spans = {str(path): annotation_spans(path.read_text()) for path in paths}
    lines = {str(path): path.read_text().splitlines() for path in paths}
    annotations = 0
    with use_db(args.session) as work_db:
        kept = []
        for item in work_db.pending_work_items:
            mutation = item.mutations[0]
            where = str(mutation.module_path)
            if (mutation.operator_name.startswith("core/ReplaceBinaryOperator_")
                    and (inside(tuple(mutation.start_pos), spans.get(where, []))
                         or keyword_only_marker(lines[where], tuple(mutation.start_pos))
                         or unpacking_marker(lines[where], tuple(mutation.start_pos)))):
                work_db.set_result(item.job_id, WorkResult(
                    output="Annotation or keyword-only marker", worker_outcome=WorkerOutcome.SKIPPED))
                annotations += 1
            else:
                kept.append(item)
        total = len(kept)
        if args.sample and args.sample < total:
            # job ids are random uuids: order by position instead so the sample is reproducible.
            kept.sort(key=lambda item: (str(item.mutations[0].module_path), tuple(item.mutations[0].start_pos),
                                        item.mutations[0].operator_name, item.mutations[0].occurrence))
            chosen = set(id(item) for item in random.Random(f"{args.seed}:{args.module}").sample(kept, args.sample))
            for item in kept:
                if id(item) not in chosen:
                    work_db.set_result(item.job_id, WorkResult(
                        output="Not sampled", worker_outcome=WorkerOutcome.SKIPPED))
            kept = [item for item in kept if id(item) in chosen]
    print(f"{args.module}: {annotations} annotation mutants skipped, {len(kept)} of {total} to run")


if __name__ == "__main__":
    main()
