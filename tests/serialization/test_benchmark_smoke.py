"""The benchmark's quick mode runs and returns rows in the shape ``make bench`` expects.

Nothing here looks at a time; sizes are deterministic, so their targets are checked.
"""

from __future__ import annotations

from bench.serialization import run

ROW_KEYS = {
    "area",
    "name",
    "size",
    "unit",
    "value",
    "p50",
    "p95",
    "max",
    "baseline_name",
    "baseline",
    "ratio",
    "target",
    "met",
}


def test_quick_run_returns_complete_rows() -> None:
    rows = run(quick=True)
    assert all(set(row) == ROW_KEYS for row in rows)
    assert {row["area"] for row in rows} == {"serialization"}
    names = [row["name"] for row in rows]
    for format_name in ("json", "msgpack", "zstd", "lz4", "json+zstd", "json+lz4"):
        assert f"encode {format_name}" in names
        assert f"decode {format_name}" in names
        assert f"size {format_name}" in names
    size_rows = [row for row in rows if row["unit"] == "bytes" and row["target"] is not None]
    assert len(size_rows) == 5
    assert all(row["met"] is True for row in size_rows)
