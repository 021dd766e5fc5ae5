"""Parsing the audit filters shared by the API, the export and the web page.

Bad input raises `ValidationFailed` naming every bad field, so the API answers
400 in the error shape and the page shows the message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from audit import event_types
from audit.models import AuditEntry
from symphony_site.api.errors import ValidationFailed
from symphony_site.instants import NotAMoment, parse_moment

FILTER_NAMES = ("actor", "event_type", "execution", "target_type", "target_id", "since", "until")


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    event_type: str = ""
    execution: uuid.UUID | None = None
    target_type: str = ""
    target_id: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters (for links and for the export record)."""
        values = {
            "actor": self.actor,
            "event_type": self.event_type,
            "execution": str(self.execution) if self.execution else "",
            "target_type": self.target_type,
            "target_id": self.target_id,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in values.items() if value}

    def apply(self, queryset: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        if self.actor:
            condition = Q(actor_name=self.actor)
            if self.actor.isascii() and self.actor.isdigit():  # isdigit() alone takes a superscript two
                condition |= Q(actor_id=int(self.actor))
            queryset = queryset.filter(condition)
        if self.event_type:
            if self.event_type.endswith(".*"):
                queryset = queryset.filter(event_type__startswith=self.event_type[:-1])
            else:
                queryset = queryset.filter(event_type=self.event_type)
        if self.execution:
            queryset = queryset.filter(execution_id=self.execution)
        if self.target_type:
            queryset = queryset.filter(target_type=self.target_type)
        if self.target_id:
            queryset = queryset.filter(target_id=self.target_id)
        if self.since:
            queryset = queryset.filter(occurred_at__gte=self.since)
        if self.until:
            queryset = queryset.filter(occurred_at__lt=self.until)
        return queryset


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "code": "invalid"}


def _parse_time(raw: str, field: str, problems: list[dict[str, str]]) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return parse_moment(raw, dates=True)
    except NotAMoment as problem:
        problems.append(_problem(field, str(problem)))
        return None


def parse_filters(params: Mapping[str, str]) -> AuditFilters:
    """Filters from query parameters; unknown event types and bad times are errors."""
    problems: list[dict[str, str]] = []

    def text(name: str) -> str:
        return str(params.get(name) or "").strip()

    event_type = text("event_type")
    if event_type and not event_types.matching(event_type):
        problems.append(_problem("event_type", f"unknown event type {event_type!r}; see docs/audit-events.md"))

    execution = None
    raw_execution = text("execution")
    if raw_execution:
        try:
            execution = uuid.UUID(raw_execution)
        except ValueError:
            problems.append(_problem("execution", "not an execution id (a UUID)"))

    since = _parse_time(text("since"), "since", problems)
    until = _parse_time(text("until"), "until", problems)
    if since and until and since > until:
        problems.append(_problem("since", "since is after until"))

    if problems:
        summary = "; ".join(f"{item['field']}: {item['message']}" for item in problems)
        raise ValidationFailed(f"Invalid audit filters: {summary}.", details=problems)
    return AuditFilters(
        actor=text("actor"),
        event_type=event_type,
        execution=execution,
        target_type=text("target_type"),
        target_id=text("target_id"),
        since=since,
        until=until,
    )
