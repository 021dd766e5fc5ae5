"""Small builders shared by the serialization tests."""

from __future__ import annotations

import zlib
from typing import Any

from workflows.serialization.container import CONTAINER_VERSION, HEADER, MAGIC


def small_envelope(**workflow_fields: Any) -> dict[str, Any]:
    """A valid two-node envelope; keyword arguments replace workflow fields."""
    workflow: dict[str, Any] = {
        "id": "5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11",
        "name": "Triage support tickets",
        "description": "Classify a ticket, draft a reply, escalate when unsure",
        "version": "1.2.0",
        "metadata": {"author": "ada", "tags": ["support", "llm"], "custom": {}},
        "settings": {"error_policy": "stop", "max_parallel": 8, "timeout_s": 3600},
        "nodes": [
            {
                "id": "ticket",
                "kind": "input",
                "name": "Ticket",
                "data_type": "string",
                "required": True,
                "position": {"x": 0.0, "y": 0.0},
            },
            {
                "id": "classify",
                "kind": "instrument",
                "name": "Classify",
                "model_id": "gpt-4o",
                "model_version": "2024-08-06",
                "config": {"temperature": 0.2},
                "inputs": [
                    {"name": "text", "data_type": "string", "required": True, "default": None}
                ],
                "outputs": [{"name": "label", "data_type": "string"}],
                "retry": {"max_attempts": 3, "delay_ms": 500, "backoff_multiplier": 2.0},
                "timeout_s": 60,
            },
        ],
        "edges": [
            {
                "id": "e1",
                "kind": "data",
                "source": "ticket",
                "source_port": "value",
                "target": "classify",
                "target_port": "text",
            }
        ],
    }
    workflow.update(workflow_fields)
    return {"schema_version": "1.0.0", "created_with": "symphony 0.1.0", "workflow": workflow}


def frame(
    body: bytes,
    *,
    encoding: int = 1,
    compression: int = 0,
    declared_size: int | None = None,
    checksum_of: bytes | None = None,
    version: int = CONTAINER_VERSION,
    flags: int = 0,
    magic: bytes = MAGIC,
) -> bytes:
    """A hand-built framed payload, to forge headers the encoder never writes."""
    uncompressed = body if checksum_of is None else checksum_of
    return (
        HEADER.pack(
            magic,
            version,
            encoding,
            compression,
            flags,
            len(uncompressed) if declared_size is None else declared_size,
            zlib.crc32(uncompressed),
        )
        + body
    )
