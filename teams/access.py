"""Access helpers: the only way a user reaches a team or a team's object.

Another team's object, or one that does not exist, is "not found"; a member
whose role is too low gets "permission denied". Every later app builds its
own `access_*` helpers on `team_role` and `require_role`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model, OuterRef, QuerySet, Subquery

from symphony_site.api import statements
from symphony_site.api.errors import Forbidden, NotFound
from symphony_site.api.statements import Table
from teams.models import Membership, Team
from teams.roles import Role

M = TypeVar("M", bound=Model)


def _is_anonymous(user: Any) -> bool:
    return user is None or not getattr(user, "is_authenticated", False)


def teams_for_user(user: Any) -> QuerySet[Team]:
    """The teams `user` is a member of."""
    if _is_anonymous(user):
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def team_role(user: Any, team: Team | Any) -> Role | None:
    """The user's role in `team` (an instance or its id), or None for non-members."""
    if _is_anonymous(user):
        return None
    team_id = team.pk if isinstance(team, Team) else team
    cache: dict[Any, Role | None] = user.__dict__.setdefault("_symphony_roles", {})
    key = str(team_id)
    if key not in cache:
        role = (
            Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
        )
        cache[key] = Role(role) if role else None
    return cache[key]


def forget_roles(user: Any) -> None:
    """Drop the per-request role cache after a membership change."""
    if user is not None:
        user.__dict__.pop("_symphony_roles", None)


def has_role(user: Any, team: Team | Any, minimum: Role) -> bool:
    """Whether the user's role in `team` (an instance or its id) is `minimum` or higher."""
    role = team_role(user, team)
    return role is not None and role.includes(minimum)


def teams_with_role(user: Any, minimum: Role) -> QuerySet[Team]:
    """The teams where the user's role is `minimum` or higher, by name."""
    roles = [role.value for role in Role if role.includes(minimum)]
    return (teams_for_user(user).filter(memberships__user=user, memberships__role__in=roles)
            .order_by("name").distinct())


def require_role(user: Any, team: Team, minimum: Role, *, action: str = "do this") -> Role:
    """The user's role in `team`, or an error: not found for outsiders, forbidden when too low."""
    role = team_role(user, team)
    if role is None:
        raise NotFound("Team not found.")
    if not role.includes(minimum):
        raise Forbidden(
            f"Your role in {team.name} is {role.value}; to {action} you need {minimum.value} or higher.",
            details=[{"required_role": minimum.value, "your_role": role.value}],
        )
    return role


def role_subquery(team_column: str) -> str:
    """SQL for the user's role (the `%(user)s` parameter) in the team `team_column` names: NULL
    for no membership. The composed read statements' team check (`_team_statement` and the API's
    detail statements, symphony_site/api/statements.py): no role, no row."""
    membership = Table(Membership, "membership")
    return (f"(SELECT {membership('role')} FROM {membership.sql} WHERE {membership('team')} = {team_column} "
            f"AND {membership('user')} = %(user)s LIMIT 1)")


def in_team(statement: str, ordering: Sequence[str]) -> str:
    """A list page's `statement` (symphony_site/api/statements.py, `page`) answered only when the
    user (`%(user)s`) is a member of the team (`%(team)s`), in the same round trip as the page: no
    row at all for a team the user is not in (or none), one row of NULLs for an empty page of their
    own team; `statements.page` answers the first 404, "Team not found.", as `access_team` does.
    Any role may read a list, so the check is the membership row; `access_team` read the team and
    the role in a statement of its own first (docs/operations.md, "Eighth session")."""
    membership = Table(Membership, "access")
    columns = {field.lstrip("-"): f"page.order_{index}" for index, field in enumerate(ordering)}
    return (f"SELECT page.* FROM {membership.sql} LEFT JOIN LATERAL ({statement}) AS page ON TRUE "
            f"WHERE {membership('team')} = %(team)s AND {membership('user')} = %(user)s "
            f"ORDER BY {statements.order_by(ordering, columns)}")


def team_key(team_id: str) -> uuid.UUID:
    """A team's id from a query parameter, as UUIDField reads it: anything else is no team (404,
    "Team not found.", as `access_team` answers)."""
    try:
        return uuid.UUID(team_id)
    except ValueError:
        raise NotFound("Team not found.") from None


