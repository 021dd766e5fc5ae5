"""`Authorization: Token <key>` for the API; keys are looked up by SHA-256 digest.

The lookup is one hand-written statement — the token by its digest, joined to its
user — run on every token request. Through the ORM the same statement cost more to
build than to run (≈ 4 ms of `/me/`'s 8.6 ms in-process, docs/operations.md); this
one is composed once per process from the models' own columns, and its rows become
model instances with `Model.from_db`, as the ORM would make them. Nothing about a
token's validity is kept between requests, so a revoked token (or a deactivated
user) is refused on the very next request.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from symphony_site import prepared
from teams.models import ApiToken, Membership, Team

KEY_PREFIX = "sym_"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Where `user_for_key(..., with_teams=True)` leaves the user's teams for `/me/` (teams/api/serializers.py `me`).
TEAMS_ATTRIBUTE = "_symphony_teams"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@functools.cache
def _lookup(with_teams: bool) -> tuple[str, int, int]:
    """The statement (token columns, then user columns, then the teams' JSON when asked for)
    and how many columns each model has."""
    quote = connection.ops.quote_name
    user_model = get_user_model()
    token_columns = [f"token.{quote(field.column)}" for field in ApiToken._meta.concrete_fields]
    user_columns = [f"account.{quote(field.column)}" for field in user_model._meta.concrete_fields]
    columns = [*token_columns, *user_columns]
    if with_teams:
        # `/me/`'s teams, in the order MeSerializer gives them (by team name).
        membership, team = Membership._meta, Team._meta
        columns.append(
            "(SELECT coalesce(json_agg(json_build_object("
            f"'id', membership.{quote(membership.get_field('team').column)}, "
            f"'name', team.{quote(team.get_field('name').column)}, "
            f"'role', membership.{quote(membership.get_field('role').column)}) "
            f"ORDER BY team.{quote(team.get_field('name').column)}), '[]')::text "
            f"FROM {quote(membership.db_table)} AS membership JOIN {quote(team.db_table)} AS team "
            f"ON team.{quote(team.pk.column)} = membership.{quote(membership.get_field('team').column)} "
            f"WHERE membership.{quote(membership.get_field('user').column)} = account.{quote(user_model._meta.pk.column)})"
        )
    token = ApiToken._meta
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(token.db_table)} AS token "
        f"JOIN {quote(user_model._meta.db_table)} AS account "
        f"ON account.{quote(user_model._meta.pk.column)} = token.{quote(token.get_field('user').column)} "
        f"WHERE token.{quote(token.get_field('key_digest').column)} = %s "
        f"AND token.{quote(token.get_field('revoked_at').column)} IS NULL "
        f"AND account.{quote(user_model._meta.get_field('is_active').column)}"
    )
    return sql, len(token_columns), len(user_columns)


def user_for_key(key: str, *, with_teams: bool = False) -> tuple[Any, ApiToken] | None:
    """The active token's user (an active user), recording when it was last used (at most once
    a minute). `with_teams` reads the user's teams in the same statement, for `/me/`."""
    sql, token_count, user_count = _lookup(with_teams)
    # Prepared on the connection (symphony_site/prepared.py): PostgreSQL parses and plans the
    # lookup once per connection instead of on every request, and the rows' timestamps are read
    # by psycopg's compiled loader. Still through Django's cursor wrapper: logged and counted like
    # any statement, and its errors are Django's.
    cursor = prepared.reading()
    cursor.execute(sql, [digest_key(key)])
    row = cursor.fetchone()
    if row is None:
        return None
    user_model = get_user_model()
    token = ApiToken.from_db(connection.alias, [f.attname for f in ApiToken._meta.concrete_fields],
                             row[:token_count])
    user = user_model.from_db(connection.alias, [f.attname for f in user_model._meta.concrete_fields],
                              row[token_count:token_count + user_count])
    token.user = user
    if with_teams:
        user.__dict__[TEAMS_ATTRIBUTE] = json.loads(row[-1])
    now = timezone.now()
    # A write on every request would turn each read into a row update (and a WAL record, and a
    # lock on the token's row that concurrent requests queue behind); the column only needs
    # to say roughly when the token was last used. The UPDATE is conditional, so of several
    # processes crossing the minute at once only the first writes.
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return user, token


# A view with this attribute set (MeView) has the token's statement read the user's teams too.
READS_TEAMS_ATTRIBUTE = "token_reads_teams"


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use the header form 'Authorization: Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from None
        view = (getattr(request, "parser_context", None) or {}).get("view")
        found = user_for_key(key, with_teams=bool(getattr(view, READS_TEAMS_ATTRIBUTE, False)))
        if found is None:
            raise exceptions.AuthenticationFailed("The token is invalid or has been revoked.")
        return found

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes `Authorization: Token <key>` in the OpenAPI schema."""

    target_class = "teams.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`; create keys at POST /api/v1/auth/token/."}
