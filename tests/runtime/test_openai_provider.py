"""Instrument nodes against a local server speaking the OpenAI protocol (tests/fake_openai.py):
streaming, JSON answers, embeddings, retries and every kind of failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from executions.runtime.contract import NodeFailure, SilentReporter
from executions.runtime.providers.base import MemoryModelServices, Price, ProviderEndpoint
from executions.runtime.registry import run_node
from tests.fake_openai import GOOD_KEY, FakeOpenAI, running
from tests.runtime.helpers import context_for as _context_for
from tests.runtime.helpers import node_model, node_of, operator

LOCAL = frozenset({"127.0.0.1"})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with running() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(fake: FakeOpenAI) -> None:
    fake.requests.clear()
    fake.seen.clear()


def endpoint(fake: FakeOpenAI, name: str = "acme", **fields: Any) -> ProviderEndpoint:
    fields.setdefault("api_key", GOOD_KEY)
    fields.setdefault("allowed_hosts", LOCAL)
    return ProviderEndpoint(name=name, base_url=fake.base_url, **fields)


def chat_node(model: str, config: dict[str, Any] | None = None, **fields: Any) -> Any:
    return node_of({**node_model("answer", model, config or {}), **fields})


def context_for(node: Any, inputs: dict[str, Any], fake: FakeOpenAI, **fields: Any) -> Any:
    fields.setdefault("providers", {"acme": endpoint(fake)})
    return _context_for(node, inputs, **fields)


def run_chat(fake: FakeOpenAI, model: str, prompt: str = "hello there", *,
             config: dict[str, Any] | None = None, **fields: Any) -> Any:
    return run_node(context_for(chat_node(f"acme/{model}", config), {"prompt": prompt}, fake,
                                **fields))


def failure_of(fake: FakeOpenAI, model: str, **options: Any) -> NodeFailure:
    with pytest.raises(NodeFailure) as caught:
        run_chat(fake, model, **options)
    return caught.value


# ---------------------------------------------------------------------- answers


def test_a_streamed_answer_grows_in_progress_messages(fake: FakeOpenAI) -> None:
    reporter = SilentReporter()
    messages: list[str] = []
    reporter.progress = lambda fraction, message="": (  # type: ignore[method-assign]
        reporter.fractions.append(fraction), messages.append(message))
    outcome = run_chat(fake, "gpt-test", "hello there",
                       config={"system_prompt": "Be kind.", "temperature": 0.5,
                               "max_tokens": 50, "stop": ["\n\n"]},
                       reporter=reporter)
    assert outcome.outputs["text"] == "Echo: hello there"
    usage = outcome.usage
    assert outcome.outputs["usage"] == {name: value for name, value in usage.items()
                                        if name not in ("duration_ms", "cached")}
    assert {name: usage[name] for name in ("model", "provider", "tokens_in", "tokens_out",
                                           "cost", "priced", "estimated", "cached")} == {
        "model": "acme/gpt-test", "provider": "acme", "tokens_in": 5, "tokens_out": 3,
        "cost": 0.0, "priced": False, "estimated": False, "cached": False}
    # The answer arrived in three pieces; the final message is the whole answer.
    assert messages[-1] == "Echo: hello there"
    assert messages[0] in ("Echo: ", "Echo: hello ")
    assert reporter.fractions[-1] == 1.0
    (request,) = fake.calls_to("/v1/chat/completions")
    assert request["body"] == {
        "model": "gpt-test", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "system", "content": "Be kind."},
                     {"role": "user", "content": "hello there"}],
        "temperature": 0.5, "max_tokens": 50, "stop": ["\n\n"]}
    assert request["headers"]["Authorization"] == f"Bearer {GOOD_KEY}"
    assert request["headers"]["Accept"] == "text/event-stream"


def test_an_answer_without_streaming(fake: FakeOpenAI) -> None:
    outcome = run_chat(fake, "gpt-test", "one two", config={"stream": False})
    assert outcome.outputs["text"] == "Echo: one two"
    assert (outcome.usage["tokens_in"], outcome.usage["tokens_out"]) == (5, 3)
    assert fake.calls_to("/v1/chat/completions")[0]["body"]["stream"] is False


def test_json_answers_are_asked_for_and_checked(fake: FakeOpenAI) -> None:
    outcome = run_chat(fake, "json-test", "q", config={"response_format": "json"})
    assert json.loads(outcome.outputs["text"]) == {"answer": "q", "ok": True}
    assert fake.calls_to("/v1/chat/completions")[0]["body"]["response_format"] == {
        "type": "json_object"}
    failure = failure_of(fake, "not-json", config={"response_format": "json"})
    assert (failure.code, failure.retryable) == ("invalid_model_output", True)


def test_usage_is_estimated_when_the_service_reports_none(fake: FakeOpenAI) -> None:
    outcome = run_chat(fake, "no-usage", "four words in here", config={"stream": False})
    # About four characters a token: 18 characters of prompt → 5; "Echo: four words in here"
    # has 24 characters → 6.
    assert {name: outcome.usage[name] for name in ("tokens_in", "tokens_out", "estimated")} == {
        "tokens_in": 5, "tokens_out": 6, "estimated": True}
    streamed = run_chat(fake, "no-usage", "four words in here")
    # Streamed without usage: one token per piece received.
    assert (streamed.usage["tokens_out"], streamed.usage["estimated"]) == (3, True)


def test_prices_make_the_cost(fake: FakeOpenAI) -> None:
    services = MemoryModelServices(prices={"acme/gpt-test": Price(input_per_million=2.5,
                                                                 output_per_million=10.0)})
    outcome = run_chat(fake, "gpt-test", "hello there", model_services=services)
    # 5 tokens in at $2.50/M + 3 tokens out at $10/M
    assert outcome.usage["cost"] == 0.0000425
    assert outcome.usage["priced"] is True
    assert services.calls == [dict(outcome.usage)]


# ---------------------------------------------------------------------- retries


def test_a_429_is_retried_after_its_retry_after(fake: FakeOpenAI) -> None:
    reporter = SilentReporter()
    outcome = run_chat(fake, "rate-limit-once", reporter=reporter)
    assert outcome.outputs["text"] == "Echo: hello there"
    assert len(fake.calls_to("/v1/chat/completions")) == 2
    # Backoff for a first retry is 0.4 to 0.6 s; Retry-After: 1 makes it one second.
    assert [line for line in reporter.lines if line[0] == "warning"] == [
        ("warning", "Provider 'acme' (127.0.0.1) answered 429: Rate limit reached for "
                    "requests. Retrying in 1.0 s (retry 1).")]


def test_a_retry_after_past_the_deadline_fails_at_once_and_says_when(fake: FakeOpenAI) -> None:
    import time

    failure = failure_of(fake, "rate-limit-long", deadline=time.monotonic() + 20)
    assert (failure.code, failure.retryable) == ("provider_rate_limited", True)
    assert failure.details == {"node_id": "answer", "model_id": "acme/rate-limit-long",
                               "status": 429, "retry_after_s": 120.0}
    assert len(fake.calls_to("/v1/chat/completions")) == 1


def test_a_500_is_retried(fake: FakeOpenAI) -> None:
    assert run_chat(fake, "fail-once").outputs["text"] == "Echo: hello there"
    assert len(fake.calls_to("/v1/chat/completions")) == 2


def test_retries_run_out(fake: FakeOpenAI) -> None:
    failure = failure_of(fake, "always-500", config={"max_retries": 1})
    assert (failure.code, failure.retryable) == ("provider_error", True)
    assert failure.details["status"] == 500
    assert len(fake.calls_to("/v1/chat/completions")) == 2


def test_a_reset_connection_is_retried(fake: FakeOpenAI) -> None:
    assert run_chat(fake, "reset-once", config={"stream": False}).outputs["text"] == (
        "Echo: hello there")
    assert len(fake.calls_to("/v1/chat/completions")) == 2


@pytest.mark.parametrize("model", ["hang", "hang-mid-stream"])
def test_a_hung_connection_is_a_timeout(fake: FakeOpenAI, model: str) -> None:
    failure = failure_of(fake, model, config={"request_timeout_s": 0.3, "max_retries": 0})
    assert (failure.code, failure.retryable) == ("provider_timeout", True)
    assert len(fake.calls_to("/v1/chat/completions")) == 1


def test_a_stop_request_ends_the_backoff(fake: FakeOpenAI) -> None:
    class StopAfterFirstCall(SilentReporter):
        def should_stop(self) -> bool:
            return len(fake.calls_to("/v1/chat/completions")) >= 1

    failure = failure_of(fake, "rate-limit-once", reporter=StopAfterFirstCall())
    assert (failure.code, failure.retryable) == ("stopped", False)


# ---------------------------------------------------------------------- failures


@pytest.mark.parametrize(("model", "code", "retryable", "status"), [
    ("malformed", "invalid_response", False, None),
    ("not-openai", "invalid_response", False, None),
    ("missing", "model_not_found", False, 404),
    ("refuse", "content_refused", False, 400),
    ("filtered", "content_refused", False, None),
    ("quota", "provider_quota_exhausted", False, 429),
    ("error-event", "provider_error", True, None),
], ids=lambda value: str(value))
def test_failures_are_clear(fake: FakeOpenAI, model: str, code: str, retryable: bool,
                            status: int | None) -> None:
    failure = failure_of(fake, model, config={"max_retries": 0})
    assert (failure.code, failure.retryable, failure.details.get("status")) == (
        code, retryable, status)
    assert failure.message.startswith(f"Node 'answer' (acme/{model}): Provider 'acme'")


def test_a_bad_key_is_not_retried(fake: FakeOpenAI) -> None:
    failure = failure_of(fake, "gpt-test",
                         providers={"acme": endpoint(fake, api_key="sk-wrong-key-9876")})
    assert (failure.code, failure.retryable, failure.details["status"]) == (
        "provider_auth_failed", False, 401)
    assert "Check the provider's API key" in failure.message
    assert len(fake.calls_to("/v1/chat/completions")) == 1


def test_a_key_quoted_back_by_the_service_is_masked(fake: FakeOpenAI) -> None:
    failure = failure_of(fake, "leak-key", secrets={"OPENAI_KEY": GOOD_KEY})
    assert GOOD_KEY not in failure.message and GOOD_KEY not in str(failure.details)
    assert "Bad request made with key ***" in failure.message
    assert failure.__cause__ is None


def test_an_unconfigured_provider_fails_before_any_request(fake: FakeOpenAI) -> None:
    failure = failure_of(fake, "gpt-test", providers={})
    assert (failure.code, failure.retryable) == ("model_unavailable", False)
    assert "provider 'acme' is not configured for this team" in failure.message
    assert fake.requests == []


def test_a_model_the_team_does_not_offer_fails_before_any_request(fake: FakeOpenAI) -> None:
    failure = failure_of(fake, "gpt-test", providers={"acme": endpoint(fake, models=("other",))})
    assert failure.code == "model_unavailable"
    assert "does not offer 'gpt-test' (it offers: other)" in failure.message
    assert fake.requests == []


def test_an_internal_address_needs_to_be_allowed(fake: FakeOpenAI) -> None:
    failure = failure_of(fake, "gpt-test",
                         providers={"acme": endpoint(fake, allowed_hosts=frozenset())})
    assert (failure.code, failure.retryable) == ("address_refused", False)
    assert "127.0.0.1 is a loopback address" in failure.message
    assert fake.requests == []


def test_a_node_with_its_own_url_never_sends_the_team_key(fake: FakeOpenAI) -> None:
    node = chat_node("acme/gpt-test", {"base_url": fake.base_url,
                                       "api_key": "{{ secrets.MY_KEY }}"})
    team = endpoint(fake, api_key="team-key-should-stay-home")
    run_node(context_for(node, {"prompt": "hi"}, fake, providers={"acme": team},
                         secrets={"MY_KEY": GOOD_KEY}, allowed_hosts=LOCAL))
    assert fake.requests[-1]["headers"]["Authorization"] == f"Bearer {GOOD_KEY}"
    without_key = chat_node("acme/gpt-test", {"base_url": fake.base_url})
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(without_key, {"prompt": "hi"}, fake, providers={"acme": team},
                             allowed_hosts=LOCAL))
    assert caught.value.code == "provider_auth_failed"
    assert "Authorization" not in fake.requests[-1]["headers"]


def test_catalog_names_and_pinned_versions_reach_the_service(fake: FakeOpenAI) -> None:
    providers = {"anthropic": endpoint(fake, name="anthropic"),
                 "openai": endpoint(fake, name="openai")}
    run_node(context_for(chat_node("anthropic/claude-3-5-haiku"), {"prompt": "hi"}, fake,
                         providers=providers))
    run_node(context_for(chat_node("openai/gpt-4o", model_version="2024-08-06"),
                         {"prompt": "hi"}, fake, providers=providers))
    assert [request["body"]["model"] for request in fake.requests] == [
        "claude-3-5-haiku-latest", "gpt-4o-2024-08-06"]


# ---------------------------------------------------------------------- embeddings


def test_the_embedding_instrument_calls_the_embeddings_endpoint(fake: FakeOpenAI) -> None:
    from tests.fake_openai import _vector

    node = node_of(node_model("vector", "openai/text-embedding-3-small", {"dimensions": 8}))
    outcome = run_node(context_for(node, {"text": "the cat sat"}, fake,
                                   providers={"openai": endpoint(fake, name="openai")}))
    assert outcome.outputs == {"embedding": _vector("the cat sat")}
    assert (outcome.usage["tokens_in"], outcome.usage["estimated"]) == (3, False)
    assert fake.requests[-1]["body"] == {"model": "text-embedding-3-small",
                                         "input": ["the cat sat"], "dimensions": 8}


def test_embedding_operators_can_use_a_team_model(fake: FakeOpenAI) -> None:
    node = operator("embed", "embed", {"model": "acme/embedder"})
    outcome = run_node(context_for(node, {"text": ["b", "a", "c"]}, fake))
    vectors = outcome.outputs["embedding"]
    # The service answered in reverse order; the vectors come back in the texts' order.
    from tests.fake_openai import _vector

    for text, vector in zip(["b", "a", "c"], vectors, strict=True):
        expected = _vector(text)
        norm = sum(value * value for value in expected) ** 0.5
        assert vector == pytest.approx([value / norm for value in expected], abs=1e-6)
    assert outcome.usage["model"] == "acme/embedder"


# ---------------------------------------------------------------------- cache


def test_a_second_identical_run_is_served_from_the_cache(fake: FakeOpenAI) -> None:
    services = MemoryModelServices(prices={"acme/gpt-test": Price(input_per_million=1.0,
                                                                 output_per_million=1.0)})
    first = run_chat(fake, "gpt-test", "same question", model_services=services)
    second = run_chat(fake, "gpt-test", "same question", model_services=services)
    assert len(fake.calls_to("/v1/chat/completions")) == 1
    assert first.cached is False and second.cached is True
    assert second.outputs["text"] == first.outputs["text"]
    assert {name: second.usage[name] for name in ("tokens_in", "tokens_out", "cost", "cached",
                                                  "saved")} == {
        "tokens_in": 0, "tokens_out": 0, "cost": 0.0, "cached": True,
        "saved": {"tokens_in": 5, "tokens_out": 3, "cost": 0.000008}}
    # The outputs are the original answer's, usage port included; the run's usage says cached.
    assert second.outputs == first.outputs
    assert [call["cached"] for call in services.calls] == [False, True]


@pytest.mark.parametrize(("change", "config"), [
    ("another prompt", {}),
    ("another temperature", {"temperature": 0.9}),
    ("cache turned off", {"cache": False}),
])
def test_what_misses_the_cache(fake: FakeOpenAI, change: str, config: dict[str, Any]) -> None:
    services = MemoryModelServices()
    run_chat(fake, "gpt-test", "q", model_services=services)
    prompt = "q2" if change == "another prompt" else "q"
    again = run_chat(fake, "gpt-test", prompt, config=config, model_services=services)
    assert again.cached is False
    assert len(fake.calls_to("/v1/chat/completions")) == 2


def test_timeouts_and_retries_do_not_change_the_cache_key(fake: FakeOpenAI) -> None:
    services = MemoryModelServices()
    run_chat(fake, "gpt-test", "q", model_services=services)
    again = run_chat(fake, "gpt-test", "q", config={"request_timeout_s": 5, "max_retries": 0},
                     model_services=services)
    assert again.cached is True


def test_the_cache_key_holds_secret_names_not_values(fake: FakeOpenAI) -> None:
    services = MemoryModelServices()
    config = {"system_prompt": "Token {{ secrets.TOKEN }}"}
    run_chat(fake, "gpt-test", "q", config=config, secrets={"TOKEN": "value-one-1234"},
             model_services=services)
    again = run_chat(fake, "gpt-test", "q", config=config, secrets={"TOKEN": "value-two-5678"},
                     model_services=services)
    # A rotated secret does not change what the model is asked (it names the secret).
    assert again.cached is True
    stored = json.dumps([answer.outputs for answer in services.answers.values()])
    assert "value-one-1234" not in stored
