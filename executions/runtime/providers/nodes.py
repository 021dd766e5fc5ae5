"""Instrument nodes: chat and embedding models behind one bookkeeping wrapper.

`model_node(capability, produce)` makes a registry implementation out of `produce`,
which only calls the model. The wrapper, around every model call:

1. routes the node's `model_id` to its service (`gateway.route`) — an unconfigured
   provider fails here, not first at the service;
2. looks the answer up in the output cache (unless the config says `cache: false`):
   the key is a SHA-256 over the model id, the node's `model_version` and the model's
   own version (local weights), the service (base URL, never the key), the resolved
   inputs, the config rendered with secrets replaced by their *names*, and the output
   ports. A hit is returned with `cached: true`, zero tokens and zero cost, and
   `saved` holding what the original call used;
3. otherwise calls the model, prices the tokens (`ModelServices.price`, US dollars
   per million tokens; local models cost nothing), stores the answer (secrets already
   masked) and records the call.

Usage facts of the run, in `NodeOutcome.usage` (the engine records them on the node run):
`model`, `model_version`, `provider`, `tokens_in`, `tokens_out`,
`cost`, `currency`, `priced` (false: no price known, cost shown as 0), `estimated`
(the service reported no token counts), `duration_ms`, `cached` (and `saved` on a hit).
The `usage` output port, when the node has one, describes the answer instead — the
call that produced it, without `duration_ms`, `cached` and `saved` — so a cached
answer's outputs are exactly the original's.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import orjson

from executions.runtime.config import (
    config_text,
    config_value,
    invalid_config,
    invalid_input,
    node_config,
)
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.ports import describe, output_ports
from executions.runtime.providers import base, gateway
from executions.runtime.providers.base import CallContext, ChatRequest, ProviderError
from executions.runtime.providers.gateway import Route
from executions.runtime.providers.openai_compatible import estimate_tokens
from executions.runtime.secrecy import mask_value

CACHE_KEY_VERSION = 1
CURRENCY = "USD"
# Config that changes how a call is made, not what it answers: left out of cache keys.
CALL_ONLY_CONFIG = frozenset({"cache", "request_timeout_s", "max_retries", "api_key", "stream"})
# Facts of a run, not of the answer: kept out of the `usage` output port.
RUN_ONLY_USAGE = frozenset({"duration_ms", "cached", "saved"})
STREAM_REPORT_INTERVAL_S = 0.1
MESSAGE_LIMIT = 2_000

Produce = Callable[[NodeContext, Route], NodeOutcome]


def model_id_of(context: NodeContext) -> str:
    return str(getattr(context.node, "model_id", "") or "")


def call_context(context: NodeContext, *, on_text: Callable[[str], None] | None = None
                 ) -> CallContext:
    reporter = context.reporter

    def on_retry(retry: int, error: ProviderError, delay: float) -> None:
        reporter.log("warning", f"{error.message} Retrying in {delay:.1f} s (retry {retry}).")

    return CallContext(node_id=context.node.id, deadline=context.deadline,
                       should_stop=reporter.should_stop, on_text=on_text, on_retry=on_retry)


def failure_from(error: ProviderError, context: NodeContext, model_id: str) -> NodeFailure:
    details: dict[str, Any] = {"node_id": context.node.id, "model_id": model_id}
    if error.status is not None:
        details["status"] = error.status
    if error.retry_after_s is not None:
        details["retry_after_s"] = round(error.retry_after_s, 3)
    return NodeFailure(f"Node {context.node.id!r} ({model_id}): {error.message}",
                       code=error.code, retryable=error.retryable, details=details)


# ---------------------------------------------------------------------- cache key


def cache_key(context: NodeContext, chosen: Route) -> str | None:
    """The output cache key of this node run, or None when it must not be cached."""
    config = node_config(context)
    if config.get("cache", True) is False:
        return None
    # Render the config as the call sees it (inputs, execution facts), but with each
    # secret standing as its name: the key must not depend on, or reveal, a value.
    shadow = replace(context, secrets={name: f"<secret {name}>" for name in context.secrets})
    rendered = {key: config_value(shadow, key) for key in sorted(config)
                if key not in CALL_ONLY_CONFIG}
    payload = {
        "v": CACHE_KEY_VERSION, "model": chosen.ref.model_id, "remote": chosen.remote_model,
        "version": chosen.model_version, "service": chosen.identity,
        "inputs": dict(context.inputs), "config": rendered,
        "ports": [port.name for port in output_ports(context.node)],
    }
    try:
        encoded = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None  # values JSON cannot hold (bytes, say): run without the cache
    return hashlib.sha256(encoded).hexdigest()


# ---------------------------------------------------------------------- usage


def priced_usage(context: NodeContext, chosen: Route, *, tokens_in: int, tokens_out: int,
                 duration_ms: int, estimated: bool = False) -> dict[str, Any]:
    services = context.model_services
    price = services.price(chosen.ref.model_id) if services is not None else None
    if chosen.ref.is_local:
        cost, priced = 0.0, True
    elif price is not None:
        cost, priced = price.cost(tokens_in, tokens_out), True
    else:
        cost, priced = 0.0, False
    return {"model": chosen.ref.model_id, "model_version": chosen.model_version,
            "provider": chosen.provider, "tokens_in": tokens_in, "tokens_out": tokens_out,
            "cost": cost, "currency": CURRENCY, "priced": priced, "estimated": estimated,
            "duration_ms": duration_ms, "cached": False}


def _with_usage_port(context: NodeContext, outputs: Mapping[str, Any],
                     usage: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs limited to the node's ports, with `usage` filled when it has that port.
    The port describes the answer (the call that made it), not this run: it leaves out the
    duration and whether the cache served it, so the same call has the same outputs
    whether answered or cached, and the engine and the reference executor agree."""
    names = {port.name for port in output_ports(context.node)}
    result = {name: value for name, value in outputs.items() if name in names}
    if "usage" in names:
        result["usage"] = {name: value for name, value in usage.items()
                           if name not in RUN_ONLY_USAGE}
    return result


