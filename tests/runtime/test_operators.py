"""Every built-in data operator through run_node, its error paths, and properties."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executions.runtime.contract import NodeFailure, NodeOutcome, SilentReporter
from executions.runtime.operators import deep_merge, select_path
from executions.runtime.registry import run_node

from .helpers import PROPERTY_SETTINGS, context_for, node_model, node_of, operator


def run(name: str, config: dict[str, Any], inputs: dict[str, Any], **fields: Any) -> NodeOutcome:
    return run_node(context_for(operator("op", name, config), inputs, **fields))


def outputs(name: str, config: dict[str, Any], inputs: dict[str, Any], **fields: Any
            ) -> dict[str, Any]:
    return dict(run(name, config, inputs, **fields).outputs)


def failure(name: str, config: dict[str, Any], inputs: dict[str, Any], **fields: Any
            ) -> NodeFailure:
    with pytest.raises(NodeFailure) as caught:
        run(name, config, inputs, **fields)
    return caught.value


# ------------------------------------------------------------------ template


@pytest.mark.parametrize(("label", "config", "inputs", "fields", "text"), [
    ("renders inputs", {"template": "Hello {{ inputs.variables.name }}!"},
     {"variables": {"name": "Ada"}}, {}, "Hello Ada!"),
    ("text without placeholders is itself", {"template": "plain"}, {}, {}, "plain"),
    ("reads execution facts", {"template": "run {{ execution.id }}"}, {},
     {"execution": {"id": "x1"}}, "run x1"),
    ("reads secrets", {"template": "key={{ secrets.token }}"}, {},
     {"secrets": {"token": "s3cret"}}, "key=s3cret"),
    ("non-strict renders a missing value as empty text",
     {"template": "[{{ inputs.variables.missing }}]", "strict": False}, {"variables": {}}, {},
     "[]"),
    ("a number renders as text", {"template": "{{ inputs.variables * 2 }}"}, {"variables": 21},
     {}, "42"),
], ids=lambda value: value if isinstance(value, str) and " " in value else "")
def test_template(label: str, config: dict[str, Any], inputs: dict[str, Any],
                  fields: dict[str, Any], text: str) -> None:
    assert outputs("template", config, inputs, **fields) == {"text": text}


def test_strict_template_fails_on_a_missing_value_and_says_how_to_fix_it() -> None:
    problem = failure("template", {"template": "{{ inputs.variables.missing }}"},
                      {"variables": {}})
    assert (problem.code, problem.retryable) == ("expression_failed", False)
    assert "strict to false" in problem.message


# ------------------------------------------------------------------ JSON


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": [1, 2.5, null, true]}', {"a": [1, 2.5, None, True]}),
    ("  42 ", 42),
    ('"x"', "x"),
])
def test_json_parse(text: str, value: Any) -> None:
    assert outputs("json_parse", {}, {"text": text}) == {"value": value}


def test_json_parse_allow_empty_gives_null() -> None:
    assert outputs("json_parse", {"allow_empty": True}, {"text": "  "}) == {"value": None}


@pytest.mark.parametrize(("text", "config", "message"), [
    ("", {}, "is empty"),
    ("{not json", {}, "is not valid JSON"),
    ("{not json", {"allow_empty": True}, "line 1, column 2"),
])
def test_json_parse_failures(text: str, config: dict[str, Any], message: str) -> None:
    problem = failure("json_parse", config, {"text": text})
    assert (problem.code, problem.retryable) == ("invalid_input", False)
    assert message in problem.message


@pytest.mark.parametrize(("config", "value", "text"), [
    ({}, {"b": 1, "a": [1, "é"]}, '{"b":1,"a":[1,"é"]}'),
    ({"sort_keys": True}, {"b": 1, "a": 2}, '{"a":2,"b":1}'),
    ({"indent": 2, "sort_keys": True}, {"b": 1, "a": 2}, '{\n  "a": 2,\n  "b": 1\n}'),
    ({"indent": 0}, [1], "[\n1\n]"),
    ({}, None, "null"),
])
def test_json_format(config: dict[str, Any], value: Any, text: str) -> None:
    assert outputs("json_format", config, {"value": value}) == {"text": text}


def test_json_format_refuses_not_a_number() -> None:
    problem = failure("json_format", {}, {"value": math.nan})
    assert problem.code == "invalid_input"


# ------------------------------------------------------------------ select

DOCUMENT = {"choices": [{"message": {"content": "hi"}}, {"message": None}], "n": 2,
            "0": "zero-key"}


@pytest.mark.parametrize(("path", "config", "expected"), [
    ("choices.0.message.content", {}, "hi"),
    ("choices.-1.message", {}, None),
    ("n", {}, 2),
    ("0", {}, "zero-key"),
    ("choices.2", {"default": "none"}, "none"),
    ("choices.x", {"default": 0}, 0),
    ("n.deeper", {"default": [1]}, [1]),
    ("missing", {}, None),
    ("choices.{{ inputs.value.n - 2 }}.message.content", {}, "hi"),
])
def test_select(path: str, config: dict[str, Any], expected: Any) -> None:
    assert outputs("select", {"path": path, **config}, {"value": DOCUMENT}) == {
        "value": expected}


KEYS = st.text(st.characters(blacklist_characters=".", codec="utf-8"), min_size=1, max_size=5)
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)


@st.composite
def value_and_path(draw: st.DrawFn) -> tuple[Any, str, Any]:
    """A nested value, a path that walks into it, and what lies at the path's end."""
    value = draw(JSON_VALUES.filter(lambda found: isinstance(found, dict | list) and found))
    steps: list[str] = []
    current = value
    while isinstance(current, dict | list) and current and (not steps or draw(st.booleans())):
        if isinstance(current, dict):
            key = draw(st.sampled_from(sorted(current)))
            steps.append(key)
            current = current[key]
        else:
            position = draw(st.integers(-len(current), len(current) - 1))
            steps.append(str(position))
            current = current[position]
    return value, ".".join(steps), current


