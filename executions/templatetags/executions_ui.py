"""Filters for the execution pages: states as words, durations people read, JSON shown compactly."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template

register = template.Library()

PREVIEW_CHARS = 80
# Past this, the expanded value is cut; the API serves it whole.
PRETTY_CHARS = 20_000


@register.filter
def state_words(state: str) -> str:
    """`waiting_for_input` → `waiting for input` (what the live modules write too)."""
    return str(state or "").replace("_", " ")


@register.filter
def milliseconds(value: float | None) -> str:
    """A node run's duration as the live modules write it (`1234 ms`)."""
    if value is None:
        return ""
    return f"{round(value)} ms"


def human_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def elapsed(execution: Any) -> str:
    """How long an execution ran (or has been running), in words; "" before it started."""
    started, finished = getattr(execution, "started_at", None), getattr(execution, "finished_at", None)
    if started is None:
        return ""
    end = finished or dt.datetime.now(dt.UTC)
    return human_seconds(max(0.0, (end - started).total_seconds()))


@register.filter
def eta_words(seconds: float | None) -> str:
    """The remaining-time estimate as the live module words it."""
    if seconds is None:
        return ""
    if seconds < 1:
        return "under a second left"
    if seconds < 90:
        return f"about {round(seconds)} s left"
    return f"about {round(seconds / 60)} min left"


@register.filter
def json_preview(value: Any) -> str:
    """A value on one short line: compact JSON, cut with an ellipsis."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


@register.filter
def json_pretty(value: Any) -> str:
    """A value indented for reading, cut past PRETTY_CHARS."""
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str)
    if len(text) <= PRETTY_CHARS:
        return text
    return text[:PRETTY_CHARS] + f"\n… cut at {PRETTY_CHARS:,} characters; the API serves the whole value"


@register.filter
def is_long(value: Any) -> bool:
    """Whether a value needs its expanded form (its preview is cut or spans lines)."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return len(text) > PREVIEW_CHARS or (isinstance(value, dict | list) and len(text) > 40)
