"""/metrics: refused without the token from elsewhere than loopback, and after a real execution on
a real worker it shows that node type's duration count grown (samples of every process summed)."""

from __future__ import annotations

from typing import Any

from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from workflows import samples as s

from .conftest import document, run


def scrape(client: Client | None = None, **headers: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = (client or Client()).get("/metrics", **headers)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def series(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none)."""
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and set(labels.items()) <= set(sample_labels))


def test_the_node_duration_of_a_real_run_appears_with_its_type(engine) -> None:
    before = scrape()
    built = document("Metered", [
        s.node_input("x", "string"),
        s.node_operator("greet", "template", {"template": "hello {{ inputs.variables }}"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "x", "value", "greet", "variables"), s.data_edge("e2", "greet", "text", "out", "value")])
    execution = run(engine, built, {"x": "metrics"})
    assert execution.state == "completed"
    after = scrape()
    name = "symphony_node_duration_seconds_count"
    grown = (series(after, name, node_type="template", node_kind="operator", model="")
             - series(before, name, node_type="template", node_kind="operator", model=""))
    assert grown >= 1
    assert series(after, "symphony_executions", state="completed") >= 1
    assert ("symphony_queue_depth", (("queue", "steps"),)) in after
    # The middleware counted the first scrape by its view's name.
    assert series(after, "symphony_http_requests_total", view="metrics", method="GET", status="200") >= 1


@override_settings(METRICS_TOKEN="metrics-token-0123", METRICS_ALLOWED_ADDRESSES=["127.0.0.1/32"])
def test_refused_without_the_token_from_an_address_not_allowed(db) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    refused = Client().get("/metrics", **outside)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert b"symphony_" not in refused.content
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "authentication_failed"
    assert b"symphony_" not in wrong.content
    assert scrape(HTTP_AUTHORIZATION="Bearer metrics-token-0123", **outside)
    assert scrape()  # loopback is allowed


@override_settings(METRICS_TOKEN="")
def test_with_no_token_configured_any_bearer_is_refused(db) -> None:
    answer = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert answer.status_code == 401
