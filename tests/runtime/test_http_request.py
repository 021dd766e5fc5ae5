"""http_request against a real HTTP server on 127.0.0.1, and every SSRF refusal.

The server is reached through the allow-list (`allowed_hosts={"127.0.0.1"}`), as an
operator would name an internal host. The one seam patched is the resolver,
`http_request.resolve_host`, to make a DNS name resolve to an internal address.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from executions.runtime import http_request
from executions.runtime.contract import NodeFailure, NodeOutcome, SilentReporter
from executions.runtime.http_request import MAX_RESPONSE_BYTES, refused_reason
from executions.runtime.registry import run_node

from .helpers import context_for, operator

LOCAL = frozenset({"127.0.0.1"})


class Recorder:
    """What the test server saw and did."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.streamed_all = False


class Handler(BaseHTTPRequestHandler):
    recorder: Recorder
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.recorder.requests.append({
            "method": self.command, "path": self.path, "headers": dict(self.headers),
            "body": body})
        return body

    def _send(self, status: int, body: bytes, content_type: str = "text/plain",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        body = self._record()
        self._send(201, json.dumps({"received": json.loads(body or b"null"),
                                    "type": self.headers.get("Content-Type")}).encode(),
                   "application/json")

    def do_GET(self) -> None:
        self._record()
        path = self.path.split("?", 1)[0]
        if path == "/text":
            self._send(200, "héllo".encode("latin-1"), "text/plain; charset=latin-1",
                       {"X-Custom": "yes"})
        elif path == "/json":
            self._send(200, b'{"results": [1, 2]}', "application/json")
        elif path == "/problem+json":
            self._send(200, b'{"a": 1}', "application/problem+json")
        elif path == "/not-json":
            self._send(200, b"<html>", "text/html")
        elif path == "/echo-headers":
            self._send(200, json.dumps(dict(self.headers)).encode(), "application/json")
        elif path == "/missing":
            self._send(404, b"no such thing")
        elif path == "/broken":
            self._send(503, b"try later")
        elif path == "/busy":
            self._send(429, b"slow down")
        elif path == "/slow":
            time.sleep(2)
            self._send(200, b"late")
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(MAX_RESPONSE_BYTES + 1))
            self.end_headers()
        elif path == "/superscript-length":
            # A Content-Length that str.isdigit() takes and int() refuses: a superscript two.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "\u00b2")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"ok")
            self.close_connection = True
        elif path == "/huge-streamed":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range((4 * MAX_RESPONSE_BYTES) // len(chunk)):
                    self.wfile.write(chunk)
                self.recorder.streamed_all = True
            except OSError:
                pass
            self.close_connection = True
        elif path.startswith("/redirect"):
            target = unquote(self.path.split("to=", 1)[1]) if "to=" in self.path else "/json"
            status = int(self.headers.get("X-Status", "302"))
            self._send(status, b"", extra={"Location": target})
        elif path == "/loop":
            self._send(302, b"", extra={"Location": "/loop"})
        else:
            self._send(200, b"ok")


@pytest.fixture()
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    handler = type("BoundHandler", (Handler,), {"recorder": recorder})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def fetch(url: str, *, allowed: frozenset[str] = LOCAL, body: Any = None,
          **config: Any) -> NodeOutcome:
    node = operator("fetch", "http_request", {"method": "GET", "url": url, **config})
    inputs = {} if body is None else {"body": body}
    return run_node(context_for(node, inputs, allowed_hosts=allowed, **config.pop("fields", {})))


def refused(url: str, **kwargs: Any) -> NodeFailure:
    with pytest.raises(NodeFailure) as caught:
        fetch(url, **kwargs)
    return caught.value


# ------------------------------------------------------------------ success


def test_get_text_with_headers_and_charset(server: tuple[str, Recorder]) -> None:
    base, recorder = server
    outcome = fetch(f"{base}/text")
    assert outcome.outputs["status"] == 200
    assert outcome.outputs["body"] == "héllo"
    assert outcome.outputs["headers"]["x-custom"] == "yes"
    assert outcome.outputs["headers"]["content-type"] == "text/plain; charset=latin-1"
    assert all(name == name.lower() for name in outcome.outputs["headers"])
    assert recorder.requests[0]["headers"]["Host"] == base.removeprefix("http://")


def test_json_content_type_is_parsed(server: tuple[str, Recorder]) -> None:
    base, _ = server
    assert fetch(f"{base}/json").outputs["body"] == {"results": [1, 2]}
    assert fetch(f"{base}/problem+json").outputs["body"] == {"a": 1}


def test_expect_json_parses_and_fails_clearly_on_html(server: tuple[str, Recorder]) -> None:
    base, _ = server
    assert fetch(f"{base}/text?x", expect_json=False).outputs["body"] == "héllo"
    with pytest.raises(NodeFailure) as caught:
        fetch(f"{base}/not-json", expect_json=True)
    assert (caught.value.code, caught.value.retryable) == ("invalid_response", False)


def test_post_sends_the_body_input_as_json(server: tuple[str, Recorder]) -> None:
    base, recorder = server
    outcome = fetch(f"{base}/submit", method="POST", body={"n": [1, 2]})
    assert outcome.outputs["status"] == 201
    assert outcome.outputs["body"] == {"received": {"n": [1, 2]}, "type": "application/json"}
    assert recorder.requests[0]["method"] == "POST"


def test_head_has_an_empty_body(server: tuple[str, Recorder]) -> None:
    base, _ = server
    outcome = fetch(f"{base}/text", method="HEAD")
    assert (outcome.outputs["status"], outcome.outputs["body"]) == (200, "")


def test_headers_are_rendered_from_secrets_and_host_cannot_be_overridden(
        server: tuple[str, Recorder]) -> None:
    base, recorder = server
    node = operator("fetch", "http_request", {
        "method": "GET", "url": f"{base}/echo-headers",
        "headers": {"Authorization": "Bearer {{ secrets.token }}", "Host": "evil.test"}})
    reporter = SilentReporter()
    outcome = run_node(context_for(node, {}, allowed_hosts=LOCAL, secrets={"token": "tk-123"},
                                   reporter=reporter))
    assert recorder.requests[-1]["headers"]["Authorization"] == "Bearer tk-123"
    # The service echoed the header back; the secret is masked in what the node produced.
    seen = outcome.outputs["body"]
    assert seen["Authorization"] == "Bearer ***"
    assert seen["Host"] == base.removeprefix("http://")
    assert all("tk-123" not in message for _, message in reporter.lines)


def test_the_log_line_leaves_out_the_query_string(server: tuple[str, Recorder]) -> None:
    base, _ = server
    node = operator("fetch", "http_request", {"method": "GET", "url": f"{base}/json?key=abc"})
    reporter = SilentReporter()
    run_node(context_for(node, {}, allowed_hosts=LOCAL, reporter=reporter))
    assert len(reporter.lines) == 1
    level, message = reporter.lines[0]
    assert level == "info"
    assert message.startswith(f"GET {base}/json → 200")
    assert "key=abc" not in message
    assert reporter.fractions == [1.0]


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize(("path", "status", "retryable"), [
    ("/missing", 404, False), ("/broken", 503, True), ("/busy", 429, True)])
def test_error_statuses(server: tuple[str, Recorder], path: str, status: int,
                        retryable: bool) -> None:
    base, _ = server
    problem = refused(f"{base}{path}")
    assert (problem.code, problem.retryable, problem.details["status"]) == (
        "http_error", retryable, status)


def test_timeout_is_retryable(server: tuple[str, Recorder]) -> None:
    base, _ = server
    problem = refused(f"{base}/slow", timeout_s=0.3)
    assert (problem.code, problem.retryable) == ("timeout", True)


def test_the_attempt_deadline_caps_the_timeout(server: tuple[str, Recorder]) -> None:
    base, _ = server
    node = operator("fetch", "http_request", {"method": "GET", "url": f"{base}/slow",
                                              "timeout_s": 60})
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, {}, allowed_hosts=LOCAL, deadline=time.monotonic() + 0.3))
    assert caught.value.code == "timeout"


