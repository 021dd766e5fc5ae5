"""Any service speaking the OpenAI HTTP API: OpenAI, vLLM, Ollama, llama.cpp's server,
LiteLLM, Anthropic's OpenAI-compatible endpoint.

`POST {base_url}/chat/completions` (streamed as server-sent events, or not) and
`POST {base_url}/embeddings`, with `Authorization: Bearer <key>` when the endpoint
has a key. The client is urllib3, as for `http_request`, and the same address rules
apply: the host must resolve to public addresses unless the endpoint names it in
`allowed_hosts`, and the connection goes to the vetted address itself.

Timeouts: connecting gets at most `CONNECT_TIMEOUT_S`; every read waits at most the
endpoint's `request_timeout_s` (a hung server is a timeout, not a hung worker); both
are capped by the attempt's deadline, which is also checked between streamed chunks.

How answers map to errors (`base.ProviderError`):

| answer | code | retried |
| --- | --- | --- |
| 401, 403 | provider_auth_failed | no |
| 404 | model_not_found | no |
| 400/422 naming a content policy, or finish_reason `content_filter`, or a refusal | content_refused | no |
| other 400, 413, 422 | invalid_request | no |
| 429 with `insufficient_quota` | provider_quota_exhausted | no |
| 429 | provider_rate_limited (Retry-After honoured) | yes |
| 408, 409, 425, 5xx | provider_error | yes |
| refused/reset connection, failed name lookup | provider_unreachable | yes |
| connect or read timeout | provider_timeout | yes |
| a 200 whose body is not the protocol's JSON | invalid_response | no (the node may retry) |
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import parse_url

from executions.runtime.http_request import refused_reason, resolve_host
from executions.runtime.providers import base
from executions.runtime.providers.base import (
    CallContext,
    ChatReply,
    ChatRequest,
    EmbeddingReply,
    ProviderEndpoint,
    ProviderError,
)
from executions.runtime.providers.retry import call_with_retries

CONNECT_TIMEOUT_S = 10.0
USER_AGENT = "Symphony-instruments/0.1"
MAX_ERROR_BODY_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_STREAM_BYTES = 16 * 1024 * 1024
READ_CHUNK = 16 * 1024
ERROR_EXCERPT = 300
RETRYABLE_STATUSES = frozenset({408, 409, 425})
CONTENT_POLICY_MARKERS = ("content_filter", "content_policy", "content management policy",
                          "safety system", "responsibleaipolicyviolation")


def _timeout_error(error: Exception, what: str) -> ProviderError:
    return ProviderError(base.TIMEOUT, f"{what} timed out ({error}).", retryable=True)


def retry_after_s(headers: Any, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


def _error_text(raw: bytes) -> tuple[str, str]:
    """(message, machine code) out of an error body in any of the common shapes."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace").strip()[:ERROR_EXCERPT], ""
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or ""
        code = error.get("code") or error.get("type") or ""
        return str(message)[:ERROR_EXCERPT], str(code)
    return str(error)[:ERROR_EXCERPT], ""


def status_error(status: int, raw: bytes, headers: Any, shown: str) -> ProviderError:
    """The ProviderError for a non-2xx answer."""
    message, code = _error_text(raw)
    said = f"{shown} answered {status}" + (f": {message}" if message else "")
    lowered = f"{message} {code}".lower()
    if status in (401, 403):
        return ProviderError(base.AUTH_FAILED, f"{said}. Check the provider's API key (a team "
                             "secret) and that it may use this model.", retryable=False,
                             status=status)
    if status == 404:
        return ProviderError(base.MODEL_NOT_FOUND, f"{said}. The service does not know this "
                             "model, or the base URL is wrong.", retryable=False, status=status)
    if status == 429:
        if "insufficient_quota" in lowered or "quota" in code.lower():
            return ProviderError(base.QUOTA_EXHAUSTED, f"{said}. The account's quota is used "
                                 "up; retrying will not help.", retryable=False, status=status)
        return ProviderError(base.RATE_LIMITED, f"{said}.", retryable=True, status=status,
                             retry_after_s=retry_after_s(headers))
    if status >= 500 or status in RETRYABLE_STATUSES:
        return ProviderError(base.SERVER_ERROR, f"{said}.", retryable=True, status=status,
                             retry_after_s=retry_after_s(headers))
    if any(marker in lowered for marker in CONTENT_POLICY_MARKERS):
        return ProviderError(base.CONTENT_REFUSED, f"{said}. The service refused the content.",
                             retryable=False, status=status)
    return ProviderError(base.INVALID_REQUEST, f"{said}.", retryable=False, status=status)


