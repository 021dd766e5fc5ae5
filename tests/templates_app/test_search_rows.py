"""The search endpoint's rows, shaped from the search statement's rows without model instances
(`templates_app.api.rows.search_rows`), are byte for byte what `TemplateSerializer` renders for the
same templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework.renderers import JSONRenderer

from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.api import rows
from templates_app.api.serializers import TemplateSerializer
from templates_app.models import Template
from templates_app.selectors import search_templates
from tests.templates_app.conftest import summary_version

ORIGIN = Origin.command()


def _publish(personas: Any, name: str, **extra: Any) -> Template:
    return services.template_publish(
        actor=Actor.of(personas.users["admin"]), origin=ORIGIN, team=personas.team, name=name,
        description=extra.pop("description", "Summaries."), category=extra.pop("category", "summarization"),
        tags=extra.pop("tags", []), visibility=extra.pop("visibility", "team"), version=summary_version())


def test_search_rows_are_the_serializers_bytes(personas: Any) -> None:
    _publish(personas, "Summarize ünïcode “quotes” \\ and \"escapes\"", tags=["summarization", "llm"],
             description="Line one\nline two\ttab, emoji 🧾, <b>markup</b>")
    _publish(personas, "Summarize invoices", tags=[], visibility="public", category="")
    _publish(personas, "Summarize contracts", tags=["legal"], visibility="private")
    # Values a fresh row does not have: a rating to round, counts, flags, a timestamp without
    # microseconds and one far from now.
    Template.objects.filter(name="Summarize invoices").update(
        rating_average=3.456789, rating_count=3, usage_count=41, verified=True, featured=True, deprecated=True,
        created_at=dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    Template.objects.filter(name="Summarize contracts").update(
        rating_average=4.995, node_types=["llm", "http_request"], model_ids=["local/echo", "openai/gpt-4o-mini"],
        updated_at=dt.datetime(2030, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
    renderer = JSONRenderer()
    for query in ("summarize", "invoices", "ünïcode", "contracts legal"):
        result = search_templates(personas.users["admin"], query=query)
        assert result.page is not None and result.page.rows
        plain = rows.search_rows(result)
        ordered = [Template.objects.select_related("team").get(slug=template.slug) for template in result.templates]
        assert renderer.render(plain) == renderer.render(TemplateSerializer(ordered, many=True).data)
        # ...and the same as the rows built from the page's templates.
        assert plain == rows.template_rows(result.templates)
    assert len(search_templates(personas.users["admin"], query="summarize").templates) == 3


def test_the_search_endpoint_answers_the_serializers_rows(personas: Any) -> None:
    _publish(personas, "Summarize ünïcode", tags=["llm"])
    _publish(personas, "Summarize invoices", visibility="public")
    body = personas.client("viewer").get("/api/v1/templates/?q=summarize").json()
    templates = [Template.objects.select_related("team").get(slug=row["slug"]) for row in body["results"]]
    assert len(templates) == 2
    assert body["results"] == TemplateSerializer(templates, many=True).data


def test_a_browse_without_words_has_no_statement_rows(personas: Any) -> None:
    _publish(personas, "Summarize invoices", visibility="public")
    result = search_templates(personas.users["viewer"], query="")
    assert result.page is None
    assert rows.search_rows(result) == rows.template_rows(result.templates)
    assert [row["name"] for row in rows.search_rows(result)] == ["Summarize invoices"]
