"""What a subscriber wants from an execution's stream: event types, node ids, a minimum log level.

Pure Python (no Django), shared by the WebSocket consumer and the REST endpoint so
both read the same parameters the same way:

* `types`: only these event types (comma-separated);
* `nodes` (REST: `node`): events of other nodes are left out; execution-level events
  (no `node_id`) are kept unless `types` leaves them out;
* `min_level`: `log` events below this level are left out (debug < info < warning < error);
* `after_seq`: only events after this sequence number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG = "log"
MAX_LISTED = 200


class FilterInvalid(ValueError):
    """A subscription parameter that cannot be understood; names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class EventFilter:
    types: frozenset[str] | None = None
    nodes: frozenset[str] | None = None
    min_level: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.types is None and self.nodes is None and self.min_level is None

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.types is not None and event.get("type") not in self.types:
            return False
        node_id = event.get("node_id")
        if self.nodes is not None and node_id is not None and node_id not in self.nodes:
            return False
        if self.min_level is not None and event.get("type") == LOG:
            data = event.get("data") or {}
            level = data.get("level") if isinstance(data, Mapping) else None
            if level_rank(level) < level_rank(self.min_level):
                return False
        return True

    def levels_below(self) -> list[str]:
        """The log levels `min_level` leaves out."""
        if self.min_level is None:
            return []
        return list(LOG_LEVELS[:LOG_LEVELS.index(self.min_level)])


def level_rank(level: Any) -> int:
    """A log line of an unknown level counts as `info`."""
    return LOG_LEVELS.index(level) if level in LOG_LEVELS else LOG_LEVELS.index("info")


def _listed(raw: str | Iterable[str] | None, field: str) -> frozenset[str] | None:
    if raw is None:
        return None
    parts = [raw] if isinstance(raw, str) else list(raw)
    values = [value.strip() for part in parts for value in part.split(",") if value.strip()]
    if not values:
        return None
    if len(values) > MAX_LISTED:
        raise FilterInvalid(field, f"{field} names at most {MAX_LISTED} values.")
    return frozenset(values)


def parse_filter(*, types: str | Iterable[str] | None = None, nodes: str | Iterable[str] | None = None,
                 min_level: str | None = None, known_types: Iterable[str]) -> EventFilter:
    """The filter from query parameters (comma-separated or repeated); raises FilterInvalid."""
    wanted_types = _listed(types, "types")
    if wanted_types is not None:
        unknown = sorted(wanted_types - set(known_types))
        if unknown:
            raise FilterInvalid("types", f"Unknown event types: {', '.join(unknown)}. "
                                         f"Known: {', '.join(sorted(known_types))}.")
    level = (min_level or "").strip().lower() or None
    if level is not None and level not in LOG_LEVELS:
        raise FilterInvalid("min_level", f"min_level is one of {', '.join(LOG_LEVELS)}.")
    return EventFilter(types=wanted_types, nodes=_listed(nodes, "nodes"), min_level=level)


def parse_after_seq(raw: str | None) -> int | None:
    """A non-negative integer, or None when absent; raises FilterInvalid."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # isdigit() alone takes a superscript two
        raise FilterInvalid("after_seq", "after_seq is a non-negative integer (the last seq you saw).")
    return int(text)
