"""The team services asked directly: the checks they make themselves, beneath any view."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from symphony_site.actors import Actor, Channel, Origin
from symphony_site.api.errors import NotFound, ValidationFailed
from teams.models import ApiToken, Team
from teams.services import team_create, team_update, token_create, token_revoke
from tests.conftest import make_user

ORIGIN = Origin(channel=Channel.API)


def team_entries(team: Team) -> list[tuple]:
    return list(AuditEntry.objects.filter(team=team).order_by("sequence").values_list("event_type", "details"))


def test_names_that_slugify_alike_get_numbered_slugs_from_two(db) -> None:
    owner = Actor.of(make_user("founder"))
    teams = [team_create(actor=owner, origin=ORIGIN, name=name) for name in ("Data Team", "Data-Team", "data team!")]
    assert [team.slug for team in teams] == ["data-team", "data-team-2", "data-team-3"]


def test_a_long_name_is_slugged_to_eighty_characters_before_its_number(db) -> None:
    owner = Actor.of(make_user("founder"))
    name = "Sequencing " + "x" * 89
    first = team_create(actor=owner, origin=ORIGIN, name=name)
    second = team_create(actor=owner, origin=ORIGIN, name=name[:-1] + "!")
    assert first.slug == "sequencing-" + "x" * 69
    assert second.slug == first.slug + "-2"


def test_a_rename_is_saved_and_audited_and_the_same_name_again_changes_nothing(db) -> None:
    owner = Actor.of(make_user("founder"))
    team = team_create(actor=owner, origin=ORIGIN, name="Lab")
    team_update(actor=owner, origin=ORIGIN, team=team, name="  Wet   Lab ")
    team.refresh_from_db()
    assert team.name == "Wet Lab"
    team_update(actor=owner, origin=ORIGIN, team=team, name="Wet Lab")
    assert Team.objects.get(pk=team.pk).name == "Wet Lab"
    # A name that sorts before the old one is a change too.
    team_update(actor=owner, origin=ORIGIN, team=team, name="Annex")
    assert Team.objects.get(pk=team.pk).name == "Annex"
    assert team_entries(team) == [
        ("team.created", {"name": "Lab"}),
        ("team.updated", {"changes": {"name": ["Lab", "Wet Lab"]}}),
        ("team.updated", {"changes": {"name": ["Wet Lab", "Annex"]}}),
    ]


@pytest.mark.parametrize("owner_first", [True, False], ids=["owner-has-the-lower-id", "owner-has-the-higher-id"])
def test_nobody_revokes_another_users_token(db, owner_first) -> None:
    first, second = make_user("first"), make_user("second")
    owner, intruder = (first, second) if owner_first else (second, first)
    token, _ = token_create(actor=Actor.of(owner), origin=ORIGIN, name="ci")
    before = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        token_revoke(actor=Actor.of(intruder), origin=ORIGIN, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert AuditEntry.objects.count() == before
    assert not AuditEntry.objects.filter(event_type="auth.token_revoked").exists()


def test_a_token_name_is_one_to_a_hundred_characters(db) -> None:
    user = make_user("builder")
    longest, _ = token_create(actor=Actor.of(user), origin=ORIGIN, name="t" * 100)
    assert longest.name == "t" * 100
    for name in ("t" * 101, "   "):
        with pytest.raises(ValidationFailed):
            token_create(actor=Actor.of(user), origin=ORIGIN, name=name)
    assert list(ApiToken.objects.filter(user=user).values_list("name", flat=True)) == ["t" * 100]
    assert list(AuditEntry.objects.filter(event_type="auth.token_created").values_list("target_name", flat=True)) \
        == ["t" * 100]
