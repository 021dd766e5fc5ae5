"""The access helpers, for every persona: owner, each role, outsider and anonymous."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from symphony_site.api.errors import Forbidden, NotFound
from teams.access import access_object, access_team, scoped, team_role, teams_for_user
from teams.models import Membership, Team
from teams.roles import Role

ALL_ROLES = [Role.OWNER, Role.ADMIN, Role.EDITOR, Role.OPERATOR, Role.VIEWER]


def test_role_order_each_includes_those_below() -> None:
    assert [role.rank for role in ALL_ROLES] == [4, 3, 2, 1, 0]
    for higher_index, higher in enumerate(ALL_ROLES):
        for lower_index, lower in enumerate(ALL_ROLES):
            assert higher.includes(lower) is (higher_index <= lower_index)


@pytest.mark.parametrize("who", ["owner", "admin", "editor", "operator", "viewer"])
@pytest.mark.parametrize("minimum", ALL_ROLES, ids=lambda r: f"needs-{r.value}")
def test_access_team_for_each_member_role(personas, who, minimum) -> None:
    user = personas.users[who]
    if Role(who).includes(minimum):
        assert access_team(user, personas.team.pk, minimum) == personas.team
    else:
        with pytest.raises(Forbidden) as raised:
            access_team(user, personas.team.pk, minimum, action="edit workflows")
        assert raised.value.status_code == 403
        assert raised.value.details == [{"required_role": minimum.value, "your_role": who}]
        assert f"you need {minimum.value} or higher" in raised.value.message


@pytest.mark.parametrize("minimum", ALL_ROLES, ids=lambda r: f"needs-{r.value}")
def test_outsider_gets_not_found_never_forbidden(personas, minimum) -> None:
    with pytest.raises(NotFound) as raised:
        access_team(personas.users["outsider"], personas.team.pk, minimum)
    assert raised.value.status_code == 404
    assert raised.value.message == "Team not found."


@pytest.mark.parametrize("user", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_anonymous_reaches_nothing(personas, user) -> None:
    with pytest.raises(NotFound):
        access_team(user, personas.team.pk)
    assert list(teams_for_user(user)) == []
    assert team_role(user, personas.team) is None
    assert list(scoped(Membership.objects.all(), user)) == []


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", None, 42, "00000000-0000-4000-8000-000000000000"])
def test_missing_or_malformed_team_ids_are_not_found(personas, bad_id) -> None:
    with pytest.raises(NotFound):
        access_team(personas.users["owner"], bad_id)


def test_teams_for_user_lists_only_own_teams(personas) -> None:
    assert list(teams_for_user(personas.users["viewer"])) == [personas.team]
    assert list(teams_for_user(personas.users["outsider"])) == [personas.other_team]


def test_scoped_queryset_filters_by_membership(personas) -> None:
    owner_rows = scoped(Membership.objects.all(), personas.users["owner"])
    assert sorted(m.user.username for m in owner_rows) == sorted(
        f"alpha-{role}" for role in ["owner", "admin", "editor", "operator", "viewer"]
    )
    outsider_rows = scoped(Membership.objects.all(), personas.users["outsider"])
    assert [m.user.username for m in outsider_rows] == ["beta-owner"]


def test_access_object_not_found_across_teams_and_forbidden_below_role(personas) -> None:
    beta_membership = Membership.objects.get(team=personas.other_team)
    with pytest.raises(NotFound) as raised:
        access_object(Membership.objects.all(), personas.users["owner"], beta_membership.pk,
                      label="Membership")
    assert raised.value.message == "Membership not found."
    viewer_row = Membership.objects.get(user=personas.users["viewer"])
    assert access_object(Membership.objects.all(), personas.users["viewer"], viewer_row.pk) == viewer_row
    with pytest.raises(Forbidden):
        access_object(Membership.objects.all(), personas.users["viewer"], viewer_row.pk, Role.EDITOR)


def test_role_cache_is_per_user_and_forgettable(personas) -> None:
    from teams.access import forget_roles

    viewer = personas.users["viewer"]
    assert team_role(viewer, personas.team) is Role.VIEWER
    Membership.objects.filter(user=viewer).update(role=Role.EDITOR)
    assert team_role(viewer, personas.team) is Role.VIEWER  # cached for the request
    forget_roles(viewer)
    assert team_role(viewer, personas.team) is Role.EDITOR
    assert Team.objects.count() == 2