@PROPERTY_SETTINGS
@given(value_and_path())
def test_select_finds_what_a_path_walks_to(case: tuple[Any, str, Any]) -> None:
    value, path, expected = case
    assert select_path(value, path) == expected
    node = operator("op", "select", {"path": path, "default": "sentinel"})
    assert dict(run_node(context_for(node, {"value": value})).outputs) == {"value": expected}


# ------------------------------------------------------------------ map and filter


def test_map_applies_the_expression_to_every_item() -> None:
    assert outputs("map", {"expr": "item | trim | upper"}, {"items": [" a ", "b "]}) == {
        "items": ["A", "B"]}


def test_map_reads_inputs_and_execution() -> None:
    result = outputs("map", {"expr": "item ~ execution.suffix"}, {"items": ["a"]},
                     execution={"suffix": "!"})
    assert result == {"items": ["a!"]}


def test_filter_keeps_truthy_items() -> None:
    assert outputs("filter", {"expr": "item | length > 2"},
                   {"items": ["ab", "abc", "", "abcd"]}) == {"items": ["abc", "abcd"]}


def test_map_of_an_empty_list_is_empty() -> None:
    assert outputs("map", {"expr": "item.missing"}, {"items": []}) == {"items": []}


@pytest.mark.parametrize("name", ["map", "filter"])
def test_map_and_filter_fail_on_a_bad_item_and_say_where(name: str) -> None:
    problem = failure(name, {"expr": "item.score > 1"}, {"items": [{"score": 2}, {}]})
    assert (problem.code, problem.retryable) == ("expression_failed", False)
    assert "node 'op'" in problem.message


@pytest.mark.parametrize("name", ["map", "filter"])
def test_map_and_filter_refuse_a_non_list(name: str) -> None:
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(operator("op", name, {"expr": "item"},
                                      inputs=[{"name": "items", "data_type": "any"}]),
                             {"items": "abc"}))
    assert caught.value.code == "invalid_input"
    assert "must be a list, got string" in caught.value.message


def test_map_stops_when_the_execution_stops() -> None:
    class Stopping(SilentReporter):
        def should_stop(self) -> bool:
            return True

    problem = failure("map", {"expr": "item"}, {"items": list(range(2_500))},
                      reporter=Stopping())
    assert (problem.code, problem.retryable) == ("cancelled", False)


def test_map_past_its_deadline_fails_as_a_retryable_timeout() -> None:
    deadline = time.monotonic() - 1
    problem = failure("map", {"expr": "item"}, {"items": list(range(2_500))},
                      deadline=deadline, reporter=SilentReporter(deadline=deadline))
    assert (problem.code, problem.retryable) == ("timeout", True)


# ------------------------------------------------------------------ reduce