class OpenAICompatible:
    """One team endpoint. Stateless between calls: safe to share across threads."""

    def __init__(self, endpoint: ProviderEndpoint) -> None:
        self.endpoint = endpoint

    # ------------------------------------------------------------------ public calls

    def chat(self, request: ChatRequest, call: CallContext) -> ChatReply:
        body = chat_body(request)
        return call_with_retries(lambda: self._chat_once(request, body, call), call,
                                 max_retries=self.endpoint.max_retries)

    def embed(self, texts: Sequence[str], model: str, call: CallContext, *,
              dimensions: int | None = None) -> EmbeddingReply:
        payload: dict[str, Any] = {"model": model, "input": list(texts)}
        if dimensions is not None:
            payload["dimensions"] = dimensions
        body = orjson.dumps(payload)
        return call_with_retries(lambda: self._embed_once(len(texts), body, call), call,
                                 max_retries=self.endpoint.max_retries)

    # ------------------------------------------------------------------ one try

    def _chat_once(self, request: ChatRequest, body: bytes, call: CallContext) -> ChatReply:
        pool, response = self._post("chat/completions", body, call, stream=request.stream)
        try:
            if request.stream:
                return self._read_stream(response, call)
            return parse_chat(self._read_json(response, call), self.shown)
        finally:
            response.release_conn()
            pool.close()

    def _embed_once(self, count: int, body: bytes, call: CallContext) -> EmbeddingReply:
        pool, response = self._post("embeddings", body, call, stream=False)
        try:
            return parse_embeddings(self._read_json(response, call), count, self.shown)
        finally:
            response.release_conn()
            pool.close()

    # ------------------------------------------------------------------ HTTP

    @property
    def shown(self) -> str:
        """The service as messages name it: provider and host, never a path or a key."""
        try:
            host = parse_url(self.endpoint.base_url).host or "?"
        except LocationParseError:
            host = "?"
        return f"Provider {self.endpoint.name!r} ({host})"

    def _url(self, path: str) -> tuple[str, str, int, str]:
        url = self.endpoint.base_url.rstrip("/") + "/" + path
        try:
            parsed = parse_url(url)
        except LocationParseError as error:
            raise ProviderError(base.INVALID_REQUEST, f"{self.shown}: the base URL is not a "
                                f"valid URL ({error}).", retryable=False) from error
        scheme = (parsed.scheme or "").lower()
        if scheme not in ("http", "https") or not parsed.host:
            raise ProviderError(base.INVALID_REQUEST, f"{self.shown}: the base URL must be an "
                                "http:// or https:// URL with a host.", retryable=False)
        port = parsed.port or (443 if scheme == "https" else 80)
        return scheme, parsed.host, port, parsed.request_uri

    def _addresses(self, host: str, port: int) -> list[str]:
        bare = host.strip("[]").rstrip(".").lower()
        try:
            addresses = resolve_host(bare, port)
        except (OSError, UnicodeError) as error:
            raise ProviderError(base.UNREACHABLE, f"{self.shown}: the host name could not be "
                                f"resolved ({error}).", retryable=True) from error
        if not addresses:
            raise ProviderError(base.UNREACHABLE, f"{self.shown}: the host resolves to no "
                                "address.", retryable=True)
        allowed = {name.lower().rstrip(".") for name in self.endpoint.allowed_hosts}
        if bare in allowed:
            return addresses
        for text in addresses:
            try:
                reason = refused_reason(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError:
                reason = "not an IP address"
            if reason is not None:
                raise ProviderError(
                    base.ADDRESS_REFUSED, f"{self.shown}: {text} is {reason}. Model services "
                    "on internal addresses must be named in MODEL_PROVIDER_ALLOWED_HOSTS.",
                    retryable=False)
        return addresses

    def _post(self, path: str, body: bytes, call: CallContext, *, stream: bool
              ) -> tuple[urllib3.HTTPConnectionPool, Any]:
        scheme, host, port, target = self._url(path)
        addresses = self._addresses(host, port)
        default_port = 443 if scheme == "https" else 80
        headers = {"Host": host if port == default_port else f"{host}:{port}",
                   "Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "Accept": "text/event-stream" if stream else "application/json"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        last_error: Exception | None = None
        for address in addresses:
            read_s = self._left(call, self.endpoint.request_timeout_s)
            timeout = urllib3.Timeout(connect=min(CONNECT_TIMEOUT_S, read_s), read=read_s)
            pool: urllib3.HTTPConnectionPool
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address, port, timeout=timeout, retries=False, maxsize=1,
                    server_hostname=host.strip("[]"), assert_hostname=host.strip("[]"),
                    cert_reqs="CERT_REQUIRED")
            else:
                pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False,
                                                  maxsize=1)
            try:
                response = pool.urlopen("POST", target, body=body, headers=headers,
                                        redirect=False, preload_content=False,
                                        assert_same_host=False, release_conn=False)
            except NewConnectionError as error:  # try the host's next vetted address
                pool.close()
                last_error = error
                continue
            except ConnectTimeoutError as error:
                pool.close()
                raise _timeout_error(error, f"{self.shown}: connecting") from error
            except ReadTimeoutError as error:
                pool.close()
                raise _timeout_error(error, f"{self.shown}: waiting for the answer") from error
            except SSLError as error:
                pool.close()
                raise ProviderError(base.UNREACHABLE, f"{self.shown}: TLS failed ({error}).",
                                    retryable=False) from error
            except (ProtocolError, HTTPError, OSError) as error:
                pool.close()
                raise ProviderError(base.UNREACHABLE, f"{self.shown}: the connection failed "
                                    f"({type(error).__name__}).", retryable=True) from error
            if response.status >= 300:
                try:
                    raw = self._read_capped(response, call, MAX_ERROR_BODY_BYTES, fail=False)
                finally:
                    response.release_conn()
                    pool.close()
                raise status_error(int(response.status), raw, response.headers, self.shown)
            return pool, response
        raise ProviderError(base.UNREACHABLE, f"{self.shown}: could not connect "
                            f"({type(last_error).__name__}).", retryable=True)

    def _left(self, call: CallContext, limit: float) -> float:
        remaining = call.remaining_s()
        if remaining is None:
            return limit
        if remaining <= 0:
            raise ProviderError(base.TIMEOUT, f"{self.shown}: the node's time ran out.",
                                retryable=True)
        return min(limit, remaining)

    def _chunks(self, response: Any, call: CallContext) -> Iterator[bytes]:
        """The body as it arrives (read1: no waiting for a full buffer, so streamed
        tokens are seen at once), with the deadline and stop requests checked between."""
        while True:
            if call.should_stop():
                raise ProviderError(base.STOPPED, f"{self.shown}: the call was stopped.",
                                    retryable=False)
            self._left(call, self.endpoint.request_timeout_s)
            try:
                chunk = response.read1(READ_CHUNK)
            except ReadTimeoutError as error:
                raise _timeout_error(error, f"{self.shown}: reading the answer") from error
            except (ProtocolError, HTTPError, OSError) as error:
                raise ProviderError(base.UNREACHABLE, f"{self.shown}: the connection broke "
                                    f"while reading ({type(error).__name__}).",
                                    retryable=True) from error
            if not chunk:
                return
            yield chunk

    def _read_capped(self, response: Any, call: CallContext, limit: int, *, fail: bool = True
                     ) -> bytes:
        parts: list[bytes] = []
        size = 0
        for chunk in self._chunks(response, call):
            size += len(chunk)
            if size > limit:
                if not fail:
                    break
                raise ProviderError(base.INVALID_RESPONSE, f"{self.shown}: the answer is larger "
                                    f"than {limit // (1024 * 1024)} MiB.", retryable=False)
            parts.append(chunk)
        return b"".join(parts)[:limit]

    def _read_json(self, response: Any, call: CallContext) -> Any:
        raw = self._read_capped(response, call, MAX_BODY_BYTES)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ProviderError(base.INVALID_RESPONSE, f"{self.shown} answered with text that "
                                f"is not JSON ({error.msg}).", retryable=False) from error

    def _read_stream(self, response: Any, call: CallContext) -> ChatReply:
        content_type = str(response.headers.get("content-type", "")).lower()
        if "text/event-stream" not in content_type:
            # Some servers ignore `stream` and answer one JSON document.
            return parse_chat(self._read_json(response, call), self.shown)
        assembler = StreamAssembler(self.shown, call)
        buffer = b""
        size = 0
        for chunk in self._chunks(response, call):
            size += len(chunk)
            if size > MAX_STREAM_BYTES:
                raise ProviderError(base.INVALID_RESPONSE, f"{self.shown}: the streamed answer "
                                    "is too large.", retryable=False)
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if assembler.feed(line.rstrip(b"\r")):
                    return assembler.reply()
        if buffer.strip():
            assembler.feed(buffer.strip())
        return assembler.reply()