def _from_cache(context: NodeContext, chosen: Route, answer: base.CachedAnswer,
                started: float) -> NodeOutcome:
    saved = {name: answer.usage.get(name, 0) for name in ("tokens_in", "tokens_out", "cost")}
    usage = {**priced_usage(context, chosen, tokens_in=0, tokens_out=0,
                            duration_ms=round((time.monotonic() - started) * 1000)),
             "cost": 0.0, "priced": True, "cached": True, "saved": saved}
    return NodeOutcome(outputs=dict(answer.outputs), usage=usage, cached=True)


def model_node(capability: str, produce: Produce) -> Callable[[NodeContext], NodeOutcome]:
    """A registry implementation: `produce` wrapped in routing, caching and usage."""

    def run(context: NodeContext) -> NodeOutcome:
        model_id = model_id_of(context)
        chosen = gateway.route(context, model_id, capability=capability)
        services = context.model_services
        started = time.monotonic()
        key = cache_key(context, chosen) if services is not None else None
        if services is not None and key is not None:
            answer = services.cached(key)
            if answer is not None:
                outcome = _from_cache(context, chosen, answer, started)
                services.record_call(outcome.usage)
                return outcome
        outcome = produce(context, chosen)
        facts = outcome.usage
        usage = priced_usage(
            context, chosen, tokens_in=int(facts.get("tokens_in", 0)),
            tokens_out=int(facts.get("tokens_out", 0)),
            duration_ms=round((time.monotonic() - started) * 1000),
            estimated=bool(facts.get("estimated", False)))
        outputs = _with_usage_port(context, outcome.outputs, usage)
        if services is not None:
            if key is not None:
                services.remember(key, model_id=model_id, model_version=chosen.model_version,
                                  outputs=mask_value(outputs, context.secrets), usage=usage)
            services.record_call(usage)
        return NodeOutcome(outputs=outputs, usage=usage)

    return run


# ---------------------------------------------------------------------- chat


