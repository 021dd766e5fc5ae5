"""Schema versions of the workflow document and the migrations between them.

Rules (workflow-format.md, "Envelope"):

- the current version reads as is; so does a newer *patch* of the current
  minor (patch releases never change the document's shape);
- a newer minor of the current major is refused: the reader must be upgraded;
- an older version is migrated step by step through registered migrations;
  an older version of the current major with no registered chain reads as is
  (same major reads);
- any other major (newer, or older without a chain) is refused.

A migration works on a deep copy of the envelope, so when a step fails the
caller's document is untouched, and the error names the failing step.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import total_ordering
from typing import Any

from workflows.serialization.errors import (
    InvalidEnvelopeError,
    InvalidSchemaVersionError,
    MigrationFailedError,
    SchemaTooNewError,
    UnsupportedSchemaVersionError,
)

_VERSION_PATTERN = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")

Envelope = dict[str, Any]
MigrationFunction = Callable[[Envelope], Envelope | None]


@total_ordering
@dataclass(frozen=True)
class SchemaVersion:
    """A ``MAJOR.MINOR.PATCH`` version, compared as numbers."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: object) -> SchemaVersion:
        if isinstance(text, SchemaVersion):
            return text
        if not isinstance(text, str):
            raise InvalidSchemaVersionError(
                f"schema_version must be a string like '1.0.0', found {type(text).__name__}"
            )
        match = _VERSION_PATTERN.fullmatch(text)
        if match is None:
            raise InvalidSchemaVersionError(
                f"schema_version {text[:40]!r} is not of the form MAJOR.MINOR.PATCH"
            )
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SchemaVersion):
            return NotImplemented
        return self.as_tuple() < other.as_tuple()

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def reads_as_is(self, document_version: SchemaVersion) -> bool:
        """Whether a reader at this version reads ``document_version`` without migrating."""
        return (document_version.major, document_version.minor) == (self.major, self.minor)


CURRENT_SCHEMA_VERSION = SchemaVersion(1, 0, 0)


@dataclass(frozen=True)
class Migration:
    source: SchemaVersion
    target: SchemaVersion
    function: MigrationFunction = field(compare=False)
    description: str = ""

    def __str__(self) -> str:
        label = f"{self.source} → {self.target}"
        return f"{label} ({self.description})" if self.description else label


class MigrationRegistry:
    """Registered migrations, and the chain from any known version to ``current``."""

    def __init__(self, current: SchemaVersion | str = CURRENT_SCHEMA_VERSION) -> None:
        self.current = SchemaVersion.parse(current)
        self._migrations: list[Migration] = []

    def register(
        self,
        source: SchemaVersion | str,
        target: SchemaVersion | str,
        function: MigrationFunction,
        *,
        description: str = "",
    ) -> Migration:
        """Register ``function`` as the step from ``source`` to ``target``.

        The function receives a private deep copy of the envelope and returns
        the migrated envelope (or None after changing it in place). It does
        not need to set ``schema_version``: the registry does.
        """
        migration = Migration(
            SchemaVersion.parse(source), SchemaVersion.parse(target), function, description
        )
        if not migration.source < migration.target:
            raise ValueError(f"a migration must move forward, not {migration}")
        if migration.target > self.current:
            raise ValueError(f"migration {migration} goes past the current version {self.current}")
        for existing in self._migrations:
            if (existing.source, existing.target) == (migration.source, migration.target):
                raise ValueError(f"a migration {existing} is already registered")
        self._migrations.append(migration)
        return migration

    def migration(
        self, source: SchemaVersion | str, target: SchemaVersion | str, *, description: str = ""
    ) -> Callable[[MigrationFunction], MigrationFunction]:
        """Decorator form of ``register``."""

        def decorate(function: MigrationFunction) -> MigrationFunction:
            self.register(source, target, function, description=description)
            return function

        return decorate

    @property
    def migrations(self) -> tuple[Migration, ...]:
        return tuple(self._migrations)

    def known_versions(self) -> list[SchemaVersion]:
        versions = {self.current}
        for migration in self._migrations:
            versions.update((migration.source, migration.target))
        return sorted(versions)

    def find_chain(self, source: SchemaVersion | str) -> list[Migration] | None:
        """The shortest chain of steps from ``source`` to the current version, or None.

        Breadth-first over the registered steps in registration order, so the
        answer is deterministic when two chains have the same length.
        """
        start = SchemaVersion.parse(source)
        if start == self.current:
            return []
        arrived_by: dict[SchemaVersion, Migration | None] = {start: None}
        queue = deque([start])
        while queue:
            version = queue.popleft()
            if version == self.current:
                break
            for migration in self._migrations:
                if migration.source == version and migration.target not in arrived_by:
                    arrived_by[migration.target] = migration
                    queue.append(migration.target)
        if self.current not in arrived_by:
            return None
        chain: list[Migration] = []
        version = self.current
        while (step := arrived_by[version]) is not None:
            chain.append(step)
            version = step.source
        chain.reverse()
        return chain

    def plan(self, document_version: SchemaVersion | str) -> list[Migration]:
        """The steps to apply to a document at ``document_version``; refuse per the rules."""
        version = SchemaVersion.parse(document_version)
        current = self.current
        if version.major == current.major and version.minor > current.minor:
            raise SchemaTooNewError(
                f"this document uses schema {version}, newer than the {current} this Symphony "
                "reads: upgrade Symphony to read it",
                document_version=str(version),
                current_version=str(current),
            )
        if version.major > current.major:
            raise UnsupportedSchemaVersionError(
                f"this document uses schema {version}, a major version this Symphony does not "
                f"know (it reads {current.major}.x up to {current}): upgrade Symphony to read it",
                document_version=str(version),
                current_version=str(current),
            )
        if version >= current:
            return []
        chain = self.find_chain(version)
        if chain is not None:
            return chain
        if version.major == current.major:
            return []
        known = ", ".join(str(known) for known in self.known_versions())
        raise UnsupportedSchemaVersionError(
            f"schema {version} is not a version this Symphony can migrate from (known: {known})",
            document_version=str(version),
            current_version=str(current),
        )

    def apply(self, envelope: Envelope) -> Envelope:
        """Return ``envelope`` migrated to the current version; the input is never changed.

        When no step is needed the same object is returned.
        """
        if not isinstance(envelope, dict) or "schema_version" not in envelope:
            raise InvalidEnvelopeError("an envelope is an object with a 'schema_version'")
        steps = self.plan(envelope["schema_version"])
        if not steps:
            return envelope
        working = copy.deepcopy(envelope)
        for step in steps:
            try:
                result = step.function(working)
                if result is None:
                    result = working
                if not isinstance(result, dict):
                    raise TypeError(f"the step returned {type(result).__name__}, not an envelope")
            except Exception as error:
                raise MigrationFailedError(
                    f"migration step {step} failed: {type(error).__name__}: {error}; "
                    "the document was left unchanged",
                    step=str(step),
                    source=str(step.source),
                    target=str(step.target),
                ) from error
            result["schema_version"] = str(step.target)
            working = result
        return working


# The registry the application uses. The format starts at 1.0.0, so it is
# empty; a change to the document shape bumps CURRENT_SCHEMA_VERSION and
# registers its step here, with a fixture of the old form in the tests.
default_registry = MigrationRegistry(CURRENT_SCHEMA_VERSION)


def migrate_envelope(envelope: Envelope, *, registry: MigrationRegistry | None = None) -> Envelope:
    """Migrate an envelope to the registry's current version (the default registry if None)."""
    return (registry or default_registry).apply(envelope)
