"""A team always keeps an owner, even when its two owners step down at the same moment.

Two real threads, each with its own PostgreSQL connection, send
`PATCH /api/v1/teams/{id}/members/{self}/ {"role": "admin"}` at once.
Exactly one may succeed. Removing the owner-row lock in
`teams/services.py` once went unnoticed (issue 10); this test fails then.

Why the interleaving is forced rather than hoped for: both requests would
usually finish one after the other by chance. A third connection holds the
lock on the team's audit chain head, which every audited write takes just
before it commits (after its checks). Without the owner-row lock both
demotions pass the "last owner?" check and then wait there; with it, the
second waits on the owner rows instead, before its check. The test waits
until both are blocked on a lock, then releases the chain head.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from audit.models import AuditChainHead, AuditEntry
from teams.models import Membership
from teams.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return int(cursor.fetchone()[0])


def test_two_owners_stepping_down_at_once_leave_exactly_one_owner(personas) -> None:
    team = personas.team
    first, second = personas.users["owner"], personas.users["admin"]
    # Promote the admin through the API: the team now has two owners and an audit chain head.
    promoted = personas.client("owner").patch(f"/api/v1/teams/{team.pk}/members/{second.pk}/",
                                              {"role": "owner"}, format="json")
    assert promoted.status_code == 200
    assert AuditChainHead.objects.filter(chain=str(team.pk)).exists()
    changes_before = AuditEntry.objects.filter(event_type="member.role_changed").count()

    chain_locked, release = threading.Event(), threading.Event()
    statuses: dict[str, int] = {}
    failures: list[BaseException] = []

    def hold_the_chain_head() -> None:
        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(chain=str(team.pk))
                chain_locked.set()
                release.wait(timeout=30)
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    def step_down(user: Any) -> None:
        try:
            client = APIClient()
            client.force_authenticate(type(user).objects.get(pk=user.pk))
            response = client.patch(f"/api/v1/teams/{team.pk}/members/{user.pk}/", {"role": "admin"},
                                    format="json")
            statuses[user.username] = response.status_code
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_chain_head)
    holder.start()
    assert chain_locked.wait(timeout=10)
    demotions = [threading.Thread(target=step_down, args=(user,)) for user in (first, second)]
    for thread in demotions:
        thread.start()
    deadline = time.monotonic() + 20
    while waiting_on_locks() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    both_blocked = waiting_on_locks() >= 2
    release.set()
    for thread in [holder, *demotions]:
        thread.join(timeout=30)

    assert failures == []
    assert both_blocked
    assert sorted(statuses.values()) == [200, 409]
    owners = list(Membership.objects.filter(team=team, role=Role.OWNER).values_list("user__username", flat=True))
    assert len(owners) == 1
    stayed = next(name for name, status in statuses.items() if status == 409)
    assert owners == [stayed]
    assert AuditEntry.objects.filter(event_type="member.role_changed").count() == changes_before + 1