class _Streamer:
    """Reports the growing answer as node progress, at most every 100 ms."""

    def __init__(self, context: NodeContext, max_tokens: int | None) -> None:
        self.reporter = context.reporter
        self.max_tokens = max_tokens
        self.parts: list[str] = []
        self.last = 0.0

    def fraction(self) -> float:
        # Approximate: a streamed chunk is about one token.
        count = len(self.parts)
        if self.max_tokens:
            return min(0.99, count / self.max_tokens)
        return count / (count + 100)

    def message(self) -> str:
        text = "".join(self.parts)
        return text if len(text) <= MESSAGE_LIMIT else "…" + text[-MESSAGE_LIMIT:]

    def __call__(self, piece: str) -> None:
        self.parts.append(piece)
        now = time.monotonic()
        if now - self.last >= STREAM_REPORT_INTERVAL_S:
            self.last = now
            self.reporter.progress(self.fraction(), self.message())


def _optional_number(context: NodeContext, key: str) -> float | None:
    value = config_value(context, key, None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_config(context, key, f"must be a number, got {describe(value)}.")
    return float(value)


def chat_request(context: NodeContext, chosen: Route) -> ChatRequest:
    prompt = context.inputs.get("prompt")
    if not isinstance(prompt, str):
        raise invalid_input(context, "prompt", f"must be text, got {describe(prompt)}.")
    config = node_config(context)
    max_tokens = _optional_number(context, "max_tokens")
    stop = config_value(context, "stop", None) or ()
    if not isinstance(stop, list | tuple) or not all(isinstance(item, str) for item in stop):
        raise invalid_config(context, "stop", "must be a list of texts.")
    return ChatRequest(
        model=chosen.remote_model, prompt=prompt, system_prompt=config_text(context, "system_prompt"),
        temperature=_optional_number(context, "temperature"),
        max_tokens=int(max_tokens) if max_tokens is not None else None,
        top_p=_optional_number(context, "top_p"), stop=tuple(stop),
        json_output=config.get("response_format") == "json",
        stream=config.get("stream", True) is not False)


def produce_chat(context: NodeContext, chosen: Route) -> NodeOutcome:
    request = chat_request(context, chosen)
    streamer = _Streamer(context, request.max_tokens)
    client = gateway.chat_client(context, chosen)
    try:
        reply = client.chat(request, call_context(context, on_text=streamer))
    except ProviderError as error:
        raise failure_from(error, context, chosen.ref.model_id) from error
    if request.json_output:
        try:
            orjson.loads(reply.text)
        except orjson.JSONDecodeError as error:
            raise NodeFailure(
                f"Node {context.node.id!r} ({chosen.ref.model_id}) asked for JSON but the model "
                f"answered text that is not JSON ({error.msg}).",
                code=base.INVALID_MODEL_OUTPUT, retryable=True,
                details={"node_id": context.node.id, "model_id": chosen.ref.model_id},
            ) from error
    tokens_in = reply.tokens_in
    if not reply.usage_reported and not tokens_in:
        tokens_in = estimate_tokens(request.system_prompt) + estimate_tokens(request.prompt)
    streamer.parts = [reply.text]
    context.reporter.progress(1.0, streamer.message())
    return NodeOutcome(outputs={"text": reply.text},
                       usage={"tokens_in": tokens_in, "tokens_out": reply.tokens_out,
                              "estimated": not reply.usage_reported})


# ---------------------------------------------------------------------- embeddings


def produce_embedding(context: NodeContext, chosen: Route) -> NodeOutcome:
    text = context.inputs.get("text")
    if not isinstance(text, str):
        raise invalid_input(context, "text", f"must be text, got {describe(text)}.")
    dimensions = config_value(context, "dimensions", None)
    client = gateway.embedding_client(chosen)
    try:
        reply = client.embed([text], chosen.remote_model, call_context(context),
                             dimensions=dimensions)
    except ProviderError as error:
        raise failure_from(error, context, chosen.ref.model_id) from error
    context.reporter.progress(1.0, f"{len(reply.vectors[0])} numbers")
    tokens = reply.tokens_in if reply.usage_reported else estimate_tokens(text)
    return NodeOutcome(outputs={"embedding": reply.vectors[0]},
                       usage={"tokens_in": tokens, "tokens_out": 0,
                              "estimated": not reply.usage_reported})


run_chat = model_node("chat", produce_chat)
run_embedding = model_node("embedding", produce_embedding)