def chat_body(request: ChatRequest) -> bytes:
    messages = []
    if request.system_prompt:
        messages.append({"role": "system", "content": request.system_prompt})
    messages.append({"role": "user", "content": request.prompt})
    payload: dict[str, Any] = {"model": request.model, "messages": messages,
                               "stream": request.stream}
    if request.stream:
        payload["stream_options"] = {"include_usage": True}
    for name in ("temperature", "max_tokens", "top_p"):
        value = getattr(request, name)
        if value is not None:
            payload[name] = value
    if request.stop:
        payload["stop"] = list(request.stop)
    if request.json_output:
        payload["response_format"] = {"type": "json_object"}
    return orjson.dumps(payload)


def _malformed(shown: str, what: str) -> ProviderError:
    return ProviderError(base.INVALID_RESPONSE, f"{shown} answered JSON without {what}; it "
                         "does not look like an OpenAI-compatible service.", retryable=False)


def _refusal(shown: str, finish_reason: str, refusal: Any) -> None:
    if finish_reason == "content_filter" or (isinstance(refusal, str) and refusal):
        said = f": {refusal[:ERROR_EXCERPT]}" if isinstance(refusal, str) and refusal else ""
        raise ProviderError(base.CONTENT_REFUSED, f"{shown} refused to answer{said}.",
                            retryable=False)


