"""The audit chain's pure core: canonical encoding, hashing, secret scrubbing, verification.

No Django here, so the chain can be checked anywhere, including on an exported
file, and tested without a database.

Canonical encoding (version 1)
------------------------------
An entry is hashed as

    hash = hex( SHA-256( b"symphony-audit-v1\\n" + canonical ) )

where `canonical` is the compact JSON array (orjson: no spaces, UTF-8, object
keys sorted at every depth) of the previous entry's hash followed by the
hashed fields in `HASHED_FIELDS` order:

    [prev_hash, team_id, sequence, occurred_at, actor_id, actor_name,
     actor_type, event_type, target_type, target_id, target_name,
     execution_id, reason, details, ip_address, user_agent]

`prev_hash` is 64 lowercase hex characters (`GENESIS_HASH`, 64 zeros, for the
first entry of a chain).

- `team_id`, `execution_id`: UUID text (lowercase, hyphenated) or null;
- `sequence`, `actor_id`: integers (actor_id null when there is no user);
- `occurred_at`: ISO 8601 UTC with microseconds, `2026-11-21T23:56:11.123456Z`;
- strings as stored (empty string, never null);
- `details`: a JSON object normalised by `normalize_details` so that it reads
  back from PostgreSQL's jsonb unchanged (integral floats become integers,
  integers beyond 64 bits and non-finite floats become strings, NUL characters
  are dropped);
- `ip_address`: the address in its compressed text form, or null.

Positions, not key names, identify fields, so adding a field means a new
version prefix; version 1 entries keep verifying as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

HASH_PREFIX: Final = b"symphony-audit-v1\n"
GENESIS_HASH: Final = "0" * 64

HASHED_FIELDS: Final = (
    "team_id",
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_type",
    "event_type",
    "target_type",
    "target_id",
    "target_name",
    "execution_id",
    "reason",
    "details",
    "ip_address",
    "user_agent",
)
FIELD_COUNT: Final = len(HASHED_FIELDS)

_SORT_KEYS: Final = orjson.OPT_SORT_KEYS
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

# Break reasons, in the words the API and the command report.
EDITED: Final = "edited"
DELETED: Final = "deleted"
INSERTED: Final = "inserted"
REORDERED: Final = "reordered"
BACKDATED: Final = "backdated"
TRUNCATED: Final = "truncated"


# --- Encoding ------------------------------------------------------------------


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 UTC with microseconds and a `Z`; refuses naive datetimes."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(prev_hash: str, fields: tuple[Any, ...] | list[Any]) -> bytes:
    """The canonical JSON array `[prev_hash, *fields]`, fields in `HASHED_FIELDS` order."""
    if len(fields) != FIELD_COUNT:
        raise ValueError(f"expected {FIELD_COUNT} hashed fields, got {len(fields)}")
    return orjson.dumps((prev_hash, *fields), option=_SORT_KEYS)


def entry_hash(prev_hash: str, fields: tuple[Any, ...] | list[Any]) -> str:
    """The hex SHA-256 chaining `prev_hash` to an entry's hashed fields."""
    return hashlib.sha256(HASH_PREFIX + canonical_bytes(prev_hash, fields)).hexdigest()


def _normalize_value(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            # jsonb reads 1e16 back as 10000000000000000, an integer.
            as_integer = int(value)
            return as_integer if _INT64_MIN <= as_integer <= _INT64_MAX else str(as_integer)
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, Mapping):
        return {_clean_text(str(key)): _normalize_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_normalize_value(item) for item in items]
    if isinstance(value, dt.datetime):
        return format_time(value) if value.tzinfo else value.isoformat()
    return _clean_text(str(value))


def _clean_text(text: str) -> str:
    """PostgreSQL text and jsonb refuse NUL and unpaired surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def normalize_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details in the exact form they read back from jsonb (see the module docstring)."""
    if not details:
        return {}
    normalized = _normalize_value(details)
    assert isinstance(normalized, dict)
    return normalized


