"""Decompression bombs and deeply nested documents through the import endpoints (issue 15,
"Hostile clients"). tests/serialization/test_bad_input.py shows the decoder refusing them; these
send them where a client can, the API's import and the upload page, and check that the refusal
arrives in the error shape with the decoder's code and leaves no workflow, version or audit entry.
"""

from __future__ import annotations

import json

import lz4.frame
import msgpack
import pytest
import zstandard
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEntry
from tests.serialization.helpers import frame, small_envelope
from workflows.documents import MAX_DOCUMENT_BYTES
from workflows.models import Workflow, WorkflowVersion
from workflows.serialization.compact import encode_compact

from .conftest import error_of

ZERO_COUNT = 64 * 1024 * 1024  # 64 MiB of one byte: compresses a thousand-fold


def nothing_written() -> bool:
    return (Workflow.objects.count(), WorkflowVersion.objects.count(),
            AuditEntry.objects.filter(event_type="workflow.imported").count()) == (0, 0, 0)


def post(personas, data: bytes):
    return personas.client("editor").post(f"/api/v1/workflows/import/?team={personas.team.pk}", data,
                                          content_type="application/octet-stream")


def nested_json(levels: int) -> bytes:
    envelope = small_envelope()
    envelope["workflow"]["nodes"][1]["config"] = {"placeholder": True}
    text = json.dumps(envelope)
    return text.replace('{"placeholder": true}', "[" * levels + "0" + "]" * levels).encode()


def nested_msgpack(levels: int) -> bytes:
    envelope = small_envelope()
    envelope["workflow"]["nodes"][1]["config"] = {"placeholder": True}
    payload = encode_compact(envelope)
    original = msgpack.packb({"placeholder": True})
    assert payload.count(original) == 1
    return payload.replace(original, b"\x81\xa4deep" + b"\x91" * levels + b"\x00")


def zstd_bomb(declared_size: int = 1000) -> bytes:
    """Built when a test runs, not at collection: 64 MiB of zeros is not free."""
    zeros = bytes(ZERO_COUNT)
    compressed = zstandard.ZstdCompressor(level=1, write_content_size=False).compress(zeros)
    return frame(compressed, compression=1, declared_size=declared_size, checksum_of=zeros[:declared_size])


def lz4_bomb() -> bytes:
    zeros = bytes(ZERO_COUNT)
    return frame(lz4.frame.compress(zeros, store_size=False), compression=2, declared_size=1000,
                 checksum_of=zeros[:1000])


def nested_json_in_zstd() -> bytes:
    text = nested_json(100_000)
    return frame(zstandard.ZstdCompressor().compress(text), encoding=0, compression=1, checksum_of=text)


@pytest.mark.parametrize(("build", "status", "code"), [
    # The header declares a small size; the frame expands far past it.
    (zstd_bomb, 400, "size_mismatch"),
    (lz4_bomb, 400, "size_mismatch"),
    # The header tells the truth: refused before decompressing.
    (lambda: zstd_bomb(ZERO_COUNT), 413, "too_large"),
    (lambda: frame(b"\x28\xb5\x2f\xfd", compression=1, declared_size=2**40), 413, "too_large"),
    # Nesting, plain and inside a compressed frame.
    (lambda: nested_json(100_000), 400, "nesting_too_deep"),
    (nested_json_in_zstd, 400, "nesting_too_deep"),
    (lambda: nested_msgpack(5_000), 400, "nesting_too_deep"),
], ids=["zstd-lying-size", "lz4-lying-size", "zstd-true-size", "terabytes-declared", "json-nested",
        "json-nested-in-zstd", "msgpack-nested"])
def test_bombs_and_nesting_are_refused_by_the_import_api(personas, build, status, code) -> None:
    data = build()
    assert len(data) < MAX_DOCUMENT_BYTES
    response = post(personas, data)
    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert nothing_written()


def test_a_bomb_uploaded_on_the_import_page_is_refused(personas) -> None:
    client = Client()
    client.force_login(personas.users["editor"])
    bomb = zstd_bomb()
    response = client.post("/workflows/import/", {"file": SimpleUploadedFile("bomb.swf", bomb)}, follow=True)
    assert response.status_code == 200
    assert "Import failed (size_mismatch)" in response.content.decode()
    assert nothing_written()