@functools.cache
def _team_statement() -> tuple[str, list[str]]:
    """A team by id and the user's role in it (`_with_role`'s subquery), composed once per process
    (symphony_site/api/statements.py): the ORM compiled it on every request that names a team.
    Also the model's attribute names, for `Team.from_db`."""
    team = Table(Team, "team")
    fields = Team._meta.concrete_fields
    columns = ", ".join(f"team.{connection.ops.quote_name(field.column)}" for field in fields)
    sql = f"SELECT {columns}, {role_subquery(team('id'))} FROM {team.sql} WHERE {team('id')} = %(id)s"
    return sql, [field.attname for field in fields]


def access_team(user: Any, team_id: Any, minimum: Role = Role.VIEWER, *, action: str = "do this") -> Team:
    """Fetch a team the user belongs to with at least `minimum` role."""
    if isinstance(team_id, str | uuid.UUID) and not _is_anonymous(user):
        try:  # as UUIDField reads it: anything else is no team
            key = team_id if isinstance(team_id, uuid.UUID) else uuid.UUID(team_id)
        except ValueError:
            raise NotFound("Team not found.") from None
        sql, attributes = _team_statement()
        found = statements.rows(sql, {"user": user.pk, "id": key})
        if not found:
            raise NotFound("Team not found.")
        team = Team.from_db(connection.alias, attributes, found[0][:-1])
        setattr(team, ROLE_ANNOTATION, found[0][-1])
    else:
        try:
            team = _with_role(Team.objects.all(), user, "pk").get(pk=team_id)
        except (Team.DoesNotExist, ValueError, TypeError, ValidationError):
            raise NotFound("Team not found.") from None
    _remember_role(user, team.pk, team)
    require_role(user, team, minimum, action=action)
    return team


# The user's role in the fetched row's team, read in the row's own statement (a second query per
# request otherwise); `_remember_role` puts it where `team_role` looks first.
ROLE_ANNOTATION = "_symphony_team_role"


def _with_role(queryset: QuerySet[M], user: Any, team_field: str) -> QuerySet[M]:
    if _is_anonymous(user):
        return queryset
    # No ordering: a user has one membership per team (membership_unique), and Membership's
    # default ordering joined the team and the user into the subquery of every access check.
    role = Membership.objects.filter(team=OuterRef(team_field), user=user).order_by().values("role")[:1]
    return queryset.annotate(**{ROLE_ANNOTATION: Subquery(role)})


def _remember_role(user: Any, team_id: Any, row: Any) -> None:
    if _is_anonymous(user) or not hasattr(row, ROLE_ANNOTATION):
        return
    role = getattr(row, ROLE_ANNOTATION)
    cache: dict[Any, Role | None] = user.__dict__.setdefault("_symphony_roles", {})
    cache[str(team_id)] = Role(role) if role else None


def scoped(queryset: QuerySet[M], user: Any, *, team_field: str = "team") -> QuerySet[M]:
    """Restrict `queryset` to rows of teams `user` belongs to."""
    if _is_anonymous(user):
        return queryset.none()
    return queryset.filter(**{f"{team_field}__memberships__user": user})


def access_object(
    queryset: QuerySet[M],
    user: Any,
    pk: Any,
    minimum: Role = Role.VIEWER,
    *,
    team_field: str = "team",
    action: str = "do this",
    label: str = "Object",
) -> M:
    """Fetch one team-owned object: not found unless the user is in its team; forbidden below `minimum`."""
    # The user's role in the row's team, read by the row's statement, is also what keeps other
    # teams out: no role, no row (a membership join as well made PostgreSQL plan a statement
    # with two more tables on every request; docs/operations.md, "Sixth session").
    rows = (queryset.none() if _is_anonymous(user) else
            _with_role(queryset, user, team_field).filter(**{f"{ROLE_ANNOTATION}__isnull": False}))
    try:
        obj = rows.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(f"{label} not found.") from None
    team = getattr(obj, team_field)
    _remember_role(user, team.pk, obj)
    require_role(user, team, minimum, action=action)
    return obj