def clean_text(text: str | None, max_length: int | None = None) -> str:
    """A text field as stored: no NUL, valid UTF-8, at most `max_length` characters."""
    cleaned = _clean_text(text or "")
    return cleaned[:max_length] if max_length is not None else cleaned


# --- Secret scrubbing ------------------------------------------------------------

REDACTED: Final = "[redacted]"

_SECRET_KEY_PATTERN: Final = re.compile(
    r"pass(word|wd|phrase)?|secret|token|key|authori[sz]ation|credential|cookie|session|"
    r"private|signature|otp",
    re.IGNORECASE,
)
# Keys that name a secret's metadata, never the secret itself: `token_id`, `key_name`.
_SAFE_KEY_SUFFIXES: Final = ("_id", "_name", "_type", "_count", "_at", "_prefix_length")
_SECRET_VALUE_PATTERN: Final = re.compile(
    r"sym_[A-Za-z0-9_\-]{8,}|(?i:\b(?:token|bearer|basic)\s+[A-Za-z0-9_\-.=+/]{16,})"
)


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered.endswith(_SAFE_KEY_SUFFIXES):
        return False
    return _SECRET_KEY_PATTERN.search(lowered) is not None


def scrub_text(text: str) -> str:
    """Replace anything that looks like a credential inside free text."""
    return _SECRET_VALUE_PATTERN.sub(REDACTED, text)


