"""A local server that speaks the OpenAI HTTP API, for tests of model providers.

It answers `POST /v1/chat/completions` (JSON or server-sent events) and
`POST /v1/embeddings`; the model name picks the behaviour:

| model | answer |
| --- | --- |
| `gpt-test` (any other name) | "Echo: <prompt>" with usage; streamed in 3 pieces when asked |
| `json-test` | a JSON object as the reply |
| `not-json` | text that is not JSON (for response_format json) |
| `no-usage` | a reply without token counts |
| `rate-limit-once` | 429 with `Retry-After: 1` the first time (per prompt), then a reply |
| `rate-limit-long` | 429 with `Retry-After: 120` always |
| `quota` | 429 `insufficient_quota` |
| `fail-once` | 500 the first time (per prompt), then a reply |
| `always-500` | 500 |
| `reset-once` | the connection is closed without an answer the first time, then a reply |
| `hang` | no answer for 5 seconds |
| `hang-mid-stream` | one streamed piece, then silence for 5 seconds |
| `malformed` | 200 with a body that is not JSON |
| `not-openai` | 200 with JSON of another shape |
| `missing` | 404 `model_not_found` |
| `refuse` | 400 naming the content policy |
| `filtered` | a reply whose finish_reason is `content_filter` |
| `error-event` | a stream that reports an error event |
| `leak-key` | 400 whose message quotes the key it was sent |

Every request must carry `Authorization: Bearer <key>` with the server's key (401
otherwise, with OpenAI's wording). Requests are recorded (`requests`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_KEY = "sk-test-good-key-0123456789"
HANG_S = 5.0
EMBEDDING_SIZE = 8


class FakeOpenAI:
    def __init__(self, key: str = GOOD_KEY) -> None:
        self.key = key
        self.requests: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def count(self, key: str) -> int:
        with self.lock:
            self.seen[key] = self.seen.get(key, 0) + 1
            return self.seen[key]

    def calls_to(self, path: str) -> list[dict[str, Any]]:
        return [request for request in self.requests if request["path"] == path]


def _vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round((byte - 128) / 128, 4) for byte in digest[:EMBEDDING_SIZE]]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, code: str, kind: str = "invalid_request_error",
                   headers: dict[str, str] | None = None) -> None:
            self._json(status, {"error": {"message": message, "type": kind, "code": code}},
                       headers)

        def _events(self, events: list[Any], *, pause_after_first: float = 0.0) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for position, event in enumerate(events):
                data = event if isinstance(event, str) else json.dumps(event)
                chunk = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
                if position == 0 and pause_after_first:
                    time.sleep(pause_after_first)
            self.wfile.write(b"0\r\n\r\n")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if self.headers.get("Authorization") != f"Bearer {fake.key}":
                sent = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                self._error(401, f"Incorrect API key provided: {sent[:3]}***{sent[-2:]}. You "
                                 "can find your API key at https://platform.openai.com.",
                            "invalid_api_key")
                return
            if self.path == "/v1/embeddings":
                self._embeddings(body)
            elif self.path == "/v1/chat/completions":
                self._chat(body)
            else:
                self._error(404, f"Unknown path {self.path}", "not_found")

        def _embeddings(self, body: dict[str, Any]) -> None:
            model = body.get("model")
            if model == "missing":
                self._error(404, "The model `missing` does not exist", "model_not_found")
                return
            texts = body.get("input")
            texts = [texts] if isinstance(texts, str) else list(texts or [])
            data = [{"object": "embedding", "index": index, "embedding": _vector(text)}
                    for index, text in enumerate(texts)]
            tokens = sum(len(text.split()) for text in texts)
            self._json(200, {"object": "list", "data": list(reversed(data)), "model": model,
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        def _chat(self, body: dict[str, Any]) -> None:
            model = str(body.get("model"))
            messages = body.get("messages") or []
            prompt = str(messages[-1]["content"]) if messages else ""
            stream = bool(body.get("stream"))
            attempt = fake.count(f"{model}|{prompt}")
            if model == "rate-limit-once" and attempt == 1:
                self._error(429, "Rate limit reached for requests", "rate_limit_exceeded",
                            "requests", {"Retry-After": "1"})
                return
            if model == "rate-limit-long":
                self._error(429, "Rate limit reached for requests", "rate_limit_exceeded",
                            "requests", {"Retry-After": "120"})
                return
            if model == "quota":
                self._error(429, "You exceeded your current quota.", "insufficient_quota",
                            "insufficient_quota")
                return
            if model == "always-500" or (model == "fail-once" and attempt == 1):
                self._error(500, "The server had an error while processing your request.",
                            "server_error", "server_error")
                return
            if model == "reset-once" and attempt == 1:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if model == "hang":
                time.sleep(HANG_S)
                return
            if model == "malformed":
                self._json(200, b'{"choices": [{"message": {"content": "cut')
                return
            if model == "not-openai":
                self._json(200, {"answer": "hello"})
                return
            if model == "missing":
                self._error(404, "The model `missing` does not exist or you do not have "
                                 "access to it.", "model_not_found")
                return
            if model == "refuse":
                self._error(400, "The response was filtered due to the prompt triggering "
                                 "the content management policy.", "content_filter")
                return
            if model == "leak-key":
                self._error(400, f"Bad request made with key {fake.key}", "bad_request")
                return
            reply = f"Echo: {prompt}"
            if model == "json-test":
                reply = json.dumps({"answer": prompt, "ok": True})
            elif model == "not-json":
                reply = "Sure! Here is JSON: {oops"
            finish = "content_filter" if model == "filtered" else "stop"
            usage = None if model == "no-usage" else {
                "prompt_tokens": len(prompt.split()) + 3,
                "completion_tokens": len(reply.split()),
                "total_tokens": len(prompt.split()) + 3 + len(reply.split())}
            served = f"{model}-2024-01-01"
            if not stream:
                document: dict[str, Any] = {
                    "id": "chatcmpl-1", "object": "chat.completion", "model": served,
                    "choices": [{"index": 0, "finish_reason": finish,
                                 "message": {"role": "assistant", "content": reply}}]}
                if usage is not None:
                    document["usage"] = usage
                self._json(200, document)
                return
            pieces = [reply[:6], reply[6:12], reply[12:]] if len(reply) > 12 else [reply]
            events: list[Any] = [
                {"id": "c1", "object": "chat.completion.chunk", "model": served,
                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                for piece in pieces if piece]
            if model == "error-event":
                events = [*events[:1], {"error": {"message": "The model crashed mid-answer.",
                                                  "type": "server_error"}}]
            events.append({"id": "c1", "object": "chat.completion.chunk", "model": served,
                           "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            if usage is not None and (body.get("stream_options") or {}).get("include_usage"):
                events.append({"id": "c1", "object": "chat.completion.chunk", "model": served,
                               "choices": [], "usage": usage})
            events.append("[DONE]")
            self._events(events, pause_after_first=HANG_S if model == "hang-mid-stream" else 0)

        def do_GET(self) -> None:
            # For http_request nodes: answers with the request's headers (an echoing service).
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": None})
            if self.path == "/echo-headers":
                self._json(200, dict(self.headers))
            else:
                self._error(404, f"Unknown path {self.path}", "not_found")

    return Handler


@contextmanager
def running(key: str = GOOD_KEY) -> Iterator[FakeOpenAI]:
    """A FakeOpenAI on 127.0.0.1 at a free port, for the duration of the block."""
    fake = FakeOpenAI(key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
