"""The benchmark generator makes chains that verify, continuing from the current head."""

from __future__ import annotations

import pytest

from audit import selectors
from audit.models import AuditEntry
from audit.services import record_event
from bench.audit.generate import load_chain
from symphony_site.actors import Actor, Origin

from .conftest import AuditPersonas


@pytest.mark.django_db
def test_generated_chain_verifies_and_appends_continue_it(people: AuditPersonas) -> None:
    record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(), event_type="team.updated")
    head = load_chain(people.team, 300, seed=7)
    assert head.sequence == 301
    assert AuditEntry.objects.filter(team=people.team).count() == 301
    assert record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(), event_type="team.updated").sequence == 302
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 302, "first_break": None}
