from __future__ import annotations

from typing import Any

from rest_framework import serializers

from symphony_site.api.serializers import StrictSerializer
from teams.authentication import TEAMS_ATTRIBUTE
from teams.models import ApiToken, Membership, Team
from teams.roles import Role

ROLE_CHOICES = Role.choices()


class TeamSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    role = serializers.SerializerMethodField(help_text="Your role in this team.")
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "description", "role", "member_count", "created_at", "updated_at"]

    def get_role(self, team: Team) -> str | None:
        return getattr(team, "my_role", None)

    def get_member_count(self, team: Team) -> int:
        count = getattr(team, "member_count", None)
        return count if count is not None else team.memberships.count()


class TeamCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TeamUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class MemberSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    user_id = serializers.IntegerField(source="user.id")
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Membership
        fields = ["user_id", "username", "email", "role", "joined_at"]


class MemberAddSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False)


class TokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)


class ApiTokenSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "active"]


class NewTokenSerializer(ApiTokenSerializer):
    token = serializers.SerializerMethodField(help_text="The key. Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]

    def get_token(self, token: ApiToken) -> str:
        return str(self.context["key"])


class MeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()
    is_staff = serializers.BooleanField()
    teams = serializers.SerializerMethodField()

    def get_teams(self, user: Any) -> list[dict[str, Any]]:
        return _teams_of(user)


def _teams_of(user: Any) -> list[dict[str, Any]]:
    # A token request read them with the token (MeView.token_reads_teams, teams/authentication.py).
    read_with_token = user.__dict__.get(TEAMS_ATTRIBUTE)
    if read_with_token is not None:
        return read_with_token  # type: ignore[no-any-return]
    return [
        {"id": str(m.team_id), "name": m.team.name, "role": m.role}
        for m in user.memberships.select_related("team").order_by("team__name")
    ]


def me(user: Any) -> dict[str, Any]:
    """What MeSerializer gives for `user`, without building the serializer: DRF deep-copies a
    serializer's declared fields for each instance, ≈ 170 Python calls of `/me/`'s, every
    client's first request (docs/operations.md, "Seventh session"). MeSerializer still describes
    the answer in the schema; tests/teams/test_api.py compares the two for token and session
    requests."""
    return {"id": int(user.id), "username": str(user.username), "email": str(user.email),
            "is_staff": bool(user.is_staff), "teams": _teams_of(user)}
