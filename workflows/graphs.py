"""The one path from a document or a stored version to a validated graph and its plan.

Everything that turns a workflow document into a graph goes through here, so
validation always runs against the built-in catalog and nobody plans a graph
that was not validated first:

* `validate(document)`: the graph core's full validation of an inner workflow
  object (the API's validate endpoint, every write, template checks);
* `analyse_document(document)`: validation, and the plan when the document is
  valid (the editor's preview of an unsaved document);
* `analysis(version)`: the same for a stored `WorkflowVersion`, cached;
* `runnable(version)`: the validated `Workflow` and its `Plan`, or
  `NotRunnable` saying why (the engine calls this on every step).

The cache is keyed by the version's checksum. That is sound because versions
are immutable: the model and its queryset refuse every update and delete
(`workflows.models.ImmutableVersion`), and the checksum is the SHA-256 of
the stored envelope, which names the workflow and the version number, so one
checksum always means one document. The catalog is the built-in one, built
once per process from code, so it cannot change under a cached answer either.

Cached objects are shared by every caller in the process: treat them as
read-only (the plan computes dependency lists lazily, which is safe to repeat).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from workflows.catalog import builtin_catalog
from workflows.domain import Plan, ValidationResult, plan_workflow, validate_document
from workflows.domain import Workflow as GraphWorkflow
from workflows.models import WorkflowVersion

# Versions kept per process. A large workflow's graph and plan take a few
# megabytes, so this bounds the cache at a few hundred megabytes at worst;
# an engine works on far fewer versions at once.
CACHE_SIZE = 256


class NotRunnable(Exception):
    """A stored version that does not validate against today's catalog, or cannot be planned."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        super().__init__(analysis.problem)


@dataclass(frozen=True, slots=True)
class Runnable:
    """A validated graph and its plan: what an engine schedules."""

    checksum: str
    workflow: GraphWorkflow
    plan: Plan


@dataclass(frozen=True, slots=True)
class Analysis:
    """A document's validation and, when it is valid and plannable, its runnable graph."""

    checksum: str
    validation: ValidationResult
    runnable: Runnable | None
    # Why the document cannot run ("" when it can): the first validation error or the planner's refusal.
    problem: str = ""

    @property
    def plan(self) -> Plan | None:
        return self.runnable.plan if self.runnable is not None else None


def validate(workflow_document: Any) -> ValidationResult:
    """Validate an inner workflow object against the built-in catalog. Never raises."""
    return validate_document(workflow_document, catalog=builtin_catalog())


def analyse_document(workflow_document: Any, *, checksum: str = "") -> Analysis:
    """Validate and, when valid, plan an inner workflow object (not cached: it may be unsaved)."""
    result = validate(workflow_document)
    if not result.valid or result.workflow is None:
        first = result.errors[0].message if result.errors else "The document is not a valid workflow."
        return Analysis(checksum=checksum, validation=result, runnable=None, problem=first)
    try:
        plan = plan_workflow(result.workflow)
    except ValueError as error:
        return Analysis(checksum=checksum, validation=result, runnable=None, problem=str(error))
    return Analysis(checksum=checksum, validation=result,
                    runnable=Runnable(checksum=checksum, workflow=result.workflow, plan=plan))


class _LeastRecentlyUsed:
    """A small thread-safe LRU map: a hit is a dictionary lookup and a move under a lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, Analysis] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Analysis | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: str, value: Analysis) -> Analysis:
        with self._lock:
            # Two threads may both miss and both analyse; the first stored answer wins,
            # so every caller holds the same object.
            kept = self._entries.setdefault(key, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return kept

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_cache = _LeastRecentlyUsed(CACHE_SIZE)


def analysis(version: WorkflowVersion) -> Analysis:
    """The validation and runnable graph of a stored version, cached by its checksum."""
    found = _cache.get(version.checksum)
    if found is None:
        found = _cache.put(version.checksum, analyse_document(version.workflow_document,
                                                              checksum=version.checksum))
    return found


def runnable(version: WorkflowVersion) -> Runnable:
    """The validated graph and plan of a stored version; `NotRunnable` when it has none."""
    found = analysis(version)
    if found.runnable is None:
        raise NotRunnable(found)
    return found.runnable


def forget_all() -> None:
    """Empty the cache (tests measuring a cold start)."""
    _cache.clear()