def scrub_secrets(value: Any) -> Any:
    """A copy of `value` with secret-named keys redacted and token-like strings replaced."""
    if isinstance(value, Mapping):
        return {
            key: (REDACTED if is_secret_key(str(key)) else scrub_secrets(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_secrets(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


# --- Verification ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A chain position: the sequence and hash of one entry (or of a pruned range's end)."""

    sequence: int
    hash: str


CHAIN_ORIGIN: Final = ChainPoint(0, GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    sequence: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.sequence, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class VerificationResult:
    valid: bool
    checked: int
    first_break: ChainBreak | None
    last: ChainPoint | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checked": self.checked,
            "first_break": self.first_break.as_dict() if self.first_break else None,
        }


# A verification row: the previous hash, the hashed fields in order, then the entry's hash.
# It is laid out so that `row[:_HASH]` is exactly the array the hash covers.
_PREV_HASH = 0
_SEQUENCE = 1 + HASHED_FIELDS.index("sequence")
_OCCURRED_AT = 1 + HASHED_FIELDS.index("occurred_at")
_HASH = 1 + FIELD_COUNT


def verification_row(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """A verification row from a mapping with every hashed field, `prev_hash` and `hash` (an export line)."""
    return (values["prev_hash"], *(values[name] for name in HASHED_FIELDS), values["hash"])


def verify_chain(
    rows: Iterable[tuple[Any, ...]],
    *,
    start: ChainPoint = CHAIN_ORIGIN,
    head: ChainPoint | None = None,
    anchor: ChainPoint | None = None,
) -> VerificationResult:
    """Recompute one chain and report its first break.

    `rows` are verification rows — `(prev_hash, *hashed fields, hash)`, the
    fields in `HASHED_FIELDS` order with times as `format_time` writes them —
    ordered by sequence. `start` is where the surviving chain begins: the
    origin, or the last pruned entry recorded by a retention checkpoint.
    `head` is the chain head the database keeps beside the table; `anchor` a
    head stored elsewhere earlier (see `audit_anchor`): the chain must still
    contain it.

    One pass, constant memory; the loop does the minimum per intact row (one
    encode, one SHA-256, a few comparisons) and works out *why* a link broke
    only once it has.
    """
    sha256 = hashlib.sha256
    dumps = orjson.dumps
    option = _SORT_KEYS
    prefix = HASH_PREFIX
    hashed_end = _HASH

    previous_sequence = start.sequence
    previous_hash = start.hash
    before_previous_hash: str | None = None
    previous_time = ""
    checked = 0
    anchor_sequence = anchor.sequence if anchor is not None and anchor.sequence > start.sequence else None

    iterator: Iterator[tuple[Any, ...]] = iter(rows)
    for row in iterator:
        sequence = row[_SEQUENCE]
        if sequence != previous_sequence + 1 or row[_PREV_HASH] != previous_hash:
            return _link_break(row, iterator, checked, previous_sequence, previous_hash, before_previous_hash)
        occurred_at = row[_OCCURRED_AT]
        if occurred_at < previous_time:
            return _broken(checked, sequence, BACKDATED)
        try:
            body = dumps(row[:hashed_end], option=option)
        except TypeError:  # a value no writer could have produced
            return _broken(checked, sequence, EDITED)
        stored_hash = row[hashed_end]
        if sha256(prefix + body).hexdigest() != stored_hash:
            return _broken(checked, sequence, EDITED)
        if sequence == anchor_sequence and anchor is not None and stored_hash != anchor.hash:
            return _broken(checked, sequence, EDITED)
        checked += 1
        before_previous_hash = previous_hash
        previous_sequence = sequence
        previous_hash = stored_hash
        previous_time = occurred_at

    if head is not None and (head.sequence, head.hash) != (previous_sequence, previous_hash):
        if head.sequence > previous_sequence:
            return _broken(checked, previous_sequence + 1, TRUNCATED)
        if head.sequence < previous_sequence:
            return _broken(checked, head.sequence + 1, INSERTED)
        return _broken(checked, previous_sequence, EDITED)
    if anchor_sequence is not None and previous_sequence < anchor_sequence:
        return _broken(checked, previous_sequence + 1, TRUNCATED)
    last = ChainPoint(previous_sequence, previous_hash)
    return VerificationResult(valid=True, checked=checked, first_break=None, last=last)


def _row_is_intact(row: tuple[Any, ...]) -> bool:
    """Whether a row's own hash matches its contents (its link may still be wrong)."""
    try:
        body = orjson.dumps(row[:_HASH], option=_SORT_KEYS)
    except TypeError:
        return False
    stored_hash: str = row[_HASH]
    return hashlib.sha256(HASH_PREFIX + body).hexdigest() == stored_hash


def _link_break(
    row: tuple[Any, ...],
    rest: Iterator[tuple[Any, ...]],
    checked: int,
    previous_sequence: int,
    previous_hash: str,
    before_previous_hash: str | None,
) -> VerificationResult:
    """Name the break where `row` does not follow the previous entry."""
    sequence = row[_SEQUENCE]
    if sequence > previous_sequence + 1:
        return _broken(checked, previous_sequence + 1, DELETED)
    if sequence <= previous_sequence:
        return _broken(checked, sequence, INSERTED)
    prev_hash = row[_PREV_HASH]
    if before_previous_hash is not None and prev_hash == before_previous_hash:
        # This entry follows the one two back: the one between does not belong.
        return _broken(checked - 1, previous_sequence, INSERTED)
    following = next(rest, None)
    if following is not None and prev_hash == following[_HASH]:
        return _broken(checked, sequence, REORDERED)
    if _row_is_intact(row):
        # This entry is as written; the one before it was rewritten with a fresh hash.
        return _broken(checked - 1 if checked else 0, previous_sequence, EDITED)
    return _broken(checked, sequence, EDITED)


def _broken(checked: int, sequence: int, reason: str) -> VerificationResult:
    return VerificationResult(valid=False, checked=checked, first_break=ChainBreak(sequence, reason))


def build_chain(
    entries: Iterable[tuple[Any, ...]], *, start: ChainPoint = CHAIN_ORIGIN
) -> Iterator[tuple[Any, ...]]:
    """Hash hashed-field tuples into verification rows (used by tests and generators).

    Each entry's own `sequence` is kept as given, so callers control numbering.
    """
    previous_hash = start.hash
    for fields in entries:
        digest = entry_hash(previous_hash, fields)
        yield (previous_hash, *fields, digest)
        previous_hash = digest
