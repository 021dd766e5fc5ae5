"""The `http_request` operator, with the safety a multi-tenant server needs.

Contract: outputs `status` (integer), `headers` (object, lower-cased names, repeated
headers joined with ", ") and `body` (parsed JSON when `expect_json` or the response
has a JSON content type; else text, decoded by its charset, default UTF-8). The
`body` input, when not null, is sent as JSON (not with GET or HEAD).

Safety:

* **Where it may connect.** The URL's host is resolved once (`resolve_host`, the only
  resolver call) and every address it resolves to must be public: loopback, private,
  shared (100.64/10), link-local, multicast, reserved, unspecified (`0.0.0.0`, `::`)
  and cloud metadata addresses are refused, for IPv4 and IPv6 alike, including IPv4
  addresses carried inside IPv6 (mapped `::ffff:a.b.c.d`, 6to4, NAT64, Teredo). The
  connection then goes to the vetted address itself (the Host header and TLS server
  name stay the URL's host), so no second lookup can be rebound to another address.
  Hosts named in `allowed_hosts` (the engine passes the HTTP_REQUEST_ALLOWED_HOSTS
  setting through `NodeContext.allowed_hosts`) skip the address check: that is how
  tests and operators reach named internal services. A refusal is
  NodeFailure(`address_refused`, not retryable) and nothing is sent.
* **Redirects** are followed by hand, at most `MAX_REDIRECTS`, each new location
  resolved and vetted like the first; credentials (Authorization, Cookie) are dropped
  when a redirect leaves the host; 303 (and 301/302 after a POST) continue as GET.
* **Time.** `timeout_s` (default `DEFAULT_TIMEOUT_S`) bounds the whole request and is
  capped by the attempt's deadline; connect and each read use what is left.
  `reporter.should_stop()` is checked between chunks.
* **Size.** The body is streamed and reading stops past `MAX_RESPONSE_BYTES`
  (`response_too_large`, not retryable); a larger Content-Length is refused unread.

Failures: connection errors and timeouts (`connection_failed`, `timeout`), 5xx, 408
and 429 responses (`http_error`) are retryable; other 4xx (`http_error`), refused
addresses, TLS certificate errors (`tls_failed`), bad URLs (`invalid_config`) and
undecodable JSON (`invalid_response`) are not.

Client: urllib3 (2.x). It lets a request go to a chosen IP while keeping the URL's
host for the Host header, SNI and certificate checks (`server_hostname`,
`assert_hostname`), can stream a body with a byte cap, and has no dependencies;
httpx would need the same via transport extensions and brings four packages.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import orjson
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import Url, make_headers, parse_url

from executions.runtime.config import config_text, config_value, invalid_config, node_config
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.operators import mask_secrets, stopped

MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT_S = 30.0
CHUNK_BYTES = 64 * 1024
USER_AGENT = "Symphony-workflow/0.1 (+http_request)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata endpoints of cloud providers that are not already link-local or private.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(text) for text in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
    "169.254.170.2",  # AWS ECS task metadata
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
    "fd00:ec2::254",  # AWS over IPv6
))
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_STATUSES = frozenset({408, 429})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (deduplicated).
    The one place a name is resolved; tests may replace it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def refused_reason(address: IPAddress) -> str | None:
    """Why an address may not be reached, or None when it is public."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            inner = refused_reason(embedded)
            if inner is not None:
                return f"{inner} inside an IPv6 address"
    for reason, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if flag:
            return f"a {reason} address"
    if not address.is_global:
        return "not a public address"
    return None


def _refused(context: NodeContext, host: str, message: str) -> NodeFailure:
    return NodeFailure(
        f"Node {context.node.id!r} may not connect to {host!r}: {message}. Requests to "
        "internal addresses are refused; an administrator can name a trusted internal host "
        "in HTTP_REQUEST_ALLOWED_HOSTS.",
        code="address_refused", retryable=False, details={"node_id": context.node.id,
                                                           "host": host},
    )