def test_a_declared_size_over_the_cap_is_refused_unread(server: tuple[str, Recorder]) -> None:
    base, _ = server
    problem = refused(f"{base}/huge-declared")
    assert (problem.code, problem.retryable) == ("response_too_large", False)


def test_a_declared_size_in_other_digits_is_no_size_and_the_body_is_read(server: tuple[str, Recorder]) -> None:
    """A server's `Content-Length: \u00b2` passed `str.isdigit()` and `int()` then raised ValueError
    out of the node (it failed "unexpectedly" instead of answering); it is no size, like any other
    unreadable one, and the body is read under the cap."""
    base, _ = server
    outcome = fetch(f"{base}/superscript-length")
    assert (outcome.outputs["status"], outcome.outputs["body"]) == (200, "ok")


def test_a_streamed_body_stops_being_read_past_the_cap(server: tuple[str, Recorder]) -> None:
    base, recorder = server
    problem = refused(f"{base}/huge-streamed")
    assert (problem.code, problem.retryable) == ("response_too_large", False)
    time.sleep(0.2)  # let the server notice the closed connection
    assert recorder.streamed_all is False


def test_connection_refused_is_retryable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    problem = refused(f"http://127.0.0.1:{port}/")
    assert (problem.code, problem.retryable) == ("connection_failed", True)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://", "not a url"])