@pytest.mark.parametrize(("label", "config", "items", "value"), [
    ("sum from zero", {"reducer": "sum"}, [1, 2, 3.5], 6.5),
    ("sum from initial", {"reducer": "sum", "initial": 10}, [1, 2], 13),
    ("count", {"reducer": "count", "initial": 0}, ["a", None, {}], 3),
    ("count from initial", {"reducer": "count", "initial": 5}, [1], 6),
    ("min", {"reducer": "min"}, [3, 1, 2], 1),
    ("min with initial below every item", {"reducer": "min", "initial": 0}, [3, 1], 0),
    ("max of strings", {"reducer": "max"}, ["pear", "apple"], "pear"),
    ("min of nothing is null", {"reducer": "min"}, [], None),
    ("max of nothing with initial is initial", {"reducer": "max", "initial": 7}, [], 7),
    ("concat strings", {"reducer": "concat"}, ["a", "b"], "ab"),
    ("concat lists", {"reducer": "concat"}, [[1], [], [2, 3]], [1, 2, 3]),
    ("concat of nothing is an empty list", {"reducer": "concat"}, [], []),
    ("concat from an initial string", {"reducer": "concat", "initial": ">"}, ["a"], ">a"),
    ("merge objects, later keys win", {"reducer": "merge"}, [{"a": 1, "b": 1}, {"b": 2}],
     {"a": 1, "b": 2}),
    ("merge from initial", {"reducer": "merge", "initial": {"z": 0}}, [{"a": 1}],
     {"z": 0, "a": 1}),
    ("initial from a template", {"reducer": "sum", "initial": "{{ execution.base }}"}, [1], 101),
], ids=lambda value: value if (isinstance(value, str) and " " in value) or value in (
    "count", "min") else "")
def test_reduce(label: str, config: dict[str, Any], items: list[Any], value: Any) -> None:
    assert outputs("reduce", config, {"items": items}, execution={"base": 100}) == {
        "value": value}


@pytest.mark.parametrize(("config", "items", "message"), [
    ({"reducer": "sum"}, [1, "2"], "item 1 is string"),
    ({"reducer": "sum"}, [True], "item 0 is boolean"),
    ({"reducer": "min"}, [1, "a"], "compares like with like"),
    ({"reducer": "concat"}, ["a", [1]], "joins strings with strings"),
    ({"reducer": "concat"}, [[1], "a"], "joins lists with lists"),
    ({"reducer": "merge"}, [{"a": 1}, [1]], "item 1 is array"),
    ({"reducer": "sum", "initial": "x"}, [1], "initial must be a number"),
])
def test_reduce_failures(config: dict[str, Any], items: list[Any], message: str) -> None:
    problem = failure("reduce", config, {"items": items})
    assert (problem.code, problem.retryable) == ("invalid_input", False)
    assert message in problem.message


NUMBERS = st.lists(st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False), max_size=20)


@PROPERTY_SETTINGS
@given(NUMBERS, st.integers(-100, 100))
def test_reduce_agrees_with_python_builtins(items: list[float], initial: int) -> None:
    def reduce(reducer: str, **config: Any) -> Any:
        return outputs("reduce", {"reducer": reducer, **config}, {"items": items})["value"]

    assert reduce("sum") == sum(items)
    assert reduce("sum", initial=initial) == sum(items, initial)
    assert reduce("count") == len(items)
    assert reduce("min") == (min(items) if items else None)
    assert reduce("max") == (max(items) if items else None)
    assert reduce("min", initial=initial) == min([initial, *items])
    assert reduce("max", initial=initial) == max([initial, *items])
    lists = [[item] for item in items]
    assert outputs("reduce", {"reducer": "concat"}, {"items": lists})["value"] == items


# ------------------------------------------------------------------ merge_objects


@pytest.mark.parametrize(("deep", "left", "right", "value"), [
    (False, {"a": 1, "n": {"x": 1}}, {"b": 2, "n": {"y": 2}}, {"a": 1, "b": 2, "n": {"y": 2}}),
    (True, {"a": 1, "n": {"x": 1, "k": {"p": 1}}}, {"n": {"y": 2, "k": {"q": 2}}},
     {"a": 1, "n": {"x": 1, "y": 2, "k": {"p": 1, "q": 2}}}),
    (True, {"n": {"x": 1}}, {"n": [1]}, {"n": [1]}),
    (True, {"l": [1, 2]}, {"l": [3]}, {"l": [3]}),
    (False, {}, {}, {}),
])
def test_merge_objects(deep: bool, left: dict[str, Any], right: dict[str, Any],
                       value: dict[str, Any]) -> None:
    before = json.dumps(left, sort_keys=True)
    assert outputs("merge_objects", {"deep": deep}, {"left": left, "right": right}) == {
        "value": value}
    assert json.dumps(left, sort_keys=True) == before, "the input object was changed"


def test_merge_objects_refuses_a_non_object() -> None:
    node = operator("op", "merge_objects", {}, inputs=[{"name": "left", "data_type": "any"},
                                                       {"name": "right", "data_type": "any"}])
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, {"left": {}, "right": [1]}))
    assert caught.value.code == "invalid_input"
    assert "'right'" in caught.value.message


@PROPERTY_SETTINGS
@given(st.dictionaries(KEYS, JSON_VALUES, max_size=4), st.dictionaries(KEYS, JSON_VALUES, max_size=4))
def test_deep_merge_keeps_every_right_leaf(left: dict[str, Any], right: dict[str, Any]) -> None:
    merged = deep_merge(left, right)
    assert set(merged) == set(left) | set(right)
    for key, value in right.items():
        if not (isinstance(value, dict) and isinstance(left.get(key), dict)):
            assert merged[key] == value


