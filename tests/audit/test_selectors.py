"""The audit selectors asked directly: where a chain starts, and the order chains are listed in."""

from __future__ import annotations

import pytest

from audit import domain, selectors
from audit.services import record_event
from symphony_site.actors import Actor, Origin
from teams.models import Team

SYSTEM = Actor.system("retention")


@pytest.mark.parametrize("details", [
    {"last_sequence": None, "last_hash": "ab" * 32},
    {"last_sequence": [3], "last_hash": "ab" * 32},
    {"last_sequence": "three", "last_hash": "ab" * 32},
    {"last_sequence": 3},
], ids=["sequence-none", "sequence-a-list", "sequence-not-a-number", "no-hash"])
def test_a_checkpoint_prune_chain_did_not_write_starts_the_chain_at_its_origin(db, details) -> None:
    team = Team.objects.create(name="Alpha", slug="alpha")
    record_event(team=team, actor=SYSTEM, origin=Origin.command(), event_type="audit.pruned", details=details)
    assert selectors.chain_start(selectors.chain_for_team(team)) == domain.CHAIN_ORIGIN


def test_the_newest_checkpoint_prune_chain_wrote_starts_the_chain(db) -> None:
    team = Team.objects.create(name="Alpha", slug="alpha")
    for sequence, digest in ((4, "ab" * 32), (9, "cd" * 32)):
        record_event(team=team, actor=SYSTEM, origin=Origin.command(), event_type="audit.pruned",
                     details={"last_sequence": sequence, "last_hash": digest})
    assert selectors.chain_start(selectors.chain_for_team(team)) == domain.ChainPoint(9, "cd" * 32)


def test_chains_are_listed_platform_first_then_teams_by_name(db) -> None:
    for name in ("Zeta", "Alpha", "Mu"):
        team = Team.objects.create(name=name, slug=name.lower())
        record_event(team=team, actor=SYSTEM, origin=Origin.command(), event_type="team.created", target=team)
    record_event(team=None, actor=SYSTEM, origin=Origin.command(), event_type="auth.logout")
    assert [chain.label for chain in selectors.chains()] == ["Platform", "Alpha", "Mu", "Zeta"]


def test_anchors_name_each_chains_team_by_slug_and_the_platform_by_none(db) -> None:
    team = Team.objects.create(name="Alpha", slug="alpha")
    team_entry = record_event(team=team, actor=SYSTEM, origin=Origin.command(), event_type="team.created", target=team)
    platform_entry = record_event(team=None, actor=SYSTEM, origin=Origin.command(), event_type="auth.logout")
    assert sorted(selectors.anchors(), key=lambda anchor: anchor["team"] is None) == [
        {"chain": str(team.pk), "team": "alpha", "sequence": 1, "hash": team_entry.hash},
        {"chain": "platform", "team": None, "sequence": 1, "hash": platform_entry.hash},
    ]
