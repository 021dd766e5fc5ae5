"""`GET /api/v1/executions/{id}/events/`: team-scoped, filtered, paged by seq, in the schema."""

from __future__ import annotations

import uuid

import pytest
import yaml

from executions.live.filters import FilterInvalid, parse_after_seq

from .conftest import emit, logs, make_execution, stored

pytestmark = pytest.mark.django_db


def url(execution_id, query: str = "") -> str:
    return f"/api/v1/executions/{execution_id}/events/" + (f"?{query}" if query else "")


@pytest.fixture
def execution(personas):
    made = make_execution(personas)
    emit(made.pk, [("node.started", "greet", {}), *logs("greet", "debug", "info", "error"),
                   ("node.completed", "greet", {"attempt": 1}), ("execution.completed", None, {})])
    return made


@pytest.mark.parametrize(("who", "status"), [
    ("owner", 200), ("admin", 200), ("editor", 200), ("operator", 200), ("viewer", 200),
    ("outsider", 404), (None, 401)])
def test_who_may_read_the_events(personas, execution, who, status) -> None:
    response = personas.client(who).get(url(execution.pk))
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"results": stored(execution.pk), "next": None, "last_seq": 6}
    else:
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_another_teams_execution_answers_exactly_like_a_missing_one(personas, execution) -> None:
    other = personas.client("outsider").get(url(execution.pk))
    missing = personas.client("outsider").get(url(uuid.uuid4()))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() == {"error": {"code": "not_found", "message": "Execution not found.",
                                                        "details": []}}


def test_pages_follow_after_seq_to_the_end(personas, execution) -> None:
    client = personas.client("viewer")
    first = client.get(url(execution.pk, "limit=4")).json()
    assert [event["seq"] for event in first["results"]] == [1, 2, 3, 4]
    assert (first["next"], first["last_seq"]) == ("4", 6)
    second = client.get(url(execution.pk, f"limit=4&after_seq={first['next']}")).json()
    assert [event["seq"] for event in second["results"]] == [5, 6]
    assert second["next"] is None
    exact = client.get(url(execution.pk, "limit=3&after_seq=3")).json()
    assert ([event["seq"] for event in exact["results"]], exact["next"]) == ([4, 5, 6], None)


def test_filters_match_the_websocket_ones(personas, execution) -> None:
    client = personas.client("viewer")
    by_type = client.get(url(execution.pk, "types=node.started,execution.completed")).json()["results"]
    assert [event["seq"] for event in by_type] == [1, 6]
    by_level = client.get(url(execution.pk, "types=log&min_level=info")).json()["results"]
    assert [event["data"]["level"] for event in by_level] == ["info", "error"]
    by_node = client.get(url(execution.pk, "node=out")).json()["results"]
    assert [event["seq"] for event in by_node] == [6]  # execution-level events stay
    repeated = client.get(url(execution.pk, "node=greet&node=out&types=node.completed")).json()["results"]
    assert [event["seq"] for event in repeated] == [5]


@pytest.mark.parametrize(("query", "field"), [
    ("after_seq=-3", "after_seq"), ("after_seq=x", "after_seq"), ("limit=0", "limit"),
    ("limit=1001", "limit"), ("types=node.melted", "types"), ("min_level=verbose", "min_level")])
def test_bad_parameters_answer_400_naming_the_parameter(personas, execution, query, field) -> None:
    response = personas.client("viewer").get(url(execution.pk, query))
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    assert [detail["field"] for detail in body["details"]] == [field]


def test_the_endpoint_is_in_the_schema_with_its_parameters_and_errors(client) -> None:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/executions/{execution_id}/events/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "execution_id", "after_seq", "types", "node", "min_level", "limit"}
    # 429: every API operation is throttled, and the schema says so (symphony_site/api/schema.py).
    assert set(operation["responses"]) == {"200", "400", "401", "404", "429"}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][page]["required"]) == {"results", "next", "last_seq"}


@pytest.mark.parametrize(("query", "field"), [("limit=", "limit"), ("after_seq=", "after_seq")])
def test_an_empty_integer_parameter_is_400_like_any_wrong_value(personas, execution, query, field) -> None:
    """docs/api.md: an empty value for an integer query parameter is 400 (the schema says
    integer); the events page read `limit=` and `after_seq=` as absent (Schemathesis' long form,
    ninth session: `?limit=` answered 200)."""
    response = personas.client("viewer").get(url(execution.pk, query))
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    assert [detail["field"] for detail in body["details"]] == [field]


@pytest.mark.parametrize(("query", "field"), [
    ("limit=%C2%B2", "limit"), ("after_seq=%C2%B2", "after_seq"),  # a superscript two: str.isdigit() yet int() refuses it
    ("limit=%D9%A1%D9%A0", "limit"), ("after_seq=%D9%A1", "after_seq"),  # Arabic-Indic 10 and 1
    ("after_seq=%203", "after_seq")])
def test_integers_are_ascii_digits_only(personas, execution, query, field) -> None:
    """`str.isdigit()` takes superscripts (which `int()` then refuses: a 500) and other scripts'
    digits; the schema's integer is ASCII digits only."""
    response = personas.client("viewer").get(url(execution.pk, query))
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]


@pytest.mark.parametrize("raw", ["\u00b2", "12\u00b3", "\u0661"])
def test_the_streams_after_seq_refuses_digits_past_ascii(raw) -> None:
    """The WebSocket's `?after_seq=` (the same parser): a superscript two passed `str.isdigit()` and `int()` then
    raised ValueError instead of the refusal the consumer answers with; an Arabic-Indic one was read as 1."""
    with pytest.raises(FilterInvalid) as refused:
        parse_after_seq(raw)
    assert refused.value.field == "after_seq"