def test_bad_urls_are_config_errors(url: str) -> None:
    problem = refused(url)
    assert (problem.code, problem.retryable) == ("invalid_config", False)


# ------------------------------------------------------------------ redirects


def test_redirects_are_followed(server: tuple[str, Recorder]) -> None:
    base, recorder = server
    outcome = fetch(f"{base}/redirect?to=/json")
    assert outcome.outputs["body"] == {"results": [1, 2]}
    assert [request["path"] for request in recorder.requests] == ["/redirect?to=/json", "/json"]


def test_a_redirect_loop_stops(server: tuple[str, Recorder]) -> None:
    base, recorder = server
    problem = refused(f"{base}/loop")
    assert (problem.code, problem.retryable) == ("too_many_redirects", False)
    assert len(recorder.requests) == http_request.MAX_REDIRECTS + 1


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/",
    "http://[::1]/",
    "http://localhost/admin",
])
def test_a_redirect_to_an_internal_address_is_refused(server: tuple[str, Recorder],
                                                      target: str) -> None:
    base, recorder = server
    problem = refused(f"{base}/redirect?to={target}")
    assert (problem.code, problem.retryable) == ("address_refused", False)
    assert len(recorder.requests) == 1


def test_a_redirect_to_another_host_drops_credentials(server: tuple[str, Recorder],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    base, recorder = server
    port = base.rsplit(":", 1)[1]
    original = http_request.resolve_host
    monkeypatch.setattr(http_request, "resolve_host",
                        lambda host, port: ["127.0.0.1"] if host == "other.test"
                        else original(host, port))
    node = operator("fetch", "http_request", {
        "method": "GET", "url": f"{base}/redirect?to=http://other.test:{port}/echo-headers",
        "headers": {"Authorization": "Bearer x", "Accept": "application/json"}})
    outcome = run_node(context_for(node, {}, allowed_hosts=frozenset({"127.0.0.1",
                                                                      "other.test"})))
    assert "Authorization" not in outcome.outputs["body"]
    assert outcome.outputs["body"]["Accept"] == "application/json"
    assert recorder.requests[0]["headers"]["Authorization"] == "Bearer x"


# ------------------------------------------------------------------ SSRF refusals


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.1.2.3:8080/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "not a public address"),
    ("http://169.254.1.1/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://100.100.100.200/", "metadata"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "inside an IPv6 address"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[fd00::1]/", "private"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[2002:7f00:1::1]/", "inside an IPv6 address"),
    ("http://[64:ff9b::a00:1]/", "inside an IPv6 address"),
    ("https://localhost/", "loopback"),
])
def test_internal_addresses_are_refused(url: str, reason: str) -> None:
    problem = refused(url, allowed=frozenset())
    assert (problem.code, problem.retryable) == ("address_refused", False)
    assert reason in problem.message
    assert "HTTP_REQUEST_ALLOWED_HOSTS" in problem.message


def test_a_refused_address_receives_nothing(server: tuple[str, Recorder]) -> None:
    base, recorder = server
    problem = refused(f"{base}/json", allowed=frozenset())
    assert problem.code == "address_refused"
    assert recorder.requests == []


@pytest.mark.parametrize("address", ["10.9.8.7", "127.0.0.1", "169.254.169.254", "::1",
                                     "fd12::1", "::ffff:10.0.0.1"])
def test_a_name_resolving_to_an_internal_address_is_refused(
        monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setattr(http_request, "resolve_host", lambda host, port: [address])
    problem = refused("https://innocent.example/", allowed=frozenset())
    assert problem.code == "address_refused"
    assert f"{address} (from innocent.example)" in problem.message


def test_one_internal_address_among_public_ones_refuses_the_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_request, "resolve_host",
                        lambda host, port: ["93.184.215.14", "10.0.0.1"])
    assert refused("http://mixed.example/", allowed=frozenset()).code == "address_refused"


