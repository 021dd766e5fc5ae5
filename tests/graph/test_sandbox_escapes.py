"""Escape attempts against the expression sandbox (issue 15, "Hostile clients"; docs/expressions.md).

Each attempt is refused with the sandbox's own error and exact message: a syntax error when
`check_expression` can see it, an evaluation error when only running shows it, and a size or
range refusal *before* the value is built. tests/graph/test_expressions.py has the basic cases
(`inputs.__class__`, `'a' * 10000000`, `range(100000)`, `'%0999999d' % 1`); these are the walks
and bombs it does not try.
"""

import pytest

from workflows.domain.expressions import (
    ExpressionEvaluationError,
    ExpressionLimits,
    ExpressionSyntaxError,
    check_expression,
    check_template,
    evaluate,
    render_template,
)

CONTEXT = {"item": "text", "inputs": {"d": {"a": 1}, "n": [1, 2]}, "execution": {"id": "e"}}


@pytest.mark.parametrize(
    ("source", "attribute"),
    [
        ("item.__class__.__mro__", "__mro__"),
        ("dict.__mro__", "__mro__"),
        ("dict.__subclasses__()", "__subclasses__"),
        ("range.__globals__", "__globals__"),
        ("item.upper.__globals__", "__globals__"),
        ("inputs.d.get.__self__", "__self__"),
        ("execution.__class__.__init__.__globals__", "__globals__"),
        ("(1).__class__.__base__.__subclasses__()", "__subclasses__"),
        ("inputs.n.__class__.mro()", "__class__"),
    ],
)
def test_dunder_walks_are_refused_before_running(source, attribute):
    problem = check_expression(source)
    assert problem is not None
    assert problem.message == f"attribute '{attribute}' is private and cannot be read"
    with pytest.raises(ExpressionSyntaxError) as caught:
        evaluate(source, CONTEXT)
    assert caught.value.error == problem


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Item access and `attr` reach no private attribute: they read nothing.
        ("item['__class__']", "expression \"item['__class__']\" read a value that is not defined"),
        ("inputs['__class__']", "expression \"inputs['__class__']\" read a value that is not defined"),
        ("item | attr('__class__')", "expression \"item | attr('__class__')\" read a value that is not defined"),
        ("inputs.d | attr('__globals__')",
         "expression \"inputs.d | attr('__globals__')\" read a value that is not defined"),
        # `mro` has no underscore: Jinja's sandbox knows it is internal to classes.
        ("dict.mro", "expression 'dict.mro' read a value that is not defined"),
        ("dict.mro()", "expression failed: access to attribute 'mro' of 'type' object is unsafe."),
        ("(dict | attr('mro'))()", "expression failed: access to attribute 'mro' of 'type' object is unsafe."),
        # A class is not a container: `dict[…]` would build a typing alias.
        ("dict['__class__']", "expression \"dict['__class__']\" read a value that is not defined"),
        ("dict[item]", "expression 'dict[item]' read a value that is not defined"),
    ],
)
def test_indirect_walks_read_nothing(source, message):
    assert check_expression(source) is None  # only running can tell
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate(source, CONTEXT)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("source", "method"),
    [
        ("'{0.__class__}'.format(item)", "format"),
        ("'{0.__class__.__mro__}'.format(item)", "format"),
        ("'{0.upper.__globals__}'.format(item)", "format"),
        ("'{0:>999999999}'.format(1)", "format"),  # a gigabyte of padding
        ("'{a.__class__}'.format_map(dict(a=1))", "format_map"),
        ("dict.fromkeys(range(10))", "fromkeys"),
    ],
)
def test_format_methods_and_class_methods_cannot_be_called(source, method):
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate(source, CONTEXT)
    message = str(caught.value)
    assert message.startswith("expression failed: <") and message.endswith("is not safely callable")
    assert f" {method} " in message or f".{method} " in message


@pytest.mark.parametrize(
    "source",
    ["'%s' % item", "'%(a)s' % dict(a=1)", "'%r' % inputs", "'%.999999f' % 1.5", "item % inputs.n"],
)
def test_percent_formatting_is_refused(source):
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate(source, CONTEXT)
    assert str(caught.value) == "expression failed: string formatting with % is not allowed; use ~ to join text"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Past what a C size can count: refused, not an OverflowError.
        ("range(10 ** 20)", "range of more than 9223372036854775807 items is over the limit of 10000"),
        ("range(-10 ** 19, 10 ** 19)", "range of more than 9223372036854775807 items is over the limit of 10000"),
        ("range(0, 10 ** 9, 2)", "range of 500000000 items is over the limit of 10000"),
        ("range(10001) | length", "range of 10001 items is over the limit of 10000"),
    ],
)
def test_huge_ranges_are_refused(source, message):
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate(source, CONTEXT)
    assert str(caught.value) == message


