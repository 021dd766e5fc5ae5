"""Load the demo data. Idempotent: running it again changes nothing already there.

Later issues add their demo workflows, templates and executions through the
`SEEDERS` list, each an idempotent function taking the demo team's owner.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from symphony_site.actors import Actor, Origin
from teams import services
from teams.models import Membership, Team
from teams.roles import Role
from templates_app.demo import seed_templates
from workflows.demo import seed_workflows

DEMO_PASSWORD = "symphony-demo"
DEMO_ROLES = ["owner", "admin", "editor", "operator", "viewer"]

User = get_user_model()


def _user(username: str, *, staff: bool = False) -> Any:
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@demo.symphony.local", "is_staff": staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        if staff:
            user.is_superuser = True
        user.save()
    return user


def _team(name: str, owner: Any) -> Team:
    team = Team.objects.filter(name=name).first()
    if team is None:
        team = services.team_create(actor=Actor.of(owner), origin=Origin.command(), name=name, description=f"{name} demo team")
    elif not Membership.objects.filter(team=team, user=owner).exists():
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    return team


def seed_teams() -> dict[str, Any]:
    owner = _user("owner", staff=True)
    demo = _team("Demo", owner)
    for role in DEMO_ROLES[1:]:
        user = _user(role)
        if not Membership.objects.filter(team=demo, user=user).exists():
            services.member_add(actor=Actor.of(owner), origin=Origin.command(), team=demo, user=user, role=role)
    acme_owner = _user("acme-owner")
    acme = _team("Acme", acme_owner)
    return {"owner": owner, "demo": demo, "acme": acme, "acme_owner": acme_owner}


SEEDERS: list[Any] = [seed_workflows, seed_templates]


class Command(BaseCommand):
    help = "Create the Demo and Acme teams with one user per role (password 'symphony-demo', dev only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--allow-production", action="store_true",
                            help="Seed even with DEBUG off (the demo password is public).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("seed_demo creates users with a public password; run it with DEBUG=1 "
                               "or pass --allow-production deliberately.")
        with transaction.atomic():
            seeded = seed_teams()
            for seeder in SEEDERS:
                seeder(seeded)
        self.stdout.write(self.style.SUCCESS(
            "Demo data ready: team Demo (users owner, admin, editor, operator, viewer) and team Acme "
            f"(user acme-owner); password '{DEMO_PASSWORD}'."
        ))