def vetted_addresses(context: NodeContext, host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`: all of them public, or the host allowed.
    Raises NodeFailure(`address_refused` / `connection_failed`)."""
    bare = host.strip("[]").rstrip(".").lower()
    try:
        addresses = resolve_host(bare, port)
    except (socket.gaierror, UnicodeError) as error:
        raise NodeFailure(f"Node {context.node.id!r} could not resolve {host!r} ({error}).",
                          code="connection_failed", retryable=True,
                          details={"node_id": context.node.id, "host": host}) from error
    if not addresses:
        raise NodeFailure(f"Node {context.node.id!r}: {host!r} resolves to no address.",
                          code="connection_failed", retryable=True,
                          details={"node_id": context.node.id, "host": host})
    if bare in {allowed.lower().rstrip(".") for allowed in context.allowed_hosts}:
        return addresses
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise _refused(context, host, f"it resolves to {text!r}, not an IP address"
                           ) from None
        reason = refused_reason(address)
        if reason is not None:
            shown = text if text == bare else f"{text} (from {host})"
            raise _refused(context, host, f"{shown} is {reason}")
    return addresses


class _Request:
    """One request's settings that survive redirects."""

    def __init__(self, context: NodeContext) -> None:
        self.context = context
        config = node_config(context)
        self.method = str(config.get("method") or "GET").upper()
        self.url = config_text(context, "url")
        headers = config_value(context, "headers") or {}
        if not isinstance(headers, dict) or not all(
                isinstance(value, str) for value in headers.values()):
            raise invalid_config(context, "headers", "must map header names to text.")
        self.headers = {str(name): value for name, value in headers.items()
                        if str(name).lower() != "host"}
        self.headers.setdefault("User-Agent", USER_AGENT)
        self.expect_json = bool(config.get("expect_json", False))
        timeout = config_value(context, "timeout_s", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise invalid_config(context, "timeout_s", "must be a number of seconds above 0.")
        remaining = context.remaining_s()
        self.timeout_s = float(timeout if remaining is None else min(timeout, remaining))
        self.deadline = time.monotonic() + self.timeout_s
        payload = context.inputs.get("body")
        self.body: bytes | None = None
        if payload is not None and self.method not in ("GET", "HEAD"):
            self.body = orjson.dumps(payload)
            self.headers.setdefault("Content-Type", "application/json")

    def left_s(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise NodeFailure(
                f"Node {self.context.node.id!r}: the request to {shown_url(self.url)} took "
                f"longer than {self.timeout_s:g} s.",
                code="timeout", retryable=True, details={"node_id": self.context.node.id})
        return left


def shown_url(url: str) -> str:
    """A URL for logs and messages: no credentials, no query string (either may hold
    secrets)."""
    try:
        parsed = parse_url(url)
    except LocationParseError:
        return "(an unparsable URL)"
    return Url(scheme=parsed.scheme, host=parsed.host, port=parsed.port,
               path=parsed.path).url


def _parse(context: NodeContext, url: str) -> tuple[Url, str, int]:
    try:
        parsed = parse_url(url)
    except LocationParseError as error:
        raise invalid_config(context, "url", f"is not a valid URL ({error}).") from error
    scheme = (parsed.scheme or "").lower()
    if scheme not in ("http", "https") or not parsed.host:
        raise invalid_config(context, "url", f"must be an http:// or https:// URL with a host, "
                                             f"not {shown_url(url)!r}.")
    port = parsed.port or (443 if scheme == "https" else 80)
    return parsed, scheme, port


def _open(request: _Request, parsed: Url, scheme: str, port: int, addresses: list[str],
          method: str, headers: dict[str, str], body: bytes | None
          ) -> tuple[urllib3.HTTPConnectionPool, Any]:
    host = parsed.host or ""
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    sent_headers = {**headers, "Host": host_header}
    if parsed.auth and "Authorization" not in headers:
        sent_headers.update(make_headers(basic_auth=parsed.auth))
    target = parsed.request_uri
    last_error: Exception | None = None
    for address in addresses:
        left = request.left_s()
        timeout = urllib3.Timeout(connect=left, read=left)
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
            response = pool.urlopen(method, target, body=body, headers=sent_headers,
                                    redirect=False, preload_content=False,
                                    assert_same_host=False, release_conn=False)
        except NewConnectionError as error:  # try the host's next vetted address
            pool.close()
            last_error = error
            continue
        except BaseException:
            pool.close()
            raise
        return pool, response
    raise NodeFailure(
        f"Node {request.context.node.id!r} could not connect to {shown_url(request.url)} "
        f"({last_error}).", code="connection_failed", retryable=True,
        details={"node_id": request.context.node.id})


def _read_body(request: _Request, response: Any) -> bytes:
    context = request.context
    declared = response.headers.get("Content-Length")
    # ASCII digits: str.isdigit() alone takes a superscript two, which int() refuses.
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _too_large(context, request.url)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.stream(CHUNK_BYTES, decode_content=True):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _too_large(context, request.url)
        chunks.append(chunk)
        if context.reporter.should_stop():
            raise stopped(context)
        request.left_s()
    return b"".join(chunks)


def _too_large(context: NodeContext, url: str) -> NodeFailure:
    return NodeFailure(
        f"Node {context.node.id!r}: the response from {shown_url(url)} is larger than "
        f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MiB; ask the service for less (paging, "
        "filters).", code="response_too_large", retryable=False,
        details={"node_id": context.node.id, "limit_bytes": MAX_RESPONSE_BYTES})


def _decode(request: _Request, headers: Mapping[str, str], raw: bytes) -> Any:
    content_type = headers.get("content-type", "").lower()
    media_type = content_type.split(";", 1)[0].strip()
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if request.expect_json or is_json:
        if not raw.strip():
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise NodeFailure(
                f"Node {request.context.node.id!r}: the response from "
                f"{shown_url(request.url)} is not valid JSON ({error.msg}); turn expect_json "
                "off to get the text.", code="invalid_response", retryable=False,
                details={"node_id": request.context.node.id}) from error
    charset = "utf-8"
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name == "charset" and value:
            charset = value.strip('"')
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _status_failure(request: _Request, status: int, body: Any) -> NodeFailure:
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    excerpt = body if isinstance(body, str) else orjson.dumps(body).decode()
    excerpt = mask_secrets(excerpt[:200], request.context.secrets)
    return NodeFailure(
        f"Node {request.context.node.id!r}: {request.method} {shown_url(request.url)} answered "
        f"{status}. {excerpt}".rstrip(), code="http_error", retryable=retryable,
        details={"node_id": request.context.node.id, "status": status})


def run_http_request(context: NodeContext) -> NodeOutcome:
    request = _Request(context)
    method, headers, body = request.method, dict(request.headers), request.body
    url = request.url
    started = time.monotonic()
    for _hop in range(MAX_REDIRECTS + 1):
        request.url = url
        parsed, scheme, port = _parse(context, url)
        addresses = vetted_addresses(context, parsed.host or "", port)
        try:
            pool, response = _open(request, parsed, scheme, port, addresses, method, headers,
                                   body)
            try:
                status = int(response.status)
                response_headers = {name.lower(): value
                                    for name, value in response.headers.itermerged()}
                location = response_headers.get("location")
                if status in REDIRECT_STATUSES and location:
                    next_url = urljoin(url, location)
                    context.reporter.log("info", mask_secrets(
                        f"{method} {shown_url(url)} → {status}, following to "
                        f"{shown_url(next_url)}", context.secrets))
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, body = "GET", None
                        headers = {name: value for name, value in headers.items()
                                   if name.lower() != "content-type"}
                    if parse_url(next_url).host != parsed.host:
                        headers = {name: value for name, value in headers.items()
                                   if name.lower() not in CREDENTIAL_HEADERS}
                    url = next_url
                    continue
                raw = b"" if method == "HEAD" else _read_body(request, response)
            finally:
                response.close()
                pool.close()
        except (ConnectTimeoutError, ReadTimeoutError) as error:
            raise NodeFailure(
                f"Node {context.node.id!r}: {method} {shown_url(url)} timed out "
                f"after {request.timeout_s:g} s.", code="timeout", retryable=True,
                details={"node_id": context.node.id}) from error
        except SSLError as error:
            raise NodeFailure(
                f"Node {context.node.id!r}: TLS with {parsed.host!r} failed ({error}).",
                code="tls_failed", retryable=False, details={"node_id": context.node.id},
            ) from error
        except HTTPError as error:
            raise NodeFailure(
                f"Node {context.node.id!r}: {method} {shown_url(url)} failed "
                f"({type(error).__name__}: {error}).", code="connection_failed",
                retryable=True, details={"node_id": context.node.id}) from error
        decoded = _decode(request, response_headers, raw)
        context.reporter.log("info", mask_secrets(
            f"{method} {shown_url(url)} → {status} ({len(raw)} bytes, "
            f"{(time.monotonic() - started) * 1000:.0f} ms)", context.secrets))
        context.reporter.progress(1.0, f"HTTP {status}")
        if status >= 400:
            raise _status_failure(request, status, decoded)
        return NodeOutcome(outputs={"status": status, "headers": response_headers,
                                    "body": decoded})
    raise NodeFailure(
        f"Node {context.node.id!r}: more than {MAX_REDIRECTS} redirects starting at "
        f"{shown_url(request.url)}.", code="too_many_redirects", retryable=False,
        details={"node_id": context.node.id})
