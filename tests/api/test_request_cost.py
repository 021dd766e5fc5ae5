"""What every API request skips that pages keep (symphony_site/api/middleware.py), and the fixed\nwork every API request does (content negotiation, the token's lookup) kept to what it needs."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIClient, APIRequestFactory

from symphony_site.actors import Actor, Origin
from symphony_site.api.middleware import MessageMiddleware
from symphony_site.api.negotiation import SingleRendererNegotiation
from teams.services import token_create
from tests.api.conftest import error_of
from tests.conftest import Personas


def _through_middleware(path: str) -> tuple[HttpRequest, HttpResponse]:
    seen: dict[str, Any] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["request"] = request
        if not path.startswith("/api/"):
            messages.success(request, "Saved.")
        return HttpResponse("ok")

    stack = SessionMiddleware(MessageMiddleware(view))
    response = stack(RequestFactory().get(path))
    return seen["request"], response


def test_api_requests_build_no_message_storage(db) -> None:
    request, response = _through_middleware("/api/v1/me/")
    assert not hasattr(request, "_messages")
    assert response.status_code == 200
    assert "messages" not in response.cookies


def test_pages_keep_their_flash_messages(db) -> None:
    request, response = _through_middleware("/workflows/")
    assert hasattr(request, "_messages")
    # The message was stored for the next page (in the cookie, Django's fallback storage's first choice).
    assert "messages" in response.cookies and response.cookies["messages"].value


def _negotiated(negotiation: Any, path: str, accept: str | None) -> tuple[str, str] | str:
    """The renderer class and media type a negotiation picks, or the exception it raises."""
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(path, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, [JSONRenderer()])
    except (NotAcceptable, Http404) as refused:
        return type(refused).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize(("path", "accept"), [
    ("/api/v1/me/", None), ("/api/v1/me/", "*/*"), ("/api/v1/me/", "application/json"),
    ("/api/v1/me/", "application/json; indent=4"), ("/api/v1/me/", "text/html"),
    ("/api/v1/me/", "text/html, application/json;q=0.9"), ("/api/v1/me/", "application/*"),
    ("/api/v1/me/?format=json", None), ("/api/v1/me/?format=xml", None),
    ("/api/v1/me/?format=xml", "application/json"), ("/api/v1/me/?format=", "*/*"),
])
def test_single_renderer_negotiation_answers_as_drf_does(path: str, accept: str | None) -> None:
    # The shortcut answers the usual headers itself; every answer, and every refusal, is DRF's.
    assert _negotiated(SingleRendererNegotiation(), path, accept) == _negotiated(
        DefaultContentNegotiation(), path, accept)


def test_api_requests_use_the_single_renderer_negotiation() -> None:
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is SingleRendererNegotiation
    assert SingleRendererNegotiation().select_renderer(
        Request(APIRequestFactory().get("/api/v1/me/", HTTP_ACCEPT="application/json")), [JSONRenderer()],
    )[1] == "application/json"


def test_a_token_request_that_accepts_no_json_is_still_refused(personas: Personas) -> None:
    _, key = token_create(actor=Actor.of(personas.users["owner"]), origin=Origin.command(), name="accept")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    refused = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert refused.status_code == 406
    assert error_of(refused)["code"] == "not_acceptable"
    answered = client.get("/api/v1/me/")
    assert answered.status_code == 200 and answered["Content-Type"] == "application/json"
    assert answered.json()["username"] == personas.users["owner"].username


def test_the_token_lookup_is_prepared_on_the_connection(personas: Personas) -> None:
    # Parsed and planned once per connection (teams/authentication.py), not on every request.
    _, key = token_create(actor=Actor.of(personas.users["owner"]), origin=Origin.command(), name="prepared")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/workflows/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement LIKE '%%json_agg%%' FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%token."key_digest" = $1%'])
        prepared = sorted(reads_teams for (reads_teams,) in cursor.fetchall())
    # The plain lookup and /me/'s (which reads the user's teams too), each prepared once.
    assert prepared == [False, True]
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Token {key}x")
    assert wrong.get("/api/v1/me/").status_code == 401


def test_a_long_statement_is_converted_once_per_text(db) -> None:
    # psycopg converts the placeholders of a text over 4,096 bytes on every run; the prepared door
    # converts each text once (symphony_site/prepared.py, `_converted`), and binds each run's values.
    from psycopg import _queries

    from symphony_site import prepared

    sql = "SELECT %(a)s::int + %(b)s::int /* " + "x" * 5000 + " */"
    assert len(sql) > _queries.MAX_CACHED_STATEMENT_LENGTH
    before = prepared._converted.cache_info()
    answers = []
    for a, b in ((1, 2), (10, 20), (100, 200)):
        cursor = prepared.reading()
        cursor.execute(sql, {"a": a, "b": b})
        answers.append(cursor.fetchall())
    after = prepared._converted.cache_info()
    assert answers == [[(3,)], [(30,)], [(300,)]]
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    # A statement without parameters is psycopg's as before (nothing to convert).
    cursor = prepared.reading()
    cursor.execute("SELECT 7", None)
    assert cursor.fetchall() == [(7,)] and prepared._converted.cache_info().misses == after.misses