def _tokens(usage: Any, name: str) -> int | None:
    if isinstance(usage, dict):
        value = usage.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def estimate_tokens(text: str) -> int:
    """A rough count for services that report no usage: about four characters a token."""
    return max(1, (len(text) + 3) // 4) if text else 0


def parse_chat(document: Any, shown: str, *, prompt_estimate: int = 0) -> ChatReply:
    if isinstance(document, dict) and "error" in document:
        message, _ = _error_text(orjson.dumps(document))
        raise ProviderError(base.SERVER_ERROR, f"{shown} reported an error: {message}",
                            retryable=True)
    try:
        choice = document["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise _malformed(shown, "choices[0].message") from None
    if not isinstance(text, str):
        raise _malformed(shown, "a text reply")
    finish_reason = str(choice.get("finish_reason") or "")
    _refusal(shown, finish_reason, message.get("refusal"))
    usage = document.get("usage")
    tokens_in, tokens_out = _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")
    return ChatReply(
        text=text,
        tokens_in=tokens_in if tokens_in is not None else prompt_estimate,
        tokens_out=tokens_out if tokens_out is not None else estimate_tokens(text),
        served_model=str(document.get("model") or ""), finish_reason=finish_reason,
        usage_reported=tokens_in is not None and tokens_out is not None)


def parse_embeddings(document: Any, count: int, shown: str) -> EmbeddingReply:
    try:
        items = sorted(document["data"], key=lambda item: item.get("index", 0))
        vectors = [item["embedding"] for item in items]
    except (KeyError, TypeError, AttributeError):
        raise _malformed(shown, "data[].embedding") from None
    if len(vectors) != count or not all(
            isinstance(vector, list) and vector and all(
                isinstance(value, int | float) and not isinstance(value, bool)
                for value in vector) for vector in vectors):
        raise ProviderError(base.INVALID_RESPONSE, f"{shown} answered {len(vectors)} "
                            f"embeddings for {count} texts, or vectors that are not lists of "
                            "numbers.", retryable=False)
    usage = document.get("usage")
    tokens = _tokens(usage, "prompt_tokens")
    if tokens is None:
        tokens = _tokens(usage, "total_tokens")
    return EmbeddingReply(vectors=[[float(value) for value in vector] for vector in vectors],
                          tokens_in=tokens or 0, served_model=str(document.get("model") or ""),
                          usage_reported=tokens is not None)


class StreamAssembler:
    """Builds a ChatReply from server-sent events, passing text on as it arrives."""

    def __init__(self, shown: str, call: CallContext) -> None:
        self.shown = shown
        self.call = call
        self.parts: list[str] = []
        self.chunks = 0
        self.finish_reason = ""
        self.refusal = ""
        self.model = ""
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.saw_event = False

    def feed(self, line: bytes) -> bool:
        """Take one line; True once the stream said it is done (`data: [DONE]`)."""
        if not line.startswith(b"data:"):
            return False  # blank separators, comments (":"), event names, ids
        data = line[5:].strip()
        if data == b"[DONE]":
            return True
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise ProviderError(base.INVALID_RESPONSE, f"{self.shown} streamed an event that "
                                f"is not JSON ({error.msg}).", retryable=False) from error
        if not isinstance(event, dict):
            raise _malformed(self.shown, "an event object")
        if "error" in event:
            message, code = _error_text(data)
            if any(marker in f"{message} {code}".lower() for marker in CONTENT_POLICY_MARKERS):
                raise ProviderError(base.CONTENT_REFUSED, f"{self.shown} refused to answer: "
                                    f"{message}", retryable=False)
            raise ProviderError(base.SERVER_ERROR, f"{self.shown} reported an error while "
                                f"streaming: {message}", retryable=True)
        self.saw_event = True
        self.model = str(event.get("model") or self.model)
        usage = event.get("usage")
        if usage:
            self.tokens_in = _tokens(usage, "prompt_tokens")
            self.tokens_out = _tokens(usage, "completion_tokens")
        for choice in event.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(delta, dict) and isinstance(delta.get("refusal"), str):
                self.refusal += delta["refusal"]
            if isinstance(content, str) and content:
                self.parts.append(content)
                self.chunks += 1
                if self.call.on_text is not None:
                    self.call.on_text(content)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return False

    def reply(self) -> ChatReply:
        if not self.saw_event:
            raise ProviderError(base.INVALID_RESPONSE, f"{self.shown} closed the stream without "
                                "sending an answer.", retryable=True)
        _refusal(self.shown, self.finish_reason, self.refusal)
        text = "".join(self.parts)
        reported = self.tokens_in is not None and self.tokens_out is not None
        return ChatReply(
            text=text, tokens_in=self.tokens_in or 0,
            # Without reported usage, a chunk is about one token on every server seen.
            tokens_out=self.tokens_out if self.tokens_out is not None else self.chunks,
            served_model=self.model, finish_reason=self.finish_reason, usage_reported=reported)
