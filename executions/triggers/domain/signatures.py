"""Webhook signatures: HMAC over the timestamp and the raw body, checked in constant time.

Pure Python. The scheme (docs/triggers.md, "Signatures"):

* the sender puts the Unix time in seconds in the timestamp header and
  `hex(HMAC(secret, "<timestamp>.<raw body>"))` in the signature header, optionally
  prefixed with the algorithm (`sha256=…`, as GitHub writes it);
* a delivery is refused when either header is missing, the timestamp is not a whole
  number, it is further than the tolerance from the server's clock (a replay, or a
  clock far off), or the digest differs (compared with `hmac.compare_digest`).

The signing secret is never stored: it is derived from the server's key, the hook's id
and a random salt that rotation replaces (`signing_secret`), so a copy of the database
does not hold it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

ALGORITHMS: dict[str, str] = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
SECRET_PREFIX = "whsec_"
# The headers a rule may name: ASCII letters, digits, - and _ (HTTP header names are ASCII).
HEADER_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True, slots=True)
class SignatureRule:
    header: str
    algorithm: str
    timestamp_header: str
    tolerance_s: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a signature was refused: a stable code and a message safe to send back."""

    code: str
    message: str


def signing_secret(*, server_key: str, hook_id: str, salt: str) -> str:
    digest = hmac.new(server_key.encode(), f"symphony.webhook.signing:{hook_id}:{salt}".encode(),
                      hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(*, secret: str, algorithm: str, timestamp: int | str, body: bytes) -> str:
    """The hex digest a sender puts in the signature header."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body,
                    ALGORITHMS[algorithm]).hexdigest()


def check(*, rule: SignatureRule, secret: str, headers: dict[str, str], body: bytes,
          now: float) -> Refusal | None:
    """None when the delivery is signed as `rule` says; else why not. `headers` are keyed in
    lower case."""
    given = headers.get(rule.header.lower(), "").strip()
    stamp = headers.get(rule.timestamp_header.lower(), "").strip()
    if not given or not stamp:
        missing = rule.header if not given else rule.timestamp_header
        return Refusal("missing_signature", f"The {missing} header is missing; this hook only runs "
                                            "signed deliveries.")
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:  # isdigit() alone takes a superscript two
        return Refusal("invalid_signature", f"The {rule.timestamp_header} header is the Unix time in "
                                            "whole seconds.")
    if abs(now - int(stamp)) > rule.tolerance_s:
        return Refusal("stale_signature", f"The signature's timestamp is more than {rule.tolerance_s} "
                                          "seconds from the server's clock (a replay is refused).")
    prefix = f"{rule.algorithm}="
    if given.lower().startswith(prefix):
        given = given[len(prefix):]
    expected = sign(secret=secret, algorithm=rule.algorithm, timestamp=stamp, body=body)
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        return Refusal("invalid_signature", "The signature does not match the body.")
    return None
