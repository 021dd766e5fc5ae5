import pytest

from workflows.domain.expressions import (
    READABLE_NAMES,
    ExpressionError,
    ExpressionEvaluationError,
    ExpressionLimits,
    ExpressionSyntaxError,
    check_expression,
    check_template,
    evaluate,
    render_template,
    render_value,
    template_placeholders,
)


def test_readable_names_are_the_documented_five():
    assert READABLE_NAMES == ("inputs", "params", "item", "execution", "secrets")


@pytest.mark.parametrize(
    "source",
    [
        "inputs.confidence < 0.6",
        "item | lower",
        "params.threshold * 2 > inputs['score']",
        "execution.id ~ '-' ~ item.name",
        "secrets.api_key is defined",
        "inputs.tags | select('string') | list | length",
        "range(3) | sum",
        "dict(a=1).a",
        "inputs.text.upper()",
    ],
)
def test_valid_expressions(source):
    assert check_expression(source) is None


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("inputs.x <", "syntax error: unexpected 'end of template'", 9),
        ("1 +* 2", "syntax error: unexpected '*'", 3),
        ("inputs.a $ 3", "syntax error: unexpected char '$' at 9", 8),
        ("inputs.x 3", "syntax error: unexpected 3 after the expression", 9),
        ("", "expression is empty", 0),
        (
            "os.system('x')",
            "unknown name 'os'; expressions can read inputs, params, item, execution, secrets",
            0,
        ),
        ("inputs.__class__", "attribute '__class__' is private and cannot be read", 7),
        ("item._secret", "attribute '_secret' is private and cannot be read", 5),
        ("item | center(100)", "unknown or disallowed filter 'center'", 7),
        ("item is prime", "unknown test 'prime'", 8),
        (
            "lipsum(5)",
            "unknown name 'lipsum'; expressions can read inputs, params, item, execution, secrets",
            0,
        ),
    ],
)
def test_invalid_expressions_say_what_and_where(source, message, position):
    assert check_expression(source) == ExpressionError(
        message=message, position=position, line=check_expression(source).line
    )


def test_non_strings_and_huge_sources_are_refused():
    assert check_expression(42).message == "an expression must be a string"
    assert "longer than 10000" in check_expression("1+" * 6_000 + "1").message


def test_evaluate_reads_the_context():
    context = {"inputs": {"confidence": 0.5, "text": "Hello"}, "params": {"threshold": 0.6}}
    assert evaluate("inputs.confidence < params.threshold", context) is True
    assert evaluate("inputs.text | lower", context) == "hello"
    assert evaluate("inputs.text.upper()", context) == "HELLO"
    assert evaluate("item * 2", {"item": 21}) == 42
    assert evaluate("[1, 2, 3] | map('string') | join(',')") == "1,2,3"


def test_evaluate_ignores_names_outside_the_readable_list():
    with pytest.raises(ExpressionEvaluationError, match="not defined"):
        evaluate("inputs", {"os": "x"})


def test_reading_something_missing_is_an_error_not_none():
    with pytest.raises(ExpressionEvaluationError):
        evaluate("inputs.missing", {"inputs": {}})


def test_a_syntax_error_raises_with_position():
    with pytest.raises(ExpressionSyntaxError) as caught:
        evaluate("inputs.x <")
    assert caught.value.error.position == 9


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'a' * 10000000", "repetition would build a value too large"),
        ("[1] * 10000000", "repetition would build a value too large"),
        ("9 ** 99999", "power result is too large"),
        ("range(100000) | list", "range of 100000 items is over the limit of 10000"),
        ("'%0999999d' % 1", "string formatting with % is not allowed"),
        ("inputs.s.ljust(100000000)", "is not safely callable"),
        ("inputs.s | replace('', inputs.s)", "replace would build a value too large"),
        ("(inputs.s | attr('__class__'))", "not defined"),
        ("1 / 0", "arithmetic error"),
        ("inputs.s | list | map('list') | sum(start=[])", "start must be a number"),
        ("[[1], [2]] | sum", "sum adds numbers only"),
    ],
)
def test_evaluation_is_bounded(source, message):
    with pytest.raises(ExpressionEvaluationError, match=message):
        evaluate(
            source, {"inputs": {"s": "x" * 5000}}, limits=ExpressionLimits(max_output_size=100_000)
        )


def test_sum_adds_numbers():
    assert evaluate("[1, 2.5, 3] | sum") == 6.5
    rows = {"inputs": {"rows": [{"n": 1}, {"n": 2}]}}
    assert evaluate("inputs.rows | sum(attribute='n')", rows) == 3


def test_long_join_chains_are_refused():
    assert check_expression(" ~ ".join(["item"] * 32)) is None
    problem = check_expression(" ~ ".join(["item"] * 33))
    assert problem.message == "33 values joined with ~; at most 32 are allowed"


def test_step_budget_stops_long_evaluations():
    with pytest.raises(ExpressionEvaluationError, match="more than 50 steps"):
        evaluate("range(1000) | map('string') | list", limits=ExpressionLimits(max_steps=50))


def test_output_size_is_bounded():
    with pytest.raises(ExpressionEvaluationError, match="larger than 100"):
        evaluate("range(500) | list", limits=ExpressionLimits(max_output_size=100))


def test_lists_and_dicts_cannot_be_modified():
    with pytest.raises(ExpressionEvaluationError):
        evaluate("inputs.items.append(1)", {"inputs": {"items": []}})
    with pytest.raises(ExpressionEvaluationError):
        evaluate("inputs.clear()", {"inputs": {"a": 1}})


def test_templates():
    assert check_template("Dear {{ params.name }}, about {{ inputs.subject | title }}") is None
    assert check_template("no placeholders at all") is None
    assert check_template("{{ inputs.x") == ExpressionError(
        "syntax error: unexpected end of template, expected 'end of print statement'.",
        position=10,
        line=1,
    )
    problem = check_template("{% for x in range(3) %}{{ x }}{% endfor %}")
    assert (
        problem.message
        == "for statements are not allowed; templates may only hold {{ … }} placeholders"
    )
    assert check_template("{% set x = 1 %}").message.startswith("assign statements are not allowed")
    assert check_template("{{ config.__class__ }}").message.startswith("unknown name 'config'")


def test_render_template_and_value():
    context = {"params": {"name": "Ada", "count": 3, "tags": ["a", "b"]}}
    assert render_template("Hi {{ params.name }}!", context) == "Hi Ada!"
    assert render_template("plain", context) == "plain"
    assert render_value("{{ params.count }}", context) == 3
    assert render_value(" {{ params.tags }} ", context) == ["a", "b"]
    assert render_value("{{ params.count }} items", context) == "3 items"


def test_template_placeholders_lists_names_in_order():
    source = "{{ params.model }} {{ inputs.text | upper }} {{ params['temperature'] }} {{ params.model }} {{ item }}"
    assert template_placeholders(source) == [
        "params.model",
        "inputs.text",
        "params.temperature",
        "item",
    ]
    assert template_placeholders("no placeholders") == []
    with pytest.raises(ExpressionSyntaxError):
        template_placeholders("{{ params.x")
