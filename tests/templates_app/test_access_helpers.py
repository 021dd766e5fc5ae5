"""Who may see a template, asked of the access helpers directly.

Survivors of `make test-mutation` (docs/testing.md): `can_see` answering True
for anonymous users went unnoticed, because every view turns anonymous
callers away before asking. The helper must hold on its own.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.access import can_see, visible_templates
from templates_app.models import Template
from tests.templates_app.conftest import summary_version


def publish_each_visibility(personas) -> dict[str, Template]:
    from templates_app.models import Visibility

    published = {}
    for visibility in (Visibility.PUBLIC, Visibility.TEAM, Visibility.PRIVATE):
        template = services.template_publish(
            actor=Actor.of(personas.users["owner"]), origin=Origin.command(), team=personas.team, name=f"Summaries {visibility}",
            visibility="team", version=summary_version())
        Template.objects.filter(pk=template.pk).update(visibility=visibility)
        published[str(visibility)] = Template.objects.get(pk=template.pk)
    return published


def test_anonymous_and_nobody_see_no_template(personas) -> None:
    templates = publish_each_visibility(personas)
    for template in templates.values():
        assert can_see(AnonymousUser(), template) is False
        assert can_see(None, template) is False
        # Not a Django user at all (a system actor's name): anonymous too, even for public.
        assert can_see("scheduler", template) is False
    assert list(visible_templates(AnonymousUser())) == []
    assert list(visible_templates("scheduler")) == []


def test_each_persona_sees_what_the_visibility_rules_say(personas) -> None:
    templates = publish_each_visibility(personas)
    expected = {
        "owner": {"public", "team", "private"}, "editor": {"public", "team", "private"},
        "operator": {"public", "team"}, "viewer": {"public", "team"}, "outsider": {"public"},
    }
    for who, visible in expected.items():
        user = personas.users[who]
        assert {name for name, template in templates.items() if can_see(user, template)} == visible, who
        assert {str(t.visibility) for t in visible_templates(user)} == visible, who
