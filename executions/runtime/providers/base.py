"""The provider interface behind instrument nodes, and the facts a model call returns.

A model id is `provider/model`: `openai/gpt-4o-mini`, `local/all-minilm-l6-v2`,
`ollama/llama3.2`, `vllm/meta-llama/Llama-3.1-8B-Instruct` (the model part may hold
slashes). `local` is the platform's own models; every other provider name is one a
team configured (`ProviderEndpoint`, resolved in the worker with its key).

A provider does one of two things, or both:

* `chat(request, call) -> ChatReply` — one user message (and an optional system
  prompt) in, the reply text and token counts out; tokens stream to `call.on_text`
  as they arrive.
* `embed(texts, model, call) -> EmbeddingReply` — one vector per text.

Providers raise `ProviderError` and nothing else; its `code` is stable and
`retryable` says whether the same call may succeed later (429, 5xx, a reset or
timed-out connection) or cannot (a bad key, an unknown model, refused content, a
malformed request). `retry.call_with_retries` retries the first kind within one
attempt; `nodes.failure_from` turns what is left into the node's NodeFailure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

LOCAL_PROVIDER = "local"
PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_MODEL_ID = re.compile(r"^(?P<provider>[a-z0-9][a-z0-9_-]{0,39})/(?P<model>[^\s/][^\s]{0,199})$")

# Stable failure codes of model calls (node errors carry them; docs/instruments.md).
MODEL_UNAVAILABLE = "model_unavailable"  # provider not configured, model not offered
AUTH_FAILED = "provider_auth_failed"
MODEL_NOT_FOUND = "model_not_found"
CONTENT_REFUSED = "content_refused"
QUOTA_EXHAUSTED = "provider_quota_exhausted"
RATE_LIMITED = "provider_rate_limited"
SERVER_ERROR = "provider_error"
UNREACHABLE = "provider_unreachable"
TIMEOUT = "provider_timeout"
INVALID_RESPONSE = "invalid_response"
INVALID_REQUEST = "invalid_request"
INVALID_MODEL_OUTPUT = "invalid_model_output"
ADDRESS_REFUSED = "address_refused"
STOPPED = "stopped"


class ProviderError(Exception):
    """A model call failed. Messages never hold a key or a secret (callers mask them too)."""

    def __init__(self, code: str, message: str, *, retryable: bool,
                 status: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class ModelRef:
    provider: str
    model: str

    @property
    def model_id(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def is_local(self) -> bool:
        return self.provider == LOCAL_PROVIDER


def parse_model_id(model_id: str) -> ModelRef | None:
    """`provider/model`, or None when `model_id` does not have that shape."""
    match = _MODEL_ID.match(model_id or "")
    if match is None:
        return None
    return ModelRef(provider=match["provider"], model=match["model"])


@dataclass(frozen=True, kw_only=True)
class ProviderEndpoint:
    """A team's OpenAI-compatible service, as the worker hands it to the runtime.

    `api_key` is already decrypted (the worker resolves it; it is never stored in a
    node run, an event or a log). `models` lists the models the team offers through
    it (empty: whatever the server serves). `allowed_hosts` names hosts that may be
    internal addresses (a vLLM on the private network); any other host must resolve
    to public addresses only, as for `http_request`.
    """

    name: str
    base_url: str
    api_key: str | None = None
    request_timeout_s: float = 60.0
    max_retries: int = 2
    models: tuple[str, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @property
    def identity(self) -> str:
        """What makes two endpoints serve the same models (for the output cache): the
        service, not the key used to reach it."""
        return f"{self.name}|{self.base_url.rstrip('/')}"

    def offers(self, model: str) -> bool:
        return not self.models or model in self.models


@dataclass(frozen=True, kw_only=True)
class ChatRequest:
    model: str  # the name the service knows (`gpt-4o-mini`), not the model id
    prompt: str
    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    json_output: bool = False
    stream: bool = True


@dataclass(frozen=True, kw_only=True)
class ChatReply:
    text: str
    tokens_in: int
    tokens_out: int
    # Model name the service answered with (may carry a dated version).
    served_model: str = ""
    finish_reason: str = ""
    # False when the service reported no usage and the counts are estimates.
    usage_reported: bool = True


@dataclass(frozen=True, kw_only=True)
class EmbeddingReply:
    vectors: list[list[float]]
    tokens_in: int
    served_model: str = ""
    usage_reported: bool = True


@dataclass(kw_only=True)
class CallContext:
    """What one model call may read: its deadline, how to stop, where streamed text
    goes. `sleep` and `clock` are replaceable so retries can be tested without waiting."""

    node_id: str
    deadline: float | None = None
    should_stop: Callable[[], bool] = lambda: False
    on_text: Callable[[str], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # Each retry is reported here (attempt number, the error, the wait in seconds).
    on_retry: Callable[[int, ProviderError, float], None] | None = None

    def remaining_s(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - self.clock()


class ChatProvider(Protocol):
    def chat(self, request: ChatRequest, call: CallContext) -> ChatReply: ...


class EmbeddingProvider(Protocol):
    def embed(self, texts: Sequence[str], model: str, call: CallContext, *,
              dimensions: int | None = None) -> EmbeddingReply: ...


@dataclass(frozen=True, kw_only=True)
class Price:
    """US dollars per million tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return round((tokens_in * self.input_per_million
                      + tokens_out * self.output_per_million) / 1_000_000, 8)


@dataclass(frozen=True, kw_only=True)
class CachedAnswer:
    outputs: Mapping[str, Any]
    # The usage of the call that produced the answer (what a hit saved).
    usage: Mapping[str, Any]


class ModelServices(Protocol):
    """What the engine lends model nodes for one node run: the output cache, prices and
    the record of model calls. The worker implements it over PostgreSQL
    (`instruments.worker`); the runtime only sees this interface, and with no services
    (`NodeContext.model_services` None) nothing is cached, priced or recorded."""

    def cached(self, key: str) -> CachedAnswer | None: ...

    def remember(self, key: str, *, model_id: str, model_version: str,
                 outputs: Mapping[str, Any], usage: Mapping[str, Any]) -> None: ...

    def price(self, model_id: str) -> Price | None: ...

    def record_call(self, usage: Mapping[str, Any]) -> None: ...


@dataclass
class MemoryModelServices:
    """ModelServices kept in memory: for the reference executor, tests and benchmarks."""

    prices: dict[str, Price] = field(default_factory=dict)
    answers: dict[str, CachedAnswer] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def cached(self, key: str) -> CachedAnswer | None:
        return self.answers.get(key)

    def remember(self, key: str, *, model_id: str, model_version: str,
                 outputs: Mapping[str, Any], usage: Mapping[str, Any]) -> None:
        self.answers.setdefault(key, CachedAnswer(outputs=dict(outputs), usage=dict(usage)))

    def price(self, model_id: str) -> Price | None:
        return self.prices.get(model_id)

    def record_call(self, usage: Mapping[str, Any]) -> None:
        self.calls.append(dict(usage))
