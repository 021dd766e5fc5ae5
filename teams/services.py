"""Every write to teams, memberships and tokens: one function each.

Each checks permission, validates, writes in one transaction and appends the
audit entry inside that same transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.services import record_event
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, Forbidden, NotFound, ValidationFailed
from teams.access import forget_roles, require_role
from teams.authentication import digest_key, generate_key
from teams.models import ApiToken, Membership, Team
from teams.roles import Role

User = get_user_model()


def _unique_slug(name: str) -> str:
    base = slugify(name)[:80] or "team"
    slug, counter = base, 2
    while Team.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationFailed("A team needs a name.", details=[{"field": "name", "message": "required", "code": "required"}])
    if len(cleaned) > 100:
        raise ValidationFailed(
            "Team names are at most 100 characters.",
            details=[{"field": "name", "message": "at most 100 characters", "code": "max_length"}],
        )
    return cleaned


def _signed_in(actor: Actor, *, action: str) -> Any:
    """The acting user; teams and tokens belong to people, never to the system or to nobody."""
    if not actor.is_user:
        raise Forbidden(f"Only a signed-in user can {action}.")
    return actor.user


def team_create(*, actor: Actor, origin: Origin, name: str, description: str = "") -> Team:
    """Create a team; its creator becomes its owner."""
    user = _signed_in(actor, action="create a team")
    name = _clean_name(name)
    if Team.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A team named {name!r} already exists; choose another name.")
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=_unique_slug(name), description=description)
            Membership.objects.create(team=team, user=user, role=Role.OWNER)
            record_event(team=team, actor=actor, origin=origin, event_type="team.created", target=team,
                         details={"name": name})
    except IntegrityError:
        raise Conflict(f"A team named {name!r} already exists; choose another name.") from None
    forget_roles(user)
    return team


def team_update(*, actor: Actor, origin: Origin, team: Team, name: str | None = None,
                description: str | None = None) -> Team:
    require_role(actor.user, team, Role.ADMIN, action="change the team's settings")
    changes: dict[str, list[str]] = {}
    if name is not None:
        name = _clean_name(name)
        if name != team.name:
            if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
                raise Conflict(f"A team named {name!r} already exists; choose another name.")
            changes["name"] = [team.name, name]
            team.name = name
    if description is not None and description != team.description:
        changes["description"] = [team.description, description]
        team.description = description
    if not changes:
        return team
    try:
        with transaction.atomic():
            team.save(update_fields=["name", "description", "updated_at"])
            record_event(team=team, actor=actor, origin=origin, event_type="team.updated", target=team,
                         details={"changes": changes})
    except IntegrityError:
        raise Conflict(f"A team named {name!r} already exists; choose another name.") from None
    return team


def _check_can_manage(actor: Actor, team: Team, *, current: Role | None, new: Role | None) -> None:
    """Admins manage members below admin; only owners touch owners and admins."""
    actor_role = require_role(actor.user, team, Role.ADMIN, action="manage members")
    if actor_role is Role.OWNER:
        return
    for role in (current, new):
        if role is not None and role.includes(Role.ADMIN):
            raise Forbidden(
                "Only an owner can grant, change or remove the owner and admin roles.",
                details=[{"required_role": Role.OWNER.value, "your_role": actor_role.value}],
            )


def _owner_count(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in sorted(Role, key=lambda r: -r.rank))
        raise ValidationFailed(
            f"Unknown role {role!r}; use one of: {allowed}.",
            details=[{"field": "role", "message": f"one of {allowed}", "code": "invalid_choice"}],
        ) from None


def member_add(*, actor: Actor, origin: Origin, team: Team, user: Any, role: str) -> Membership:
    new_role = _parse_role(role)
    _check_can_manage(actor, team, current=None, new=new_role)
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(f"{user.username} is already a member of {team.name}; change their role instead.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=user, role=new_role)
            record_event(team=team, actor=actor, origin=origin, event_type="member.added", target=user,
                         target_type="user", details={"role": new_role.value})
    except IntegrityError:
        raise Conflict(f"{user.username} is already a member of {team.name}.") from None
    forget_roles(user)
    return membership


def _membership(team: Team, user: Any) -> Membership:
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    if membership is None:
        raise NotFound("Member not found.")
    return membership


def member_change_role(*, actor: Actor, origin: Origin, team: Team, user: Any, role: str) -> Membership:
    new_role = _parse_role(role)
    with transaction.atomic():
        # Lock the team's owner rows so two demotions cannot both pass the last-owner check.
        list(Membership.objects.select_for_update().filter(team=team, role=Role.OWNER))
        membership = _membership(team, user)
        current = membership.role_enum
        _check_can_manage(actor, team, current=current, new=new_role)
        if current is new_role:
            return membership
        if current is Role.OWNER and _owner_count(team) == 1:
            raise Conflict("A team needs at least one owner: make someone else owner first.")
        membership.role = new_role
        membership.save(update_fields=["role"])
        record_event(team=team, actor=actor, origin=origin, event_type="member.role_changed", target=user,
                     target_type="user", details={"from": current.value, "to": new_role.value})
    forget_roles(user)
    return membership


def member_remove(*, actor: Actor, origin: Origin, team: Team, user: Any) -> None:
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(team=team, role=Role.OWNER))
        membership = _membership(team, user)
        current = membership.role_enum
        leaving = actor.is_user and actor.user_id == user.pk
        if leaving:
            require_role(actor.user, team, Role.VIEWER)
        else:
            _check_can_manage(actor, team, current=current, new=None)
        if current is Role.OWNER and _owner_count(team) == 1:
            raise Conflict("A team needs at least one owner: make someone else owner first.")
        membership.delete()
        record_event(team=team, actor=actor, origin=origin, event_type="member.removed", target=user,
                     target_type="user", details={"role": current.value, "left": leaving})
    forget_roles(user)


def token_create(*, actor: Actor, origin: Origin, name: str) -> tuple[ApiToken, str]:
    """A new personal API token; the key is returned once and only its digest is kept."""
    user = _signed_in(actor, action="create an API token")
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationFailed(
            "A token needs a name of 1 to 100 characters, e.g. 'ci' or 'laptop'.",
            details=[{"field": "name", "message": "1 to 100 characters", "code": "invalid"}],
        )
    if ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        raise Conflict(f"You already have an active token named {name!r}; revoke it or pick another name.")
    key = generate_key()
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_digest=digest_key(key))
            record_event(team=None, actor=actor, origin=origin, event_type="auth.token_created", target=token,
                         target_type="api_token", target_name=name)
    except IntegrityError:
        raise Conflict(f"You already have an active token named {name!r}.") from None
    return token, key


def token_revoke(*, actor: Actor, origin: Origin, token: ApiToken) -> ApiToken:
    if not actor.is_user or token.user_id != actor.user_id:
        raise NotFound("Token not found.")
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if not updated:
            raise Conflict("This token is already revoked.")
        record_event(team=None, actor=actor, origin=origin, event_type="auth.token_revoked", target=token,
                     target_type="api_token", target_name=token.name)
    token.refresh_from_db()
    return token


def login_succeeded(*, actor: Actor, origin: Origin, method: str = "password") -> None:
    """Record a sign-in; `actor` is the user who just signed in."""
    record_event(team=None, actor=actor, origin=origin, event_type="auth.login", target=actor.user,
                 target_type="user", details={"method": method})


def login_failed(*, actor: Actor, origin: Origin, username: str, method: str = "password") -> None:
    """Record a refused sign-in as `username`; `actor` is nobody (or whoever was signed in)."""
    user = User.objects.filter(username=username).first()
    record_event(team=None, actor=actor, origin=origin, event_type="auth.login_failed",
                 target=user, target_type="user", target_id=str(user.pk) if user else "",
                 target_name=username[:150], details={"method": method})


def logged_out(*, actor: Actor, origin: Origin) -> None:
    record_event(team=None, actor=actor, origin=origin, event_type="auth.logout", target=actor.user,
                 target_type="user")
