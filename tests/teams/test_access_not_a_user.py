"""Access helpers given something that is not a signed-in user get nothing.

A survivor of `make test-mutation` (docs/testing.md): `_is_anonymous` read a
missing `is_authenticated` as "signed in" without any test noticing. A caller
that hands the helpers a system actor's name, or any object that is not a
Django user, must be treated as anonymous: no role, no teams, not found.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from symphony_site.api.errors import NotFound
from teams.access import access_team, require_role, team_role, teams_for_user
from teams.roles import Role


@pytest.mark.parametrize("who", ["system", 42, None], ids=["a name", "a number", "nobody"])
def test_a_non_user_has_no_role_and_no_teams(personas, who) -> None:
    assert team_role(who, personas.team) is None
    assert list(teams_for_user(who)) == []
    with pytest.raises(NotFound):
        require_role(who, personas.team, Role.VIEWER)
    with pytest.raises(NotFound):
        access_team(who, personas.team.pk)


def test_an_object_shaped_like_a_member_without_is_authenticated_is_anonymous(personas) -> None:
    # It carries the owner's primary key, yet it is not an authenticated user.
    impostor = SimpleNamespace(pk=personas.users["owner"].pk, id=personas.users["owner"].pk)
    assert team_role(impostor, personas.team) is None
    with pytest.raises(NotFound):
        access_team(impostor, personas.team.pk)
