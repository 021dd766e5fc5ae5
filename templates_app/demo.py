"""Demo data: the public template catalog, published by the Demo team. Idempotent.

Appended to `seed_demo`'s SEEDERS. Everything goes through the services, so
the demo's audit log shows the publications, verifications and ratings. It
creates no workflows: the demo workflows are the workflows app's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.catalog import ENTRIES
from templates_app.models import Rating, Template

# (slug, username, stars): a few ratings so the marketplace shows some.
DEMO_RATINGS = [
    ("triage-support-tickets", "admin", 5), ("triage-support-tickets", "editor", 4),
    ("triage-support-tickets", "viewer", 5), ("summarize-document", "editor", 5),
    ("summarize-document", "viewer", 4), ("translate-text", "admin", 4), ("translate-text", "operator", 5),
    ("expense-approval", "admin", 5), ("knowledge-base-qa", "editor", 4), ("knowledge-base-qa", "viewer", 3),
    ("normalize-email-list", "operator", 4), ("daily-metrics-report", "admin", 4),
    ("classify-text", "editor", 5), ("meeting-action-items", "viewer", 5), ("spam-abuse-filter", "admin", 3),
]



def seed_templates(seeded: dict[str, Any]) -> None:
    owner, demo = Actor.of(seeded["owner"]), seeded["demo"]
    origin = Origin.command()
    for entry in ENTRIES:
        template = Template.objects.filter(slug=entry["slug"]).first()
        if template is None:
            template = services.template_publish(
                actor=owner, origin=origin, team=demo, name=entry["name"], description=entry["description"],
                category=entry["category"], tags=entry["tags"], visibility="public", version=entry["version"],
                slug=entry["slug"])
        if entry["verified"] and not template.verified:
            services.template_set_verified(actor=owner, origin=origin, template=template, verified=True)
        if entry["featured"] and not template.featured:
            services.template_set_featured(actor=owner, origin=origin, template=template, featured=True)
    users = {user.username: user for user in get_user_model().objects.filter(
        username__in={username for _, username, _ in DEMO_RATINGS})}
    for slug, username, stars in DEMO_RATINGS:
        template = Template.objects.get(slug=slug)
        if username in users and not Rating.objects.filter(template=template, user=users[username]).exists():
            services.template_rate(actor=Actor.of(users[username]), origin=origin, template=template, stars=stars)