def test_the_address_vetted_is_the_address_connected_to(
        server: tuple[str, Recorder], monkeypatch: pytest.MonkeyPatch) -> None:
    """One resolution per request: a name that an attacker rebinds between the check and
    the connection cannot move the request, because the connection uses the vetted IP."""
    base, recorder = server
    port = base.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(http_request, "resolve_host", rebinding)
    outcome = fetch(f"http://rebind.test:{port}/json", allowed=frozenset({"rebind.test"}))
    assert outcome.outputs["body"] == {"results": [1, 2]}
    assert calls == ["rebind.test"]
    assert recorder.requests[0]["headers"]["Host"] == f"rebind.test:{port}"


def test_an_allowed_name_may_reach_an_internal_address(server: tuple[str, Recorder]) -> None:
    base, _ = server
    assert fetch(f"{base}/json", allowed=frozenset({"127.0.0.1"})).outputs["status"] == 200


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111",
                                     "2001:4860:4860::8888"])
def test_public_addresses_pass(address: str) -> None:
    assert refused_reason(ipaddress.ip_address(address)) is None


def test_an_unresolvable_name_is_a_retryable_connection_failure() -> None:
    problem = refused("http://no-such-host.invalid/", allowed=frozenset())
    assert (problem.code, problem.retryable) == ("connection_failed", True)


# ------------------------------------------------- address spellings and redirect schemes


@pytest.mark.parametrize(("url", "connects_to"), [
    ("http://0x7f.0.0.1/", "127.0.0.1 (from 0x7f.0.0.1)"),  # hexadecimal part
    ("http://0177.0.0.1/", "127.0.0.1 (from 0177.0.0.1)"),  # octal part
    ("http://127.1/", "127.0.0.1 (from 127.1)"),  # short form
    ("http://0x7f000001/", "127.0.0.1 (from 0x7f000001)"),  # one hexadecimal number
    ("http://017700000001/", "127.0.0.1 (from 017700000001)"),  # one octal number
    ("http://0/", "0.0.0.0 (from 0)"),
    ("http://[0:0:0:0:0:ffff:7f00:1]/", "::ffff:127.0.0.1 (from [0:0:0:0:0:ffff:7f00:1])"),
    ("http://[fe80::1%25eth0]/", "fe80::1 (from [fe80::1%eth0])"),  # a zone identifier
    ("http://localhost./", "127.0.0.1 (from localhost.)"),  # the root's trailing dot
    ("http://LOCALHOST/", "127.0.0.1 (from localhost)"),
    # User information and fragments that a lax parser would take for the host.
    ("http://example.com@127.0.0.1/", "'127.0.0.1': 127.0.0.1 is"),
    ("http://127.0.0.1#@example.com/", "'127.0.0.1': 127.0.0.1 is"),
    ("http://127.0.0.1\\@example.com/", "'127.0.0.1': 127.0.0.1 is"),
])
def test_other_spellings_of_an_internal_address_are_refused(url: str, connects_to: str) -> None:
    problem = refused(url, allowed=frozenset())
    assert (problem.code, problem.retryable) == ("address_refused", False)
    assert connects_to in problem.message


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "dict://127.0.0.1:6379/", "http://①②⑦.0.0.1/",
    "http://127。0。0。1/",  # ideographic full stops
])
def test_other_schemes_and_unicode_digits_are_config_errors(url: str) -> None:
    problem = refused(url, allowed=frozenset())
    assert (problem.code, problem.retryable) == ("invalid_config", False)


@pytest.mark.parametrize(("target", "code"), [
    ("file:///etc/passwd", "invalid_config"), ("gopher://127.0.0.1:6379/_INFO", "invalid_config"),
    ("http://0x7f.0.0.1/", "address_refused"), ("http://example.com@169.254.169.254/", "address_refused"),
])
def test_a_redirect_to_another_scheme_or_a_disguised_address_is_refused(
        server: tuple[str, Recorder], target: str, code: str) -> None:
    base, recorder = server
    problem = refused(f"{base}/redirect?to={target}")
    assert (problem.code, problem.retryable) == (code, False)
    assert len(recorder.requests) == 1  # the first hop only
