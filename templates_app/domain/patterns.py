"""Regular expressions that mean the same to every JSON Schema client.

A parameter's published JSON Schema must accept exactly what the server
accepts, and a client may run ``pattern`` with ECMA-262 (what JSON Schema
names, and what browsers run) or with Python's ``re`` (what the server and
``jsonschema`` run). The patterns here are written in the part of both
dialects that means the same in each:

* explicit character classes, never ``\\s``, ``\\d`` or ``\\w`` (Unicode-wide
  in Python, narrower in ECMA-262);
* ``(?![\\s\\S])$`` ("nothing follows") to end a value, never ``$`` alone:
  Python's ``$`` also matches before a final newline, ECMA-262's does not;
* no bounded repetition of a class that can match a character outside the
  Basic Multilingual Plane (ECMA-262 without the ``u`` flag counts such a
  character as two), lengths are bounded by ``maxLength`` instead.

``EXPRESSION`` and ``TEMPLATE`` describe the values of ``expression``
parameters and of the ``template`` validator. The full expression language
(Jinja's expression grammar) nests brackets without bound, which no regular
expression can describe, so a parameter holds a regular part of it:

* operands: a path from a readable name (``item``, ``item.price``,
  ``inputs['a b'][0]``), a number, a quoted string without backslashes,
  braces or control characters, ``true``/``false``/``none``, a list of
  those literals;
* each operand optionally signed (``-``/``+``) and followed by filters from
  the sandbox's list, with literal or path arguments (``item | round(2)``);
* arithmetic (``+ - * / // % **``), comparisons (``== != < <= > >=``,
  ``in``, ``not in``), a test at the end of a comparison
  (``item is not none``), ``not`` before it, ``and``/``or`` between them;
* one level of parentheses around such an expression;
* blanks are plain spaces; word operators stand between spaces.

Every string the pattern matches is a valid expression (a property test
draws them from the pattern and checks each with the graph core's
``check_expression``); conditional expressions, ``~``, calls and deeper
nesting are left out.
"""

from __future__ import annotations

import re

from workflows.domain.expressions import DEFAULT_LIMITS, READABLE_NAMES
from workflows.domain.sandbox import ENVIRONMENT

# The end of the value: nothing follows (see the module docstring about ``$``).
# The ``$`` after the look-ahead changes nothing in either dialect, but tells
# generators of strings from patterns (Hypothesis) that the pattern is anchored.
END = r"(?![\s\S])$"

# Exactly the characters Python's ``str.isspace`` (and so ``str.strip``) treats as
# blank, spelled out so that ECMA-262 agrees.
WHITESPACE_CLASS_BODY = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# C0 controls and DEL, which no URL holds unescaped.
CONTROL_CLASS_BODY = r"\x00-\x1f\x7f"

NON_BLANK = f"[^{WHITESPACE_CLASS_BODY}]"
SLUG = rf"^[a-z0-9]+(?:-[a-z0-9]+)*{END}"
EMAIL = rf"^[^@{WHITESPACE_CLASS_BODY}]+@[^@{WHITESPACE_CLASS_BODY}]+\.[^@{WHITESPACE_CLASS_BODY}]+{END}"
HTTP_URL = (rf"^https?://[^{WHITESPACE_CLASS_BODY}{CONTROL_CLASS_BODY}/?#]+"
            rf"(?:[/?#][^{WHITESPACE_CLASS_BODY}{CONTROL_CLASS_BODY}]*)?{END}")
LANGUAGE_CODE = rf"^[a-z]{{2,3}}(?:-[A-Z]{{2}}|-[A-Z][a-z]{{3}})?{END}"
IDENTIFIER = rf"^[A-Za-z_][A-Za-z0-9_]*{END}"
MODEL_ID = rf"^[A-Za-z0-9][A-Za-z0-9._:/@-]{{0,199}}{END}"


def _alternatives(words: list[str]) -> str:
    # Longest first, so that no alternative is cut short by a prefix of another.
    return "(?:" + "|".join(re.escape(word) for word in sorted(words, key=lambda w: (-len(w), w))) + ")"


_NAME = r"[A-Za-z][A-Za-z0-9_]*"


def _expression_pattern() -> tuple[str, str]:
    """(the expression, the expression without parentheses), unanchored."""
    name = _NAME
    number = r"(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?"
    string = r"""(?:'[^'\\{}\x00-\x1f\x7f]*'|"[^"\\{}\x00-\x1f\x7f]*")"""
    literal = f"(?:{number}|{string}|true|false|none|True|False|None)"
    path = rf"{_alternatives(list(READABLE_NAMES))}(?:\.{name}|\[ *(?:0|[1-9][0-9]{{0,8}}|{string}) *\])*"
    # Each run of blanks belongs to one `` *`` only: two in a row would let a
    # failing match try every split of the run, exponentially in their number.
    listed = rf"\[(?: *{literal}(?: *, *{literal})*)? *\]"
    argument = f"(?:{literal}|{path})"
    arguments = rf"\((?: *{argument}(?: *, *{argument})*)? *\)"
    filters = [name for name in ENVIRONMENT.filters if re.fullmatch(_NAME, name)]
    tests = [name for name in ENVIRONMENT.tests if re.fullmatch(_NAME, name)]
    filter_call = rf" *\| *{_alternatives(filters)}(?:{arguments})?"
    test = rf" +is +(?:not +)?{_alternatives(tests)}"
    # Operators after which any value may follow. A test's name must not be
    # followed by a word or a literal (Jinja would read it as the test's
    # argument), so ``in``/``not in`` never follow a test.
    operator = r"(?: *(?:\*\*|//|[-+*/%]|==|!=|<=|>=|<|>) *| +(?:and|or) +(?:not +)?)"
    membership = r" +(?:not +)?in +"

    def expression(operand: str) -> str:
        value = f"(?:[-+] *)?{operand}(?:{filter_call})*"
        return f"(?:not +)?(?:{value}(?:(?:{test})?{operator}|{membership}))*{value}(?:{test})?"

    flat = expression(f"(?:{path}|{literal}|{listed})")
    nested = expression(rf"(?:{path}|{literal}|{listed}|\( *{flat} *\))")
    return nested, flat


_EXPRESSION_BODY, _FLAT_EXPRESSION_BODY = _expression_pattern()

EXPRESSION = f"^ *{_EXPRESSION_BODY} *{END}"
EXPRESSION_MAX_LENGTH = DEFAULT_LIMITS.max_source_length
# Text with ``{{ expression }}`` placeholders and no other Jinja syntax: a ``{``
# is text unless a ``{``, ``%`` or ``#`` follows it.
TEMPLATE = rf"^(?:[^{{]|\{{(?![{{%#])|\{{\{{ *{_EXPRESSION_BODY} *\}}\}})*{END}"
TEMPLATE_MAX_LENGTH = DEFAULT_LIMITS.max_output_size