def test_a_range_at_the_limit_is_allowed():
    assert evaluate("range(10000) | length") == 10000


@pytest.mark.parametrize(
    "source",
    [
        "(" * 2000 + "1" + ")" * 2000,
        "[" * 3000 + "]" * 3000,
        "-" * 9000 + "1",
        "not " * 2400 + "1",
    ],
)
def test_deeply_nested_expressions_are_refused_not_a_recursion_error(source):
    problem = check_expression(source)
    assert problem is not None and problem.message == "expression is nested too deeply"
    with pytest.raises(ExpressionSyntaxError):
        evaluate(source, CONTEXT)


@pytest.mark.parametrize(
    ("source", "statement"),
    [
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "macro"),
        ("{% call f() %}{% endcall %}", "callblock"),
        ("{% for i in range(10000) %}{% for j in range(10000) %}.{% endfor %}{% endfor %}", "for"),
        ("{% set f = dict %}", "assign"),
        ("{% include 'x' %}", "include"),
        ("{% import 'x' as y %}", "import"),
    ],
)
def test_templates_have_no_macros_loops_or_recursion(source, statement):
    """Recursion needs a macro and long loops a `for`: templates may hold neither."""
    problem = check_template(source)
    assert problem is not None
    assert problem.message == (
        f"{statement} statements are not allowed; templates may only hold {{{{ … }}}} placeholders")
    with pytest.raises(ExpressionSyntaxError):
        render_template(source, CONTEXT)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Each filter step is counted; chaining them over the biggest range runs out of steps.
        ("range(10000) | map('string') | map('upper') | map('lower') | map('trim') | map('title') "
         "| map('capitalize') | map('length') | map('string') | map('upper') | map('lower') | map('trim') "
         "| list | length", "expression took more than 100000 steps; simplify it"),
    ],
)
def test_long_loops_run_out_of_steps(source, message):
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate(source, CONTEXT)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Nested repetition: each product is checked, not only the literal.
        ("('a' * 1000) * 1000 * 1001", "repetition would build a value too large"),
        ("1001 * ('a' * 1000 * 1000)", "repetition would build a value too large"),
        # A list of references to one long string: the length is one, the text a terabyte.
        ("['a' * 999999] * 1000000", "repetition would build a value too large"),
        ("(['a' * 999999] * 1000000) | join | length", "repetition would build a value too large"),
        ("['a' * 600000] + ['a' * 600000]", "concatenation would build a value too large"),
        # Large integers are long text: a list of them repeated is measured by their digits.
        ("([9 ** 1000] * 2000) | string | length", "repetition would build a value too large"),
        # A long separator between many items, refused before joining.
        ("range(10000) | map('string') | join('x' * 1000000) | length",
         "join would build a value too large; reduce it"),
        ("range(10000) | join('x' * 200) | length", "join would build a value too large; reduce it"),
        # replace with an empty needle inserts between every character.
        ("('a' * 100000) | replace('', 'bbbbbbbbbbbb') | length",
         "replace would build a value too large; reduce it"),
        ("9 ** (9 ** 9)", "power result is too large"),
        ("(9 ** 1000) * (9 ** 1000)", "multiplication result is too large"),
    ],
)
def test_multiplication_bombs_are_refused_before_they_build(source, message):
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate(source, CONTEXT)
    assert str(caught.value) == message


def test_joins_and_repetitions_under_the_limit_still_work():
    assert evaluate("range(5) | join(', ')") == "0, 1, 2, 3, 4"
    assert evaluate("(['ab'] * 3) | join('-')") == "ab-ab-ab"
    digits = 10 * 1 + 90 * 2 + 900 * 3
    assert evaluate("range(1000) | map('string') | join('x' * 900) | length") == digits + 999 * 900
    assert evaluate("(('a' * 1000) * 1000) | length") == 1_000_000


def test_the_join_limit_follows_the_configured_size():
    limits = ExpressionLimits(max_output_size=1000)
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate("range(100) | map('string') | join('x' * 900) | length", limits=limits)
    assert str(caught.value) == "join would build a value too large; reduce it"
    assert evaluate("range(10) | map('string') | join('x' * 90) | length", limits=limits) == 10 + 9 * 90
