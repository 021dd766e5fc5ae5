"""Who acts, and from where: the two typed values every service takes instead of a request.

Adapters (API views, web views, admin actions, Celery tasks, Channels
consumers, management commands) build an `Actor` and an `Origin` and pass
them down; services and the audit log read only these. No HTTP request
travels into a service.

Pure Python: the user is whatever object the adapter authenticated (a Django
user at run time), read through a few attributes only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """How an action reached Symphony."""

    WEB = "web"
    API = "api"
    ADMIN = "admin"
    TASK = "task"
    WEBSOCKET = "websocket"
    COMMAND = "command"


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in user, the system under a name ("reaper", "scheduler", …), or nobody.

    Nobody (`Actor.anonymous()`) is a person at a form who is not signed in,
    e.g. a failed login.
    """

    user: Any = None
    system_name: str = ""

    @classmethod
    def of(cls, user: Any) -> Actor:
        """The actor for an authenticated user; anonymous for None or an anonymous user."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls()
        return cls(user=user)

    @classmethod
    def system(cls, name: str) -> Actor:
        if not name:
            raise ValueError("A system actor needs a name, e.g. 'reaper' or 'scheduler'.")
        return cls(system_name=name)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls()

    @property
    def is_user(self) -> bool:
        return self.user is not None

    @property
    def is_system(self) -> bool:
        return bool(self.system_name)

    @property
    def user_id(self) -> Any:
        return getattr(self.user, "pk", None)

    @property
    def name(self) -> str:
        """The user's username, the system actor's name, or "" for nobody."""
        if self.user is not None:
            return str(self.user.get_username())
        return self.system_name


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an action came from: the channel, and for people the address and client."""

    channel: Channel
    ip_address: str | None = None
    user_agent: str = ""
    token_id: str | None = None
    token_name: str = ""
    # The HTTP request that made the action (its X-Request-ID), recorded in audit details.
    request_id: str = ""
    # A bulk operation this action is one change of (executions/services/bulk.py): every audit
    # entry of that operation names it, so one operation's changes are found together.
    bulk_operation: str = ""

    @classmethod
    def task(cls, request_id: str = "") -> Origin:
        return cls(channel=Channel.TASK, request_id=request_id)

    @classmethod
    def command(cls) -> Origin:
        return cls(channel=Channel.COMMAND)

    @property
    def by_token(self) -> bool:
        return self.token_id is not None


SYSTEM_ORIGIN = Origin(channel=Channel.TASK)

# Channels through which a person reaches Symphony (as opposed to a task or a command).
PERSON_CHANNELS = frozenset({Channel.WEB, Channel.API, Channel.ADMIN, Channel.WEBSOCKET})


def normalize_ip(raw: str | None) -> str | None:
    """The address in PostgreSQL's `host(inet)` text form, or None when absent or invalid."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.compressed
