"""The ``python -m workflows.serialization`` command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serialization.helpers import small_envelope
from workflows.serialization import decode, detect_format, encode
from workflows.serialization.__main__ import main
from workflows.serialization.schema import schema_text


def test_show_prints_the_view_of_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "triage.swf"
    path.write_bytes(encode(small_envelope(), "lz4"))
    assert main(["show", str(path), "--no-color", "--depth", "1"]) == 0
    output = capsys.readouterr().out
    assert output.startswith(
        "Triage support tickets v1.2.0 — 2 nodes (1 input, 1 instrument), 1 edge\n"
    )
    assert "format: msgpack+lz4" in output
    assert "  input (1) …\n" in output


def test_convert_re_encodes_a_file(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.swf"
    source.write_bytes(encode(small_envelope(), "json"))
    assert main(["convert", str(source), str(target), "--format", "zstd"]) == 0
    assert str(detect_format(target.read_bytes())) == "msgpack+zstd"
    assert decode(target.read_bytes()) == small_envelope()


def test_a_bad_file_is_an_error_with_its_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"schema_version": "1.0.0", "workflow": {"a": 1, "a": 2}}')
    assert main(["show", str(path)]) == 1
    assert capsys.readouterr().err == "error (duplicate_key): duplicate key 'a' in a JSON object\n"


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()
