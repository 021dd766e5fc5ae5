"""Schema versions, compatibility rules and migration chains."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from workflows.serialization import (
    CURRENT_SCHEMA_VERSION,
    InvalidSchemaVersionError,
    MigrationFailedError,
    MigrationRegistry,
    SchemaTooNewError,
    SchemaVersion,
    UnsupportedSchemaVersionError,
    decode,
    default_registry,
    encode,
    migrate_envelope,
    workflow_json_schema,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(version: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"workflow-{version}.json").read_text(encoding="utf-8"))


def _rename_node_fields(envelope: dict[str, Any]) -> None:
    for node in envelope["workflow"]["nodes"]:
        node["kind"] = node.pop("type")
        node["name"] = node.pop("title")


def _rename_edge_endpoints(envelope: dict[str, Any]) -> dict[str, Any]:
    for edge in envelope["workflow"]["edges"]:
        edge["source"] = edge.pop("from")
        edge["target"] = edge.pop("to")
    envelope["created_with"] = "symphony 0.1.0"
    del envelope["generator"]
    return envelope


def example_registry() -> MigrationRegistry:
    """A test-only history: 0.9.0 → 0.10.0 → 1.0.0 (see fixtures/README.md)."""
    registry = MigrationRegistry("1.0.0")
    registry.register(
        "0.9.0", "0.10.0", _rename_node_fields, description="rename node type and title"
    )
    registry.register(
        "0.10.0", "1.0.0", _rename_edge_endpoints, description="rename edge from and to"
    )
    return registry


# SchemaVersion ------------------------------------------------------------------------


def test_schema_versions_parse_and_compare_as_numbers() -> None:
    assert SchemaVersion.parse("1.10.0") > SchemaVersion.parse("1.9.3")
    assert SchemaVersion.parse("0.10.0") > SchemaVersion.parse("0.9.0")
    assert SchemaVersion.parse("2.0.0") == SchemaVersion(2, 0, 0)
    assert str(SchemaVersion.parse("10.20.30")) == "10.20.30"
    assert sorted(map(SchemaVersion.parse, ["1.0.0", "0.10.0", "0.9.1"])) == [
        SchemaVersion(0, 9, 1),
        SchemaVersion(0, 10, 0),
        SchemaVersion(1, 0, 0),
    ]
    assert str(CURRENT_SCHEMA_VERSION) == "1.0.0"


@pytest.mark.parametrize(
    "text",
    ["1.0", "1.0.0.0", "01.0.0", "v1.0.0", "1.0.0-beta", "", " 1.0.0", "1.x.0", "9999999.0.0"],
)
def test_malformed_schema_versions_are_refused(text: str) -> None:
    with pytest.raises(InvalidSchemaVersionError):
        SchemaVersion.parse(text)


def test_a_schema_version_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidSchemaVersionError, match="found int"):
        SchemaVersion.parse(1)


# Compatibility rules --------------------------------------------------------------------


def test_the_current_version_and_a_newer_patch_read_as_is() -> None:
    registry = MigrationRegistry("1.2.0")
    assert registry.plan("1.2.0") == []
    assert registry.plan("1.2.5") == []


def test_a_newer_minor_of_the_current_major_asks_for_an_upgrade() -> None:
    with pytest.raises(SchemaTooNewError) as caught:
        MigrationRegistry("1.2.0").plan("1.3.0")
    assert "upgrade Symphony" in str(caught.value)
    assert caught.value.details == {"document_version": "1.3.0", "current_version": "1.2.0"}


def test_a_newer_major_is_refused_as_unknown() -> None:
    with pytest.raises(
        UnsupportedSchemaVersionError, match="major version this Symphony does not know"
    ):
        MigrationRegistry("1.2.0").plan("2.0.0")


def test_an_older_minor_without_a_chain_reads_as_is() -> None:
    assert MigrationRegistry("1.2.0").plan("1.0.0") == []


def test_an_older_major_without_a_chain_is_refused() -> None:
    with pytest.raises(UnsupportedSchemaVersionError, match=r"known: 1\.2\.0"):
        MigrationRegistry("1.2.0").plan("0.9.0")


def test_decode_refuses_a_newer_document_with_the_default_registry() -> None:
    envelope = _fixture("1.0.0")
    envelope["schema_version"] = "1.1.0"
    with pytest.raises(SchemaTooNewError):
        decode(encode(envelope, "json"))
    envelope["schema_version"] = "3.0.0"
    with pytest.raises(UnsupportedSchemaVersionError):
        decode(encode(envelope, "msgpack"))


def test_the_default_registry_starts_at_one_with_no_migrations() -> None:
    assert default_registry.current == SchemaVersion(1, 0, 0)
    assert default_registry.migrations == ()
    envelope = _fixture("1.0.0")
    assert migrate_envelope(envelope) is envelope


# Chains --------------------------------------------------------------------------------


@pytest.mark.parametrize("old_version", ["0.9.0", "0.10.0"])
def test_each_old_fixture_migrates_to_the_current_fixture(old_version: str) -> None:
    migrated = example_registry().apply(_fixture(old_version))
    assert migrated == _fixture("1.0.0")


@pytest.mark.parametrize("format_name", ["json", "msgpack", "zstd", "lz4"])
def test_decode_migrates_old_documents_in_every_format(format_name: str) -> None:
    data = encode(_fixture("0.9.0"), format_name)
    assert decode(data, registry=example_registry()) == _fixture("1.0.0")
    assert decode(data, registry=example_registry(), migrate=False) == _fixture("0.9.0")


def test_every_fixture_of_the_current_version_matches_the_json_schema() -> None:
    validator = jsonschema.Draft202012Validator(workflow_json_schema())
    current = _fixture("1.0.0")
    assert list(validator.iter_errors(current)) == []
    # The old forms are not valid 1.0 documents: the schema would catch them.
    assert list(validator.iter_errors(_fixture("0.9.0"))) != []


def test_the_chain_is_found_step_by_step() -> None:
    registry = example_registry()
    assert [str(step) for step in registry.find_chain("0.9.0") or []] == [
        "0.9.0 → 0.10.0 (rename node type and title)",
        "0.10.0 → 1.0.0 (rename edge from and to)",
    ]
    assert registry.find_chain("1.0.0") == []
    assert registry.find_chain("0.8.0") is None


def test_the_shortest_chain_wins_and_ties_go_to_the_first_registered() -> None:
    registry = example_registry()
    registry.register("0.8.0", "0.9.0", _rename_node_fields)
    registry.register("0.8.0", "0.9.5", _rename_node_fields)
    registry.register("0.9.5", "1.0.0", _rename_edge_endpoints)
    registry.register("0.9.0", "1.0.0", _rename_edge_endpoints, description="shortcut")
    chain = registry.find_chain("0.8.0") or []
    assert [(str(step.source), str(step.target)) for step in chain] == [
        ("0.8.0", "0.9.0"),
        ("0.9.0", "1.0.0"),
    ]


def test_every_step_stamps_its_target_version() -> None:
    seen: list[str] = []

    def record(envelope: dict[str, Any]) -> None:
        seen.append(envelope["schema_version"])

    registry = MigrationRegistry("1.0.0")
    registry.register("0.1.0", "0.2.0", record)
    registry.register("0.2.0", "0.3.0", record)
    registry.register("0.3.0", "1.0.0", record)
    result = registry.apply({"schema_version": "0.1.0", "workflow": {}})
    assert seen == ["0.1.0", "0.2.0", "0.3.0"]
    assert result == {"schema_version": "1.0.0", "workflow": {}}


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("1.0.0", "0.9.0", "must move forward"),
        ("0.9.0", "0.9.0", "must move forward"),
        ("0.9.0", "1.1.0", "goes past the current version"),
        ("0.9.0", "0.10.0", "already registered"),
    ],
)
def test_bad_registrations_are_refused(source: str, target: str, message: str) -> None:
    registry = example_registry()
    with pytest.raises(ValueError, match=message):
        registry.register(source, target, _rename_node_fields)
    assert len(registry.migrations) == 2


def test_the_decorator_form_registers_a_step() -> None:
    registry = MigrationRegistry("1.0.0")

    @registry.migration("0.5.0", "1.0.0", description="add settings")
    def add_settings(envelope: dict[str, Any]) -> None:
        envelope["workflow"]["settings"] = {"error_policy": "stop"}

    assert registry.apply({"schema_version": "0.5.0", "workflow": {}}) == {
        "schema_version": "1.0.0",
        "workflow": {"settings": {"error_policy": "stop"}},
    }


# Failure leaves the input untouched ------------------------------------------------------


def test_a_failing_step_is_named_and_leaves_the_input_untouched() -> None:
    registry = MigrationRegistry("1.0.0")
    registry.register(
        "0.9.0", "0.10.0", _rename_node_fields, description="rename node type and title"
    )

    def break_halfway(envelope: dict[str, Any]) -> None:
        # Changes the working copy in place before failing: none of it may leak out.
        envelope["workflow"]["edges"][0]["source"] = envelope["workflow"]["edges"][0].pop("from")
        envelope["workflow"]["nodes"].clear()
        raise KeyError("to")

    registry.register("0.10.0", "1.0.0", break_halfway, description="rename edge from and to")
    original = _fixture("0.9.0")
    snapshot = copy.deepcopy(original)
    with pytest.raises(MigrationFailedError) as caught:
        registry.apply(original)
    assert original == snapshot
    assert caught.value.code == "migration_failed"
    assert caught.value.details == {
        "step": "0.10.0 → 1.0.0 (rename edge from and to)",
        "source": "0.10.0",
        "target": "1.0.0",
    }
    assert "migration step 0.10.0 → 1.0.0 (rename edge from and to) failed: KeyError" in str(
        caught.value
    )
    assert "left unchanged" in str(caught.value)


def test_a_step_returning_something_else_than_an_envelope_fails() -> None:
    registry = MigrationRegistry("1.0.0")
    registry.register("0.9.0", "1.0.0", lambda envelope: ["not", "an", "envelope"])  # type: ignore[arg-type,return-value]
    original = _fixture("0.9.0")
    with pytest.raises(MigrationFailedError, match="returned list, not an envelope"):
        registry.apply(original)
    assert original == _fixture("0.9.0")


def test_decode_of_a_failing_migration_raises_and_returns_nothing() -> None:
    registry = MigrationRegistry("1.0.0")
    registry.register("0.9.0", "1.0.0", lambda envelope: 1 / 0)  # type: ignore[arg-type,return-value]
    with pytest.raises(MigrationFailedError, match="ZeroDivisionError"):
        decode(encode(_fixture("0.9.0"), "zstd"), registry=registry)
