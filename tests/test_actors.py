"""Actors and origins: built by adapters from a request or a WebSocket scope, read by the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from audit.models import AuditEntry
from audit.services import record_event
from symphony_site.actors import Actor, Channel, Origin, normalize_ip
from symphony_site.origins import (
    actor_from_request,
    actor_from_scope,
    api_origin,
    origin_from_request,
    origin_from_scope,
    web_origin,
)
from teams.authentication import digest_key
from teams.models import ApiToken
from tests.conftest import Personas


def test_actor_kinds() -> None:
    assert Actor.system("reaper").name == "reaper"
    assert (Actor.system("reaper").is_system, Actor.system("reaper").is_user) == (True, False)
    assert (Actor.anonymous().name, Actor.anonymous().user_id, Actor.anonymous().is_system) == ("", None, False)
    with pytest.raises(ValueError, match="needs a name"):
        Actor.system("")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("192.0.2.7", "192.0.2.7", id="ipv4"),
        pytest.param(" 2001:db8:0:0::1 ", "2001:db8::1", id="ipv6-compressed"),
        pytest.param("::ffff:192.0.2.7", "192.0.2.7", id="ipv4-mapped"),
        pytest.param("not-an-address", None, id="invalid"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_normalize_ip(raw: str | None, expected: str | None) -> None:
    assert normalize_ip(raw) == expected


@pytest.mark.django_db
def test_origin_from_request_reads_address_agent_and_token(personas: Personas, settings: Any) -> None:
    owner = personas.users["owner"]
    token = ApiToken.objects.create(user=owner, name="ci", prefix="sym_abcd", key_digest=digest_key("sym_x"))
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="curl/8",
                                   HTTP_X_FORWARDED_FOR="203.0.113.9")
    request.user = owner
    request.auth = token
    assert api_origin(request) == Origin(channel=Channel.API, ip_address="10.0.0.1", user_agent="curl/8",
                                         token_id=str(token.pk), token_name="ci")
    assert actor_from_request(request) == Actor(user=owner)

    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    request.auth = None
    assert web_origin(request) == Origin(channel=Channel.WEB, ip_address="203.0.113.9", user_agent="curl/8")
    assert origin_from_request(request, channel=Channel.ADMIN).channel is Channel.ADMIN


def test_anonymous_request_is_nobody() -> None:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert actor_from_request(request) == Actor.anonymous()


def test_origin_from_scope(settings: Any) -> None:
    scope = {"client": ("::ffff:198.51.100.4", 5000), "user": None,
             "headers": [(b"user-agent", b"Mozilla/5.0"), (b"x-forwarded-for", b"203.0.113.9")]}
    assert origin_from_scope(scope) == Origin(channel=Channel.WEBSOCKET, ip_address="198.51.100.4",
                                              user_agent="Mozilla/5.0")
    assert actor_from_scope(scope) == Actor.anonymous()
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    assert origin_from_scope(scope).ip_address == "203.0.113.9"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "origin", "expected"),
    [
        pytest.param(Actor.system("reaper"), Origin.task(), (None, "reaper", "system"), id="named-system"),
        pytest.param(Actor.anonymous(), Origin(channel=Channel.WEB), (None, "", "user"), id="nobody-at-a-form"),
        pytest.param(Actor.anonymous(), Origin.command(), (None, "", "system"), id="nobody-in-a-command"),
    ],
)
def test_audit_records_the_actor_kind(personas: Personas, actor: Actor, origin: Origin,
                                      expected: tuple[Any, ...]) -> None:
    entry = record_event(team=personas.team, actor=actor, origin=origin, event_type="team.updated")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.actor_name, stored.actor_type) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [pytest.param("system", id="a-string"), pytest.param(None, id="none")])
def test_audit_refuses_anything_but_an_actor(personas: Personas, actor: Any) -> None:
    with pytest.raises(TypeError, match="takes an Actor and an Origin"):
        record_event(team=personas.team, actor=actor, origin=Origin.task(), event_type="team.updated")
    assert AuditEntry.objects.count() == 0
