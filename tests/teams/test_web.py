"""The web UI shell: sign-in, navigation, team switching, members and tokens pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from teams.management.commands.seed_demo import DEMO_PASSWORD
from teams.models import ApiToken, Membership, Team
from tests.conftest import PASSWORD


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_pages_redirect_to_login(db) -> None:
    for path in ["/", "/team/", "/workflows/", "/templates/", "/executions/", "/audit/"]:
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next="), path


def test_login_page_and_wrong_password(personas) -> None:
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "alpha-owner", "password": "wrong"})
    assert response.status_code == 200
    assert "Your username and password didn't match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_then_home_says_what_the_team_has_and_what_to_do(personas) -> None:
    client = Client()
    response = client.post("/login/", {"username": "alpha-viewer", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    for label in ["Workflows", "Templates", "Executions", "Audit"]:
        assert f">{label}</a>" in html
    assert ">Admin</a>" not in html  # not staff
    assert '<span class="count">0</span> workflows' in html
    assert '<span class="count">5</span> members' in html
    # A viewer is told who can start, never to run a command.
    assert "An editor of the team can create one from a" in html
    assert "manage.py" not in html
    editor_html = logged_in(personas.users["editor"]).get("/").content.decode()
    assert "Start from a template." in editor_html and 'href="/workflows/new/"' in editor_html


def test_staff_sees_admin_link(personas) -> None:
    user = personas.users["owner"]
    user.is_staff = True
    user.save()
    assert ">Admin</a>" in logged_in(user).get("/workflows/").content.decode()


def test_user_without_team_is_invited_to_create_one(db) -> None:
    from tests.conftest import make_user

    loner = make_user("loner")
    client = logged_in(loner)
    page = client.get("/")
    assert page.status_code == 200
    assert "You are not a member of any team yet" in page.content.decode()
    created = client.post("/team/new/", {"name": "Loners"})
    assert created.status_code == 302
    assert list(Membership.objects.filter(user=loner).values_list("team__name", "role")) == [("Loners", "owner")]


def test_team_switch_only_to_own_teams(personas) -> None:
    owner = personas.users["owner"]
    Membership.objects.create(team=personas.other_team, user=owner, role="viewer")
    client = logged_in(owner)
    assert client.post("/team/switch/", {"team": str(personas.other_team.pk)}).status_code == 302
    assert client.session["current_team_id"] == str(personas.other_team.pk)
    assert "Beta" in client.get("/team/").content.decode()

    outsider = logged_in(personas.users["outsider"])
    response = outsider.post("/team/switch/", {"team": str(personas.team.pk)})
    assert response.status_code == 404
    assert "current_team_id" not in outsider.session
    assert outsider.get("/team/switch/").status_code == 405


def test_viewer_cannot_manage_members_from_the_page(personas) -> None:
    client = logged_in(personas.users["viewer"])
    page = client.get("/team/").content.decode()
    assert "Add a member" not in page
    before = sorted(Membership.objects.values_list("user__username", "role"))
    response = client.post("/team/", {"action": "change_role", "user_id": personas.users["editor"].pk,
                                       "role": "owner"}, follow=True)
    assert "you need admin or higher" in response.content.decode()
    assert sorted(Membership.objects.values_list("user__username", "role")) == before


def test_admin_adds_member_and_creates_and_revokes_token(personas) -> None:
    from tests.conftest import make_user

    make_user("newbie")
    client = logged_in(personas.users["admin"])
    client.post("/team/", {"action": "add_member", "username": "newbie", "role": "operator"})
    assert Membership.objects.get(user__username="newbie").role == "operator"

    page = client.post("/team/", {"action": "create_token", "name": "ci"}, follow=True).content.decode()
    token = ApiToken.objects.get(user=personas.users["admin"])
    assert 'id="new-token">sym_' in page
    # Shown once only.
    assert 'id="new-token"' not in client.get("/team/").content.decode()
    client.post("/team/", {"action": "revoke_token", "token_id": str(token.pk)})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_logout_requires_post_and_ends_session(personas) -> None:
    client = logged_in(personas.users["owner"])
    client.post("/logout/")
    assert client.get("/team/").status_code == 302


def test_unknown_page_is_a_friendly_404(personas) -> None:
    response = logged_in(personas.users["owner"]).get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn" in response.content.decode()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_with_exact_users_and_roles() -> None:
    call_command("seed_demo", allow_production=True)
    call_command("seed_demo", allow_production=True)
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Acme", "Demo"]
    assert sorted(Membership.objects.filter(team__name="Demo").values_list("user__username", "role")) == [
        ("admin", "admin"), ("editor", "editor"), ("operator", "operator"), ("owner", "owner"), ("viewer", "viewer")]
    assert list(Membership.objects.filter(team__name="Acme").values_list("user__username", "role")) == [
        ("acme-owner", "owner")]
    users = get_user_model().objects
    assert users.count() == 6
    assert users.get(username="owner").is_staff is True
    for username in ["owner", "admin", "editor", "operator", "viewer", "acme-owner"]:
        assert Client().login(username=username, password=DEMO_PASSWORD), username
