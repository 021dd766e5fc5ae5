"""The search's statements run prepared, on generic plans, under settings that end with them
(`templates_app.selectors.statements`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from templates_app.selectors import search_templates
from templates_app.selectors.statements import Statement, fetch
from tests.templates_app.test_search_rows import _publish

SETTINGS = ("enable_seqscan", "plan_cache_mode", "gin_fuzzy_search_limit", "jit")


def _settings() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s) ORDER BY name", [list(SETTINGS)])
        return dict(cursor.fetchall())


# Every session plans prepared statements generically and compiles none (settings.py: the words
# statement's generic plan passed jit_above_cost with a 6,000-word vocabulary, and its 18 ms were
# 17.6 of JIT on every search); the search sets neither of its own.
DEFAULTS = {"enable_seqscan": "on", "gin_fuzzy_search_limit": "0", "plan_cache_mode": "force_generic_plan",
            "jit": "off"}


def _search_twice_and_settle(personas: Any) -> None:
    _publish(personas, "Summarize invoices", visibility="public")
    for query in ("summarize", "invoces", "summ"):
        for _ in range(2):  # the second run uses the statement prepared by the first
            assert [template.name for template in search_templates(personas.users["viewer"], query=query).templates] \
                == ["Summarize invoices"]


@pytest.mark.django_db(transaction=True)
def test_settings_end_with_the_search_outside_a_transaction(personas: Any) -> None:
    assert _settings() == DEFAULTS
    _search_twice_and_settle(personas)
    assert _settings() == DEFAULTS
    # The statements were prepared on the connection, once each, and ran on generic plans only.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements"
                       " WHERE statement LIKE %s", ["%templates_app_template%"])
        prepared, generic, custom = cursor.fetchone()
    assert prepared >= 1
    assert generic >= prepared
    assert custom == 0  # under PostgreSQL's default, the first five runs of each would be custom


def test_settings_end_with_the_search_inside_a_transaction(personas: Any) -> None:
    assert connection.in_atomic_block
    with transaction.atomic():
        _search_twice_and_settle(personas)
        assert _settings() == DEFAULTS


def test_statements_fetched_together_share_their_settings(db: Any) -> None:
    with pytest.raises(ValueError, match="same settings"):
        fetch([Statement(sql="SELECT 1", params=[], settings=["enable_seqscan = off"]),
               Statement(sql="SELECT 2", params=[], settings=["enable_indexscan = off"])])
    # Without settings first, whatever the order asked; each result in the order asked.
    assert fetch([Statement(sql="SELECT current_setting('enable_seqscan')", params=[],
                            settings=["enable_seqscan = off"]),
                  Statement(sql="SELECT current_setting('enable_seqscan')", params=[])]) == [[("off",)], [("on",)]]
    assert _settings() == DEFAULTS
