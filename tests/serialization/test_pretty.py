"""The pretty printer, the one-line summary and ``show``."""

from __future__ import annotations

import pytest

from tests.serialization.helpers import small_envelope
from workflows.serialization import encode, pretty, show, summary

FULL_VIEW = """\
Triage support tickets  v1.2.0  (5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11)
  Classify a ticket, draft a reply, escalate when unsure
  schema 1.0.0 · created with symphony 0.1.0
Settings
  error_policy: stop
  max_parallel: 8
  timeout_s: 3600
Nodes (2)
  input (1)
    ticket  Ticket  string
  instrument (1)
    classify  Classify  model gpt-4o@2024-08-06
      in  text: string (required)
      out label: string
      config
        temperature: 0.2
      retry: 3 attempts, 500 ms delay, backoff x2.0
      timeout: 60 s
Edges (1)
  data (1)
    e1  ticket.value → classify.text
"""


def test_the_full_view_lists_header_settings_nodes_by_kind_and_edges_by_kind() -> None:
    assert pretty(small_envelope(), color=False) == FULL_VIEW


def test_a_bare_workflow_document_is_shown_without_the_envelope_line() -> None:
    view = pretty(small_envelope()["workflow"], color=False)
    assert "schema 1.0.0" not in view
    assert (
        view.splitlines()[0]
        == "Triage support tickets  v1.2.0  (5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11)"
    )


def test_indent_changes_the_step() -> None:
    lines = pretty(small_envelope(), indent=4, color=False).splitlines()
    assert "        ticket  Ticket  string" in lines
    assert "            in  text: string (required)" in lines


def test_depth_cuts_the_tree_and_marks_cut_branches() -> None:
    assert pretty(small_envelope(), depth=1, color=False) == (
        "Triage support tickets  v1.2.0  (5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11)\n"
        "  Classify a ticket, draft a reply, escalate when unsure\n"
        "  schema 1.0.0 · created with symphony 0.1.0\n"
        "Settings\n"
        "  error_policy: stop\n"
        "  max_parallel: 8\n"
        "  timeout_s: 3600\n"
        "Nodes (2)\n"
        "  input (1) …\n"
        "  instrument (1) …\n"
        "Edges (1)\n"
        "  data (1) …\n"
    )
    assert pretty(small_envelope(), depth=0, color=False).splitlines() == [
        "Triage support tickets  v1.2.0  (5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11) …",
        "Settings …",
        "Nodes (2) …",
        "Edges (1) …",
    ]


def test_metadata_is_shown_only_when_asked() -> None:
    envelope = small_envelope()
    envelope["workflow"]["nodes"][0]["metadata"] = {
        "documentation": "Paste it",
        "custom": {"team": "support"},
    }
    hidden = pretty(envelope, color=False)
    shown = pretty(envelope, show_metadata=True, color=False)
    assert "Metadata" not in hidden and "author" not in hidden and "Paste it" not in hidden
    assert shown.endswith("Metadata\n  author: ada\n  custom: {}\n  tags: support, llm\n")
    assert (
        "      metadata\n        custom:\n          team: support\n        documentation: Paste it\n"
        in shown
    )
    assert "      position: (0.0, 0.0)\n" in shown


def test_colours_are_ansi_escapes_only_when_asked() -> None:
    coloured = pretty(small_envelope(), color=True)
    plain = pretty(small_envelope(), color=False)
    assert "\033[1mTriage support tickets\033[0m" in coloured
    assert "\033[33mticket\033[0m" in coloured
    assert "\033[" not in plain


def test_colour_follows_the_terminal_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert "\033[" in pretty(small_envelope())
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in pretty(small_envelope())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert "\033[" not in pretty(small_envelope())


def test_all_edge_kinds_are_described() -> None:
    envelope = small_envelope(
        edges=[
            {
                "id": "e1",
                "kind": "data",
                "source": "a",
                "source_port": "value",
                "target": "b",
                "target_port": "text",
                "transform": {"type": "map", "config": {"expr": "item | lower"}},
            },
            {"id": "e2", "kind": "control", "source": "b", "target": "c", "priority": 0},
            {
                "id": "e3",
                "kind": "conditional",
                "source": "r",
                "target": "x",
                "condition": "inputs.confidence < 0.6",
                "label": "unsure",
            },
        ]
    )
    assert pretty(envelope, color=False).split("Edges (3)\n")[1] == (
        "  data (1)\n"
        "    e1  a.value → b.text  [map: item | lower]\n"
        "  control (1)\n"
        "    e2  b → c  (priority 0)\n"
        "  conditional (1)\n"
        "    e3  r → x  when inputs.confidence < 0.6  “unsure”\n"
    )


def test_odd_shapes_are_shown_rather_than_crashing() -> None:
    envelope = small_envelope(nodes=[42, {"kind": "webhook"}], edges="none", settings=None)
    view = pretty(envelope, color=False)
    assert "not a node: 42" in view
    assert '  webhook (1)\n    ?  ""' in view
    assert "Edges (0)" in view


def test_input_nodes_show_what_differs_from_the_defaults() -> None:
    envelope = small_envelope()
    ticket = envelope["workflow"]["nodes"][0]
    ticket.update(required=True, default=None, interactive=False, prompt="")
    assert "    ticket  Ticket  string\n  instrument (1)\n" in pretty(envelope, color=False)
    ticket.update(required=False, default="none", interactive=True, prompt="Paste the ticket")
    assert (
        "    ticket  Ticket  string\n      optional\n      default: none\n"
        "      interactive, prompt: Paste the ticket\n  instrument (1)\n"
    ) in pretty(envelope, color=False)


def test_fields_written_as_null_are_left_out() -> None:
    envelope = small_envelope(
        settings={"error_policy": "stop", "max_parallel": None, "timeout_s": None}
    )
    classify = envelope["workflow"]["nodes"][1]
    classify.update(retry=None, timeout_s=None)
    envelope["workflow"]["nodes"].append(
        {
            "id": "gate",
            "kind": "control",
            "name": "Gate",
            "control": "merge",
            "condition": None,
            "over": None,
            "body": None,
        }
    )
    envelope["workflow"]["edges"].append(
        {
            "id": "e2",
            "kind": "conditional",
            "source": "classify",
            "target": "gate",
            "condition": "inputs.ok",
            "label": None,
        }
    )
    view = pretty(envelope, color=False)
    assert "null" not in view
    assert view.split("Nodes (3)\n")[0].endswith("Settings\n  error_policy: stop\n")
    assert "        temperature: 0.2\n  control (1)\n    gate  Gate  merge\nEdges (2)\n" in view
    assert view.endswith("  conditional (1)\n    e2  classify → gate  when inputs.ok\n")


def test_summary_is_one_line_with_counts_by_kind() -> None:
    assert summary(small_envelope()) == (
        "Triage support tickets v1.2.0 — 2 nodes (1 input, 1 instrument), 1 edge"
    )
    assert summary({"name": "Empty", "nodes": [], "edges": []}) == "Empty — 0 nodes, 0 edges"


@pytest.mark.parametrize("format_name", ["json", "msgpack", "zstd", "lz4"])
def test_show_reads_any_format(format_name: str) -> None:
    data = encode(small_envelope(), format_name)
    view = show(data, color=False)
    assert view.startswith(
        "Triage support tickets v1.2.0 — 2 nodes (1 input, 1 instrument), 1 edge\n"
        f"format: {format_name if format_name in {'json', 'msgpack'} else 'msgpack+' + format_name}, "
        f"{len(data):,} bytes\n\n"
    )
    assert view.endswith(FULL_VIEW)
