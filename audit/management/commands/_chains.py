"""Shared by the audit commands: naming a chain on the command line."""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError

from audit.models import PLATFORM_CHAIN
from audit.selectors import Chain
from teams.models import Team


def chain_from_argument(value: str) -> Chain:
    """A chain from a team slug or id, or 'platform'."""
    if value == PLATFORM_CHAIN:
        return Chain(team=None)
    team = Team.objects.filter(slug=value).first()
    if team is None:
        try:
            team = Team.objects.filter(pk=uuid.UUID(value)).first()
        except ValueError:
            team = None
    if team is None:
        raise CommandError(f"No team with slug or id {value!r}.")
    return Chain(team=team)