# ------------------------------------------------------------------ log


def test_log_writes_the_rendered_message_and_forwards_the_value() -> None:
    reporter = SilentReporter()
    result = outputs("log", {"level": "warning", "message": "got {{ inputs.value.n }}"},
                     {"value": {"n": 3}}, reporter=reporter)
    assert result == {"value": {"n": 3}}
    assert reporter.lines == [("warning", "got 3")]


def test_log_without_message_writes_the_value_as_json_at_info() -> None:
    reporter = SilentReporter()
    outputs("log", {}, {"value": {"a": [1]}}, reporter=reporter)
    assert reporter.lines == [("info", '{"a":[1]}')]


def test_log_masks_secret_values() -> None:
    reporter = SilentReporter()
    outputs("log", {"message": "token {{ secrets.api }} for {{ inputs.value }}"},
            {"value": "ada"}, secrets={"api": "sk-very-secret"}, reporter=reporter)
    assert reporter.lines == [("info", "token *** for ada")]


def test_log_without_value_forwards_null() -> None:
    assert outputs("log", {"message": "hi"}, {}) == {"value": None}


# ------------------------------------------------------------------ delay


def test_delay_waits_then_forwards_and_reports_progress() -> None:
    reporter = SilentReporter()
    started = time.monotonic()
    result = outputs("delay", {"milliseconds": 150}, {"value": [1]}, reporter=reporter)
    assert result == {"value": [1]}
    assert time.monotonic() - started >= 0.15
    assert reporter.fractions and reporter.fractions[-1] == 1.0


def test_delay_of_zero_forwards_at_once() -> None:
    assert outputs("delay", {"milliseconds": 0}, {"value": "x"}) == {"value": "x"}


def test_delay_longer_than_the_time_left_fails_at_once() -> None:
    problem = failure("delay", {"milliseconds": 60_000}, {},
                      deadline=time.monotonic() + 1.0)
    assert (problem.code, problem.retryable) == ("timeout", False)
    assert "timeout_s" in problem.message


def test_delay_stops_when_cancelled() -> None:
    class CancelSoon(SilentReporter):
        def __init__(self) -> None:
            super().__init__()
            self.cancel = threading.Event()

        def should_stop(self) -> bool:
            return self.cancel.is_set()

    reporter = CancelSoon()
    threading.Timer(0.2, reporter.cancel.set).start()
    started = time.monotonic()
    problem = failure("delay", {"milliseconds": 30_000}, {}, reporter=reporter)
    assert (problem.code, problem.retryable) == ("cancelled", False)
    assert time.monotonic() - started < 29


def test_delay_stops_at_its_deadline_as_a_timeout() -> None:
    deadline = time.monotonic() + 0.3
    problem = failure("delay", {"milliseconds": 250}, {}, deadline=deadline,
                      reporter=SilentReporter(deadline=time.monotonic() + 0.1))
    # The reporter says stop (its deadline passed) before the node's own deadline: that
    # is the execution stopping, not this attempt's timeout.
    assert problem.code == "cancelled"


def test_delay_refuses_a_negative_duration_from_a_template() -> None:
    problem = failure("delay", {"milliseconds": "{{ execution.wait }}"}, {},
                      execution={"wait": -5})
    assert (problem.code, problem.retryable) == ("invalid_config", False)


# ------------------------------------------------------------------ local/echo


def echo(prompt: Any, config: dict[str, Any] | None = None) -> NodeOutcome:
    node = node_of(node_model("answer", "local/echo", config or {}))
    return run_node(context_for(node, {"prompt": prompt}))


def test_echo_answers_with_its_prompt_and_counts_words() -> None:
    outcome = echo("two words", {"system_prompt": "Be brief please"})
    usage = {"model": "local/echo", "tokens_in": 5, "tokens_out": 2, "cost": 0}
    assert dict(outcome.outputs) == {"text": "two words", "usage": usage}
    assert dict(outcome.usage) == usage


def test_echo_json_wraps_plain_text() -> None:
    outcome = echo("hello there", {"response_format": "json"})
    assert json.loads(outcome.outputs["text"]) == {"text": "hello there"}


def test_echo_json_returns_a_json_prompt_as_it_is() -> None:
    outcome = echo('{"confidence": 0.9}', {"response_format": "json"})
    assert outcome.outputs["text"] == '{"confidence": 0.9}'


def test_echo_refuses_a_prompt_that_is_not_text() -> None:
    node = node_of({**node_model("answer", "local/echo", {}),
                    "inputs": [{"name": "prompt", "data_type": "any"}]})
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, {"prompt": {"a": 1}}))
    assert caught.value.code == "invalid_input"
