"""Reads of teams and memberships beyond access (`teams.access` decides who reaches what)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery

from teams.access import teams_for_user
from teams.models import Membership, Team


def teams_with_my_role(user: Any) -> QuerySet[Team]:
    """The user's teams, each with `my_role` and `member_count` (what the teams API shows)."""
    my_role = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    member_count = (
        Membership.objects.filter(team=OuterRef("pk")).order_by().values("team")
        .annotate(count=Count("pk")).values("count")
    )
    return teams_for_user(user).annotate(my_role=Subquery(my_role), member_count=Subquery(member_count))
